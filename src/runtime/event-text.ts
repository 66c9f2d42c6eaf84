/**
 * The one renderer of events: the `detail` line people read (in `events`, the
 * echo, alerts, the record) made from an event's fields, so that every sink
 * says the same thing and the fields stay the source of truth.
 */
import { formatMs } from './duration.ts';
import { assertNever } from './errors.ts';
import type { EventData, ExitData, HerderEvent } from './events.ts';

const UNITS = { memory: 'MB', cpu: '%', fds: ' descriptors' } as const;
const WHO = { person: 'by', limit: 'limit:', pressure: 'protection:' } as const;

/** "2026-12-08 03:04:05 UTC" */
function utc(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function exitText(e: ExitData): string {
  const after = `after ${formatMs(e.ran_ms)}`;
  switch (e.cause) {
    case 'normal':
      return `exited normally ${after}`;
    case 'finished_run':
      return `exited normally ${after} (finished its run during ${e.during})`;
    case 'crash': {
      const how =
        e.signal !== null
          ? `killed by ${e.signal}`
          : e.code !== null
            ? `exited with code ${e.code}`
            : `failed with ${e.error_type}`;
      return `${how} ${after}${e.during === null ? '' : ` (its run failed during ${e.during})`}`;
    }
    case 'oom':
      return `ran out of memory ${after}${e.during === null ? '' : ` (its run failed during ${e.during})`}`;
    case 'start_failed':
      return `could not start: ${e.message}`;
    case 'timeout':
      return `stopped by run_timeout ${after}`;
    case 'fail':
      return `stopped by herder (${e.message}) ${after}`;
    case 'sibling':
      return `stopped for a restart of its group ${after}`;
    case 'removed':
      return `stopped: removed from the config (${after})`;
    case 'reconfigured':
      return `stopped to start with its new config (${after})`;
    case 'user_restart':
      return `stopped for a restart asked by a person ${after}`;
    case 'shutdown':
    case 'user':
    case 'escalation':
      return `stopped by herder (${e.cause})${e.signal === null ? '' : ` (${e.signal})`} ${after}`;
    default:
      return assertNever(e.cause, 'exit cause');
  }
}

function loopWaitText(d: EventData['loop_wait']): string {
  switch (d.reason) {
    case 'interval':
      return `next run in ${formatMs(d.next_in_ms)}`;
    case 'backoff':
      return `next run in ${formatMs(d.next_in_ms)} (backing off: error pattern ${d.pattern}, ${d.streak} run${d.streak === 1 ? '' : 's'} in a row)`;
    case 'resumed':
      return `next run in ${formatMs(d.next_in_ms)} (resuming ${d.from}: due at ${utc(d.next_at)})`;
    case 'missed':
      return `next run now (resuming ${d.from}: its run due at ${utc(d.next_at)} was missed while herder was down)`;
    default:
      return assertNever(d.reason, 'loop wait reason');
  }
}

function restartText(d: EventData['restart']): string {
  const limit = d.max_restarts !== null ? ` of ${d.max_restarts}` : '';
  const early =
    d.reason === 'early_exit' && d.reset_after_ms !== null
      ? `: exited 0 before staying up ${formatMs(d.reset_after_ms)}`
      : '';
  const withOthers = d.with.length > 0 ? `, with ${d.with.join(', ')} (${d.strategy})` : '';
  return `restart in ${formatMs(d.delay_ms)} (failure ${d.failures_in_row}${limit} in a row${early}${withOthers})`;
}

/** The diff in one line: "added d; changed c; removed b; 1 unchanged". */
export function reloadText(d: Omit<EventData['reload'], 'by'>): string {
  const list = (what: string, names: readonly string[]) => (names.length === 0 ? [] : [`${what} ${names.join(', ')}`]);
  return [
    ...list('added', d.added),
    ...list('changed', d.changed),
    ...list('removed', d.removed),
    `${d.unchanged} unchanged`,
  ].join('; ');
}

/** What a limit crossing says: "memory 150MB over its limit 100MB for 2 samples". */
export function limitWhy(d: EventData['limit']): string {
  const unit = UNITS[d.resource];
  return `${d.resource} ${d.value}${unit} over its limit ${d.limit}${unit} for ${d.samples} samples`;
}

export function healthWhy(d: EventData['health']): string {
  return `health ${d.score.toFixed(2)} below ${d.threshold} for ${d.grace} samples; weakest: ${d.weakest}`;
}

/** Who paused or resumed: "by uid 1000", "limit: memory …", "protection: …". */
export function pauseWho(d: EventData['pause']): string {
  return `${WHO[d.by]} ${d.reason}`;
}

export function renderEvent(e: HerderEvent, actorName = e.process): string {
  switch (e.kind) {
    case 'start': {
      const what = e.data.pid === null ? 'started' : `started, pid ${e.data.pid}`;
      return e.data.run === null ? what : `${what} (run ${e.data.run})`;
    }
    case 'exit':
      return exitText(e.data);
    case 'restart':
      return restartText(e.data);
    case 'loop_wait':
      return loopWaitText(e.data);
    case 'giveup':
      return `gave up after ${e.data.failures_in_row} failures in a row (max_restarts ${e.data.max_restarts}); ${e.data.reason}`;
    case 'hint':
      return 'exits 0 quickly; if it is a one-shot script, set requires_loop: true';
    case 'stop':
      return e.data.reason === 'sibling'
        ? `restarting with ${e.data.sibling} (${e.data.strategy})`
        : `restarting it: ${e.data.message}`;
    case 'timeout':
      return `run_timeout of ${formatMs(e.data.run_timeout_ms)} reached; stopping`;
    case 'shutdown':
      return e.data.reason;
    case 'escalate':
      return `supervisor gives up: ${e.data.reason}`;
    case 'finished':
      return 'no child is left to run';
    case 'deferred':
      return `next run deferred: the machine is under pressure; trying again in ${formatMs(e.data.retry_in_ms)}`;
    case 'command':
      return `${e.data.op} (by ${e.data.by})`;
    case 'reload':
      return `${reloadText(e.data)} (by ${e.data.by})`;
    case 'health':
      return `restarting: ${healthWhy(e.data)}`;
    case 'limit': {
      const why = limitWhy(e.data);
      switch (e.data.action) {
        case 'restart':
          return `restarting: ${why}`;
        case 'alert':
          return why;
        case 'pause':
          return `pausing: ${why}; resume it with \`herder ctl resume ${actorName}\` or restart it`;
        case 'none':
          return `${why} (a thread actor cannot be paused)`;
        default:
          return assertNever(e.data.action, 'limit action');
      }
    }
    case 'leak':
      return e.data.summary;
    case 'pressure':
      return `${e.data.resource} ${e.data.level}: ${e.data.detail}`;
    case 'pause':
    case 'resume':
      return pauseWho(e.data);
    case 'alert':
      return `error pattern ${e.data.pattern} matched on ${e.data.stream}: ${e.data.line.slice(0, 200)}`;
    case 'run_start':
      return `run ${e.data.run_id}: ${e.data.actors} actor${e.data.actors === 1 ? '' : 's'} from ${e.data.config}; ${e.data.until}${e.data.http == null ? '' : `; dashboard at ${e.data.http}`}`;
    case 'deadline':
      return `max runtime of ${formatMs(e.data.max_runtime_ms)} reached; stopping`;
    case 'signal':
      return `${e.data.signal} received; stopping (press Ctrl-C again to kill at once)`;
    case 'shutdown_asked':
      return `by ${e.data.by}`;
    case 'kill':
      return e.data.reason === 'second_sigint'
        ? 'second SIGINT: killing every actor now'
        : 'shutdown overran every grace period; killing what is left';
    case 'run_end':
      return `${e.data.status}: ${e.data.reason}`;
    case 'crashed':
      return e.data.reason;
    default:
      return assertNever(e, 'event');
  }
}
