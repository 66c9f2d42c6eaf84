/**
 * The supervisor actor: runs the pure supervision logic over a mailbox and
 * carries out its effects - starting and stopping children through their
 * hosts, timers through the Clock, records through the logging actor. A
 * nested supervisor is a child like any other: its "done" is a normal exit
 * and its "escalate" a crash, which its parent's strategy then handles.
 */

import type { PipePool } from '../platform/pipes.ts';
import type { ProcessStateRow, Stream } from '../record/records.ts';
import { ActorRunner } from '../runtime/actor.ts';
import type { Clock, TimerHandle } from '../runtime/clock.ts';
import { assertNever } from '../runtime/errors.ts';
import { herderEvent } from '../runtime/events.ts';
import type { ChildSpec, ErrorPatternSpec, SupervisorSpec } from '../runtime/spec.ts';
import {
  type ChildState,
  type CommandOp,
  carryCounts,
  type Effect,
  type Exit,
  initialState,
  type Pause,
  type ResumePoint,
  type StopMode,
  type SupervisorMsg,
  type SupervisorState,
  transition,
} from '../runtime/supervision.ts';
import { PatternWatch } from './error-patterns.ts';
import type { EventBus } from './event-bus.ts';
import { HEALTH_PROTOCOL, healthHandler } from './health-channel.ts';
import type { ChildEvents, RunningChild } from './host.ts';
import type { Logger } from './logger.ts';
import type { Echo } from './output.ts';
import { startProcess } from './process-actor.ts';
import type { Reaper } from './reaper.ts';
import type { ChildTree, LiveTree, Registry } from './registry.ts';
import { Replies } from './replies.ts';
import { stateRow } from './state-row.ts';
import { startThread, type ThreadPools } from './thread-actor.ts';

export interface RuntimeDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly reaper: Reaper;
  readonly pools: ThreadPools;
  /** Real pipes for process actors' output; null: socket pairs. */
  readonly pipes: PipePool | null;
  readonly echo: Echo | null;
  readonly random: () => number;
  readonly onBug: (error: unknown) => void;
  /** What the actors report about themselves (signals, thread figures, failures); the rest is derived from the states. */
  readonly registry: Registry;
  readonly sampleMs: number;
  /** Where every event is published, once: the record, the echo and the alerts subscribe. */
  readonly bus: EventBus;
  /** Told when an actor's run ends, so that what was judged about it starts over. */
  readonly onChildGone: (name: string) => void;
  /** Which supervisor each child belongs to, for commands by name. */
  readonly owners: Map<string, SupervisorActor>;
}

export interface Parent {
  exited(exit: Exit): void;
}

export class SupervisorActor implements RunningChild, LiveTree {
  private readonly runner: ActorRunner<SupervisorState, SupervisorMsg, Effect>;
  private readonly handles = new Map<string, RunningChild>();
  private readonly pidStarts = new Map<string, string | null>();
  private readonly timers = new Map<string, TimerHandle>();
  /** Error-pattern watches per worker, kept across its runs so that counts add up. */
  private readonly patterns = new Map<string, PatternWatch>();
  /** Commands and reloads waiting for the logic's reply. */
  private readonly replies = new Replies();

  /** Loop schedules from the record, shared down the tree until each is used. */
  private schedule: Map<string, ResumePoint> | undefined;

  /** The latest instance of each nested supervisor: a restarted subtree carries its counts on. */
  private readonly nested: Map<string, SupervisorActor>;

  /** `previous`: the instance this one replaces when its parent restarts the subtree. */
  constructor(
    readonly spec: SupervisorSpec,
    private readonly deps: RuntimeDeps,
    private readonly parent: Parent,
    previous?: SupervisorActor,
  ) {
    const clock = deps.clock;
    for (const c of spec.children) deps.owners.set(c.name, this);
    this.nested = previous?.nested ?? new Map();
    this.runner = new ActorRunner(
      carryCounts(initialState(spec), previous?.state),
      {
        transition: (s, m) => transition(s, m, { now: clock.now(), wall: clock.wall(), random: deps.random() }),
      },
      (effect, state) => this.execute(effect, state),
      (error) => this.crashed(error),
    );
  }

  get state(): SupervisorState {
    return this.runner.snapshot;
  }

  /** `resume`: loop schedules from the record, for this supervisor's first start in the run (taken from the map). */
  start(resume?: Map<string, ResumePoint>): void {
    // Record every child as idle first, so status lists them before they run.
    for (const c of this.state.children) this.deps.logger.state(this.row(c));
    this.schedule = resume ?? this.schedule;
    const mine = new Map<string, ResumePoint>();
    for (const c of this.spec.children) {
      const p = this.schedule?.get(c.name);
      if (p === undefined) continue;
      mine.set(c.name, p);
      this.schedule?.delete(c.name); // once: a subtree restarted later starts afresh
    }
    this.runner.send({ type: 'start', resume: mine });
  }

