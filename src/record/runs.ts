/** The runs table: opening a run, finding runs that never ended, closing one. */

import { renderEvent } from '../runtime/event-text.ts';
import { HERDER, herderEvent, SYSTEM } from '../runtime/events.ts';
import type { Db } from './open.ts';

export interface UnfinishedRun {
  readonly id: number;
  readonly pid: number;
  readonly pidStart: string | null;
  /** Process groups the run had alive when last recorded. */
  readonly groups: readonly { process: string; pid: number; pidStart: string | null }[];
}

export function startRun(
  db: Db,
  p: { startedAt: number; configPath: string; maxRuntimeS: number | null; pid: number; pidStart: string | null },
): number {
  const r = db.run(
    `INSERT INTO runs(started_at, config_path, status, max_runtime_s, pid, pid_start)
     VALUES (?, ?, 'running', ?, ?, ?)`,
    [p.startedAt, p.configPath, p.maxRuntimeS, p.pid, p.pidStart],
  );
  return Number(r.lastInsertRowid);
}

export function unfinishedRuns(db: Db): UnfinishedRun[] {
  const runs = db.all("SELECT id, pid, pid_start FROM runs WHERE status = 'running' ORDER BY id");
  return runs.map((r) => ({
    id: Number(r.id),
    pid: Number(r.pid),
    pidStart: r.pid_start === null ? null : String(r.pid_start),
    groups: db
      .all(
        `SELECT process, pid, pid_start FROM process_state
         WHERE run_id = ? AND pid IS NOT NULL AND kind = 'process'`,
        [Number(r.id)],
      )
      .map((g) => ({
        process: String(g.process),
        pid: Number(g.pid),
        pidStart: g.pid_start === null ? null : String(g.pid_start),
      })),
  }));
}

/** Where an actor stood at the end of the last run on this record that had it: for resuming loop schedules. */
export interface PastSchedule {
  readonly process: string;
  readonly runId: number;
  /** The run it was waiting for (unix seconds), if it was waiting. */
  readonly nextRunAt: number | null;
  /** When its last run ended, and whether that run succeeded. */
  readonly lastExit: number | null;
  readonly lastExitOk: boolean;
}

export function pastSchedules(db: Db, beforeRun: number): PastSchedule[] {
  return db
    .all(
      `SELECT ps.process, ps.run_id, ps.next_run_at, ps.last_exit, ps.last_exit_code, ps.last_exit_signal
       FROM process_state ps
       WHERE ps.run_id = (SELECT MAX(p2.run_id) FROM process_state p2 WHERE p2.process = ps.process AND p2.run_id < ?)`,
      [beforeRun],
    )
    .map((r) => ({
      process: String(r.process),
      runId: Number(r.run_id),
      nextRunAt: r.next_run_at === null ? null : Number(r.next_run_at),
      lastExit: r.last_exit === null ? null : Number(r.last_exit),
      lastExitOk: r.last_exit_code !== null && Number(r.last_exit_code) === 0 && r.last_exit_signal === null,
    }));
}

export function markCrashed(db: Db, id: number, endedAt: number, reason: string): void {
  db.exec('BEGIN');
  db.run(
    // When it ended is not known: the last sign of life in the record is the best bound (each lookup is indexed).
    `UPDATE runs SET status = 'crashed', end_reason = ?2,
       ended_at = MAX(started_at,
         COALESCE((SELECT MAX(ts) FROM events WHERE run_id = ?1), 0),
         COALESCE((SELECT MAX(ts) FROM process_errors WHERE run_id = ?1), 0),
         COALESCE((SELECT ts FROM process_output WHERE run_id = ?1 ORDER BY id DESC LIMIT 1), 0),
         COALESCE((SELECT MAX(ts) FROM resource_usage WHERE process = ?3 AND run_id = ?1), 0))
     WHERE id = ?1`,
    [id, reason, SYSTEM],
  );
  db.run(
    `UPDATE process_state SET state = 'stopped', pid = NULL, detail = 'herder ended without a shutdown'
     WHERE run_id = ? AND state NOT IN ('stopped', 'fatal')`,
    [id],
  );
  const e = herderEvent(HERDER, 'crashed', { reason });
  db.run("INSERT INTO events(run_id, ts, process, kind, detail, data) VALUES (?, ?, ?, 'crashed', ?, ?)", [
    id,
    endedAt,
    HERDER,
    renderEvent(e),
    JSON.stringify(e.data),
  ]);
  db.exec('COMMIT');
}

export function finishRun(
  db: Db,
  id: number,
  p: { endedAt: number; status: string; exitCode: number; reason: string },
): void {
  db.run('UPDATE runs SET ended_at = ?, status = ?, exit_code = ?, end_reason = ? WHERE id = ?', [
    p.endedAt,
    p.status,
    p.exitCode,
    p.reason,
    id,
  ]);
}
