/**
 * One step of the logic works on a draft: a copy of the state that the
 * handlers of each concern change in place, and the effects they emit, in
 * order. A transition makes one draft and hands back its state and effects,
 * so the state passed in is never changed.
 */
import { type EventData, herderEvent } from '../events.ts';
import type { Answer, Effect, EventKind, StepContext } from './messages.ts';
import { timerKeys } from './messages.ts';
import type { ChildState, StopCause, StopFailure, StopMode, SupervisorState } from './state.ts';

export class Draft {
  readonly s: SupervisorState;
  readonly fx: Effect[] = [];

  constructor(
    state: SupervisorState,
    readonly ctx: StepContext,
  ) {
    this.s = {
      ...state,
      children: state.children.map((c) => ({ ...c })),
      restartTimes: [...state.restartTimes],
      groups: state.groups.map((g) => ({ ...g, members: [...g.members] })),
    };
  }

  child(name: string): ChildState | undefined {
    return this.s.children.find((c) => c.spec.name === name);
  }

  event<K extends EventKind>(process: string, kind: K, data: EventData[K]): void {
    this.fx.push({ type: 'event', event: herderEvent(process, kind, data) });
  }

  error(process: string, f: { readonly errorType: string; readonly message: string; readonly context: string }): void {
    this.fx.push({ type: 'error', process, errorType: f.errorType, message: f.message, context: f.context });
  }

  /** The child's row in the record is out of date. */
  touch(c: ChildState): void {
    this.fx.push({ type: 'state', child: c.spec.name });
  }

  setTimer(key: string, ms: number): void {
    this.fx.push({ type: 'set_timer', key, ms });
  }

  cancelTimer(key: string): void {
    this.fx.push({ type: 'cancel_timer', key });
  }

  reply(ref: number | undefined, answer: Answer): void {
    this.fx.push({ type: 'reply', ref: ref ?? null, answer });
  }

  /** The run_timeout timer of a run that ends or is stopped for another reason. */
  cancelRunTimeout(c: ChildState): void {
    if (c.spec.kind === 'worker' && c.spec.runTimeoutMs !== null) this.cancelTimer(timerKeys.timeout(c.spec.name));
  }

  startChild(c: ChildState): void {
    c.status = { tag: 'running', since: this.ctx.now, paused: null };
    c.runs += 1;
    c.pid = null;
    c.lastStartWall = this.ctx.wall;
    c.nextRunWall = null;
    this.fx.push({ type: 'start', child: c.spec.name });
    if (c.spec.kind === 'worker' && c.spec.runTimeoutMs !== null) {
      this.setTimer(timerKeys.timeout(c.spec.name), c.spec.runTimeoutMs);
    }
    this.touch(c);
  }

  /**
   * Asks a running child to stop; what its exit then means follows from
   * `cause` (and `failure`, for cause 'fail'). A paused child is thawed first,
   * so that it can finish or hear its SIGTERM.
   */
  requestStop(c: ChildState, cause: StopCause, mode: StopMode, failure?: StopFailure): void {
    if (c.status.tag !== 'running') return;
    if (c.status.paused !== null) this.fx.push({ type: 'signal', child: c.spec.name, signal: 'thaw' });
    c.status = { tag: 'stopping', since: c.status.since, cause, ...(failure === undefined ? {} : { failure }) };
    this.fx.push({ type: 'stop', child: c.spec.name, mode });
    this.touch(c);
  }

  /** Takes a waiting child off its loop timer or restart group. */
  leaveWaiting(c: ChildState): void {
    const name = c.spec.name;
    if (c.status.tag === 'loop_wait') this.cancelTimer(timerKeys.loop(name));
    if (c.status.tag === 'restarting') {
      for (const g of this.s.groups) g.members = g.members.filter((m) => m !== name);
      const empty = this.s.groups.filter((g) => g.members.length === 0);
      for (const g of empty) this.cancelTimer(timerKeys.group(g.id));
      this.s.groups = this.s.groups.filter((g) => g.members.length > 0);
    }
    c.nextRunWall = null;
  }
}
