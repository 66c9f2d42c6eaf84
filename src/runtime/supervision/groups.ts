/**
 * Restart groups: a failed child is restarted with the siblings its
 * supervisor's strategy takes along (one_for_one: none; one_for_all: all;
 * rest_for_one: those started after it). The siblings are stopped (cause
 * `sibling`, never a failure) in reverse start order, and the group starts,
 * in start order, once its timer has fired and every member has exited.
 * Overlapping groups merge. Each group start counts once against the
 * supervisor's intensity; past it, the supervisor gives up.
 */
import { backoffDelay, recordRestart } from '../backoff.ts';
import { formatMs } from '../duration.ts';
import { assertNever } from '../errors.ts';
import { timeoutFailure } from './classify.ts';
import type { Draft } from './draft.ts';
import { timerKeys } from './messages.ts';
import { giveUp } from './shutdown.ts';
import type { ChildState, RestartGroup } from './state.ts';

/**
 * Members of the restart group of `c` under its supervisor's strategy, in
 * start order. Taken from the spec, not the children: one a reload removed is
 * kept among them until it has stopped, but is no sibling any more.
 */
export function strategyMembers(d: Draft, c: ChildState): string[] {
  const names = d.s.spec.children.map((x) => x.name);
  const strategy = d.s.spec.strategy;
  switch (strategy) {
    case 'one_for_one':
      return [c.spec.name];
    case 'one_for_all':
      return names;
    case 'rest_for_one':
      return names.slice(names.indexOf(c.spec.name));
    default:
      return assertNever(strategy, 'strategy');
  }
}

/** A run_timeout stop overtaken by a group restart still counts as the failure it was. */
function countTimeout(d: Draft, c: ChildState): void {
  d.error(c.spec.name, timeoutFailure(c, d.ctx.now));
  c.failures += 1;
  c.failuresTotal += 1;
}

/** `c` failed (or exited early) and is to be restarted, with the siblings its strategy takes along. */
export function scheduleRestart(d: Draft, c: ChildState): void {
  // At least the first delay, even after a success reset the count (a long run that exited 0).
  const delay = backoffDelay(c.spec.backoff, Math.max(1, c.failures), d.ctx.random);
  const id = d.s.nextGroupId++;
  let members = strategyMembers(d, c);
  let dueAt = d.ctx.now + delay;
  for (const g of d.s.groups.filter((x) => x.members.some((m) => members.includes(m)))) {
    members = [...new Set([...members, ...g.members])];
    dueAt = Math.max(dueAt, g.dueAt);
    d.cancelTimer(timerKeys.group(g.id));
  }
  d.s.groups = d.s.groups.filter((x) => !x.members.some((m) => members.includes(m)));
  const order = d.s.children.map((x) => x.spec.name);
  members.sort((a, b) => order.indexOf(a) - order.indexOf(b));

  const kept: string[] = [];
  const toStop: ChildState[] = [];
  const nextWall = d.ctx.wall + (dueAt - d.ctx.now);
  for (const name of members) {
    const m = d.child(name);
    if (m === undefined) continue;
    if (m === c) {
      kept.push(name);
      continue;
    }
    switch (m.status.tag) {
      case 'running':
        toStop.push(m);
        // A temporary child is stopped with its group but, as in OTP, never restarted.
        if (m.spec.restart !== 'temporary') kept.push(name);
        break;
      case 'stopping':
        if (m.status.cause === 'timeout') countTimeout(d, m);
        // Stopped by a person, or removed by a reload (a merged group may still name it): it stays stopped.
        if (m.status.cause !== 'user' && m.status.cause !== 'removed') {
          m.status = { ...m.status, cause: 'sibling' };
          if (m.spec.restart !== 'temporary') kept.push(name);
        }
        break;
      case 'loop_wait':
        d.cancelTimer(timerKeys.loop(name));
        if (m.spec.restart === 'temporary') {
          m.status = { tag: 'stopped', why: 'temporary: not restarted with its group' };
          m.nextRunWall = null;
        } else {
          m.status = { tag: 'restarting', dueAt, group: id };
          m.nextRunWall = nextWall;
          kept.push(name);
        }
        d.touch(m);
        break;
      case 'restarting':
        m.status = { tag: 'restarting', dueAt, group: id };
        m.nextRunWall = nextWall;
        d.touch(m);
        kept.push(name);
        break;
      case 'idle':
      case 'stopped':
      case 'fatal':
        break;
      default:
        assertNever(m.status, 'child status');
    }
  }
  // Stop in reverse start order, as OTP does.
  for (const m of toStop.reverse()) {
    d.event(m.spec.name, 'stop', { reason: 'sibling', sibling: c.spec.name, strategy: d.s.spec.strategy });
    d.requestStop(m, 'sibling', 'terminate');
  }
  c.status = { tag: 'restarting', dueAt, group: id };
  c.nextRunWall = nextWall;
  const group: RestartGroup = { id, members: kept, dueAt, fired: false };
  d.s.groups.push(group);
  const others = kept.filter((n) => n !== c.spec.name);
  // An early exit 0 is counted like a failure (flapping), but it is not a crash: the event says so.
  d.event(c.spec.name, 'restart', {
    delay_ms: Math.round(dueAt - d.ctx.now),
    failures_in_row: c.failures,
    max_restarts: c.spec.maxRestarts > 0 ? c.spec.maxRestarts : null,
    reason: c.earlyExit ? 'early_exit' : 'failure',
    reset_after_ms: c.earlyExit ? c.spec.resetAfterMs : null,
    with: others,
    strategy: d.s.spec.strategy,
  });
  if (dueAt > d.ctx.now) {
    d.setTimer(timerKeys.group(id), dueAt - d.ctx.now);
  } else {
    group.fired = true; // restart_delay 0: no timer tick in between
    tryGroup(d, group);
  }
}

