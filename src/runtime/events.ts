/**
 * Every kind of event a run records, in one place, with what it means; and
 * the two names that are not actors: the run itself and the machine. The
 * README's list of kinds is checked against this one.
 */

/** The run itself (and its root supervisor) where an actor's name would be. */
export const HERDER = '_herder';
/** The machine, in resource samples. */
export const SYSTEM = '_system';

export const EVENT_KINDS = {
  // an actor's life, decided by its supervisor
  start: 'an actor started (its pid; a loop job: which run)',
  exit: 'an actor ended: how, after how long, and whether herder asked',
  restart: 'a failed actor will be restarted: the delay and the failures in a row',
  loop_wait: "a loop job's next run: when, and why (its interval, a backoff, a resumed schedule)",
  giveup: 'an actor was given up after max_restarts failures in a row',
  hint: 'a continuous actor keeps exiting 0 quickly: perhaps a one-shot script',
  stop: 'an actor is stopped for a restart (of its group, of itself)',
  timeout: 'a run exceeded run_timeout and is stopped',
  shutdown: 'a supervisor stops its children',
  escalate: 'a supervisor exceeded its intensity and gives up',
  finished: 'a supervisor has no child left to run',
  deferred: "a loop job's run waits: the machine is under pressure",
  command: 'a person asked for a start, stop or restart (who)',
  reload: 'the config was reloaded: what was added, changed and removed (who)',
  // health, limits and the machine
  health: "an actor's health stayed below health_threshold: it is restarted",
  limit: 'an actor stayed over a resource limit: the action taken',
  leak: "an actor's memory grows steadily",
  pressure: 'the machine is short of memory or CPU',
  pause: 'an actor was paused (SIGSTOP): by whom or why',
  resume: 'a paused actor was resumed: by whom or why',
  alert: 'an error pattern with action alert matched',
  // the run
  run_start: 'the run began: its actors, its config, when it stops',
  deadline: 'the run reached its max runtime and stops',
  signal: 'herder received SIGTERM, SIGINT or SIGHUP and stops',
  shutdown_asked: 'a person asked the run to stop (ctl shutdown)',
  kill: 'herder kills what is left (a second Ctrl-C, or a shutdown that overran every grace)',
  run_end: 'the run ended: its status and why',
  crashed: 'the run ended without a shutdown, found by the next run',
} as const;

export type EventKind = keyof typeof EVENT_KINDS;

/** How an actor's run ended, in its exit event: what it did by itself, or which stop herder asked for. */
export type ExitCause =
  /** exited 0 by itself */
  | 'normal'
  /** a loop job let finish its run during a stop did so (`during`) */
  | 'finished_run'
  /** failures: a non-zero code or a signal, out of memory, a failed start, run_timeout, herder's own (`message`) */
  | 'crash'
  | 'oom'
  | 'start_failed'
  | 'timeout'
  | 'fail'
  /** stops herder asked for, never failures */
  | 'sibling'
  | 'removed'
  | 'reconfigured'
  | 'user_restart'
  | 'shutdown'
  | 'user'
  | 'escalation';

export interface ExitData {
  readonly cause: ExitCause;
  readonly ran_ms: number;
  readonly code: number | null;
  readonly signal: string | null;
  /** A failure's error type (crash, start_failed). */
  readonly error_type: string | null;
  /** start_failed: why; fail: what herder stopped it for. */
  readonly message: string | null;
  /** finished_run, or a loop run that failed by itself: the stop it happened during. */
  readonly during: string | null;
}

export type Resource = 'memory' | 'cpu' | 'fds';

/** The fields of each kind of event: what `events.data` holds, and all the renderer needs for `detail`. */
export interface EventData {
  start: { readonly pid: number | null; readonly run: number | null };
  exit: ExitData;
  restart: {
    readonly delay_ms: number;
    readonly failures_in_row: number;
    readonly max_restarts: number | null;
    /** failure, or an exit 0 before reset_after (flapping): then `reset_after_ms` */
    readonly reason: 'failure' | 'early_exit';
    readonly reset_after_ms: number | null;
    /** Restarted with it, under the strategy. */
    readonly with: readonly string[];
    readonly strategy: string;
  };
  loop_wait: {
    readonly next_in_ms: number;
    /** Epoch ms of the next run. */
    readonly next_at: number;
    readonly reason: 'interval' | 'backoff' | 'resumed' | 'missed';
    /** backoff: the error pattern and the runs in a row it matched. */
    readonly pattern: string | null;
    readonly streak: number | null;
    /** resumed, missed: whose schedule ("run 3's schedule"). */
    readonly from: string | null;
  };
  giveup: { readonly failures_in_row: number; readonly max_restarts: number; readonly reason: string };
  hint: { readonly quick_exits: number };
  stop:
    | { readonly reason: 'sibling'; readonly sibling: string; readonly strategy: string }
    | {
        readonly reason: 'fail';
        readonly message: string;
      };
  timeout: { readonly run_timeout_ms: number };
  shutdown: { readonly reason: string };
  escalate: { readonly reason: string };
  finished: Record<string, never>;
  deferred: { readonly retry_in_ms: number };
  command: { readonly op: string; readonly by: string };
  reload: {
    readonly added: readonly string[];
    readonly changed: readonly string[];
    readonly removed: readonly string[];
    readonly unchanged: number;
    readonly by: string;
  };
  health: {
    readonly score: number;
    readonly threshold: number;
    readonly grace: number;
    readonly weakest: string;
  };
  limit: {
    readonly resource: Resource;
    readonly value: number;
    readonly limit: number;
    readonly samples: number;
    /** What is done: restart, alert, pause, or none (a thread actor cannot be paused). */
    readonly action: 'restart' | 'alert' | 'pause' | 'none';
  };
  leak: {
    readonly mb_per_hour: number;
    readonly r2: number;
    readonly samples: number;
    readonly ms_to_limit: number | null;
    readonly summary: string;
  };
  pressure: { readonly resource: string; readonly level: string; readonly detail: string };
  pause: { readonly by: 'person' | 'limit' | 'pressure'; readonly reason: string };
  resume: { readonly by: 'person' | 'limit' | 'pressure'; readonly reason: string };
  alert: { readonly pattern: string; readonly stream: string; readonly line: string };
  run_start: {
    readonly run_id: number;
    readonly actors: number;
    readonly config: string;
    readonly until: string;
    /** The web dashboard's address, when runtime.http is on. */
    readonly http: string | null;
  };
  deadline: { readonly max_runtime_ms: number };
  signal: { readonly signal: string };
  shutdown_asked: { readonly by: string };
  kill: { readonly reason: 'second_sigint' | 'overran' };
  run_end: { readonly status: string; readonly reason: string };
  crashed: { readonly reason: string };
}

/** One event: the actor (or HERDER) it is about, its kind, and that kind's fields. */
export type HerderEvent = {
  [K in EventKind]: { readonly process: string; readonly kind: K; readonly data: EventData[K] };
}[EventKind];

/** Makes an event, its fields checked against its kind. */
export function herderEvent<K extends EventKind>(process: string, kind: K, data: EventData[K]): HerderEvent {
  return { process, kind, data } as HerderEvent;
}
