/**
 * The logging actor as the rest of the runtime sees it: a mailbox of records
 * flushed in batches to the thread that owns the database. Output is bounded:
 * while the writer is behind by more than `bufferBytes`, new lines are
 * dropped, counted per actor, and the count recorded as an error once the
 * writer catches up. Events, errors and state are never dropped.
 */
import { Worker } from 'node:worker_threads';
import { type Remote, wrap } from 'comlink';
import type { EventRow, StatusDoc } from '../record/queries.ts';
import { type LogRecord, type ProcessStateRow, type Stream, toTs } from '../record/records.ts';
import type { UnfinishedRun } from '../record/runs.ts';
import type { Clock, TimerHandle } from '../runtime/clock.ts';
import { type ErrorCode, HerderError } from '../runtime/errors.ts';
import type { LoggerService, OpenParams, Result } from './logger-worker.ts';
import { nodeEndpoint, WORKER_EXEC_ARGV } from './worker-support.ts';

const FLUSH_DELAY_MS = 50;
const BATCH_RECORDS = 2_000;
const BATCH_LINES = 20_000;

function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw new HerderError(r.code as ErrorCode, r.message);
}

export class Logger {
  private readonly worker: Worker;
  private readonly api: Remote<LoggerService>;
  private queue: LogRecord[] = [];
  private pendingBytes = 0;
  private readonly dropped = new Map<string, number>();
  private timer: TimerHandle | null = null;
  private flushing: Promise<void> | null = null;
  private lost = 0;
  private closed = false;
  linesWritten = 0;

  constructor(
    private readonly clock: Clock,
    private readonly warn: (line: string) => void,
    private readonly bufferBytes: number,
  ) {
    this.worker = new Worker(new URL('./logger-entry.mjs', import.meta.url), { execArgv: WORKER_EXEC_ARGV });
    this.worker.on('error', (e) => this.warn(`herder: the logging thread failed: ${e.message}`));
    this.api = wrap<LoggerService>(nodeEndpoint(this.worker));
  }

  async open(p: OpenParams): Promise<{ unfinished: UnfinishedRun[]; staleLockOf: number | null }> {
    return unwrap(await this.api.open(p));
  }

  async begin(p: OpenParams, crashed: readonly { id: number; reason: string }[]): Promise<number> {
    return unwrap(await this.api.begin(p, [...crashed]));
  }

  event(process: string, kind: string, detail: string): void {
    this.push({ t: 'event', ts: toTs(this.clock.wall()), process, kind, detail });
  }

  error(process: string, errorType: string, message: string, context: string): void {
    this.push({ t: 'error', ts: toTs(this.clock.wall()), process, errorType, message, context });
  }

  state(row: ProcessStateRow): void {
    this.push({ t: 'state', row });
  }

  output(process: string, pid: number | null, stream: Stream, lines: readonly string[]): void {
    if (lines.length === 0) return;
    let bytes = 0;
    for (const l of lines) bytes += l.length + 48;
    if (this.pendingBytes + bytes > this.bufferBytes || this.closed) {
      this.dropped.set(process, (this.dropped.get(process) ?? 0) + lines.length);
      return;
    }
    this.pendingBytes += bytes;
    this.push({ t: 'output', ts: toTs(this.clock.wall()), process, pid, stream, lines });
  }

  private push(r: LogRecord): void {
    this.queue.push(r);
    if (this.timer === null && this.flushing === null) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, FLUSH_DELAY_MS);
    }
  }

  /** Writes everything queued so far; resolves when it is in the database. */
  flush(): Promise<void> {
    if (this.flushing === null) {
      this.flushing = this.drain().finally(() => {
        this.flushing = null;
        if (this.queue.length > 0 && this.timer === null) {
          this.timer = this.clock.setTimeout(() => {
            this.timer = null;
            void this.flush();
          }, FLUSH_DELAY_MS);
        }
      });
    }
    return this.flushing;
  }

  private reportDrops(): void {
    if (this.dropped.size === 0 || this.pendingBytes > this.bufferBytes / 2) return;
    for (const [process, n] of this.dropped) {
      this.queue.push({
        t: 'error',
        ts: toTs(this.clock.wall()),
        process,
        errorType: 'output_dropped',
        message: `${n} output lines dropped: the database writer fell behind`,
        context: `buffer limit ${(this.bufferBytes / 1024 / 1024).toFixed(1)} MiB (runtime.output_buffer_mb)`,
      });
    }
    this.dropped.clear();
  }

  private async drain(): Promise<void> {
    for (;;) {
      this.reportDrops();
      if (this.queue.length === 0) return;
      const batch = this.takeBatch();
      let bytes = 0;
      for (const r of batch) if (r.t === 'output') for (const l of r.lines) bytes += l.length + 48;
      const res = await this.api.write(batch);
      this.pendingBytes -= bytes;
      if (res.ok) {
        this.linesWritten += res.value;
      } else {
        this.lost += batch.length;
        this.warn(`herder: could not write ${batch.length} records to the database: ${res.message}`);
        this.queue.unshift({
          t: 'error',
          ts: toTs(this.clock.wall()),
          process: '_herder',
          errorType: 'record_lost',
          message: `${batch.length} records could not be written: ${res.message}`,
          context: '',
        });
        if (this.lost > 10 * BATCH_RECORDS) return; // the disk is gone; stop retrying in a loop
      }
    }
  }

  private takeBatch(): LogRecord[] {
    let lines = 0;
    let i = 0;
    while (i < this.queue.length && i < BATCH_RECORDS && lines < BATCH_LINES) {
      const r = this.queue[i];
      if (r?.t === 'output') lines += r.lines.length;
      i++;
    }
    return this.queue.splice(0, i);
  }

  async status(): Promise<StatusDoc> {
    await this.flush();
    return unwrap(await this.api.status(toTs(this.clock.wall())));
  }

  async events(limit: number): Promise<EventRow[]> {
    await this.flush();
    return unwrap(await this.api.events(limit));
  }

  get droppedLines(): number {
    let n = 0;
    for (const v of this.dropped.values()) n += v;
    return n;
  }

  /** Flushes everything, closes the run and the database, and ends the thread. */
  async finish(p: { status: string; exitCode: number; reason: string }): Promise<void> {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
    this.closed = true;
    this.reportDrops();
    this.dropped.clear();
    await this.flush();
    const r = await this.api.finish({ ...p, endedAt: toTs(this.clock.wall()) });
    await this.worker.terminate();
    unwrap(r);
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
