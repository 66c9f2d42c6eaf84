/**
 * The logging actor's thread: the only code that writes herder's database.
 * It answers the main thread over comlink. Failures come back as values with
 * a code, never as exceptions that lose their meaning crossing the thread.
 */
import { statfsSync } from 'node:fs';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { expose } from 'comlink';
import { type Db, openForWrite } from '../record/open.ts';
import { claimOwnership, clearStaleLock, releaseOwnership } from '../record/owner.ts';
import {
  type ActorDetail,
  actorDetail,
  type EventRow,
  events,
  type LogLine,
  type LogQuery,
  logLines,
  registerMatch,
  type StatusDoc,
  statusDoc,
} from '../record/queries.ts';
import type { LogRecord } from '../record/records.ts';
import { actorSeries, type RunReport, reportData, type SeriesPoint } from '../record/report-data.ts';
import {
  finishRun,
  markCrashed,
  type PastSchedule,
  pastSchedules,
  startRun,
  type UnfinishedRun,
  unfinishedRuns,
} from '../record/runs.ts';
import { RecordWriter } from '../record/writer.ts';
import { isHerderError } from '../runtime/errors.ts';
import { nodeEndpoint } from './worker-support.ts';

export type Result<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

export interface OpenParams {
  readonly dbPath: string;
  readonly configPath: string;
  readonly maxRuntimeS: number | null;
  readonly startedAt: number;
  readonly pid: number;
  readonly pidStart: string | null;
  readonly retentionLines: number;
}

function fail(e: unknown): { ok: false; code: string; message: string } {
  if (isHerderError(e)) return { ok: false, code: e.code, message: e.message };
  return { ok: false, code: 'HERDER_ERR_INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** Below this much free space, a failed write is put down to a full filesystem. */
const FULL_BELOW_BYTES = 16 * 1024 * 1024;

/** The free space where the database lives, in bytes (null when it cannot be told). */
function freeBytes(dbPath: string): number | null {
  try {
    const s = statfsSync(path.dirname(dbPath));
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/**
 * Why a batch could not be written. SQLite reports a full disk as a plain
 * "disk I/O error" through node-sqlite3-wasm, so the free space is looked at.
 */
function writeFailure(dbPath: string, e: unknown): { ok: false; code: string; message: string } {
  const msg = e instanceof Error ? e.message : String(e);
  const free = freeBytes(dbPath);
  if (/full/i.test(msg) || (free !== null && free < FULL_BELOW_BYTES)) {
    const mb = free === null ? '?' : String(Math.floor(free / 1048576));
    return {
      ok: false,
      code: 'HERDER_ERR_DB_FULL',
      message: `the filesystem holding ${path.basename(dbPath)} is full: ${mb} MB free`,
    };
  }
  return { ok: false, code: 'HERDER_ERR_DB_WRITE', message: msg };
}

export class LoggerService {
  private db: Db | null = null;
  private writer: RecordWriter | null = null;
  private runId = 0;
  private dbPath = '';
  private matchRegistered = false;

  /** Opens the DB and lists runs that never ended (they may have left processes). */
  open(p: OpenParams): Result<{ unfinished: UnfinishedRun[]; staleLockOf: number | null }> {
    try {
      const staleLockOf = clearStaleLock(p.dbPath);
      this.db = openForWrite(p.dbPath);
      return { ok: true, value: { unfinished: unfinishedRuns(this.db), staleLockOf } };
    } catch (e) {
      return fail(e);
    }
  }

  /** Marks the given runs crashed and opens the new one; says where each actor's schedule stood before it. */
  begin(
    p: OpenParams,
    crashed: readonly { id: number; reason: string }[],
  ): Result<{ runId: number; schedules: PastSchedule[] }> {
    try {
      const db = this.need();
      for (const c of crashed) markCrashed(db, c.id, p.startedAt, c.reason);
      this.runId = startRun(db, p);
      const schedules = pastSchedules(db, this.runId);
      this.dbPath = p.dbPath;
      claimOwnership(p.dbPath);
      this.writer = new RecordWriter(db, this.runId, p.retentionLines);
      return { ok: true, value: { runId: this.runId, schedules } };
    } catch (e) {
      return fail(e);
    }
  }

  /** After the logging thread was restarted: reattach to the run already begun. */
  resume(p: OpenParams, runId: number): Result<null> {
    try {
      clearStaleLock(p.dbPath);
      const db = openForWrite(p.dbPath);
      this.db = db;
      this.runId = runId;
      this.dbPath = p.dbPath;
      this.writer = new RecordWriter(db, runId, p.retentionLines);
      claimOwnership(p.dbPath);
      return { ok: true, value: null };
    } catch (e) {
      return fail(e);
    }
  }

  write(records: LogRecord[]): Result<number> {
    if (this.writer === null) return fail(new Error('write before begin'));
    try {
      return { ok: true, value: this.writer.write(records) };
    } catch (e) {
      return writeFailure(this.dbPath, e);
    }
  }

  status(nowS: number): Result<StatusDoc> {
    try {
      return { ok: true, value: statusDoc(this.need(), this.runId, nowS, true) };
    } catch (e) {
      return fail(e);
    }
  }

  actor(name: string, nowS: number): Result<ActorDetail> {
    try {
      return { ok: true, value: actorDetail(this.need(), this.runId, name, nowS, true) };
    } catch (e) {
      return fail(e);
    }
  }

  logs(q: Omit<LogQuery, 'runId'> & { runId?: number }): Result<LogLine[]> {
    try {
      const db = this.need();
      if (!this.matchRegistered) {
        registerMatch(db);
        this.matchRegistered = true;
      }
      return { ok: true, value: logLines(db, { ...q, runId: q.runId ?? this.runId }) };
    } catch (e) {
      return fail(e);
    }
  }

  report(nowS: number): Result<RunReport> {
    try {
      return { ok: true, value: reportData(this.need(), this.runId, nowS) };
    } catch (e) {
      return fail(e);
    }
  }

  series(name: string, nowS: number): Result<SeriesPoint[]> {
    try {
      return { ok: true, value: actorSeries(this.need(), this.runId, name, nowS) };
    } catch (e) {
      return fail(e);
    }
  }

  events(limit: number): Result<EventRow[]> {
    try {
      return { ok: true, value: events(this.need(), this.runId, limit) };
    } catch (e) {
      return fail(e);
    }
  }

  finish(p: { endedAt: number; status: string; exitCode: number; reason: string }): Result<null> {
    try {
      const db = this.need();
      if (this.runId > 0) finishRun(db, this.runId, p);
      this.writer?.pruneAll();
      this.writer?.close();
      db.close();
      this.db = null;
      if (this.dbPath !== '') releaseOwnership(this.dbPath);
      return { ok: true, value: null };
    } catch (e) {
      return fail(e);
    }
  }

  private need(): Db {
    if (this.db === null) throw new Error('the database is not open');
    return this.db;
  }
}

if (parentPort !== null) expose(new LoggerService(), nodeEndpoint(parentPort));
