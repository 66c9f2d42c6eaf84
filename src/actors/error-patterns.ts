/**
 * Error patterns: regular expressions watched for in an actor's output. Each
 * match is counted (status --json shows the counts) and, unless the action is
 * "ignore", recorded as a process_errors row whose error_type is the pattern's
 * name; then the action: restart (now, counted as a failure), backoff (a loop
 * job's next run waits with backoff; a continuous actor restarts with
 * backoff), alert (an "alert" event). A pattern that matches every line of a
 * flood records its first ROWS_PER_MINUTE matches each minute and a summary
 * row for the rest, so it cannot bury the record.
 *
 * A Python traceback is one unit, as it is one error row: its lines are not
 * matched one by one (the source line `raise ConnectionError(...)` would match
 * as well as the exception line), but together, once, when its exception line
 * arrives; a pattern that matches anywhere in it (chained tracebacks included)
 * counts once and is recorded with the exception line.
 */

import type { Stream } from '../record/records.ts';
import type { Clock } from '../runtime/clock.ts';
import type { EventData } from '../runtime/events.ts';
import type { ErrorPatternSpec } from '../runtime/spec.ts';

export const ROWS_PER_MINUTE = 20;

const TRACEBACK_START = 'Traceback (most recent call last):';
/** The line that ends a traceback: `ValueError: bad`, `requests.exceptions.ConnectionError`, `KeyboardInterrupt`. */
const EXCEPTION_LINE = /^[A-Za-z_][\w.]*(?::\s?.*)?$/;
/** What Python prints between the tracebacks of a chained exception. */
const CHAIN_LINE = /^(During handling of the above exception|The above exception was the direct cause)/;
/** A traceback longer than this is not one: its lines are matched one by one. */
const MAX_TRACEBACK_LINES = 1_000;

/** Where a stream is within a traceback. */
interface Unit {
  /** The traceback's lines so far, until its exception line. */
  block: string[] | null;
  /** The last traceback ended: what follows may chain another one onto the same unit. */
  chained: boolean;
  /** Patterns already counted for this unit. */
  readonly counted: Set<string>;
}

export interface PatternSink {
  error(errorType: string, message: string, context: string): void;
  /** A pattern with action alert matched: an alert event. */
  alert(data: EventData['alert']): void;
  restart(errorType: string, message: string): void;
  backoff(pattern: string): void;
}

interface Compiled {
  readonly spec: ErrorPatternSpec;
  readonly regex: RegExp;
  windowStart: number;
  rowsInWindow: number;
  suppressed: number;
}

export class PatternWatch {
  private readonly compiled: Compiled[];
  /** Matches per pattern name since the run began. */
  readonly counts = new Map<string, number>();
  private readonly units: Record<Stream, Unit> = {
    stdout: { block: null, chained: false, counted: new Set() },
    stderr: { block: null, chained: false, counted: new Set() },
  };

  constructor(
    patterns: readonly ErrorPatternSpec[],
    private readonly clock: Clock,
    private readonly sink: PatternSink,
  ) {
    this.compiled = patterns.map((spec) => ({
      spec,
      regex: new RegExp(spec.source),
      windowStart: 0,
      rowsInWindow: 0,
      suppressed: 0,
    }));
  }

  get empty(): boolean {
    return this.compiled.length === 0;
  }

  /** A new run of the actor: a traceback its last run left unfinished is not continued. */
  reset(): void {
    for (const u of Object.values(this.units)) {
      u.block = null;
      u.chained = false;
      u.counted.clear();
    }
  }

  lines(stream: Stream, lines: readonly string[]): void {
    const watched = this.compiled.filter((p) => p.spec.stream === 'both' || p.spec.stream === stream);
    if (watched.length === 0) return;
    const u = this.units[stream];
    for (const line of lines) {
      if (line.startsWith(TRACEBACK_START)) {
        if (!u.chained) u.counted.clear();
        u.block = [line];
        continue;
      }
      if (u.block !== null) {
        u.block.push(line);
        if (/^\s/.test(line) || line === '' || !EXCEPTION_LINE.test(line)) {
          if (u.block.length < MAX_TRACEBACK_LINES) continue;
          const block = u.block; // never ended: plain lines after all
          u.block = null;
          u.chained = false;
          for (const l of block) this.single(watched, stream, l);
          continue;
        }
        const block = u.block;
        u.block = null;
        u.chained = true;
        for (const p of watched) {
          if (u.counted.has(p.spec.name) || !block.some((l) => p.regex.test(l))) continue;
          u.counted.add(p.spec.name);
          this.match(p, stream, line);
        }
        continue;
      }
      if (u.chained && (line === '' || CHAIN_LINE.test(line))) continue;
      u.chained = false;
      this.single(watched, stream, line);
    }
  }

  private single(watched: readonly Compiled[], stream: Stream, line: string): void {
    for (const p of watched) if (p.regex.test(line)) this.match(p, stream, line);
  }

  private match(p: Compiled, stream: Stream, line: string): void {
    const { name, action } = p.spec;
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    if (action === 'ignore') return;
    this.record(p, stream, line);
    switch (action) {
      case 'restart':
        this.sink.restart(name, `error pattern ${name} matched: ${line.slice(0, 200)}`);
        return;
      case 'backoff':
        this.sink.backoff(name);
        return;
      case 'alert':
        this.sink.alert({ pattern: name, stream, line: line.slice(0, 200) });
        return;
    }
  }

  private record(p: Compiled, stream: Stream, line: string): void {
    const now = this.clock.now();
    if (now - p.windowStart >= 60_000) {
      if (p.suppressed > 0) {
        this.sink.error(
          p.spec.name,
          `${p.suppressed} more matches of error pattern ${p.spec.name} not recorded one by one`,
          `at most ${ROWS_PER_MINUTE} rows a minute per pattern`,
        );
      }
      p.windowStart = now;
      p.rowsInWindow = 0;
      p.suppressed = 0;
    }
    if (p.rowsInWindow < ROWS_PER_MINUTE) {
      p.rowsInWindow++;
      this.sink.error(p.spec.name, line, `${stream}; error pattern /${p.spec.source}/ (action ${p.spec.action})`);
    } else {
      p.suppressed++;
    }
  }
}
