/**
 * A person's command for one child (ctl start, stop, restart): decided and
 * carried out in one step, from the same state, so the answer always says
 * what is done. Like OTP's supervisor answering `restart_child` from its own
 * state, the logic itself refuses a command for a child it does not have, one
 * a reload removed, or any while it is not running. A command is never
 * counted as a failure, and each one carried out is an event naming who sent
 * it. pause and resume are in pause.ts.
 */
import { assertNever } from '../errors.ts';
import type { Draft } from './draft.ts';
import type { Answer, CommandOp, Refusal } from './messages.ts';
import type { ChildState, SupervisorState } from './state.ts';
import { isLive } from './state.ts';

type CommandDecision =
  | { readonly answer: Extract<Answer, { kind: 'done' }>; readonly child: ChildState }
  | { readonly answer: Exclude<Answer, { kind: 'done' }>; readonly child?: undefined };

/**
 * The child a request names, or why it is refused whatever was asked: no such
 * child, removed by a reload, or the supervisor is not running (it stops).
 */
export function requested(
  s: SupervisorState,
  name: string,
): { readonly child: ChildState } | { readonly answer: Extract<Answer, { kind: 'refused' }> } {
  const refuse = (why: Refusal, detail: string) => ({ answer: { kind: 'refused' as const, why, detail } });
  const c = s.children.find((x) => x.spec.name === name);
  if (c === undefined) return refuse('no_such_actor', `no actor named ${name}`);
  if (!s.spec.children.some((x) => x.name === name)) {
    return refuse(
      'removed_by_reload',
      `${name} was removed from the config by a reload; add it back to the file and run \`ctl reload\``,
    );
  }
  if (s.phase !== 'running') return refuse('not_running', 'the run is stopping; no commands now');
  return { child: c };
}

/** What `op` for `name` does in state `s`; `child` is set when it is to be carried out. */
export function decideCommand(s: SupervisorState, op: CommandOp, name: string): CommandDecision {
  const found = requested(s, name);
  if ('answer' in found) return found;
  const c = found.child;
  const live = isLive(c.status);
  const done = (detail: string): CommandDecision => ({ answer: { kind: 'done', detail }, child: c });
  switch (op) {
    case 'stop':
      if (c.status.tag === 'stopped' && c.status.why === 'user') {
        return { answer: { kind: 'already', detail: `${name} is already stopped` } };
      }
      return done(`${name}: ${live ? 'stopping' : 'stopped'}`);
    case 'start':
      return live ? { answer: { kind: 'already', detail: `${name} is already running` } } : done(`${name}: starting`);
    case 'restart':
      return done(`${name}: restarting`);
    default:
      return assertNever(op, 'command');
  }
}

/** Decides, acts, and hands back the answer, which the transition replies with. */
export function onCommand(d: Draft, op: CommandOp, name: string, by: string): Answer {
  const decision = decideCommand(d.s, op, name);
  if (decision.child === undefined) return decision.answer;
  d.event(name, 'command', { op, by });
  carryOut(d, decision.child, op);
  return decision.answer;
}

function carryOut(d: Draft, c: ChildState, op: CommandOp): void {
  const st = c.status;
  switch (op) {
    case 'stop':
      if (st.tag === 'running') return d.requestStop(c, 'user', 'terminate');
      if (st.tag === 'stopping') {
        c.status = { ...st, cause: 'user' };
        return;
      }
      d.leaveWaiting(c);
      c.status = { tag: 'stopped', why: 'user' };
      d.touch(c);
      return;
    case 'restart':
      if (st.tag === 'running') return d.requestStop(c, 'user_restart', 'terminate');
      if (st.tag === 'stopping') {
        // A person's stop still under way becomes the restart asked for; what follows a stop for any
        // other reason (its group's restart, a failure's) is left as it was.
        if (st.cause === 'user') c.status = { ...st, cause: 'user_restart' };
        return;
      }
      return startAfresh(d, c, true);
    case 'start':
      return startAfresh(d, c, false);
    default:
      return assertNever(op, 'command');
  }
}

/** start, or restart of one that is not running: now, with a clean slate. */
function startAfresh(d: Draft, c: ChildState, restart: boolean): void {
  d.leaveWaiting(c);
  c.failures = 0;
  if (restart) c.restarts += 1;
  d.startChild(c);
}
