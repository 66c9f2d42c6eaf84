/**
 * The read side of the record: the only SQL outside the logging actor. The
 * same functions answer the CLI from a finished run's file and the control
 * socket from the logging actor during a live run.
 */
import { HerderError } from '../runtime/errors.ts';
import { SYSTEM } from '../runtime/events.ts';
import { type LogLine, logLines } from './history.ts';
import type { Db } from './open.ts';

export {
  type EventRow,
  eventData,
  events,
  type LogLine,
  type LogQuery,
  logLines,
  registerMatch,
} from './history.ts';

export interface ActorStatus {
  readonly name: string;
  readonly kind: string;
  readonly parent: string;
  readonly state: string;
  readonly pid: number | null;
  readonly uptime_s: number | null;
  readonly runs: number;
  readonly successes: number;
  readonly failures: number;
  readonly restarts: number;
  readonly last_exit_code: number | null;
  readonly last_exit_signal: string | null;
  readonly last_start: number | null;
  readonly last_exit: number | null;
  readonly next_run_at: number | null;
  readonly detail: string;
  /** From the latest resource sample (null before the first, or when sampling is off). */
  readonly cpu_percent: number | null;
  /** A process actor's resident memory, its whole group's. */
  readonly rss_mb: number | null;
  /** A thread actor's memory: V8 heap in use in its worker (a thread has no resident memory of its own). */
  readonly heap_mb?: number | null;
  /** Live only (null from the file): what the actor reported about itself. */
  readonly progress: number | null;
  readonly self_health: number | null;
  readonly heartbeat_at: number | null;
  /** Seconds since its last output line, heartbeat or progress report. */
  readonly idle_s: number | null;
  readonly bad_health_lines: number | null;
  /** Matches per error pattern in this run (live only). */
  readonly error_patterns: Readonly<Record<string, number>> | null;
  /** Frozen with SIGSTOP right now (live only). */
  readonly paused: boolean | null;
  readonly last_error: { readonly type: string; readonly message: string; readonly ts: number } | null;
  /** Its resource_limits, for scales (null without limits, or from a record older than schema 4). */
  readonly limits?: ActorLimits | null;
}

export interface ActorLimits {
  readonly max_memory_mb: number | null;
  readonly max_cpu_percent: number | null;
  readonly max_fds: number | null;
}

export interface RunStatus {
  readonly id: number;
  readonly status: string;
  readonly started_at: number;
  readonly ended_at: number | null;
  readonly config_path: string;
  readonly max_runtime_s: number | null;
  readonly deadline_at: number | null;
  readonly pid: number;
  readonly exit_code: number | null;
  readonly end_reason: string | null;
  /** The web dashboard's address, when the run serves one. */
  readonly http: string | null;
}

export interface StatusDoc {
  readonly format: 'herder.status/1';
  readonly generated_at: number;
  readonly live: boolean;
  readonly run: RunStatus;
  readonly actors: readonly ActorStatus[];
  /** The machine at the latest sample. */
  readonly system: {
    readonly cpu_percent: number | null;
    readonly mem_percent: number | null;
    readonly available_mb: number | null;
    readonly load1: number | null;
    readonly disk_free_mb: number | null;
  } | null;
  /**
   * Live only: what the run holds in memory that is not in the database yet. The figures above include it;
   * `failing` says why it waits when writes fail (a full filesystem, a lock held by another program).
   */
  readonly unwritten?: Unwritten | null;
}

