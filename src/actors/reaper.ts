/**
 * Orphan protection. Node cannot ask the kernel to kill its children when it
 * dies, so a tiny bash process holds a pipe from herder and a list of the
 * process groups herder started. When the pipe closes - herder exited,
 * however it died - it sends SIGTERM to every group still listed, waits up to
 * two seconds, then SIGKILLs what is left. It also removes herder's private
 * folders (the spare output pipes). It ignores the terminal's signals and
 * lives in its own group, so it outlives whatever killed herder.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const SCRIPT = `
trap '' INT TERM HUP QUIT PIPE
declare -A groups
folders=()
while IFS=' ' read -r op id; do
  case "$op" in
    +) groups[$id]=1 ;;
    -) unset "groups[$id]" ;;
    d) folders+=("$id") ;;
  esac
done
for f in "\${folders[@]}"; do
  case "$f" in */herder-pipes-*) rm -rf -- "$f" ;; esac
done
[ \${#groups[@]} -eq 0 ] && exit 0
for id in "\${!groups[@]}"; do kill -TERM -- "-$id" 2>/dev/null; done
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  alive=0
  for id in "\${!groups[@]}"; do kill -0 -- "-$id" 2>/dev/null && alive=1; done
  [ $alive -eq 0 ] && exit 0
  sleep 0.1
done
for id in "\${!groups[@]}"; do kill -KILL -- "-$id" 2>/dev/null; done
exit 0
`;

export class Reaper {
  private child: ChildProcess | null = null;
  private readonly groups = new Set<number>();
  private readonly folders: string[] = [];
  private closing = false;

  constructor(private readonly warn: (line: string) => void) {
    this.spawn();
  }

  private spawn(): void {
    const child = spawn('bash', ['-c', SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', (e) => {
      this.warn(`herder: orphan protection unavailable (bash: ${e.message}); children may outlive a killed herder`);
    });
    child.on('exit', () => {
      if (this.child === child) this.child = null;
      if (!this.closing) {
        this.warn('herder: the orphan reaper exited; starting it again');
        this.spawn();
      }
    });
    child.stdin?.on('error', () => {
      // the reaper died; its exit handler restarts it
    });
    child.unref();
    this.child = child;
    for (const g of this.groups) this.write(`+ ${g}\n`);
    for (const f of this.folders) this.write(`d ${f}\n`);
  }

  private write(line: string): void {
    this.child?.stdin?.write(line);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  add(pgid: number): void {
    this.groups.add(pgid);
    this.write(`+ ${pgid}\n`);
  }

  /** A folder of herder's own to remove when the pipe closes, however herder ended. */
  removeOnExit(folder: string): void {
    if (folder.includes('\n')) return; // one line per message
    this.folders.push(folder);
    this.write(`d ${folder}\n`);
  }

  remove(pgid: number): void {
    if (this.groups.delete(pgid)) this.write(`- ${pgid}\n`);
  }

  /** Closes the pipe: any group still registered is killed by the reaper. */
  close(): void {
    this.closing = true;
    this.child?.stdin?.end();
  }
}