  shutdown(mode: StopMode, reason: string): void {
    this.runner.send({ type: 'shutdown', mode, reason });
  }

  stop(mode: StopMode): void {
    this.shutdown(mode, 'stopped by its parent');
  }

  /**
   * A person's command for one of this supervisor's children. The logic
   * decides the answer in the step that acts on it: this runner never judges
   * the state itself.
   */
  command(op: CommandOp, name: string, by: string): Promise<string> {
    return this.request((ref) => ({ type: 'command', op, child: name, by, ref }));
  }

  /** reload: this supervisor's new spec; the answer is the logic's one-line diff ("added d; changed c; ..."). */
  reconfigure(spec: SupervisorSpec, by: string): Promise<string> {
    for (const c of spec.children) this.deps.owners.set(c.name, this);
    return this.request((ref) => ({ type: 'reconfigure', spec, by, ref }));
  }

  /** The mailbox runs it at once unless a message is being handled: the answer usually comes within this call. */
  private request(message: (ref: number) => SupervisorMsg): Promise<string> {
    const { ref, answer } = this.replies.open();
    this.runner.send(message(ref));
    return answer;
  }

  /** Freezes or thaws one of this supervisor's children; the logic answers, from its state. */
  pauseChild(op: 'pause' | 'resume', name: string, pause: Pause): Promise<string> {
    return this.request((ref) => ({ type: op, child: name, pause, ref }));
  }

  /** Stops a running child now, counted as a failure (health, a limit); ignored if it is not running. */
  fail(name: string, errorType: string, message: string): void {
    this.runner.send({ type: 'fail', child: name, errorType, message });
  }

  /** Each child with its state, and a nested supervisor's latest instance (its own tree). */
  childTrees(): ChildTree[] {
    return this.state.children.map((c) => ({ c, below: this.nested.get(c.spec.name) }));
  }

  /** Machine pressure: loop runs that fall due wait (here and in nested supervisors). */
  defer(on: boolean): void {
    this.runner.send({ type: 'defer', on });
    for (const h of this.handles.values()) if (h instanceof SupervisorActor) h.defer(on);
  }

  /**
   * A bug in this supervisor (its logic or one of its effects threw): it stops
   * at once, as a crashed OTP supervisor takes its children with it, the error
   * is recorded with its stack, and its parent is told of a crash - the root's
   * parent ends the run, a nested one's restarts the subtree by its strategy.
   */
  private crashed(error: unknown): void {
    for (const t of this.timers.values()) this.deps.clock.clearTimeout(t);
    this.timers.clear();
    this.kill();
    const message = error instanceof Error ? error.message : String(error);
    this.replies.close(`supervisor ${this.spec.name} crashed (a bug in herder): ${message}`);
    const stack = error instanceof Error ? (error.stack ?? message) : message;
    this.deps.onBug(error);
    this.deps.logger.error(this.spec.name, 'internal_error', `supervisor ${this.spec.name} crashed: ${message}`, stack);
    this.parent.exited({
      kind: 'crash',
      code: null,
      signal: null,
      errorType: 'internal_error',
      message: `supervisor ${this.spec.name} crashed (a bug in herder): ${message}`,
      context: stack,
    });
  }

  /** Kills every running child below this supervisor at once. */
  kill(): void {
    for (const h of this.handles.values()) h.kill();
  }

  private execute(effect: Effect, state: SupervisorState): void {
    switch (effect.type) {
      case 'start':
        return this.startChild(effect.child, state);
      case 'stop': {
        const h = this.handles.get(effect.child);
        const c = state.children.find((x) => x.spec.name === effect.child);
        if (h !== undefined && c !== undefined) h.stop(effect.mode, c.spec.shutdownGraceMs);
        return;
      }
      case 'signal': {
        const h = this.handles.get(effect.child);
        if (effect.signal === 'freeze') h?.pause?.();
        else h?.resume?.();
        return;
      }
      case 'set_timer': {
        const old = this.timers.get(effect.key);
        if (old !== undefined) this.deps.clock.clearTimeout(old);
        this.timers.set(
          effect.key,
          this.deps.clock.setTimeout(() => {
            this.timers.delete(effect.key);
            this.runner.send({ type: 'timer', key: effect.key });
          }, effect.ms),
        );
        return;
      }
      case 'cancel_timer': {
        const t = this.timers.get(effect.key);
        if (t !== undefined) this.deps.clock.clearTimeout(t);
        this.timers.delete(effect.key);
        return;
      }
      case 'event':
        return this.deps.bus.publish(effect.event);
      case 'error': {
        const now = this.deps.clock.now();
        this.deps.registry.note(effect.process, 'failures', now);
        this.deps.registry.note(effect.process, 'errors', now);
        this.deps.logger.error(effect.process, effect.errorType, effect.message, effect.context);
        return;
      }
      case 'state': {
        const c = state.children.find((x) => x.spec.name === effect.child);
        if (c !== undefined) this.deps.logger.state(this.row(c));
        return;
      }
      case 'escalate':
        return this.parent.exited({
          kind: 'crash',
          code: null,
          signal: null,
          errorType: 'escalation',
          message: `supervisor ${this.spec.name} gave up: ${effect.reason}`,
          context: '',
        });
      case 'done':
        return this.parent.exited({ kind: 'normal' });
      case 'reply':
        return this.replies.settle(effect.ref, effect.answer);
      default:
        return assertNever(effect, 'effect');
    }
  }

