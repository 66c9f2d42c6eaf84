/**
 * The write side of the record, used only inside the logging actor's thread:
 * one transaction per batch, prepared statements, and output retention pruned
 * in small steps so that no single write stalls for long.
 */
import { assertNever } from '../runtime/errors.ts';
import type { Db } from './open.ts';
import type { LogRecord, ProcessStateRow } from './records.ts';

type Stmt = ReturnType<Db['prepare']>;

const PRUNE_EVERY_LINES = 20_000;
const PRUNE_STEP_ROWS = 5_000;

export class RecordWriter {
  private readonly insEvent: Stmt;
  private readonly insError: Stmt;
  private readonly insOutput: Stmt;
  private readonly upsState: Stmt;
  private readonly insUsage: Stmt;
  private readonly insOutputLines: Stmt;
  private readonly upsConfig: Stmt;
  private readonly sincePrune = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly runId: number,
    private readonly retentionLines: number,
  ) {
    this.insEvent = db.prepare('INSERT INTO events(run_id, ts, process, kind, detail, data) VALUES (?, ?, ?, ?, ?, ?)');
    this.insError = db.prepare(
      'INSERT INTO process_errors(run_id, ts, process, error_type, message, context) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insOutput = db.prepare(
      'INSERT INTO process_output(run_id, ts, process, pid, stream, line) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // A batch of lines crosses into SQLite as one JSON array, not one call per line: about twice as many rows a second.
    this.insOutputLines = db.prepare(
      'INSERT INTO process_output(run_id, ts, process, pid, stream, line) SELECT ?, ?, ?, ?, ?, value FROM json_each(?)',
    );
    this.upsConfig = db.prepare(
      'INSERT INTO actor_config(run_id, process, config) VALUES (?, ?, ?) ON CONFLICT(run_id, process) DO UPDATE SET config = excluded.config',
    );
    this.insUsage = db.prepare(`INSERT INTO resource_usage(run_id, ts, process, pid, cpu_percent, rss_mb, num_threads,
        num_fds, health, heap_used_mb, elu, mem_percent, available_mb, load1, disk_free_mb, heap_total_mb)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.upsState =
      db.prepare(`INSERT INTO process_state(run_id, process, kind, parent, state, pid, pid_start, restarts,
        runs, successes, failures, last_exit_code, last_exit_signal, last_start, last_exit, next_run_at, detail,
        error_patterns)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(run_id, process) DO UPDATE SET kind = excluded.kind, parent = excluded.parent,
        state = excluded.state, pid = excluded.pid, pid_start = excluded.pid_start, restarts = excluded.restarts,
        runs = excluded.runs, successes = excluded.successes, failures = excluded.failures,
        last_exit_code = excluded.last_exit_code, last_exit_signal = excluded.last_exit_signal,
        last_start = excluded.last_start, last_exit = excluded.last_exit, next_run_at = excluded.next_run_at,
        error_patterns = excluded.error_patterns,
        detail = excluded.detail`);
  }

  /** Writes a batch in one transaction; returns the number of output lines written. */
  write(records: readonly LogRecord[]): number {
    let lines = 0;
    this.db.exec('BEGIN');
    try {
      for (const r of records) lines += this.one(r);
      this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
    this.pruneIfDue();
    return lines;
  }

  private one(r: LogRecord): number {
    switch (r.t) {
      case 'event':
        this.insEvent.run([this.runId, r.ts, r.process, r.kind, r.detail, r.data]);
        return 0;
      case 'error':
        this.insError.run([this.runId, r.ts, r.process, r.errorType, r.message, r.context]);
        return 0;
      case 'output':
        if (r.count === 1) this.insOutput.run([this.runId, r.ts, r.process, r.pid, r.stream, r.text]);
        else
          this.insOutputLines.run([this.runId, r.ts, r.process, r.pid, r.stream, JSON.stringify(r.text.split('\n'))]);
        this.sincePrune.set(r.process, (this.sincePrune.get(r.process) ?? 0) + r.count);
        return r.count;
      case 'state':
        this.state(r.row);
        return 0;
      case 'config':
        this.upsConfig.run([this.runId, r.process, r.config]);
        return 0;
      case 'http':
        this.db.run('UPDATE runs SET http = ? WHERE id = ?', [r.url, this.runId]);
        return 0;
      case 'usage': {
        const u = r.row;
        this.insUsage.run([
          this.runId,
          r.ts,
          u.process,
          u.pid,
          u.cpuPercent,
          u.rssMb,
          u.numThreads,
          u.numFds,
          u.health,
          u.heapUsedMb,
          u.elu,
          u.memPercent,
          u.availableMb,
          u.load1,
          u.diskFreeMb,
          u.heapTotalMb,
        ]);
        return 0;
      }
      default:
        return assertNever(r, 'record');
    }
  }

  private state(s: ProcessStateRow): void {
    this.upsState.run([
      this.runId,
      s.process,
      s.kind,
      s.parent,
      s.state,
      s.pid,
      s.pidStart,
      s.restarts,
      s.runs,
      s.successes,
      s.failures,
      s.lastExitCode,
      s.lastExitSignal,
      s.lastStart,
      s.lastExit,
      s.nextRunAt,
      s.detail,
      s.errorPatterns,
    ]);
  }

  /**
   * Keeps the newest `retentionLines` lines per actor (across runs). Runs for
   * an actor once it has written enough new lines, deleting a bounded number
   * of rows per call; repeated calls catch up with any backlog.
   */
  private pruneIfDue(): void {
    for (const [process, n] of this.sincePrune) {
      if (n < PRUNE_EVERY_LINES && n < this.retentionLines) continue;
      this.sincePrune.set(process, 0);
      this.pruneStep(process);
    }
  }

  pruneStep(process: string): number {
    const cutoff = this.db.get('SELECT id FROM process_output WHERE process = ? ORDER BY id DESC LIMIT 1 OFFSET ?', [
      process,
      this.retentionLines - 1,
    ]);
    if (cutoff === null) return 0;
    const r = this.db.run(
      `DELETE FROM process_output WHERE id IN (
         SELECT id FROM process_output WHERE process = ? AND id < ? ORDER BY id LIMIT ?)`,
      [process, Number(cutoff.id), PRUNE_STEP_ROWS],
    );
    if (r.changes === PRUNE_STEP_ROWS) this.sincePrune.set(process, PRUNE_EVERY_LINES); // more to do next batch
    return r.changes;
  }

  /** Brings every actor written to in this run within the retention limit. */
  pruneAll(): void {
    for (const process of this.sincePrune.keys()) while (this.pruneStep(process) > 0);
  }

  close(): void {
    for (const s of [
      this.insEvent,
      this.insError,
      this.insOutput,
      this.insOutputLines,
      this.upsState,
      this.insUsage,
      this.upsConfig,
    ])
      s.finalize();
  }
}