export interface Unwritten {
  readonly records: number;
  readonly output_lines: number;
  /** Since when writes fail (unix seconds), and why; null while they succeed. */
  readonly failing_since: number | null;
  readonly failure: string | null;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function latestRunId(db: Db): number {
  const row = db.get('SELECT MAX(id) AS id FROM runs');
  const id = num(row?.id);
  if (id === null)
    throw new HerderError('HERDER_ERR_NO_RUN', 'the database holds no run yet (start one with `herder run`)');
  return id;
}

/** The runs row, or a user error that says which runs there are. */
export function requireRun(db: Db, runId: number): NonNullable<ReturnType<Db['get']>> {
  const r = db.get('SELECT * FROM runs WHERE id = ?', [runId]);
  if (r !== null) return r;
  const span = db.get('SELECT MIN(id) AS lo, MAX(id) AS hi FROM runs');
  const [lo, hi] = [num(span?.lo), num(span?.hi)];
  const holds =
    lo === null || hi === null
      ? 'it holds no run yet'
      : lo === hi
        ? `it holds run ${lo}`
        : `it holds runs ${lo} to ${hi}`;
  throw new HerderError('HERDER_ERR_NO_RUN', `no run with id ${runId} in this database (${holds})`);
}

export function statusDoc(db: Db, runId: number, nowS: number, live: boolean): StatusDoc {
  const r = requireRun(db, runId);
  const run: RunStatus = {
    id: runId,
    status: String(r.status),
    started_at: Number(r.started_at),
    ended_at: num(r.ended_at),
    config_path: String(r.config_path),
    max_runtime_s: num(r.max_runtime_s),
    deadline_at: r.max_runtime_s === null ? null : Number(r.started_at) + Number(r.max_runtime_s),
    pid: Number(r.pid),
    exit_code: num(r.exit_code),
    end_reason: str(r.end_reason),
    http: str(r.http),
  };
  // One indexed lookup per actor (process, run_id, ts), never a scan of the run's rows:
  // status is polled every second, and a week-long run has millions of samples.
  const stateRows = db.all('SELECT * FROM process_state WHERE run_id = ? ORDER BY rowid', [runId]);
  const lastErrors = new Map<string, { type: string; message: string; ts: number }>();
  const usage = new Map<string, Record<string, unknown>>();
  // One statement per table, each doing one index lookup per actor inside SQLite: a call per actor from here
  // cost most of a status (a fixed overhead per call).
  const names = `WITH names(p) AS (SELECT process FROM process_state WHERE run_id = ?1 UNION ALL SELECT ?2)`;
  for (const e of db.all(
    `${names} SELECT n.p AS process, e.error_type, e.message, e.ts FROM names n JOIN process_errors e ON e.rowid =
       (SELECT rowid FROM process_errors WHERE process = n.p AND run_id = ?1 ORDER BY ts DESC LIMIT 1)`,
    [runId, SYSTEM],
  )) {
    lastErrors.set(String(e.process), { type: String(e.error_type), message: String(e.message), ts: Number(e.ts) });
  }
  for (const u of db.all(
    `${names} SELECT u.* FROM names n JOIN resource_usage u ON u.rowid =
       (SELECT rowid FROM resource_usage WHERE process = n.p AND run_id = ?1 ORDER BY ts DESC LIMIT 1)`,
    [runId, SYSTEM],
  )) {
    usage.set(String(u.process), u);
  }
  const sys = usage.get(SYSTEM);
  const configs = actorConfigs(db, runId);
  const actors = stateRows.map((s) => ({
    ...actorStatus(s, usage.get(String(s.process)), lastErrors.get(String(s.process)) ?? null, nowS),
    limits: limitsOf(configs.get(String(s.process))),
  }));
  return {
    format: 'herder.status/1',
    generated_at: nowS,
    live,
    run,
    actors,
    system: systemStatus(sys),
    unwritten: null,
  };
}

/** A process_state row (as stored, snake_case) with its latest sample and error, as status shows it. */
export function actorStatus(
  s: Record<string, unknown>,
  usage: Record<string, unknown> | undefined,
  lastError: ActorStatus['last_error'],
  nowS: number,
): ActorStatus {
  const running = s.state === 'running' || s.state === 'stopping';
  const lastStart = num(s.last_start);
  return {
    name: String(s.process),
    kind: String(s.kind),
    parent: String(s.parent),
    state: String(s.state),
    pid: num(s.pid),
    uptime_s: running && lastStart !== null ? Math.max(0, nowS - lastStart) : null,
    runs: Number(s.runs),
    successes: Number(s.successes),
    failures: Number(s.failures),
    restarts: Number(s.restarts),
    last_exit_code: num(s.last_exit_code),
    last_exit_signal: str(s.last_exit_signal),
    last_start: lastStart,
    last_exit: num(s.last_exit),
    next_run_at: num(s.next_run_at),
    detail: String(s.detail),
    cpu_percent: running ? num(usage?.cpu_percent) : null,
    rss_mb: running ? num(usage?.rss_mb) : null,
    heap_mb: running && s.kind === 'thread' ? num(usage?.heap_used_mb) : null,
    progress: null,
    self_health: null,
    heartbeat_at: null,
    idle_s: null,
    bad_health_lines: null,
    error_patterns: patternCounts(s.error_patterns),
    paused: null,
    last_error: lastError,
  };
}

export function systemStatus(sys: Record<string, unknown> | undefined): StatusDoc['system'] {
  return sys === undefined
    ? null
    : {
        cpu_percent: num(sys.cpu_percent),
        mem_percent: num(sys.mem_percent),
        available_mb: num(sys.available_mb),
        load1: num(sys.load1),
        disk_free_mb: num(sys.disk_free_mb),
      };
}

/** Each actor's config as recorded at the run's start (or its last reload); none in a record before schema 4. */
export function actorConfigs(db: Db, runId: number): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const has = db.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'actor_config'");
  if (has === null) return out;
  for (const r of db.all('SELECT process, config FROM actor_config WHERE run_id = ?', [runId])) {
    try {
      out.set(String(r.process), JSON.parse(String(r.config)) as Record<string, unknown>);
    } catch {
      // a damaged row: the config is simply not shown
    }
  }
  return out;
}