/** A member stopped for the group's restart has exited: it waits for the group, or (temporary) leaves it. */
export function rejoinGroup(d: Draft, c: ChildState): void {
  const name = c.spec.name;
  const g = d.s.groups.find((x) => x.members.includes(name));
  if (g === undefined || c.spec.restart === 'temporary') {
    if (g !== undefined) g.members = g.members.filter((m) => m !== name);
    c.status = { tag: 'stopped', why: 'temporary: not restarted with its group' };
  } else {
    c.status = { tag: 'restarting', dueAt: g.dueAt, group: g.id };
    c.nextRunWall = d.ctx.wall + Math.max(0, g.dueAt - d.ctx.now);
  }
  if (g !== undefined) tryGroup(d, g);
}

/**
 * A member stopped for its group has exited, but its stop was taken over on
 * the way (a person stopped or restarted it, a reload changed or removed it):
 * it no longer waits with the group, and the rest may start without it. A
 * child in no group is left alone.
 */
export function leaveGroup(d: Draft, c: ChildState): void {
  const name = c.spec.name;
  const g = d.s.groups.find((x) => x.members.includes(name));
  if (g === undefined) return;
  g.members = g.members.filter((m) => m !== name);
  if (g.members.length > 0) return tryGroup(d, g);
  d.cancelTimer(timerKeys.group(g.id));
  d.s.groups = d.s.groups.filter((x) => x.id !== g.id);
}

/** Starts the group once its timer has fired and none of its members is still stopping. */
function tryGroup(d: Draft, g: RestartGroup): void {
  if (!g.fired) return;
  const members = g.members.map((n) => d.child(n)).filter((m): m is ChildState => m !== undefined);
  if (members.some((m) => m.status.tag === 'stopping')) return;
  d.s.groups = d.s.groups.filter((x) => x.id !== g.id);
  const due = members.filter((m) => m.status.tag === 'restarting');
  if (due.length === 0) return;
  const spec = d.s.spec;
  const r = recordRestart(d.s.restartTimes, d.ctx.now, spec.periodMs, spec.intensity);
  d.s.restartTimes = r.times;
  if (r.exceeded) {
    for (const m of due) {
      m.status = { tag: 'stopped', why: 'supervisor gave up' };
      d.touch(m);
    }
    giveUp(d, `more than ${spec.intensity} restarts within ${formatMs(spec.periodMs)} (intensity)`);
    return;
  }
  for (const m of due) {
    m.restarts += 1;
    d.startChild(m);
  }
}

export function onGroupTimer(d: Draft, id: number): void {
  const g = d.s.groups.find((x) => x.id === id);
  if (g !== undefined && d.s.phase === 'running') {
    g.fired = true;
    tryGroup(d, g);
  }
}
