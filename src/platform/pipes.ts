/**
 * Output pipes for process actors.
 *
 * For `stdio: 'pipe'` libuv hands a child one end of a Unix socket pair. A
 * chatty job pays for that on every write: a job writing 500,000 lines runs
 * about 1.4x as long into a socket pair read by Node as into a file, and
 * about 1.1x into a real pipe (benchmark 3). Node cannot call pipe(2), so
 * herder makes named pipes ahead of time (one `mkfifo` for a batch, off the
 * event loop) in a private folder, and at each start opens one per stream -
 * the reading end first, so that opening the writing end cannot block - and
 * unlinks it at once: what is left is an anonymous pipe shared only by the
 * child and herder. When none is ready (no mkfifo, a folder that cannot hold
 * FIFOs, a burst of restarts) a start falls back to the socket pair: slower,
 * the same behaviour.
 */
import { execFile } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, unlinkSync } from 'node:fs';
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

export class PipePool {
  private readonly ready: string[] = [];
  private dir: string | null = null;
  private filling: Promise<void> | null = null;
  private disabled = false;
  private made = 0;

  /**
   * @param spare how many FIFOs to keep ready once started (two per start)
   * @param onDir told the private folder once it exists (the reaper removes it if herder is killed)
   * @param warn told once when FIFOs cannot be used here
   * @param parent where the private folder is made
   */
  constructor(
    private readonly spare: number,
    private readonly onDir: (dir: string) => void,
    private readonly warn: (line: string) => void,
    private readonly parent = tmpdir(),
  ) {}

  /**
   * Makes FIFOs up to the spare count plus `extra` (two per process actor about
   * to start); resolves when they are ready, or the pool has given up.
   */
  fill(extra = 0): Promise<void> {
    if (this.filling !== null) return this.filling;
    const want = this.spare + extra - this.ready.length;
    if (this.disabled || want <= 0) return Promise.resolve();
    this.filling = this.make(want).finally(() => {
      this.filling = null;
    });
    return this.filling;
  }

  private async make(n: number): Promise<void> {
    try {
      if (this.dir === null) {
        this.dir = mkdtempSync(path.join(this.parent, 'herder-pipes-'));
        this.onDir(this.dir);
      }
      const dir = this.dir;
      const names = Array.from({ length: n }, () => path.join(dir, String(this.made++)));
      await new Promise<void>((resolve, reject) => {
        execFile('mkfifo', ['-m', '600', '--', ...names], { timeout: 10_000 }, (e) => (e ? reject(e) : resolve()));
      });
      if (this.dir === null) return; // closed meanwhile
      this.ready.push(...names);
    } catch (e) {
      const err = e as Error & { stderr?: unknown };
      const why = typeof err.stderr === 'string' && err.stderr.trim() !== '' ? err.stderr.trim() : String(err.message);
      this.giveUp(why.split('\n')[0] ?? why);
    }
  }

  private giveUp(why: string): void {
    if (this.disabled) return;
    this.disabled = true;
    this.warn(`herder: output pipes unavailable (${why}); capturing through socket pairs, which is slower`);
  }

  /** Two open pipes for a start, or null (the caller uses socket pairs). Refills in the background. */
  takePair(): PipePair | null {
    if (this.disabled || this.ready.length < 2) {
      void this.fill();
      return null;
    }
    const stdout = this.open();
    const stderr = stdout === null ? null : this.open();
    if (this.ready.length < this.spare / 2) void this.fill();
    if (stdout === null) return null;
    if (stderr === null) {
      closePipe(stdout);
      return null;
    }
    return { stdout, stderr };
  }

  private open(): OpenPipe | null {
    const name = this.ready.shift();
    if (name === undefined) return null;
    let readFd: number | null = null;
    try {
      readFd = openSync(name, constants.O_RDONLY | constants.O_NONBLOCK);
      const writeFd = openSync(name, constants.O_WRONLY);
      unlinkSync(name);
      return { readFd, writeFd };
    } catch (e) {
      if (readFd !== null) closeQuietly(readFd);
      try {
        unlinkSync(name);
      } catch {
        // already gone
      }
      this.giveUp(`${name}: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  }

  /** Removes the folder and the FIFOs not used. Pipes already handed out are unaffected. */
  close(): void {
    this.disabled = true;
    this.ready.length = 0;
    if (this.dir !== null) {
      rmSync(this.dir, { recursive: true, force: true });
      this.dir = null;
    }
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