function limitsOf(config: Record<string, unknown> | undefined): ActorLimits | null {
  const l = config?.resource_limits;
  if (typeof l !== 'object' || l === null) return null;
  const n = (k: string) => {
    const v = (l as Record<string, unknown>)[k];
    return typeof v === 'number' ? v : null;
  };
  return { max_memory_mb: n('max_memory_mb'), max_cpu_percent: n('max_cpu_percent'), max_fds: n('max_fds') };
}

/** One actor in detail: `status NAME` and `ctl status NAME` (format herder.actor/1). */
export interface ActorDetail {
  readonly format: 'herder.actor/1';
  readonly generated_at: number;
  readonly live: boolean;
  readonly run: RunStatus;
  readonly actor: ActorStatus;
  /** Its latest resource sample. */
  readonly sample: {
    readonly ts: number;
    readonly health: number | null;
    readonly cpu_percent: number | null;
    readonly rss_mb: number | null;
    readonly heap_used_mb: number | null;
    readonly heap_total_mb: number | null;
    readonly num_threads: number | null;
    readonly num_fds: number | null;
  } | null;
  /** Its newest errors, oldest first. */
  readonly errors: readonly {
    readonly ts: number;
    readonly type: string;
    readonly message: string;
    readonly context: string;
  }[];
  /** Its newest output lines, oldest first. */
  readonly output: readonly LogLine[];
  /** The config as herder understood it (null in a record before schema 4). */
  readonly config: Record<string, unknown> | null;
  /** Live only: what is not in the database yet (see StatusDoc). */
  readonly unwritten?: Unwritten | null;
}

export const DETAIL_ERRORS = 5;
export const DETAIL_LINES = 10;

export function actorDetail(db: Db, runId: number, name: string, nowS: number, live: boolean): ActorDetail {
  const doc = statusDoc(db, runId, nowS, live);
  const actor = doc.actors.find((a) => a.name === name);
  if (actor === undefined) {
    throw new HerderError(
      'HERDER_ERR_ARGS',
      `herder: no actor named "${name}" in run ${runId} (actors: ${doc.actors.map((a) => a.name).join(', ')})`,
    );
  }
  const u = db.get('SELECT * FROM resource_usage WHERE process = ? AND run_id = ? ORDER BY ts DESC LIMIT 1', [
    name,
    runId,
  ]);
  const errors = db
    .all(
      'SELECT ts, error_type, message, context FROM process_errors WHERE process = ? AND run_id = ? ORDER BY ts DESC, id DESC LIMIT ?',
      [name, runId, DETAIL_ERRORS],
    )
    .reverse()
    .map((e) => ({
      ts: Number(e.ts),
      type: String(e.error_type),
      message: String(e.message),
      context: String(e.context),
    }));
  return {
    format: 'herder.actor/1',
    generated_at: nowS,
    live,
    run: doc.run,
    actor,
    sample:
      u === null
        ? null
        : {
            ts: Number(u.ts),
            health: num(u.health),
            cpu_percent: num(u.cpu_percent),
            rss_mb: num(u.rss_mb),
            heap_used_mb: num(u.heap_used_mb),
            heap_total_mb: u.heap_total_mb === undefined ? null : num(u.heap_total_mb),
            num_threads: num(u.num_threads),
            num_fds: num(u.num_fds),
          },
    errors,
    output: logLines(db, { runId, process: name, limit: DETAIL_LINES }),
    config: actorConfigs(db, runId).get(name) ?? null,
  };
}

function patternCounts(v: unknown): Record<string, number> | null {
  if (typeof v !== 'string') return null;
  try {
    return JSON.parse(v) as Record<string, number>;
  } catch {
    return null;
  }
}

export function actorNames(db: Db, runId: number): string[] {
  return db
    .all('SELECT process FROM process_state WHERE run_id = ? ORDER BY rowid', [runId])
    .map((r) => String(r.process));
}
