/**
 * What a live run holds that is not in the database yet, laid over what the
 * database says. The live answers (status, events, logs) never wait for the
 * writer: while it is behind, or while writes fail (a full filesystem), the
 * queued records are applied here in memory and counted as unwritten.
 *
 * Pure: no SQL. The records come from the logger's queues in the order they
 * were queued, which is the order they will be written in.
 */

import { SYSTEM } from '../runtime/events.ts';
import {
  type ActorDetail,
  type ActorStatus,
  actorStatus,
  DETAIL_ERRORS,
  DETAIL_LINES,
  type EventRow,
  eventData,
  type LogLine,
  type LogQuery,
  type StatusDoc,
  systemStatus,
  type Unwritten,
} from './queries.ts';
import type { LogRecord, OutputRecord, ProcessStateRow, UsageRow } from './records.ts';

/** A state row as the database stores it, so that one mapping serves both. */
function stored(r: ProcessStateRow): Record<string, unknown> {
  return {
    process: r.process,
    kind: r.kind,
    parent: r.parent,
    state: r.state,
    pid: r.pid,
    restarts: r.restarts,
    runs: r.runs,
    successes: r.successes,
    failures: r.failures,
    last_exit_code: r.lastExitCode,
    last_exit_signal: r.lastExitSignal,
    last_start: r.lastStart,
    last_exit: r.lastExit,
    next_run_at: r.nextRunAt,
    detail: r.detail,
    error_patterns: r.errorPatterns,
  };
}

const usageAsStored = (u: UsageRow): Record<string, unknown> => ({
  cpu_percent: u.cpuPercent,
  rss_mb: u.rssMb,
  heap_used_mb: u.heapUsedMb,
  mem_percent: u.memPercent,
  available_mb: u.availableMb,
  load1: u.load1,
  disk_free_mb: u.diskFreeMb,
});

/** The status document with the queued state, samples and errors applied, and what is unwritten counted. */
export function withPending(doc: StatusDoc, queued: readonly LogRecord[], unwritten: Unwritten): StatusDoc {
  const states = new Map<string, ProcessStateRow>();
  const usage = new Map<string, UsageRow>();
  const errors = new Map<string, NonNullable<ActorStatus['last_error']>>();
  for (const r of queued) {
    if (r.t === 'state') states.set(r.row.process, r.row);
    else if (r.t === 'usage') usage.set(r.row.process, r.row);
    else if (r.t === 'error') errors.set(r.process, { type: r.errorType, message: r.message, ts: r.ts });
  }
  const now = doc.generated_at;
  const actors: ActorStatus[] = doc.actors.map((a) => {
    const s = states.get(a.name);
    states.delete(a.name);
    const base = s === undefined ? a : { ...actorStatus(stored(s), undefined, a.last_error, now), limits: a.limits };
    const thread = base.kind === 'thread';
    const u = usage.get(a.name);
    const running = base.state === 'running' || base.state === 'stopping';
    return {
      ...base,
      cpu_percent: running ? (u?.cpuPercent ?? a.cpu_percent) : null,
      rss_mb: running ? (u?.rssMb ?? a.rss_mb) : null,
      heap_mb: running && thread ? (u?.heapUsedMb ?? a.heap_mb ?? null) : null,
      last_error: errors.get(a.name) ?? base.last_error,
    };
  });
  for (const s of states.values()) {
    const u = usage.get(s.process);
    actors.push(actorStatus(stored(s), u && usageAsStored(u), errors.get(s.process) ?? null, now));
  }
  const sys = usage.get(SYSTEM);
  return {
    ...doc,
    actors,
    system: sys === undefined ? doc.system : systemStatus(usageAsStored(sys)),
    unwritten,
  };
}

/** Queued events, after the written ones: they have no row id yet. */
export function pendingEvents(queued: readonly LogRecord[]): EventRow[] {
  const out: EventRow[] = [];
  for (const r of queued) {
    if (r.t === 'event') {
      out.push({ id: null, ts: r.ts, process: r.process, kind: r.kind, detail: r.detail, data: eventData(r.data) });
    }
  }
  return out;
}

/** Queued output lines that a logs query would return, oldest first, without row ids. */
export function pendingLines(
  queued: readonly OutputRecord[],
  q: Omit<LogQuery, 'runId'>,
  match: (line: string) => boolean,
): LogLine[] {
  const out: LogLine[] = [];
  for (const r of queued) {
    if (q.process !== undefined && r.process !== q.process) continue;
    if (q.stream !== undefined && r.stream !== q.stream) continue;
    if (q.sinceTs !== undefined && r.ts < q.sinceTs) continue;
    for (const line of r.text.split('\n')) {
      if (match(line)) out.push({ id: null, ts: r.ts, process: r.process, stream: r.stream, line });
    }
  }
  return out.slice(-q.limit);
}

/** One actor in detail (status NAME): the record's answer with what is queued for it laid over, as status. */
export function withPendingDetail(
  d: ActorDetail,
  queued: readonly LogRecord[],
  queuedOutput: readonly OutputRecord[],
  unwritten: Unwritten,
): ActorDetail {
  const name = d.actor.name;
  const doc = withPending(
    {
      format: 'herder.status/1',
      generated_at: d.generated_at,
      live: true,
      run: d.run,
      actors: [d.actor],
      system: null,
    },
    queued.filter((r) => r.t !== 'state' || r.row.process === name),
    unwritten,
  );
  const errors = queued.flatMap((r) =>
    r.t === 'error' && r.process === name
      ? [{ ts: r.ts, type: r.errorType, message: r.message, context: r.context }]
      : [],
  );
  const lines = pendingLines(queuedOutput, { process: name, limit: DETAIL_LINES }, () => true);
  return {
    ...d,
    actor: { ...(doc.actors[0] ?? d.actor), limits: d.actor.limits },
    errors: [...d.errors, ...errors].slice(-DETAIL_ERRORS),
    output: [...d.output, ...lines].slice(-DETAIL_LINES),
    unwritten: doc.unwritten,
  };
}