  private childEvents(name: string): ChildEvents {
    return {
      started: (pid, pidStart) => {
        this.pidStarts.set(name, pidStart);
        this.runner.send({ type: 'started', child: name, pid });
      },
      exited: (exit) => {
        this.deps.registry.ended(name);
        this.deps.onChildGone(name);
        this.handles.delete(name);
        this.pidStarts.delete(name);
        this.runner.send({ type: 'exited', child: name, exit });
      },
    };
  }

  private startChild(name: string, state: SupervisorState): void {
    const c = state.children.find((x) => x.spec.name === name);
    if (c === undefined) return;
    const events = this.childEvents(name);
    const spec: ChildSpec = c.spec;
    if (spec.kind === 'supervisor') {
      const nested = new SupervisorActor(spec, this.deps, { exited: events.exited }, this.nested.get(name));
      this.nested.set(name, nested);
      this.handles.set(name, nested);
      events.started(null, null);
      nested.start(this.schedule);
      return;
    }
    const { logger, echo, clock, registry } = this.deps;
    const signals = registry.signalsOf(name);
    signals.lastActivity = clock.now(); // a run's start counts as a sign of life: silence is timed from here
    const watch = this.patternWatch(name, spec.health.errorPatterns);
    watch.reset();
    signals.patternCounts = watch.empty ? null : watch.counts;
    const output = (pid: number | null, stream: Stream, lines: string[]) => {
      signals.lastActivity = clock.now();
      logger.output(name, pid, stream, lines);
      echo?.lines(name, stream, lines);
      registry.output(name, stream, lines);
      if (!watch.empty) watch.lines(stream, lines);
    };
    const reportError = (errorType: string, message: string, context: string) => {
      registry.note(name, 'errors', clock.now());
      logger.error(name, errorType, message, context);
    };
    const health = healthHandler(signals, clock, reportError, (raw) =>
      logger.error(
        name,
        'health_channel',
        `not a health message: ${raw.slice(0, 200)}`,
        `expected one JSON object per line with "type": heartbeat | progress | health | error (${HEALTH_PROTOCOL}); further bad lines are only counted`,
      ),
    );
    const handle =
      spec.launch.type === 'process'
        ? startProcess(
            name,
            spec.launch,
            {
              clock,
              output,
              health,
              reaper: this.deps.reaper,
              pipes: () => this.deps.pipes?.takePair() ?? null,
              loggedError: (t) => reportError(t.errorType, t.message, t.context),
            },
            events,
          )
        : startThread(
            name,
            spec.launch,
            c.runs,
            {
              clock,
              pools: this.deps.pools,
              output,
              reportError,
              sampleMs: this.deps.sampleMs,
              usage: (u) => registry.setUsage(name, u),
              health,
            },
            events,
          );
    // An exit can be reported synchronously (spawn failure): only keep live handles.
    const now = this.runner.snapshot.children.find((x) => x.spec.name === name);
    if (now === undefined || now.status.tag === 'running' || now.status.tag === 'stopping')
      this.handles.set(name, handle);
  }

  private patternWatch(name: string, patterns: readonly ErrorPatternSpec[]): PatternWatch {
    let watch = this.patterns.get(name);
    if (watch === undefined) {
      const { logger } = this.deps;
      watch = new PatternWatch(patterns, this.deps.clock, {
        error: (errorType, message, context) => {
          this.deps.registry.note(name, 'errors', this.deps.clock.now());
          logger.error(name, errorType, message, context);
        },
        alert: (data) => this.deps.bus.publish(herderEvent(name, 'alert', data)),
        restart: (errorType, message) => this.runner.send({ type: 'fail', child: name, errorType, message }),
        backoff: (pattern) => this.runner.send({ type: 'pattern_backoff', child: name, pattern }),
      });
      this.patterns.set(name, watch);
    }
    return watch;
  }

  private row(c: ChildState): ProcessStateRow {
    const name = c.spec.name;
    return stateRow(
      c,
      this.spec.name,
      this.pidStarts.get(name) ?? null,
      this.deps.registry.signalsOf(name).patternCounts,
    );
  }
}
