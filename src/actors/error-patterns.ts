/**
 * Error patterns: regular expressions watched for in an actor's output. Each
 * match is counted (status --json shows the counts) and, unless the action is
 * "ignore", recorded as a process_errors row whose error_type is the pattern's
 * name; then the action: restart (now, counted as a failure), backoff (a loop
 * job's next run waits with backoff; a continuous actor restarts with
 * backoff), alert (an "alert" event). A pattern that matches every line of a
 * flood records its first ROWS_PER_MINUTE matches each minute and a summary
 * row for the rest, so it cannot bury the record.
 */

import type { Stream } from '../record/records.ts';
import type { Clock } from '../runtime/clock.ts';
import type { ErrorPatternSpec } from '../runtime/spec.ts';

export const ROWS_PER_MINUTE = 20;

export interface PatternSink {
  error(errorType: string, message: string, context: string): void;
  event(kind: string, detail: string): void;
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

  lines(stream: Stream, lines: readonly string[]): void {
    for (const p of this.compiled) {
      if (p.spec.stream !== 'both' && p.spec.stream !== stream) continue;
      for (const line of lines) if (p.regex.test(line)) this.match(p, stream, line);
    }
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
        this.sink.event('alert', `error pattern ${name} matched on ${stream}: ${line.slice(0, 200)}`);
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
