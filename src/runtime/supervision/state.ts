/**
 * What one supervisor knows: its spec, its phase, and each child as it sees
 * it (one status union per child, never a pile of flags), plus the restart
 * groups waiting to start and the restart times of its intensity window.
 */
import type { ChildSpec, SupervisorSpec } from '../spec.ts';

/** How a child ended, normalised by its host before any policy looks at it. */
export type Exit =
  | { readonly kind: 'normal' }
  | {
      readonly kind: 'crash';
      readonly code: number | null;
      readonly signal: string | null;
      readonly errorType: string;
      readonly message: string;
      readonly context: string;
      /**
       * It failed by itself while herder was letting it finish (a loop job's
       * run during a shutdown), before any stop signal: a real failure.
       */
      readonly beforeStopSignal?: boolean;
    }
  | { readonly kind: 'oom'; readonly message: string; readonly context: string }
  | { readonly kind: 'start_failed'; readonly errorType: string; readonly message: string };

/**
 * Why herder asked a child to stop: decides what its exit means. 'timeout'
 * and 'fail' count as a failure (fail: an error pattern, a health or limit
 * action, with its own reason); the others never do.
 */
export type StopCause =
  | 'shutdown'
  | 'user'
  | 'user_restart'
  | 'sibling'
  | 'timeout'
  | 'fail'
  | 'escalation'
  /** reload: removed from the config (dropped once it exits) or changed (started again with its new spec). */
  | 'removed'
  | 'reconfigured';

/** What a stop for cause 'fail' is recorded as. */
export interface StopFailure {
  readonly errorType: string;
  readonly message: string;
}

export type ChildStatus =
  | { readonly tag: 'idle' }
  /** Running; `paused`: frozen (SIGSTOP to its group) and by whom, until it is resumed or stopped. */
  | { readonly tag: 'running'; readonly since: number; readonly paused: Pause | null }
  | {
      readonly tag: 'stopping';
      readonly since: number;
      readonly cause: StopCause;
      /** For cause 'fail': what the failure is recorded as. */
      readonly failure?: StopFailure;
    }
  | { readonly tag: 'restarting'; readonly dueAt: number; readonly group: number }
  | { readonly tag: 'loop_wait'; readonly dueAt: number }
  | { readonly tag: 'stopped'; readonly why: string }
  | { readonly tag: 'fatal'; readonly reason: string };

/**
 * Who paused a child: a person (ctl, `who` says which), a resource limit with
 * `action: pause`, or machine protection. Protection resumes only what it
 * paused; anyone may resume the others.
 */
export type PauseSource = 'person' | 'limit' | 'pressure';

export interface Pause {
  readonly by: PauseSource;
  /** A person: who ("uid 1000"); a limit or protection: why. */
  readonly reason: string;
}

export interface ChildState {
  spec: ChildSpec;
  status: ChildStatus;
  /** Failures in a row; reset by a success. Drives backoff and max_restarts. */
  failures: number;
  failuresTotal: number;
  restarts: number;
  runs: number;
  successes: number;
  quickExits: number;
  /** The restart being scheduled follows an exit 0 that came before reset_after (flapping, not a crash). */
  earlyExit: boolean;
  hinted: boolean;
  pid: number | null;
  lastStartWall: number | null;
  lastExitWall: number | null;
  lastExitCode: number | null;
  lastExitSignal: string | null;
  nextRunWall: number | null;
  /** Loop jobs: runs in a row that matched a backoff error pattern; the next wait backs off. */
  patternStreak: number;
  patternPending: string | null;
}

/** Children restarted together (one_for_all, rest_for_one): they start once the timer fired and all have exited. */
export interface RestartGroup {
  readonly id: number;
  members: string[];
  dueAt: number;
  fired: boolean;
}

export type Phase = 'idle' | 'running' | 'stopping' | 'escalating' | 'done';

export interface SupervisorState {
  spec: SupervisorSpec;
  phase: Phase;
  children: ChildState[];
  restartTimes: number[];
  groups: RestartGroup[];
  nextGroupId: number;
  escalation: string | null;
  /** Machine under pressure: loop runs wait instead of starting. */
  deferStarts: boolean;
}

export type StopMode = 'finish' | 'terminate';

/**
 * Where a loop job's schedule stood when herder last ran on this record: its
 * next run (wall clock, ms) and the run that planned it. Like a systemd timer
 * with Persistent=true, a run still ahead is waited for and one missed while
 * herder was down happens at once, once.
 */
export interface ResumePoint {
  readonly dueWall: number;
  /** Where the time comes from, for the loop_wait event ("run 3's schedule"). */
  readonly from: string;
}

/** Why a child that a reload removed is stopped; it is dropped from the state at the next reload. */
export const REMOVED = 'removed from the config';

/** A child as its supervisor first sees it: idle, nothing counted yet. */
export function freshChild(spec: ChildSpec): ChildState {
  return {
    spec,
    status: { tag: 'idle' },
    failures: 0,
    failuresTotal: 0,
    restarts: 0,
    runs: 0,
    successes: 0,
    quickExits: 0,
    earlyExit: false,
    hinted: false,
    pid: null,
    lastStartWall: null,
    lastExitWall: null,
    lastExitCode: null,
    lastExitSignal: null,
    nextRunWall: null,
    patternStreak: 0,
    patternPending: null,
  };
}

export function initialState(spec: SupervisorSpec): SupervisorState {
  return {
    spec,
    phase: 'idle',
    children: spec.children.map(freshChild),
    restartTimes: [],
    groups: [],
    nextGroupId: 1,
    escalation: null,
    deferStarts: false,
  };
}

/**
 * A restarted subtree starts afresh, as in OTP (consecutive failures, restart
 * intensity), but the run's record keeps counting: runs, successes, failures
 * and restarts of its actors carry over from the instance it replaces.
 */
export function carryCounts(fresh: SupervisorState, before: SupervisorState | undefined): SupervisorState {
  if (before === undefined) return fresh;
  return {
    ...fresh,
    children: fresh.children.map((c) => {
      const b = before.children.find((x) => x.spec.name === c.spec.name);
      return b === undefined
        ? c
        : { ...c, runs: b.runs, successes: b.successes, failuresTotal: b.failuresTotal, restarts: b.restarts };
    }),
  };
}

/** True for a status from which a child will not run again without a command. */
export function isTerminal(status: ChildStatus): boolean {
  return status.tag === 'stopped' || status.tag === 'fatal';
}

/** A loop job: a normal exit means "done, run again later". */
export function isLoop(c: ChildState): boolean {
  return c.spec.kind === 'worker' && c.spec.loop !== null;
}

/** Whether a process or thread is out there for this child (the host has it). */
export function isLive(status: ChildStatus): boolean {
  return status.tag === 'running' || status.tag === 'stopping';
}
