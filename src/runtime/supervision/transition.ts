/**
 * The supervision logic of one supervisor, as a pure function:
 * `transition(state, message, ctx) -> [state, effects]`. Each message goes to
 * the module of its concern; after every step, shutdown.ts checks whether the
 * supervisor is done. A command or a reload is answered by one `reply`
 * effect, from the step that acts on it.
 */
import { assertNever } from '../errors.ts';
import { onCommand } from './commands.ts';
import { Draft } from './draft.ts';
import { onExited } from './exits.ts';
import { onGroupTimer } from './groups.ts';
import { onDefer, onLoopTimer, onPatternBackoff, onTimeoutTimer, resumeLoop } from './loops.ts';
import type { Effect, StepContext, SupervisorMsg } from './messages.ts';
import { onPause } from './pause.ts';
import { onReconfigure } from './reload.ts';
import { onFail } from './restart.ts';
import { checkDone, onShutdown } from './shutdown.ts';
import type { ResumePoint, SupervisorState } from './state.ts';
import { isLive, isLoop } from './state.ts';

export function transition(state: SupervisorState, msg: SupervisorMsg, ctx: StepContext): [SupervisorState, Effect[]] {
  const d = new Draft(state, ctx);
  handle(d, msg);
  checkDone(d);
  return [d.s, d.fx];
}

function handle(d: Draft, msg: SupervisorMsg): void {
  switch (msg.type) {
    case 'start':
      return onStart(d, msg.resume);
    case 'started':
      return onStarted(d, msg.child, msg.pid);
    case 'exited':
      return onExited(d, msg.child, msg.exit);
    case 'timer':
      return onTimer(d, msg.key);
    case 'shutdown':
      return onShutdown(d, msg.mode, msg.reason);
    case 'fail':
      return onFail(d, msg.child, msg.errorType, msg.message);
    case 'pattern_backoff':
      return onPatternBackoff(d, msg.child, msg.pattern);
    case 'defer':
      return onDefer(d, msg.on);
    case 'command':
      return d.reply(msg.ref, onCommand(d, msg.op, msg.child, msg.by));
    case 'pause':
    case 'resume':
      return d.reply(msg.ref, onPause(d, msg.type, msg.child, msg.pause));
    case 'reconfigure':
      return d.reply(msg.ref, onReconfigure(d, msg.spec, msg.by));
    default:
      return assertNever(msg, 'supervisor message');
  }
}

/** Children start in order; a loop job with a schedule from the record waits for it. */
function onStart(d: Draft, resume: ReadonlyMap<string, ResumePoint> | undefined): void {
  if (d.s.phase !== 'idle') return;
  d.s.phase = 'running';
  for (const c of d.s.children) {
    const point = isLoop(c) ? resume?.get(c.spec.name) : undefined;
    if (point === undefined) d.startChild(c);
    else resumeLoop(d, c, point);
  }
}

function onStarted(d: Draft, name: string, pid: number | null): void {
  const c = d.child(name);
  if (c === undefined || !isLive(c.status)) return;
  c.pid = pid;
  d.event(name, 'start', { pid, run: isLoop(c) ? c.runs : null });
  d.touch(c);
}

/** Timer keys name their concern: `loop:NAME`, `timeout:NAME`, `group:ID` (see timerKeys). */
function onTimer(d: Draft, key: string): void {
  const at = key.indexOf(':');
  const [kind, rest] = [key.slice(0, at), key.slice(at + 1)];
  if (kind === 'loop') onLoopTimer(d, rest);
  else if (kind === 'timeout') onTimeoutTimer(d, rest);
  else if (kind === 'group') onGroupTimer(d, Number(rest));
}
