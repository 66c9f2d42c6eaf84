/**
 * Running totals of what the record was handed, kept in memory for /metrics:
 * output lines per actor and stream, lines dropped, and errors per actor and
 * type. The logging actor counts as records arrive, so the figures need no
 * read of the database. An actor's error types are bounded: past the first
 * MAX_TYPES, the rest count as "other", so a job that makes up a type per
 * message cannot grow the label set.
 */
import type { Stream } from '../record/records.ts';

export const MAX_TYPES = 10;
export const OTHER_TYPE = 'other';

export interface Tally {
  readonly version: number;
  readonly lines: ReadonlyMap<string, Readonly<Record<Stream, number>>>;
  readonly errors: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly dropped: number;
}

export class Tallies implements Tally {
  readonly lines = new Map<string, Record<Stream, number>>();
  readonly errors = new Map<string, Map<string, number>>();
  dropped = 0;
  /** Bumped at every change: a reader can tell that nothing moved since it last looked. */
  version = 0;

  output(process: string, stream: Stream, n: number): void {
    this.version++;
    let t = this.lines.get(process);
    if (t === undefined) {
      t = { stdout: 0, stderr: 0 };
      this.lines.set(process, t);
    }
    t[stream] += n;
  }

  error(process: string, errorType: string): void {
    this.version++;
    let t = this.errors.get(process);
    if (t === undefined) {
      t = new Map();
      this.errors.set(process, t);
    }
    const key = t.has(errorType) || t.size < MAX_TYPES ? errorType : OTHER_TYPE;
    t.set(key, (t.get(key) ?? 0) + 1);
  }
}
