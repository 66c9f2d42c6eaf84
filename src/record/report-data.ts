/**
 * Everything `report` shows about one run, aggregated in SQL so that a run
 * with millions of rows reports in seconds: per-actor figures, errors by
 * type, a timeline of notable events, the top error messages, resource
 * series bucketed to at most SERIES_POINTS points, and state spans.
 */

import { SYSTEM } from '../runtime/events.ts';
import type { Db } from './open.ts';
import { requireRun } from './queries.ts';

export const SERIES_POINTS = 240;
export const NOTABLE = [
  'giveup',
  'escalate',
  'health',
  'limit',
  'leak',
  'pause',
  'resume',
  'pressure',
  'deadline',
  'signal',
  'kill',
  'crashed',
  'hint',
  'alert',
] as const;

export interface ActorReport {
  readonly name: string;
  readonly kind: string;
  readonly state: string;
  readonly runs: number;
  readonly successes: number;
  readonly failures: number;
  readonly restarts: number;
  readonly uptimePercent: number;
  readonly cpu: { readonly mean: number | null; readonly max: number | null };
  readonly memMb: { readonly mean: number | null; readonly max: number | null };
  readonly health: { readonly min: number | null; readonly mean: number | null };
  readonly errors: readonly {
    readonly type: string;
    readonly count: number;
    readonly first: number;
    readonly last: number;
  }[];
  readonly series: readonly { readonly ts: number; readonly cpu: number | null; readonly mem: number | null }[];
  /** Spans of running time (start to exit) within the run. */
  readonly running: readonly { readonly from: number; readonly to: number }[];
}

export interface RunReport {
  readonly format: 'herder.report/1';
  readonly run: {
    readonly id: number;
    readonly status: string;
    readonly startedAt: number;
    readonly endedAt: number | null;
    readonly plannedEnd: number | null;
    readonly reason: string | null;
    readonly exitCode: number | null;
    readonly configPath: string;
    /** herder's pid for that run. */
    readonly pid: number;
  };
  readonly actors: readonly ActorReport[];
  readonly timeline: readonly {
    readonly ts: number;
    readonly process: string;
    readonly kind: string;
    readonly detail: string;
  }[];
  readonly topErrors: readonly { readonly type: string; readonly message: string; readonly count: number }[];
}

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export type SeriesPoint = ActorReport['series'][number];

/** One actor's CPU and memory over the run so far, bucketed to at most SERIES_POINTS points (the dashboard's charts). */
export function actorSeries(db: Db, runId: number, name: string, nowS: number): SeriesPoint[] {
  const r = requireRun(db, runId);
  const startedAt = Number(r.started_at);
  const bucket = Math.max(1e-9, (n(r.ended_at) ?? nowS) - startedAt) / SERIES_POINTS;
  return db
    .all(
      `SELECT CAST((ts - ?) / ? AS INTEGER) AS b, AVG(ts) AS ts, AVG(cpu_percent) AS cpu, AVG(COALESCE(rss_mb, heap_used_mb)) AS mem
       FROM resource_usage WHERE process = ? AND run_id = ? GROUP BY b ORDER BY b`,
      [startedAt, bucket, name, runId],
    )
    .map((s) => ({ ts: Number(s.ts), cpu: n(s.cpu), mem: n(s.mem) }));
}

