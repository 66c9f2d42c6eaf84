/** Plain-text rendering of status documents: a header and an aligned table. */

import type { ActorStatus, StatusDoc } from '../record/queries.ts';
import { formatMs } from '../runtime/duration.ts';
import { HERDER } from '../runtime/events.ts';

function lastExit(a: ActorStatus): string {
  if (a.last_exit_signal !== null) return a.last_exit_signal;
  if (a.last_exit_code !== null) return String(a.last_exit_code);
  return '-';
}

function nextRun(a: ActorStatus, now: number): string {
  if (a.next_run_at === null || (a.state !== 'loop_wait' && a.state !== 'restarting')) return '-';
  return `in ${formatMs(Math.max(0, (a.next_run_at - now) * 1000))}`;
}

/** A process actor's resident memory; a thread actor's heap in use, said as such. */
function memory(a: ActorStatus): string {
  if (a.rss_mb !== null) return `${a.rss_mb.toFixed(0)}M`;
  if (a.heap_mb !== undefined && a.heap_mb !== null) return `${a.heap_mb.toFixed(0)}M heap`;
  return '-';
}

function shorten(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= n ? one : `${one.slice(0, n - 1)}…`;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function renderStatus(doc: StatusDoc): string {
  const r = doc.run;
  const now = doc.generated_at;
  const parts = [
    `run ${r.id}`,
    r.status,
    `started ${new Date(r.started_at * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC`,
  ];
  if (r.ended_at !== null) parts.push(`ran ${formatMs((r.ended_at - r.started_at) * 1000)}`);
  else if (doc.live) parts.push(`up ${formatMs((now - r.started_at) * 1000)}`, `pid ${r.pid}`);
  if (r.deadline_at !== null && r.ended_at === null && doc.live)
    parts.push(`${formatMs(Math.max(0, r.deadline_at - now) * 1000)} left`);
  if (r.deadline_at === null) parts.push('no time limit');
  if (doc.live && r.http !== null) parts.push(`dashboard ${r.http}`);
  if (r.end_reason !== null) parts.push(r.end_reason);
  const m = doc.system;
  if (doc.live && m !== null && m.cpu_percent !== null && m.mem_percent !== null) {
    parts.push(
      `machine: cpu ${m.cpu_percent.toFixed(0)}%, memory ${m.mem_percent.toFixed(0)}%, load ${m.load1 ?? '-'}`,
    );
  }
  const rows = doc.actors.map((a) => [
    a.parent === HERDER ? a.name : `${a.parent}/${a.name}`,
    a.kind,
    a.paused === true ? 'paused' : a.state,
    a.pid === null ? '-' : String(a.pid),
    a.uptime_s === null ? '-' : formatMs(a.uptime_s * 1000),
    a.cpu_percent === null ? '-' : `${a.cpu_percent.toFixed(0)}%`,
    memory(a),
    String(a.runs),
    String(a.successes),
    String(a.failures),
    String(a.restarts),
    lastExit(a),
    nextRun(a, now),
    a.last_error === null
      ? a.detail === ''
        ? ''
        : shorten(a.detail, 60)
      : shorten(`${a.last_error.type}: ${a.last_error.message}`, 60),
  ]);
  const head = [
    'ACTOR',
    'KIND',
    'STATE',
    'PID',
    'UPTIME',
    'CPU',
    'MEM',
    'RUNS',
    'OK',
    'FAILED',
    'RESTARTS',
    'EXIT',
    'NEXT RUN',
    'LAST ERROR / NOTE',
  ];
  return `${parts.join(' · ')}${doc.live ? ' · live' : ''}\n${table(head, rows)}\n${unwrittenLine(doc)}`;
}

/** While writes fail, what the live figures hold that the database does not (yet). */
function unwrittenLine(doc: StatusDoc): string {
  const u = doc.unwritten;
  if (u === undefined || u === null || u.failing_since === null) return '';
  const since = new Date(u.failing_since * 1000).toISOString().slice(11, 19);
  return (
    `not yet in the database: ${u.records} records (${u.output_lines} output lines), held in memory since ` +
    `${since} UTC: ${u.failure ?? 'writes fail'}; they are written when it recovers\n`
  );
}
