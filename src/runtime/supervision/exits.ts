/**
 * A child's exit, acted on: its record (pid, exit code, signal) is updated,
 * classify.ts says what the exit means, and the concern that owns that
 * meaning acts - restart decisions for a failure or a flapping exit 0, the
 * loop's next wait, the restart group a sibling was stopped for, the reload
 * or command that asked for the stop.
 */
import { assertNever } from '../errors.ts';
import { type AskedCause, classifyExit, exitData } from './classify.ts';
import type { Draft } from './draft.ts';
import { leaveGroup, rejoinGroup } from './groups.ts';
import { afterLoopRun } from './loops.ts';
import { afterContinuousExit, afterFailure } from './restart.ts';
import type { ChildState, Exit } from './state.ts';
import { REMOVED } from './state.ts';

export function onExited(d: Draft, name: string, exit: Exit): void {
  const c = d.child(name);
  if (c === undefined) return;
  const st = c.status;
  if (st.tag !== 'running' && st.tag !== 'stopping') return; // stale report
  d.cancelRunTimeout(c);
  const ran = d.ctx.now - st.since;
  c.pid = null;
  c.lastExitWall = d.ctx.wall;
  c.lastExitCode = exit.kind === 'normal' ? 0 : exit.kind === 'crash' ? exit.code : null;
  c.lastExitSignal = exit.kind === 'crash' ? exit.signal : null;

  const meaning = classifyExit(c, st, exit, ran);
  // Only a stop for its group's restart keeps it waiting with the group; any other end (a person, a reload
  // took its stop over) takes it out, so that the rest need not wait for it.
  if (meaning.kind !== 'stopped' || meaning.cause !== 'sibling') leaveGroup(d, c);
  switch (meaning.kind) {
    case 'failure':
      afterFailure(d, c, meaning.failure, ran);
      break;
    case 'normal':
      afterNormalExit(d, c, ran, exit);
      break;
    case 'finished_run':
      c.failures = 0;
      c.successes += 1;
      d.event(name, 'exit', exitData('finished_run', ran, exit, { during: meaning.cause }));
      c.status = { tag: 'stopped', why: meaning.cause };
      break;
    case 'stopped':
      afterAskedStop(d, c, meaning.cause, ran, exit);
      break;
    default:
      assertNever(meaning, 'exit meaning');
  }
  d.touch(c);
}

function afterNormalExit(d: Draft, c: ChildState, ran: number, exit: Exit): void {
  d.event(c.spec.name, 'exit', exitData('normal', ran, exit));
  if (c.spec.kind === 'supervisor') {
    c.status = { tag: 'stopped', why: 'all of its children finished' };
    return;
  }
  if (c.spec.loop !== null) afterLoopRun(d, c, c.spec.loop.intervalMs);
  else afterContinuousExit(d, c, ran);
}

/** It ended as herder asked: never a failure; what follows depends on why it was asked to stop. */
function afterAskedStop(d: Draft, c: ChildState, cause: AskedCause, ran: number, exit: Exit): void {
  const name = c.spec.name;
  d.event(name, 'exit', exitData(cause, ran, exit));
  switch (cause) {
    case 'sibling':
      rejoinGroup(d, c);
      return;
    case 'removed':
      c.status = { tag: 'stopped', why: REMOVED };
      return;
    case 'reconfigured':
      c.failures = 0;
      if (d.s.phase === 'running') d.startChild(c);
      else c.status = { tag: 'stopped', why: 'shutdown' };
      return;
    case 'user_restart':
      c.failures = 0;
      c.restarts += 1;
      if (d.s.phase === 'running') d.startChild(c);
      else c.status = { tag: 'stopped', why: 'shutdown' };
      return;
    case 'shutdown':
    case 'user':
    case 'escalation':
      c.status = { tag: 'stopped', why: cause };
      return;
    default:
      assertNever(cause, 'stop cause');
  }
}
