/**
 * Pause and resume: a running process actor frozen with SIGSTOP to its group
 * and thawed with SIGCONT, by a person (ctl), a resource limit with
 * `action: pause`, or machine protection. Being paused is part of the child's
 * running status, so every other rule sees it: a stop, a restart, a reload or
 * a shutdown of a paused child thaws it first (draft.requestStop), and its
 * exit ends the pause. Protection resumes only what it paused itself.
 */
import { pauseWho } from '../event-text.ts';
import { requested } from './commands.ts';
import type { Draft } from './draft.ts';
import type { Answer } from './messages.ts';
import type { ChildState, Pause } from './state.ts';

type Decision =
  | { readonly answer: Extract<Answer, { kind: 'done' }>; readonly child: ChildState }
  | { readonly answer: Exclude<Answer, { kind: 'done' }>; readonly child?: undefined };

/** What a pause or resume of `name` does in this state; `child` is set when it is to be carried out. */
export function decidePause(d: Draft, op: 'pause' | 'resume', name: string, p: Pause): Decision {
  const found = requested(d.s, name);
  if ('answer' in found) return found;
  const c = found.child;
  const refuse = (detail: string): Decision => ({ answer: { kind: 'refused', why: 'not_pausable', detail } });
  if (c.spec.kind === 'supervisor') return refuse(`${name} is a supervisor; pause its actors one by one`);
  if (c.spec.launch.type === 'thread') return refuse(`${name} is a thread actor, which cannot be paused`);
  const st = c.status;
  if (st.tag !== 'running' || c.pid === null) {
    return { answer: { kind: 'refused', why: 'not_running', detail: `${name} is not running` } };
  }
  if (op === 'pause') {
    if (st.paused !== null) return { answer: { kind: 'already', detail: `${name} is already paused` } };
    return { answer: { kind: 'done', detail: `${name}: paused` }, child: c };
  }
  if (st.paused === null) return { answer: { kind: 'already', detail: `${name} is not paused` } };
  if (p.by === 'pressure' && st.paused.by !== 'pressure') {
    return { answer: { kind: 'already', detail: `${name} stays paused (${pauseWho(st.paused)})` } };
  }
  return { answer: { kind: 'done', detail: `${name}: resumed` }, child: c };
}

export function onPause(d: Draft, op: 'pause' | 'resume', name: string, p: Pause): Answer {
  const decision = decidePause(d, op, name, p);
  const c = decision.child;
  if (c === undefined || c.status.tag !== 'running') return decision.answer;
  c.status = { ...c.status, paused: op === 'pause' ? p : null };
  d.fx.push({ type: 'signal', child: name, signal: op === 'pause' ? 'freeze' : 'thaw' });
  d.event(name, op, { by: p.by, reason: p.reason });
  d.touch(c);
  return decision.answer;
}
