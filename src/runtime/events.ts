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
