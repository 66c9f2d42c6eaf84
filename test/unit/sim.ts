/**
 * A tiny driver for the pure supervision logic: it feeds messages through
 * `transition` with a ManualClock-driven now/wall, carries out set_timer and
 * cancel_timer against that clock (a fired timer comes back as a `timer`
 * message, as in src/actors/supervisor.ts), and records every effect. No
 * processes and no real time: scenarios read as "start, crash, advance".
 */
import { ManualClock, type TimerHandle } from '../../src/runtime/clock.ts';
import { renderEvent } from '../../src/runtime/event-text.ts';
import type { EventData } from '../../src/runtime/events.ts';
import type { SupervisorSpec } from '../../src/runtime/spec.ts';
import {
  type Answer,
  type ChildState,
  type CommandOp,
  type Effect,
  type EventKind,
  type Exit,
  initialState,
  type PauseSource,
  type StopMode,
  type SupervisorMsg,
  type SupervisorState,
  transition,
} from '../../src/runtime/supervision.ts';

export const exits = {
  normal: (): Exit => ({ kind: 'normal' }),
  crash: (errorType = 'RuntimeError', code: number | null = 1): Exit => ({
    kind: 'crash',
    code,
    signal: null,
    errorType,
    message: `${errorType}: boom`,
    context: 'Traceback (most recent call last): ...',
  }),
  /** A crash by itself while herder was letting the run finish (no stop signal sent yet). */
  crashBeforeStop: (errorType = 'RuntimeError'): Exit => ({
    kind: 'crash',
    code: 1,
    signal: null,
    errorType,
    message: `${errorType}: boom`,
    context: '',
    beforeStopSignal: true,
  }),
  killed: (signal = 'SIGTERM'): Exit => ({
    kind: 'crash',
    code: null,
    signal,
    errorType: 'signal',
    message: `killed by ${signal}`,
    context: '',
  }),
  oom: (): Exit => ({ kind: 'oom', message: 'heap limit reached', context: '' }),
  startFailed: (errorType = 'spawn_error'): Exit => ({ kind: 'start_failed', errorType, message: 'ENOENT' }),
  escalation: (): Exit => ({
    kind: 'crash',
    code: null,
    signal: null,
    errorType: 'escalation',
    message: 'supervisor nested gave up',
    context: '',
  }),
};

export class Sim {
  readonly clock = new ManualClock();
  state: SupervisorState;
  /** Every effect so far, in order. */
  readonly log: Effect[] = [];
  /** Fed to the context of every step; 0 = no jitter. */
  random = 0;
  private readonly timers = new Map<string, TimerHandle>();
  private nextRef = 1;

  constructor(spec: SupervisorSpec) {
    this.state = initialState(spec);
  }

  get now(): number {
    return this.clock.now();
  }

  send(msg: SupervisorMsg): Effect[] {
    const [next, fx] = transition(this.state, msg, {
      now: this.clock.now(),
      wall: this.clock.wall(),
      random: this.random,
    });
    this.state = next;
    this.log.push(...fx);
    for (const e of fx) this.execute(e);
    return fx;
  }

  start(): Effect[] {
    return this.send({ type: 'start' });
  }

  started(child: string, pid: number | null = 4242): Effect[] {
    return this.send({ type: 'started', child, pid });
  }

  exit(child: string, exit: Exit = exits.normal()): Effect[] {
    return this.send({ type: 'exited', child, exit });
  }

  shutdown(mode: StopMode = 'terminate', reason = 'SIGINT'): Effect[] {
    return this.send({ type: 'shutdown', mode, reason });
  }

  /** A person's command, with the answer the logic replied with (in the same step). */
  command(op: CommandOp, child: string, by = 'uid 0'): { fx: Effect[]; answer: Answer } {
    const ref = this.nextRef++;
    const fx = this.send({ type: 'command', op, child, by, ref });
    return { fx, answer: replyTo(fx, ref) };
  }

  /** reload: the new spec, with the answer the logic replied with. */
  reconfigure(spec: SupervisorSpec, by = 'uid 0'): { fx: Effect[]; answer: Answer } {
    const ref = this.nextRef++;
    const fx = this.send({ type: 'reconfigure', spec, by, ref });
    return { fx, answer: replyTo(fx, ref) };
  }

  /** pause or resume, with the answer the logic replied with. */
  pause(
    op: 'pause' | 'resume',
    child: string,
    by: PauseSource = 'person',
    reason = 'uid 0',
  ): { fx: Effect[]; answer: Answer } {
    const ref = this.nextRef++;
    const fx = this.send({ type: op, child, pause: { by, reason }, ref });
    return { fx, answer: replyTo(fx, ref) };
  }

