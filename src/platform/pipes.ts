/**
 * Output pipes for process actors.
 *
 * For `stdio: 'pipe'` libuv hands a child one end of a Unix socket pair, and a
 * chatty job pays for that on every write: it runs markedly slower writing to
 * a socket pair read by Node than to a real pipe (benchmark 3). Node cannot
 * call pipe(2), so herder makes named pipes ahead of time (one `mkfifo` for a
 * batch, off the event loop) in a private folder, opens each one's reading end
 * at once (non-blocking, checked to be the FIFO herder made) and unlinks it:
 * the pool holds anonymous pipes, never names someone could swap or age out.
 * At a start the writing end is opened through /proc/self/fd - the same pipe,
 * and it cannot block, since herder holds the reading end. When none is ready
 * (no mkfifo, a folder that cannot hold FIFOs, a burst of starts) a start
 * falls back to the socket pair: slower, the same behaviour.
 */
import { execFile } from 'node:child_process';
import {
  closeSync,
  constants,
  fstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface OpenPipe {
  /** herder's end, non-blocking, close-on-exec. */
  readonly readFd: number;
  /** The child's end (blocking, as a job expects its stdout to be); herder closes it once the child has it. */
  readonly writeFd: number;
}

export interface PipePair {
  readonly stdout: OpenPipe;
  readonly stderr: OpenPipe;
}

const FOLDER_PREFIX = 'herder-pipes-';

export class PipePool {
  /** Reading ends of FIFOs already unlinked. */
  private readonly ready: number[] = [];
  private dir: string | null = null;
  private filling: Promise<void> | null = null;
  private disabled = false;
  private closed = false;
  private made = 0;
  /** Starts that found the pool empty since the last fill: the next fill makes up for them. */
  private missed = 0;

  /**
   * @param spare how many pipes to keep ready once started (two per start)
   * @param onDir told the private folder once it exists (the reaper removes it if herder is killed)
   * @param warn told once when pipes cannot be used here
   * @param parent where the private folder is made
   */
  constructor(
    private readonly spare: number,
    private readonly onDir: (dir: string) => void,
    private readonly warn: (line: string) => void,
    private readonly parent = tmpdir(),
  ) {}

  /**
   * Makes pipes up to the spare count plus `extra` (two per process actor
   * about to start); resolves when they are ready, or the pool has given up.
   */
  fill(extra = 0): Promise<void> {
    if (this.filling !== null) return this.filling;
    const want = this.spare + extra + 2 * this.missed - this.ready.length;
    if (this.disabled || want <= 0) return Promise.resolve();
    this.missed = 0;
    this.filling = this.make(want).finally(() => {
      this.filling = null;
    });
    return this.filling;
  }

  private async make(n: number): Promise<void> {
    let names: string[];
    try {
      const dir = this.dir ?? this.makeDir();
      names = Array.from({ length: n }, () => path.join(dir, String(this.made++)));
      await new Promise<void>((resolve, reject) => {
        execFile('mkfifo', ['-m', '600', '--', ...names], { timeout: 10_000 }, (e) => (e ? reject(e) : resolve()));
      });
    } catch (e) {
      const err = e as Error & { stderr?: unknown };
      const why = typeof err.stderr === 'string' && err.stderr.trim() !== '' ? err.stderr.trim() : String(err.message);
      this.giveUp(why.split('\n')[0] ?? why);
      return;
    }
    let opened = 0;
    let failure = '';
    for (const name of names) {
      const fd = this.closed ? null : openReader(name);
      if (typeof fd === 'number') {
        this.ready.push(fd);
        opened++;
      } else if (typeof fd === 'string') {
        failure = fd;
      }
    }
    if (opened === 0 && !this.closed) this.giveUp(failure);
  }

  private makeDir(): string {
    sweepStale(this.parent);
    const dir = mkdtempSync(path.join(this.parent, `${FOLDER_PREFIX}${process.pid}-`));
    if (dir.includes('\n')) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${JSON.stringify(dir)}: a folder name with a line break; set TMPDIR to a plain path`);
    }
    this.dir = dir;
    this.onDir(dir);
    return dir;
  }

  private giveUp(why: string): void {
    if (this.disabled) return;
    this.disabled = true;
    this.warn(`herder: output pipes unavailable (${why}); capturing through socket pairs, which is slower`);
  }

  /** Two open pipes for a start, or null (the caller uses socket pairs). Refills in the background. */
  takePair(): PipePair | null {
    if (this.disabled || this.ready.length < 2) {
      if (!this.disabled) this.missed++;
      void this.fill();
      return null;
    }
    const stdout = this.withWriter(this.ready.shift());
    const stderr = stdout === null ? null : this.withWriter(this.ready.shift());
    if (this.ready.length < this.spare / 2) void this.fill();
    if (stdout === null) return null;
    if (stderr === null) {
      closePipe(stdout);
      return null;
    }
    return { stdout, stderr };
  }

  private withWriter(readFd: number | undefined): OpenPipe | null {
    if (readFd === undefined) return null;
    try {
      // The same pipe as readFd (no name involved), and a reader exists: this cannot block.
      return { readFd, writeFd: openSync(`/proc/self/fd/${readFd}`, constants.O_WRONLY) };
    } catch (e) {
      closeQuietly(readFd);
      const code = (e as NodeJS.ErrnoException).code;
      // Out of descriptors is this start's problem; anything else will not get better.
      if (code !== 'EMFILE' && code !== 'ENFILE') this.giveUp(`/proc/self/fd: ${(e as Error).message}`);
      return null;
    }
  }

  /** Closes the spare pipes and removes the folder. Pipes already handed out are unaffected. */
  close(): void {
    this.closed = true;
    this.disabled = true;
    for (const fd of this.ready.splice(0)) closeQuietly(fd);
    if (this.dir !== null) {
      try {
        rmSync(this.dir, { recursive: true, force: true });
      } catch {
        // a mkfifo still running wrote into it; the reaper removes it when herder exits
      }
      this.dir = null;
    }
  }
}

/** Opens a FIFO's reading end and unlinks it; the fd, or why it could not be used. */
function openReader(name: string): number | string {
  let fd: number | null = null;
  try {
    fd = openSync(name, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFIFO() || st.uid !== process.getuid?.()) throw new Error(`${name} is not the FIFO herder made`);
    return fd;
  } catch (e) {
    if (fd !== null) closeQuietly(fd);
    return e instanceof Error ? e.message : String(e);
  } finally {
    try {
      unlinkSync(name);
    } catch {
      // already gone
    }
  }
}

/** Removes pipe folders left by herders that were killed together with their reaper (their pid is gone). */
function sweepStale(parent: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const e of entries) {
    const m = /^herder-pipes-(\d+)-/.exec(e);
    if (m === null || pidAlive(Number(m[1]))) continue;
    const p = path.join(parent, e);
    try {
      if (statSync(p).uid === process.getuid?.()) rmSync(p, { recursive: true, force: true });
    } catch {
      // not ours to remove, or gone already
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function closePipe(p: OpenPipe): void {
  closeQuietly(p.readFd);
  closeQuietly(p.writeFd);
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
