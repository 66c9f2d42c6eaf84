/**
 * What goes into a supervisor's logic and what comes out: messages from its
 * runner, and effects for the runner to carry out. A request that a person
 * makes (a command, a reload) may carry a `ref`; the step that acts on it also
 * emits exactly one `reply` with that ref, so its answer is decided once, from
 * the state that acts on it, as OTP's supervisor answers `restart_child` from
 * its own state.
 */
import type { HerderEvent, EventKind as RunEventKind } from '../events.ts';
import type { SupervisorSpec } from '../spec.ts';
import type { Exit, Pause, ResumePoint, StopMode } from './state.ts';

/** A person's command for one child. */
export type CommandOp = 'stop' | 'start' | 'restart';

export type SupervisorMsg =
  | { readonly type: 'start'; readonly resume?: ReadonlyMap<string, ResumePoint> }
  | { readonly type: 'started'; readonly child: string; readonly pid: number | null }
  | { readonly type: 'exited'; readonly child: string; readonly exit: Exit }
  | { readonly type: 'timer'; readonly key: string }
  | { readonly type: 'shutdown'; readonly mode: StopMode; readonly reason: string }
  /** Stop a running child now and count it as a failure (an error pattern, a health or limit action). */
  | { readonly type: 'fail'; readonly child: string; readonly errorType: string; readonly message: string }
  /** A loop job's run matched a backoff error pattern: its next wait backs off instead of loop_interval. */
  | { readonly type: 'pattern_backoff'; readonly child: string; readonly pattern: string }
  /** The machine is under pressure (on) or no longer (off): loop runs that fall due wait. */
  | { readonly type: 'defer'; readonly on: boolean }
  /** A person's command (ctl): never counted as a failure. Answered by a reply with `ref`. */
  | {
      readonly type: 'command';
      readonly op: CommandOp;
      readonly child: string;
      readonly by: string;
      /** Names the reply for whoever waits for the answer; none: nobody does. */
      readonly ref?: number;
    }
  /**
   * Freeze (pause) or thaw (resume) a running process actor: from a person, a
   * resource limit or machine protection. Answered by a reply with `ref`.
   */
  | { readonly type: 'pause'; readonly child: string; readonly pause: Pause; readonly ref?: number }
  | { readonly type: 'resume'; readonly child: string; readonly pause: Pause; readonly ref?: number }
  /** reload: the supervisor's new spec; children are matched by name. Answered by a reply with `ref`. */
  | { readonly type: 'reconfigure'; readonly spec: SupervisorSpec; readonly by: string; readonly ref?: number };

/** Why a request was refused: the runner turns each into a HERDER_ERR_CONTROL with `detail` as its message. */
export type Refusal = 'no_such_actor' | 'removed_by_reload' | 'not_running' | 'not_pausable';

/**
 * The answer to a command or a reload. 'done': it is being carried out;
 * 'already': there was nothing to do (already running, already stopped).
 */
export type Answer =
  | { readonly kind: 'done'; readonly detail: string }
  | { readonly kind: 'already'; readonly detail: string }
  | { readonly kind: 'refused'; readonly why: Refusal; readonly detail: string };

/** The kinds of event a supervisor records: a subset of the run's declared kinds. */
export type EventKind = Extract<
  RunEventKind,
  | 'start'
  | 'exit'
  | 'restart'
  | 'loop_wait'
  | 'giveup'
  | 'hint'
  | 'stop'
  | 'timeout'
  | 'shutdown'
  | 'escalate'
  | 'finished'
  | 'deferred'
  | 'command'
  | 'reload'
  | 'pause'
  | 'resume'
>;

export type Effect =
  | { readonly type: 'start'; readonly child: string }
  | { readonly type: 'stop'; readonly child: string; readonly mode: StopMode }
  /** SIGSTOP (freeze) or SIGCONT (thaw) to the child's process group. */
  | { readonly type: 'signal'; readonly child: string; readonly signal: 'freeze' | 'thaw' }
  | { readonly type: 'set_timer'; readonly key: string; readonly ms: number }
  | { readonly type: 'cancel_timer'; readonly key: string }
  | { readonly type: 'event'; readonly event: HerderEvent }
  | {
      readonly type: 'error';
      readonly process: string;
      readonly errorType: string;
      readonly message: string;
      readonly context: string;
    }
  | { readonly type: 'state'; readonly child: string }
  | { readonly type: 'escalate'; readonly reason: string }
  | { readonly type: 'done'; readonly outcome: 'stopped' | 'finished' }
  /** The answer to the command or reload with this ref (null: it had none). */
  | { readonly type: 'reply'; readonly ref: number | null; readonly answer: Answer };

export interface StepContext {
  readonly now: number;
  readonly wall: number;
  /** In [0, 1): drives backoff jitter. */
  readonly random: number;
}

export const timerKeys = {
  loop: (name: string) => `loop:${name}`,
  timeout: (name: string) => `timeout:${name}`,
  group: (id: number) => `group:${id}`,
};