  fail(child: string, errorType = 'health', message = 'health 20 below health_threshold 50'): Effect[] {
    return this.send({ type: 'fail', child, errorType, message });
  }

  patternBackoff(child: string, pattern = 'rate_limited'): Effect[] {
    return this.send({ type: 'pattern_backoff', child, pattern });
  }

  defer(on: boolean): Effect[] {
    return this.send({ type: 'defer', on });
  }

  /** Moves the clock on, firing due timers; returns the effects of those timers. */
  advance(ms: number): Effect[] {
    const from = this.log.length;
    this.clock.advance(ms);
    return this.log.slice(from);
  }

  /** Lets `child` run for `ms`, then reports `exit`; returns everything that happened. */
  runThenExit(child: string, ms: number, exit: Exit = exits.normal()): Effect[] {
    const from = this.log.length;
    this.advance(ms);
    this.exit(child, exit);
    return this.log.slice(from);
  }

  child(name: string): ChildState {
    const c = this.state.children.find((x) => x.spec.name === name);
    if (c === undefined) throw new Error(`no child ${name}`);
    return c;
  }

  status(name: string): string {
    return this.child(name).status.tag;
  }

  pendingTimers(): string[] {
    return [...this.timers.keys()].sort();
  }

  private execute(e: Effect): void {
    if (e.type === 'set_timer') {
      const old = this.timers.get(e.key);
      if (old !== undefined) this.clock.clearTimeout(old);
      const handle = this.clock.setTimeout(() => {
        this.timers.delete(e.key);
        this.send({ type: 'timer', key: e.key });
      }, e.ms);
      this.timers.set(e.key, handle);
    } else if (e.type === 'cancel_timer') {
      const t = this.timers.get(e.key);
      if (t !== undefined) this.clock.clearTimeout(t);
      this.timers.delete(e.key);
    }
  }
}

// ---- reading effects ---------------------------------------------------------

export function starts(fx: readonly Effect[]): string[] {
  return fx.flatMap((e) => (e.type === 'start' ? [e.child] : []));
}

export function stops(fx: readonly Effect[]): string[] {
  return fx.flatMap((e) => (e.type === 'stop' ? [`${e.child}:${e.mode}`] : []));
}

/** The events of `kind` among `fx`, with the line the renderer makes of each. */
export function events(fx: readonly Effect[], kind: EventKind): { process: string; detail: string }[] {
  return fx.flatMap((e) =>
    e.type === 'event' && e.event.kind === kind ? [{ process: e.event.process, detail: renderEvent(e.event) }] : [],
  );
}

/** The fields of the events of `kind` among `fx`. */
export function eventData<K extends EventKind>(fx: readonly Effect[], kind: K): EventData[K][] {
  return fx.flatMap((e) => (e.type === 'event' && e.event.kind === kind ? [e.event.data as EventData[K]] : []));
}

export function errors(fx: readonly Effect[]): { process: string; errorType: string }[] {
  return fx.flatMap((e) => (e.type === 'error' ? [{ process: e.process, errorType: e.errorType }] : []));
}

export function timersSet(fx: readonly Effect[]): string[] {
  return fx.flatMap((e) => (e.type === 'set_timer' ? [`${e.key}=${e.ms}`] : []));
}

export function timersCancelled(fx: readonly Effect[]): string[] {
  return fx.flatMap((e) => (e.type === 'cancel_timer' ? [e.key] : []));
}

/** Delays of the restarts scheduled in `fx` (the ms of every group timer). */
export function restartDelays(fx: readonly Effect[]): number[] {
  return fx.flatMap((e) => (e.type === 'set_timer' && e.key.startsWith('group:') ? [e.ms] : []));
}

/** The one reply with `ref` among `fx` (a test fails if there is not exactly one). */
export function replyTo(fx: readonly Effect[], ref: number): Answer {
  const replies = fx.flatMap((e) => (e.type === 'reply' && e.ref === ref ? [e.answer] : []));
  const [answer] = replies;
  if (answer === undefined || replies.length !== 1)
    throw new Error(`expected one reply to ${ref}, got ${replies.length}`);
  return answer;
}

export function outcome(fx: readonly Effect[]): string | null {
  for (const e of fx) {
    if (e.type === 'done') return e.outcome;
    if (e.type === 'escalate') return 'escalate';
  }
  return null;
}