export function reportData(db: Db, runId: number, nowS: number): RunReport {
  const r = requireRun(db, runId);
  const startedAt = Number(r.started_at);
  const endedAt = n(r.ended_at);
  const end = endedAt ?? nowS;
  const span = Math.max(1e-9, end - startedAt);
  const bucket = span / SERIES_POINTS;

  const usage = new Map<string, Record<string, unknown>>();
  for (const u of db.all(
    `SELECT process, AVG(cpu_percent) AS cpu_mean, MAX(cpu_percent) AS cpu_max, AVG(COALESCE(rss_mb, heap_used_mb)) AS mem_mean,
            MAX(COALESCE(rss_mb, heap_used_mb)) AS mem_max, MIN(health) AS health_min, AVG(health) AS health_mean
     FROM resource_usage WHERE run_id = ? GROUP BY process`,
    [runId],
  )) {
    usage.set(String(u.process), u);
  }
  const errorsBy = new Map<string, ActorReport['errors'][number][]>();
  for (const e of db.all(
    `SELECT process, error_type, COUNT(*) AS c, MIN(ts) AS first, MAX(ts) AS last FROM process_errors
     WHERE run_id = ? GROUP BY process, error_type ORDER BY c DESC`,
    [runId],
  )) {
    const list = errorsBy.get(String(e.process)) ?? [];
    list.push({ type: String(e.error_type), count: Number(e.c), first: Number(e.first), last: Number(e.last) });
    errorsBy.set(String(e.process), list);
  }
  const seriesBy = new Map<string, { ts: number; cpu: number | null; mem: number | null }[]>();
  for (const s of db.all(
    `SELECT process, CAST((ts - ?) / ? AS INTEGER) AS b, AVG(ts) AS ts, AVG(cpu_percent) AS cpu, AVG(COALESCE(rss_mb, heap_used_mb)) AS mem
     FROM resource_usage WHERE run_id = ? AND process != ? GROUP BY process, b ORDER BY process, b`,
    [startedAt, bucket, runId, SYSTEM],
  )) {
    const list = seriesBy.get(String(s.process)) ?? [];
    list.push({ ts: Number(s.ts), cpu: n(s.cpu), mem: n(s.mem) });
    seriesBy.set(String(s.process), list);
  }
  const runningBy = new Map<string, { from: number; to: number }[]>();
  const open = new Map<string, number>();
  for (const e of db.all(
    "SELECT process, kind, ts FROM events WHERE run_id = ? AND kind IN ('start', 'exit', 'pause', 'resume') ORDER BY id",
    [runId],
  )) {
    // Running spans: from a start (or a resume) to an exit (or a pause): a paused actor is not up.
    const p = String(e.process);
    if (e.kind === 'start' || e.kind === 'resume') {
      if (!open.has(p)) open.set(p, Number(e.ts));
    } else if (open.has(p)) {
      const list = runningBy.get(p) ?? [];
      list.push({ from: open.get(p) ?? startedAt, to: Number(e.ts) });
      runningBy.set(p, list);
      open.delete(p);
    }
  }
  for (const [p, from] of open) {
    const list = runningBy.get(p) ?? [];
    list.push({ from, to: end });
    runningBy.set(p, list);
  }

  const actors = db
    .all('SELECT * FROM process_state WHERE run_id = ? ORDER BY rowid', [runId])
    .map((s): ActorReport => {
      const name = String(s.process);
      const u = usage.get(name);
      const running = runningBy.get(name) ?? [];
      const up = running.reduce((t, x) => t + Math.max(0, x.to - x.from), 0);
      return {
        name,
        kind: String(s.kind),
        state: String(s.state),
        runs: Number(s.runs),
        successes: Number(s.successes),
        failures: Number(s.failures),
        restarts: Number(s.restarts),
        uptimePercent: Math.min(100, (up / span) * 100),
        cpu: { mean: n(u?.cpu_mean), max: n(u?.cpu_max) },
        memMb: { mean: n(u?.mem_mean), max: n(u?.mem_max) },
        health: { min: n(u?.health_min), mean: n(u?.health_mean) },
        errors: errorsBy.get(name) ?? [],
        series: seriesBy.get(name) ?? [],
        running,
      };
    });
  const kinds = NOTABLE.map(() => '?').join(', ');
  const timeline = db
    .all(`SELECT ts, process, kind, detail FROM events WHERE run_id = ? AND kind IN (${kinds}) ORDER BY id LIMIT 500`, [
      runId,
      ...NOTABLE,
    ])
    .map((e) => ({ ts: Number(e.ts), process: String(e.process), kind: String(e.kind), detail: String(e.detail) }));
  const topErrors = db
    .all(
      `SELECT error_type, message, COUNT(*) AS c FROM process_errors WHERE run_id = ?
       GROUP BY error_type, message ORDER BY c DESC LIMIT 10`,
      [runId],
    )
    .map((e) => ({ type: String(e.error_type), message: String(e.message), count: Number(e.c) }));
  return {
    format: 'herder.report/1',
    run: {
      id: runId,
      status: String(r.status),
      startedAt,
      endedAt,
      plannedEnd: r.max_runtime_s === null ? null : startedAt + Number(r.max_runtime_s),
      reason: r.end_reason === null ? null : String(r.end_reason),
      exitCode: n(r.exit_code),
      configPath: String(r.config_path),
      pid: Number(r.pid),
    },
    actors,
    timeline,
    topErrors,
  };
}
