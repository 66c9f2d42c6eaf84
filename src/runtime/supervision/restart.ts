/**
 * Whether a child that ended is restarted, and how its failures count:
 * restart types as in OTP (permanent, transient, temporary), failures in a
 * row (reset by a run of reset_after) driving backoff and herder's per-child
 * max_restarts, the "exits 0 quickly" hint, and failures herder itself asks
 * for (an error pattern, a health or limit action).
 */
import { renderEvent } from '../event-text.ts';
import { herderEvent } from '../events.ts';
import type { Failure } from './classify.ts';
import type { Draft } from './draft.ts';
import { scheduleRestart } from './groups.ts';
import type { ChildState } from './state.ts';
import { isLoop } from './state.ts';

/** A continuous actor that exits 0 within this long, three times in a row, gets a hint. */
export const QUICK_EXIT_MS = 10_000;
export const QUICK_EXITS_FOR_HINT = 3;

/** It failed (crash, oom, a failed start, a timeout, a failure herder asked for): recorded, then maybe restarted. */
export function afterFailure(d: Draft, c: ChildState, f: Failure, ran: number): void {
  const name = c.spec.name;
  d.event(name, 'exit', f.exit);
  d.error(name, f);
  c.quickExits = 0; // the hint is for clean exits in a row
  c.patternPending = null;
  if (!isLoop(c) && ran >= c.spec.resetAfterMs) c.failures = 0;
  c.failures += 1;
  c.failuresTotal += 1;
  if (d.s.phase !== 'running') {
    c.status = { tag: 'stopped', why: 'failed during shutdown' };
    return;
  }
  if (c.spec.restart === 'temporary') {
    c.status = { tag: 'stopped', why: 'temporary: not restarted after a failure' };
    return;
  }
  if (!giveUpIfExhausted(d, c, `last failure: ${f.errorType}${f.message === '' ? '' : `: ${f.message}`}`)) {
    scheduleRestart(d, c);
  }
}

/** A continuous worker exited 0 by itself: a success if it stayed up reset_after, else it is flapping. */
export function afterContinuousExit(d: Draft, c: ChildState, ran: number): void {
  const name = c.spec.name;
  if (ran >= c.spec.resetAfterMs) {
    c.failures = 0;
    c.successes += 1;
  }
  if (ran < QUICK_EXIT_MS) {
    c.quickExits += 1;
    if (c.quickExits >= QUICK_EXITS_FOR_HINT && !c.hinted) {
      c.hinted = true;
      d.event(name, 'hint', { quick_exits: c.quickExits });
    }
  } else {
    c.quickExits = 0;
  }
  if (c.spec.restart !== 'permanent' || d.s.phase !== 'running') {
    c.status = { tag: 'stopped', why: `exited normally (${c.spec.restart}: not restarted)` };
    return;
  }
  if (ran < c.spec.resetAfterMs) c.failures += 1;
  c.earlyExit = ran < c.spec.resetAfterMs;
  if (!giveUpIfExhausted(d, c, 'exits normally and keeps being restarted')) scheduleRestart(d, c);
  c.earlyExit = false;
}

/** max_restarts (herder's, per child): past it the child is given up, and its supervisor goes on. */
function giveUpIfExhausted(d: Draft, c: ChildState, why: string): boolean {
  const max = c.spec.maxRestarts;
  if (max <= 0 || c.failures <= max) return false;
  const data = { failures_in_row: c.failures, max_restarts: max, reason: why };
  const reason = renderEvent(herderEvent(c.spec.name, 'giveup', data));
  c.status = { tag: 'fatal', reason };
  c.nextRunWall = null;
  d.event(c.spec.name, 'giveup', data);
  d.error(c.spec.name, { errorType: 'giveup', message: reason, context: '' });
  return true;
}

/**
 * Stop a running child now, to be counted as the failure `errorType` when it
 * exits (an error pattern, a health or limit action): the same accounting,
 * backoff and max_restarts as a crash.
 */
export function onFail(d: Draft, name: string, errorType: string, message: string): void {
  const c = d.child(name);
  if (c === undefined || c.status.tag !== 'running' || d.s.phase !== 'running') return;
  d.cancelRunTimeout(c);
  d.event(name, 'stop', { reason: 'fail', message });
  d.requestStop(c, 'fail', 'terminate', { errorType, message });
}
