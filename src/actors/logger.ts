/**
 * The logging actor as the rest of the runtime sees it: records queued here
 * and written in batches by the thread that owns the database.
 *
 * - Events, errors and state go in their own queue, written ahead of output,
 *   so a flood of output never delays them (nor a live `status`).
 * - Output is bounded: while the writer is behind by more than `bufferBytes`,
 *   new lines are dropped and counted, and the count recorded as an error
 *   while the overload lasts - loss is never silent.
 * - A batch that fails to write (a lock held by another program, a full disk)
 *   is kept and retried with backoff; nothing is thrown away for a passing fault.
 * - If the logging thread dies it is restarted and reattached to the run.
 */
import { pendingEvents, pendingLines, withPending, withPendingDetail } from '../record/pending.ts';
import type { ActorDetail, EventRow, LogLine, LogQuery, StatusDoc, Unwritten } from '../record/queries.ts';
import {
  type LogRecord,
  type OutputRecord,
  type ProcessStateRow,
  type Stream,
  toTs,
  type UsageRow,
} from '../record/records.ts';
import type { RunReport, SeriesPoint } from '../record/report-data.ts';
import type { PastSchedule, UnfinishedRun } from '../record/runs.ts';
import type { Clock, TimerHandle } from '../runtime/clock.ts';
import { HERDER } from '../runtime/events.ts';
import { LoggerThread } from './logger-thread.ts';
import type { OpenParams, Result } from './logger-worker.ts';
import { Tallies, type Tally } from './tally.ts';
import { nextRetryMs, outageBegins, outageEnds, type WriteFailure } from './write-outage.ts';

const FLUSH_DELAY_MS = 50;
const BATCH_RECORDS = 2_000;
/** Output lines per transaction: small enough that events and status never wait long behind a flood. */
const BATCH_LINES = 5_000;
const DROP_REPORT_EVERY_MS = 5_000;
/** How long the final flush keeps retrying a failing write before it reports the rest lost. */
const FINAL_RETRY_BUDGET_MS = 10_000;
/** How long a report waits for the records queued before it; past that it reads what is written. */
const REPORT_WAIT_MS = 2_000;

/** Memory an output line holds while queued, beyond its characters (two bytes each), then as a row in the writer. */
const LINE_OVERHEAD = 64;

interface QueuedOutput {
  readonly record: OutputRecord;
  readonly bytes: number;
}

export class Logger {
  private readonly thread: LoggerThread;
  private control: LogRecord[] = [];
  private outputQueue: QueuedOutput[] = [];
  private pendingBytes = 0;
  private controlQueued = 0;
  private controlWritten = 0;
  private readonly waiters: { upTo: number; resolve: () => void }[] = [];
  private readonly dropped = new Map<string, number>();
  private readonly tallies = new Tallies();
  private lastDropReport = Number.NEGATIVE_INFINITY;
  private timer: TimerHandle | null = null;
  private flushing: Promise<void> | null = null;
  private retryMs = 0;
  /** Output entries at the head of the queue that are being written right now. */
  private inFlightOutputs = 0;
  private failure: WriteFailure | null = null;
  private runId = 0;
  linesWritten = 0;

  constructor(
    private readonly clock: Clock,
    private readonly warn: (line: string) => void,
    private readonly bufferBytes: number,
  ) {
    this.thread = new LoggerThread(warn, (code) =>
      this.error(HERDER, 'logger_restart', `the logging thread stopped (exit code ${code}) and was restarted`, ''),
    );
  }

  async open(p: OpenParams): Promise<{ unfinished: UnfinishedRun[]; staleLockOf: number | null }> {
    return this.thread.ask((api) => api.open(p));
  }

  async begin(p: OpenParams, crashed: readonly { id: number; reason: string }[]): Promise<PastSchedule[]> {
    const r = await this.thread.ask((api) => api.begin(p, [...crashed]));
    this.runId = r.runId;
    this.thread.attach(p, r.runId);
    return r.schedules;
  }

  /** What the record was handed so far (lines, drops, errors by type), from memory. */
  get tally(): Tally {
    return this.tallies;
  }

  get run(): number {
    return this.runId;
  }

  /** An event from the bus: its line and its fields (as JSON). */
  event(process: string, kind: string, detail: string, data: unknown): void {
    this.pushControl({ t: 'event', ts: toTs(this.clock.wall()), process, kind, detail, data: JSON.stringify(data) });
  }

  error(process: string, errorType: string, message: string, context: string): void {
    this.tallies.error(process, errorType);
    this.pushControl({ t: 'error', ts: toTs(this.clock.wall()), process, errorType, message, context });
  }

  state(row: ProcessStateRow): void {
    this.pushControl({ t: 'state', row });
  }

  /** The run's HTTP listener is up at `url` (kept in its runs row). */
  http(url: string): void {
    this.pushControl({ t: 'http', url });
  }

  /** An actor's config as herder understood it (see src/config/describe.ts). */
  config(process: string, view: Readonly<Record<string, unknown>>): void {
    this.pushControl({ t: 'config', process, config: JSON.stringify(view) });
  }

