/**
 * The supervision logic of one supervisor, as a pure function:
 * `transition(state, message, ctx) -> [state, effects]`. It decides; the
 * runner in src/actors/supervisor.ts carries the effects out. Semantics follow
 * Erlang/OTP (strategies, restart types, intensity within a period); herder's
 * extensions are backoff between restarts, loop jobs, run timeouts, a
 * per-child max_restarts and the "exits 0 quickly" hint.
 *
 * This is the public entry; the logic is split by concern under supervision/:
 * state and messages (the types), classify (what an exit means), exits,
 * restart (restart types, failures in a row, max_restarts), groups (strategies,
 * restart groups, intensity), loops (loop waits, deferral, run_timeout),
 * commands, pause (pause and resume), reload and shutdown, each working on one step's draft (draft.ts).
 */
export {
  type AskedCause,
  classifyExit,
  type ExitMeaning,
  exitData,
  type Failure,
  failureOf,
} from './supervision/classify.ts';
export { decideCommand } from './supervision/commands.ts';
export { DEFER_RETRY_MS } from './supervision/loops.ts';
export {
  type Answer,
  type CommandOp,
  type Effect,
  type EventKind,
  type Refusal,
  type StepContext,
  type SupervisorMsg,
  timerKeys,
} from './supervision/messages.ts';
export { describeReload, diffReload, type ReloadDiff } from './supervision/reload.ts';
export { QUICK_EXIT_MS, QUICK_EXITS_FOR_HINT } from './supervision/restart.ts';
export {
  type ChildState,
  type ChildStatus,
  carryCounts,
  type Exit,
  initialState,
  isTerminal,
  type Pause,
  type PauseSource,
  type Phase,
  type RestartGroup,
  type ResumePoint,
  type StopCause,
  type StopMode,
  type SupervisorState,
} from './supervision/state.ts';
export { transition } from './supervision/transition.ts';
