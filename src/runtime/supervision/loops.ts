/**
 * herder's extensions for jobs that run again and again: a loop job's wait
 * between runs (loop_interval, or a backoff while its runs keep matching a
 * "backoff" error pattern), its schedule resumed from the record, runs that
 * wait while the machine is under pressure, and run_timeout.
 */
import { backoffDelay } from '../backoff.ts';
import type { Draft } from './draft.ts';
import { timerKeys } from './messages.ts';
import { onFail } from './restart.ts';
import type { ChildState, ResumePoint } from './state.ts';
import { isLoop } from './state.ts';

/** While the machine is under pressure, a due loop run is retried this often. */
export const DEFER_RETRY_MS = 5_000;

/** A loop job's first run of this herder, at the time its schedule says. */
export function resumeLoop(d: Draft, c: ChildState, point: ResumePoint): void {
  const name = c.spec.name;
  const ms = Math.round(point.dueWall - d.ctx.wall);
  const wait = { next_at: point.dueWall, pattern: null, streak: null, from: point.from };
  if (ms <= 0) {
    d.event(name, 'loop_wait', { ...wait, next_in_ms: 0, reason: 'missed' });
    d.startChild(c);
    return;
  }
  c.status = { tag: 'loop_wait', dueAt: d.ctx.now + ms };
  c.nextRunWall = point.dueWall;
  d.setTimer(timerKeys.loop(name), ms);
  d.event(name, 'loop_wait', { ...wait, next_in_ms: ms, reason: 'resumed' });
  d.touch(c);
}

/** A loop job's run exited 0: a success; it waits for its next run. */
export function afterLoopRun(d: Draft, c: ChildState, intervalMs: number): void {
  const name = c.spec.name;
  c.failures = 0;
  c.successes += 1;
  const pattern = c.patternPending;
  c.patternPending = null;
  c.patternStreak = pattern === null ? 0 : c.patternStreak + 1;
  if (d.s.phase !== 'running') {
    c.status = { tag: 'stopped', why: 'shutdown' };
    return;
  }
  // A run that met a "backoff" error pattern: wait longer, doubling while it keeps happening.
  const backoff = pattern === null ? 0 : backoffDelay(c.spec.backoff, c.patternStreak, d.ctx.random);
  const ms = Math.max(intervalMs, backoff);
  c.status = { tag: 'loop_wait', dueAt: d.ctx.now + ms };
  c.nextRunWall = d.ctx.wall + ms;
  d.setTimer(timerKeys.loop(name), ms);
  d.event(name, 'loop_wait', {
    next_in_ms: ms,
    next_at: c.nextRunWall,
    reason: pattern === null ? 'interval' : 'backoff',
    pattern,
    streak: pattern === null ? null : c.patternStreak,
    from: null,
  });
}

/** A loop job's next run is due: it starts, unless the machine is under pressure. */
export function onLoopTimer(d: Draft, name: string): void {
  const c = d.child(name);
  if (c === undefined || d.s.phase !== 'running' || c.status.tag !== 'loop_wait') return;
  if (d.s.deferStarts) {
    d.event(name, 'deferred', { retry_in_ms: DEFER_RETRY_MS });
    d.setTimer(timerKeys.loop(name), DEFER_RETRY_MS);
    return;
  }
  d.startChild(c);
}

export function onTimeoutTimer(d: Draft, name: string): void {
  const c = d.child(name);
  if (c !== undefined && c.status.tag === 'running' && c.spec.kind === 'worker') {
    d.event(name, 'timeout', { run_timeout_ms: c.spec.runTimeoutMs ?? 0 });
    d.requestStop(c, 'timeout', 'terminate');
  }
}

/** A run matched a "backoff" error pattern: a loop job's next wait backs off; a continuous actor restarts. */
export function onPatternBackoff(d: Draft, name: string, pattern: string): void {
  const c = d.child(name);
  if (c === undefined || c.status.tag !== 'running') return;
  if (isLoop(c)) {
    c.patternPending = pattern;
    return;
  }
  // A continuous actor has no next run to delay: it restarts, with backoff.
  onFail(d, name, pattern, `error pattern ${pattern} (action backoff)`);
}

/** Machine pressure on or off: decides only what a loop timer does when it fires. */
export function onDefer(d: Draft, on: boolean): void {
  d.s.deferStarts = on;
}
