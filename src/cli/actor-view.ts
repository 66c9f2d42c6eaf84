/**
 * One actor in detail, as `status NAME` and `ctl status NAME` print it: what
 * `supervisorctl status NAME` or `systemctl status NAME` users look for first
 * (state, pid, uptime, counts, the last exit and why, the next run), then its
 * health and limits, its last errors and output lines, and its config as
 * herder understood it.
 */
import { stringify } from 'yaml';
import type { ActorDetail, ActorStatus } from '../record/queries.ts';
import { formatMs } from '../runtime/duration.ts';

const clock = (ts: number) => `${new Date(ts * 1000).toISOString().slice(11, 19)} UTC`;
const stamp = (ts: number) => new Date(ts * 1000).toISOString().replace('T', ' ').slice(0, 19);

function lastExit(a: ActorStatus): string | null {
  if (a.last_exit === null) return null;
  const how =
    a.last_exit_signal !== null
      ? `killed by ${a.last_exit_signal}`
      : a.last_exit_code !== null
        ? a.last_exit_code === 0
          ? 'exit 0'
          : `exit code ${a.last_exit_code}`
        : 'ended';
  const ran =
    a.last_start !== null && a.last_start <= a.last_exit
      ? `, after ${formatMs((a.last_exit - a.last_start) * 1000)}`
      : '';
  return `${how} at ${clock(a.last_exit)}${ran}`;
}

function why(a: ActorStatus): string | null {
  if (a.detail !== '') return a.detail;
  const e = a.last_error;
  const failed = a.last_exit_signal !== null || (a.last_exit_code !== null && a.last_exit_code !== 0);
  if (e !== null && a.last_exit !== null && failed && Math.abs(e.ts - a.last_exit) < 5)
    return `${e.type}: ${e.message}`;
  return null;
}

function nextRun(a: ActorStatus, now: number): string | null {
  if (a.next_run_at === null || (a.state !== 'loop_wait' && a.state !== 'restarting')) return null;
  const what = a.state === 'restarting' ? 'restart' : 'run';
  return `${what} in ${formatMs(Math.max(0, a.next_run_at - now) * 1000)} (${clock(a.next_run_at)})`;
}

function health(d: ActorDetail): string | null {
  const s = d.sample;
  const a = d.actor;
  const parts: string[] = [];
  if (s !== null) {
    if (s.health !== null) parts.push(`score ${s.health.toFixed(2)}`);
    if (s.cpu_percent !== null) parts.push(`cpu ${s.cpu_percent.toFixed(0)}%`);
    if (s.rss_mb !== null) parts.push(`memory ${s.rss_mb.toFixed(0)} MB`);
    if (s.heap_used_mb !== null) parts.push(`heap ${s.heap_used_mb.toFixed(1)} MB`);
    if (s.num_threads !== null) parts.push(`${s.num_threads} threads`);
    if (s.num_fds !== null) parts.push(`${s.num_fds} fds`);
    parts.push(`sampled ${clock(s.ts)}`);
  }
  if (a.self_health !== null) parts.push(`self-reported ${a.self_health.toFixed(2)}`);
  if (a.heartbeat_at !== null)
    parts.push(`heartbeat ${formatMs(Math.max(0, d.generated_at - a.heartbeat_at) * 1000)} ago`);
  if (a.progress !== null) parts.push(`progress ${a.progress}`);
  if (a.idle_s !== null) parts.push(`silent for ${formatMs(a.idle_s * 1000)}`);
  if (a.bad_health_lines !== null && a.bad_health_lines > 0) parts.push(`${a.bad_health_lines} bad health lines`);
  return parts.length === 0 ? null : parts.join(' · ');
}

function limits(d: ActorDetail): string {
  const l = d.config?.resource_limits as Record<string, unknown> | undefined;
  const parts: string[] = [];
  if (l !== undefined) {
    if (typeof l.max_memory_mb === 'number') parts.push(`memory ${l.max_memory_mb} MB`);
    if (typeof l.max_cpu_percent === 'number') parts.push(`cpu ${l.max_cpu_percent}%`);
    if (typeof l.max_fds === 'number') parts.push(`${l.max_fds} fds`);
    parts.push(`then ${String(l.action)} after ${String(l.limit_grace)} samples over`);
  }
  const c = d.config ?? {};
  if (typeof c.health_threshold === 'number')
    parts.push(`health below ${c.health_threshold} for ${String(c.health_grace)} samples`);
  if (typeof c.stall_timeout === 'string') parts.push(`silent for ${c.stall_timeout}`);
  if (typeof c.run_timeout === 'string') parts.push(`a run over ${c.run_timeout}`);
  return parts.length === 0 ? 'none' : parts.join(' · ');
}

const indent = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

export function renderActor(d: ActorDetail): string {
  const a = d.actor;
  const now = d.generated_at;
  const head = [a.name, a.kind, a.paused === true ? 'paused' : a.state];
  if (a.pid !== null) head.push(`pid ${a.pid}`);
  if (a.uptime_s !== null) head.push(`up ${formatMs(a.uptime_s * 1000)}`);
  head.push(`run ${d.run.id} (${d.live ? 'live' : d.run.status})`);
  const rows: [string, string | null][] = [
    ['under', a.parent],
    [
      'runs',
      `${a.runs} (${a.successes} ok, ${a.failures} failed) · ${a.restarts} restart${a.restarts === 1 ? '' : 's'}`,
    ],
    ['last exit', lastExit(a)],
    ['why', why(a)],
    ['next', nextRun(a, now)],
    ['health', health(d)],
    ['limits', limits(d)],
    [
      'patterns',
      a.error_patterns === null
        ? null
        : Object.entries(a.error_patterns)
            .map(([k, n]) => `${k} ×${n}`)
            .join(' · ') || 'no match yet',
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [head.join(' · ')];
  for (const [k, v] of rows) if (v !== null) lines.push(`  ${`${k}:`.padEnd(width + 1)} ${v}`);
  const mark = (id: number | null) => (id === null ? '  [not yet written]' : '');
  lines.push('', `last errors${d.errors.length === 0 ? ': none' : ' (newest last):'}`);
  for (const e of d.errors) lines.push(`  ${stamp(e.ts)}  ${e.type}: ${e.message.split('\n')[0]}`);
  lines.push('', `last output${d.output.length === 0 ? ': none' : ' (newest last):'}`);
  for (const l of d.output) lines.push(`  ${stamp(l.ts)} ${l.stream === 'stderr' ? '!' : '|'} ${l.line}${mark(l.id)}`);
  lines.push('', 'config, as herder understood it:');
  lines.push(d.config === null ? '  (not in this record: written by an older herder)' : indent(stringify(d.config)));
  const u = d.unwritten;
  if (u !== undefined && u !== null && u.failing_since !== null) {
    lines.push('', `not yet in the database: ${u.records} records: ${u.failure ?? 'writes fail'}`);
  }
  return `${lines.join('\n')}\n`;
}