  usage(row: UsageRow): void {
    this.pushControl({ t: 'usage', ts: toTs(this.clock.wall()), row });
  }

  output(process: string, pid: number | null, stream: Stream, lines: readonly string[]): void {
    if (lines.length === 0) return;
    this.tallies.output(process, stream, lines.length);
    const text = lines.join('\n');
    const bytes = text.length * 2 + lines.length * LINE_OVERHEAD;
    if (this.pendingBytes + bytes > this.bufferBytes) {
      this.dropped.set(process, (this.dropped.get(process) ?? 0) + lines.length);
      this.tallies.dropped += lines.length;
      this.tallies.version++;
      this.scheduleFlush();
      return;
    }
    this.pendingBytes += bytes;
    const record: OutputRecord = {
      t: 'output',
      ts: toTs(this.clock.wall()),
      process,
      pid,
      stream,
      text,
      count: lines.length,
    };
    this.outputQueue.push({ record, bytes });
    this.scheduleFlush();
  }

  private pushControl(r: LogRecord): void {
    this.control.push(r);
    this.controlQueued++;
    this.scheduleFlush();
  }

  private scheduleFlush(delay = FLUSH_DELAY_MS): void {
    if (this.timer !== null || this.flushing !== null) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delay);
  }

  /** Writes everything queued so far; resolves when it is in the database (or reported lost). */
  flush(): Promise<void> {
    if (this.flushing === null) {
      this.flushing = this.drain().finally(() => {
        this.flushing = null;
        if (this.control.length > 0 || this.outputQueue.length > 0 || this.dropped.size > 0) {
          this.scheduleFlush(this.retryMs > 0 ? this.retryMs : FLUSH_DELAY_MS);
        }
      });
    }
    return this.flushing;
  }

  private reportDrops(force: boolean): void {
    if (this.dropped.size === 0) return;
    const now = this.clock.now();
    const recovered = this.pendingBytes <= this.bufferBytes / 2;
    if (!force && !recovered && now - this.lastDropReport < DROP_REPORT_EVERY_MS) return;
    this.lastDropReport = now;
    const limit = `${(this.bufferBytes / 1024 / 1024).toFixed(1)} MiB (runtime.output_buffer_mb)`;
    for (const [process, n] of this.dropped) {
      this.error(
        process,
        'output_dropped',
        `${n} output lines dropped: the database writer fell behind`,
        `buffer ${limit}`,
      );
    }
    this.dropped.clear();
  }

  private takeBatch(): { records: LogRecord[]; controlCount: number; bytes: number } {
    const controlCount = Math.min(this.control.length, BATCH_RECORDS);
    const records = this.control.slice(0, controlCount);
    let lines = 0;
    let bytes = 0;
    let n = 0;
    while (n < this.outputQueue.length && records.length < BATCH_RECORDS && lines < BATCH_LINES) {
      const q = this.outputQueue[n] as QueuedOutput;
      records.push(q.record);
      lines += q.record.count;
      bytes += q.bytes;
      n++;
    }
    return { records, controlCount, bytes };
  }

  private async drain(): Promise<void> {
    for (;;) {
      this.reportDrops(false);
      if (this.control.length === 0 && this.outputQueue.length === 0) return;
      const batch = this.takeBatch();
      this.inFlightOutputs = batch.records.length - batch.controlCount;
      let res: Result<number>;
      try {
        res = await this.thread.call<Result<number>>((api) => api.write(batch.records));
      } catch (e) {
        res = { ok: false, code: 'HERDER_ERR_INTERNAL', message: (e as Error).message };
      }
      const written = Math.min(this.inFlightOutputs, this.outputQueue.length);
      this.inFlightOutputs = 0;
      if (!res.ok) {
        this.writeFailed(res.code, res.message);
        return; // retried after a backoff by flush()'s reschedule
      }
      // Written: take the batch off the queues.
      this.control.splice(0, batch.controlCount);
      this.outputQueue.splice(0, written);
      this.pendingBytes = Math.max(0, this.pendingBytes - batch.bytes);
      this.linesWritten += res.value;
      this.controlWritten += batch.controlCount;
      this.wakeWaiters();
      if (this.failure !== null) this.writesResumed(this.failure);
      this.retryMs = 0;
    }
  }

  private queuedCounts(): { records: number; lines: number } {
    return {
      records: this.control.length + this.outputQueue.length,
      lines: this.outputQueue.reduce((n, q) => n + q.record.count, 0),
    };
  }

  private writeFailed(code: string, message: string): void {
    if (this.failure === null) {
      this.failure = { code, message, since: this.clock.now(), sinceTs: toTs(this.clock.wall()) };
      this.warn(outageBegins(this.failure, this.queuedCounts()));
    }
    this.retryMs = nextRetryMs(code, this.retryMs);
  }

  /** The outage is over: said on stderr, and recorded as the error it was. */
  private writesResumed(f: WriteFailure): void {
    this.failure = null;
    const end = outageEnds(f, this.clock.now() - f.since);
    this.warn(end.warning);
    this.error(HERDER, end.errorType, end.message, end.context);
  }

  private unwritten(): Unwritten {
    const { records, lines } = this.queuedCounts();
    return {
      records,
      output_lines: lines,
      failing_since: this.failure?.sinceTs ?? null,
      failure: this.failure?.message ?? null,
    };
  }

  private wakeWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i];
      if (w !== undefined && w.upTo <= this.controlWritten) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Resolves once every event, error and state queued before the call is written (output may still be queued). */
  private syncControl(): Promise<void> {
    const upTo = this.controlQueued;
    if (upTo <= this.controlWritten) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.waiters.push({ upTo, resolve }));
    void this.flush();
    return done;
  }

  /**
   * The run as the record has it plus what is queued for it, at once: never
   * behind the writer, whether it is busy or failing (a full filesystem).
   * Queued records reach the thread in order, so the thread answers before it
   * writes any record still queued here: laying the queue over its answer
   * counts each record once.
   */
  async status(): Promise<StatusDoc> {
    const doc = await this.thread.ask((api) => api.status(toTs(this.clock.wall())));
    return withPending(doc, this.control, this.unwritten());
  }

  /** One actor in detail, from the record and what is queued for it, at once (as status). */
  async actor(name: string): Promise<ActorDetail> {
    const d = await this.thread.ask((api) => api.actor(name, toTs(this.clock.wall())));
    const queuedLines = this.outputQueue.map((o) => o.record);
    return withPendingDetail(d, this.control, queuedLines, this.unwritten());
  }

  /**
   * Output lines for `logs`; waits for nothing (a follower polls by row id).
   * With `unwritten`, lines still queued follow the written ones, without an id.
   */
  async logs(q: Omit<LogQuery, 'runId'> & { runId?: number }, unwritten = false): Promise<LogLine[]> {
    const written = await this.thread.ask((api) => api.logs(q));
    if (!unwritten || q.afterId !== undefined || (q.runId !== undefined && q.runId !== this.runId)) return written;
    const grep = q.grep === undefined ? null : new RegExp(q.grep);
    const queued = pendingLines(
      this.outputQueue.map((o) => o.record),
      q,
      (l) => grep === null || grep.test(l),
    );
    return [...written, ...queued].slice(-q.limit);
  }

  /** A report waits a little for what was queued before it, never for a writer that fails. */
  async report(): Promise<RunReport> {
    if (this.failure === null) {
      let timer: TimerHandle | null = null;
      await Promise.race([
        this.syncControl(),
        new Promise<void>((r) => {
          timer = this.clock.setTimeout(r, REPORT_WAIT_MS);
        }),
      ]);
      if (timer !== null) this.clock.clearTimeout(timer);
    }
    return this.thread.ask((api) => api.report(toTs(this.clock.wall())));
  }

  /** One actor's CPU and memory over the run so far, from the record. */
  async series(name: string): Promise<SeriesPoint[]> {
    return this.thread.ask((api) => api.series(name, toTs(this.clock.wall())));
  }

  /** The newest events; with `unwritten`, those still queued follow, without an id. */
  async events(limit: number, unwritten = false): Promise<EventRow[]> {
    const written = await this.thread.ask((api) => api.events(limit));
    return unwritten ? [...written, ...pendingEvents(this.control)].slice(-limit) : written;
  }

  /** Gives up on the output still queued (counted as dropped), so that a stop asked for twice ends sooner. */
  abandonOutput(): void {
    const inFlight = this.outputQueue.slice(0, this.inFlightOutputs);
    for (const q of this.outputQueue.slice(this.inFlightOutputs)) {
      const p = q.record.process;
      this.dropped.set(p, (this.dropped.get(p) ?? 0) + q.record.count);
      this.tallies.dropped += q.record.count;
      this.tallies.version++;
    }
    this.outputQueue = inFlight;
    this.pendingBytes = inFlight.reduce((n, q) => n + q.bytes, 0);
    this.reportDrops(true);
  }

  /** Flushes everything, closes the run and the database, and ends the thread. */
  async finish(p: { status: string; exitCode: number; reason: string }): Promise<void> {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    const started = this.clock.now();
    for (;;) {
      await this.flush();
      this.reportDrops(true);
      if (this.control.length === 0 && this.outputQueue.length === 0) break;
      if (this.clock.now() - started > FINAL_RETRY_BUDGET_MS) {
        const lines = this.outputQueue.reduce((n, q) => n + q.record.count, 0);
        this.warn(
          `herder: ${this.control.length} records and ${lines} output lines could not be written to the database and are lost`,
        );
        break;
      }
      await new Promise<void>((r) => this.clock.setTimeout(r, this.retryMs || FLUSH_DELAY_MS));
    }
    await this.thread.end((api) => api.finish({ ...p, endedAt: toTs(this.clock.wall()) }));
  }

  async terminate(): Promise<void> {
    await this.thread.end();
  }
}
