/**
 * What an exit means, decided before any policy acts on it: a failure (with
 * what its error row and exit event say), a normal exit, or the end of a stop
 * herder asked for. Whether a stop was asked for is known from the child's
 * own status (`stopping` with a cause), never from its exit code.
 */
import { formatMs } from '../duration.ts';
import { assertNever } from '../errors.ts';
import type { ExitCause, ExitData } from '../events.ts';
import type { ChildState, ChildStatus, Exit, StopCause } from './state.ts';
import { isLoop } from './state.ts';

/** A failure as it is recorded: its error row (type, message, context) and its exit event's fields. */
export interface Failure {
  readonly errorType: string;
  readonly message: string;
  readonly context: string;
  readonly exit: ExitData;
}

/** An exit event's fields; `code` and `signal` from the exit itself. */
export function exitData(cause: ExitCause, ran: number, exit: Exit | null, more: Partial<ExitData> = {}): ExitData {
  return {
    cause,
    ran_ms: Math.round(ran),
    code: exit === null ? null : exit.kind === 'normal' ? 0 : exit.kind === 'crash' ? exit.code : null,
    signal: exit?.kind === 'crash' ? exit.signal : null,
    error_type: null,
    message: null,
    during: null,
    ...more,
  };
}

/** The causes of a stop whose exit is never a failure. */
export type AskedCause = Exclude<StopCause, 'timeout' | 'fail'>;

export type ExitMeaning =
  /** Counts: error row, failures in a row, backoff, max_restarts. */
  | { readonly kind: 'failure'; readonly failure: Failure }
  /** Exited 0 by itself: a loop job's run is done; a continuous actor may be flapping. */
  | { readonly kind: 'normal' }
  /** A loop job let finish its run during a stop did just that: a success. */
  | { readonly kind: 'finished_run'; readonly cause: 'shutdown' | 'user' | 'escalation' }
  /** Ended as herder asked; `signal`: what ended it, if a signal did. */
  | { readonly kind: 'stopped'; readonly cause: AskedCause; readonly signal: string | null };

export function failureOf(exit: Exclude<Exit, { kind: 'normal' }>, ran: number): Failure {
  switch (exit.kind) {
    case 'crash':
      return {
        errorType: exit.errorType,
        message: exit.message,
        context: exit.context,
        exit: exitData('crash', ran, exit, { error_type: exit.errorType }),
      };
    case 'oom':
      return { errorType: 'oom', message: exit.message, context: exit.context, exit: exitData('oom', ran, exit) };
    case 'start_failed':
      return {
        errorType: exit.errorType,
        message: exit.message,
        context: '',
        exit: exitData('start_failed', ran, exit, { error_type: exit.errorType, message: exit.message }),
      };
    default:
      return assertNever(exit, 'exit kind');
  }
}

export function timeoutFailure(c: ChildState, ran: number, exit: Exit | null = null): Failure {
  const limit = c.spec.kind === 'worker' ? (c.spec.runTimeoutMs ?? 0) : 0;
  return {
    errorType: 'timeout',
    message: `run took longer than run_timeout (${formatMs(limit)})`,
    context: '',
    exit: exitData('timeout', ran, exit),
  };
}

/** What the exit of `c` after `ran` ms means, from the status it had when it ended (running or stopping). */
export function classifyExit(c: ChildState, status: ChildStatus, exit: Exit, ran: number): ExitMeaning {
  if (status.tag !== 'stopping') {
    return exit.kind === 'normal' ? { kind: 'normal' } : { kind: 'failure', failure: failureOf(exit, ran) };
  }
  const cause = status.cause;
  switch (cause) {
    case 'timeout':
      return { kind: 'failure', failure: timeoutFailure(c, ran, exit) };
    case 'fail': {
      const message = status.failure?.message ?? 'stopped by herder';
      return {
        kind: 'failure',
        failure: {
          errorType: status.failure?.errorType ?? 'fail',
          message,
          context: '',
          exit: exitData('fail', ran, exit, { message }),
        },
      };
    }
    case 'shutdown':
    case 'user':
    case 'escalation':
      if (cause === 'shutdown' && exit.kind === 'crash' && exit.beforeStopSignal === true && isLoop(c)) {
        // A loop job allowed to finish its run failed on its own: recorded like any failure (and not restarted).
        const f = failureOf(exit, ran);
        return { kind: 'failure', failure: { ...f, exit: { ...f.exit, during: cause } } };
      }
      if (exit.kind === 'normal' && isLoop(c)) return { kind: 'finished_run', cause };
      return { kind: 'stopped', cause, signal: exit.kind === 'crash' ? exit.signal : null };
    case 'sibling':
    case 'removed':
    case 'reconfigured':
    case 'user_restart':
      return { kind: 'stopped', cause, signal: exit.kind === 'crash' ? exit.signal : null };
    default:
      return assertNever(cause, 'stop cause');
  }
}
