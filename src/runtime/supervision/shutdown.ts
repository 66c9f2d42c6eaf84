/**
 * How a supervisor stops: a shutdown asked of it (its children stopped in
 * reverse start order, loop jobs and nested supervisors with the mode asked
 * for, workers terminated), giving up when its intensity is exceeded (as OTP:
 * it stops its children and its parent decides), and when it is done.
 */
import { assertNever } from '../errors.ts';
import type { Draft } from './draft.ts';
import { timerKeys } from './messages.ts';
import type { StopCause, StopMode } from './state.ts';
import { isLoop, isTerminal } from './state.ts';

export function onShutdown(d: Draft, mode: StopMode, reason: string): void {
  if (d.s.phase === 'idle') {
    d.s.phase = 'done';
    d.fx.push({ type: 'done', outcome: 'stopped' });
    return;
  }
  if (d.s.phase !== 'running') return;
  d.s.phase = 'stopping';
  d.event(d.s.spec.name, 'shutdown', { reason });
  stopAll(d, mode, 'shutdown');
}

/** Intensity exceeded: every child is stopped, then the supervisor escalates to its parent. */
export function giveUp(d: Draft, reason: string): void {
  d.s.phase = 'escalating';
  d.s.escalation = reason;
  d.event(d.s.spec.name, 'escalate', { reason });
  stopAll(d, 'terminate', 'escalation');
}

function stopAll(d: Draft, mode: StopMode, cause: StopCause): void {
  for (const g of d.s.groups) d.cancelTimer(timerKeys.group(g.id));
  d.s.groups = [];
  for (const c of [...d.s.children].reverse()) {
    const name = c.spec.name;
    switch (c.status.tag) {
      case 'running': {
        d.cancelRunTimeout(c);
        const childMode = isLoop(c) || c.spec.kind === 'supervisor' ? mode : 'terminate';
        d.requestStop(c, cause, childMode);
        break;
      }
      case 'stopping':
        c.status = { ...c.status, cause };
        break;
      case 'loop_wait':
        d.cancelTimer(timerKeys.loop(name));
        c.status = { tag: 'stopped', why: cause };
        // The run it was waiting for stays on record: the next herder on this database resumes from it.
        if (cause !== 'shutdown') c.nextRunWall = null;
        d.touch(c);
        break;
      case 'restarting':
      case 'idle':
        c.status = { tag: 'stopped', why: cause };
        c.nextRunWall = null;
        d.touch(c);
        break;
      case 'stopped':
      case 'fatal':
        break;
      default:
        assertNever(c.status, 'child status');
    }
  }
}

/** After every step: once no child is left that could run, the supervisor is done, one way or another. */
export function checkDone(d: Draft): void {
  const live = d.s.children.some((c) => !isTerminal(c.status));
  if (live) return;
  // An actor a person stopped may be started again: the run does not end for lack of work.
  const parked = d.s.children.some((c) => c.status.tag === 'stopped' && c.status.why === 'user');
  if (parked && d.s.phase === 'running') return;
  switch (d.s.phase) {
    case 'escalating':
      d.s.phase = 'done';
      d.fx.push({ type: 'escalate', reason: d.s.escalation ?? 'gave up' });
      return;
    case 'stopping':
      d.s.phase = 'done';
      d.fx.push({ type: 'done', outcome: 'stopped' });
      return;
    case 'running':
      d.s.phase = 'done';
      d.event(d.s.spec.name, 'finished', {});
      d.fx.push({ type: 'done', outcome: 'finished' });
      return;
    case 'idle':
    case 'done':
      return;
    default:
      assertNever(d.s.phase, 'phase');
  }
}
