/**
 * Random supervisors fed random exits, timer ticks, shutdowns, failures herder
 * asks for, pattern backoffs, machine pressure, commands and reloads: whatever
 * happens, the decisions stay consistent with what a host can carry out, and
 * each command's answer with what it did.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChildSpec, SupervisorSpec } from '../../src/runtime/spec.ts';
import type { Answer, CommandOp, Effect, Exit, SupervisorState } from '../../src/runtime/supervision.ts';
import { exits, Sim, starts } from './sim.ts';
import { supervisor, worker } from './spec-factory.ts';

const childOptions = fc.record({
  restart: fc.constantFrom('permanent', 'transient', 'temporary'),
  maxRestarts: fc.integer({ min: 0, max: 3 }),
  resetAfterMs: fc.constantFrom(1_000, 60_000),
  backoff: fc.record({
    initialMs: fc.constantFrom(0, 100, 1_000),
    maxMs: fc.constantFrom(1_000, 8_000),
    jitter: fc.constantFrom(0, 0.5),
  }),
});

const childSpec = (name: string): fc.Arbitrary<ChildSpec> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .record({
          common: childOptions,
          loop: fc.constantFrom(null, { intervalMs: 1_000, resume: true }, { intervalMs: 30_000, resume: true }),
          runTimeoutMs: fc.constantFrom(null, null, null, 2_000, 10_000),
        })
        .map(({ common, loop, runTimeoutMs }) => worker(name, { ...common, loop, runTimeoutMs })),
    },
    { weight: 1, arbitrary: childOptions.map((common) => supervisor(name, [worker(`${name}.w`)], common)) },
  );

const supervisorSpec: fc.Arbitrary<SupervisorSpec> = fc
  .integer({ min: 1, max: 4 })
  .chain((n) =>
    fc.record({
      children: fc.tuple(...Array.from({ length: n }, (_, i) => childSpec(`c${i}`))),
      strategy: fc.constantFrom('one_for_one', 'one_for_all', 'rest_for_one'),
      intensity: fc.constantFrom(0, 1, 1, 2, 3),
      periodMs: fc.constantFrom(5_000, 60_000),
    }),
  )
  .map(({ children, ...flags }) => supervisor('root', children, flags));

const exitArb: fc.Arbitrary<Exit> = fc.constantFrom(
  exits.normal(),
  exits.normal(),
  exits.normal(),
  exits.crash(),
  exits.crash(),
  exits.killed('SIGKILL'),
  exits.oom(),
  exits.startFailed(),
  exits.escalation(),
);

type Action =
  | { readonly type: 'exit'; readonly pick: number; readonly exit: Exit; readonly after: number }
  | { readonly type: 'stale'; readonly pick: number; readonly exit: Exit }
  | { readonly type: 'started'; readonly pick: number }
  | { readonly type: 'advance'; readonly ms: number }
  | { readonly type: 'shutdown'; readonly mode: 'finish' | 'terminate' }
  | { readonly type: 'fail'; readonly pick: number }
  | { readonly type: 'pattern_backoff'; readonly pick: number }
  | { readonly type: 'defer'; readonly on: boolean }
  | { readonly type: 'command'; readonly op: CommandOp; readonly pick: number }
  | {
      readonly type: 'pause';
      readonly op: 'pause' | 'resume';
      readonly by: 'person' | 'limit' | 'pressure';
      readonly pick: number;
    }
  | { readonly type: 'reconfigure'; readonly change: 'same' | 'drop' | 'change' | 'add'; readonly pick: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 16,
    arbitrary: fc.record({
      type: fc.constant('exit' as const),
      pick: fc.nat(),
      exit: exitArb,
      after: fc.constantFrom(0, 50, 900, 1_500, 70_000),
    }),
  },
  {
    weight: 12,
    arbitrary: fc.record({ type: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 10_000 }) }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('stale' as const), pick: fc.nat(), exit: exitArb }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('started' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('shutdown' as const), mode: fc.constantFrom('finish', 'terminate') }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('fail' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('pattern_backoff' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('defer' as const), on: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('command' as const),
      op: fc.constantFrom('stop', 'start', 'restart'),
      pick: fc.nat(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('pause' as const),
      op: fc.constantFrom('pause', 'resume'),
      by: fc.constantFrom('person', 'limit', 'pressure'),
      pick: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('reconfigure' as const),
      change: fc.constantFrom('same', 'drop', 'change', 'add'),
      pick: fc.nat(),
    }),
  },
);

/** A new spec for the supervisor, made from the one it runs. */
function reloaded(spec: SupervisorSpec, change: 'same' | 'drop' | 'change' | 'add', pick: number, added: number) {
  const children = [...spec.children];
  const i = pick % Math.max(1, children.length);
  const c = children[i];
  switch (change) {
    case 'same':
      return structuredClone(spec); // equal, not the same object
    case 'drop':
      children.splice(i, 1);
      break;
    case 'change':
      if (c !== undefined) children[i] = { ...c, maxRestarts: c.maxRestarts + 1 };
      break;
    case 'add':
      children.push(worker(`n${added}`));
      break;
  }
  return { ...spec, children };
}

function ensure(ok: boolean, what: () => string): void {
  if (!ok) throw new Error(what());
}

/** Plays the host: knows which children it has running, checks every effect against that. */
class Host {
  readonly live = new Set<string>();
  /** Children sent SIGSTOP and not yet SIGCONT. */
  readonly frozen = new Set<string>();
  private ends = 0;

  constructor(readonly sim: Sim) {}

  check(fx: readonly Effect[]): void {
    for (const e of fx) {
      if (e.type === 'start') {
        ensure(!this.live.has(e.child), () => `start of ${e.child}, which is still running`);
        ensure(this.ends === 0, () => `start of ${e.child} after the supervisor ended`);
        this.live.add(e.child);
      } else if (e.type === 'stop') {
        ensure(this.live.has(e.child), () => `stop of ${e.child}, which is not running`);
        ensure(!this.frozen.has(e.child), () => `stop of ${e.child} while it is frozen: it could not finish`);
      } else if (e.type === 'signal') {
        ensure(this.live.has(e.child), () => `${e.signal} of ${e.child}, which is not running`);
        ensure(
          this.frozen.has(e.child) === (e.signal === 'thaw'),
          () => `${e.signal} of ${e.child}, frozen=${this.frozen.has(e.child)}`,
        );
        if (e.signal === 'freeze') this.frozen.add(e.child);
        else this.frozen.delete(e.child);
      } else if (e.type === 'done' || e.type === 'escalate') {
        this.ends += 1;
        ensure(this.ends === 1, () => 'ended twice');
      }
    }
    const { phase, groups } = this.sim.state;
    for (const c of this.sim.state.children) {
      const name = c.spec.name;
      ensure(c.failures >= 0 && c.failuresTotal >= 0, () => `${name} has negative failures`);
      const running = c.status.tag === 'running' || c.status.tag === 'stopping';
      ensure(
        running === this.live.has(name),
        () => `${name} is ${c.status.tag}, host says live=${this.live.has(name)}`,
      );
      const paused = c.status.tag === 'running' && c.status.paused !== null;
      ensure(paused === this.frozen.has(name), () => `${name} paused=${paused}, host frozen=${this.frozen.has(name)}`);
      if (phase !== 'running') continue;
      if (c.spec.kind === 'worker' && c.spec.restart === 'permanent') {
        // Only a person or a reload stops a permanent worker for good while its supervisor runs.
        ensure(
          c.status.tag !== 'stopped' || c.status.why === 'user' || c.status.why === 'removed from the config',
          () => `permanent ${name} stopped while running: ${JSON.stringify(c.status)}`,
        );
      }
      ensure(
        c.status.tag !== 'running' || !groups.some((g) => g.members.includes(name)),
        () => `${name} is running and still a member of a pending restart group`,
      );
      if (c.status.tag === 'restarting') {
        const id = c.status.group;
        ensure(
          groups.some((g) => g.id === id && g.members.includes(name)),
          () => `${name} waits for group ${id}, which is not pending`,
        );
      }
      if (c.status.tag === 'loop_wait') {
        ensure(
          this.sim.pendingTimers().includes(`loop:${name}`),
          () => `${name} waits for a loop timer that is not set`,
        );
      }
    }
  }

  /** Restarts within the period never exceed the intensity while the supervisor runs: past it, it escalates. */
  checkIntensity(): void {
    const { spec, phase, restartTimes } = this.sim.state;
    if (phase !== 'running' || spec.intensity === 0) return;
    const recent = restartTimes.filter((t) => this.sim.now - t <= spec.periodMs).length;
    ensure(recent <= spec.intensity, () => `${recent} restarts within the period, intensity ${spec.intensity}`);
  }

  get ended(): boolean {
    return this.ends > 0;
  }

  nth(pick: number): string | undefined {
    const names = [...this.live].sort();
    return names[pick % Math.max(1, names.length)];
  }

  exit(name: string, exit: Exit): void {
    this.live.delete(name);
    this.frozen.delete(name); // a frozen process can still be killed (SIGKILL, the OOM killer)
    this.check(this.sim.exit(name, exit));
  }
}

/** The answer says what the step did: "done" comes with the action, anything else with none. */
function checkAnswer(op: CommandOp, name: string, answer: Answer, fx: readonly Effect[], after: SupervisorState) {
  const acted = fx.filter((e) => e.type !== 'reply');
  if (answer.kind !== 'done') {
    ensure(acted.length === 0, () => `${op} ${name} answered ${answer.kind} but did ${JSON.stringify(acted)}`);
    return;
  }
  const c = after.children.find((x) => x.spec.name === name);
  const st = c?.status;
  const ok =
    op === 'start'
      ? starts(fx).includes(name) && st?.tag === 'running'
      : op === 'stop'
        ? (st?.tag === 'stopped' && st.why === 'user') || (st?.tag === 'stopping' && st.cause === 'user')
        : st?.tag === 'running' || st?.tag === 'stopping';
  ensure(ok, () => `${op} ${name} answered "${answer.detail}" but left it ${JSON.stringify(st)}`);
}

function play(spec: SupervisorSpec, actions: readonly Action[], random: number): void {
  const sim = new Sim(spec);
  sim.random = random;
  const host = new Host(sim);
  const removed = new Set<string>();
  let added = 0;
  const step = (fx: Effect[]) => {
    for (const name of starts(fx)) ensure(!removed.has(name), () => `${name} started again after a reload removed it`);
    host.check(fx);
    host.checkIntensity();
  };
  step(sim.start());
  for (const a of actions) {
    switch (a.type) {
      case 'exit': {
        step(sim.advance(a.after));
        const name = host.nth(a.pick);
        if (name !== undefined) host.exit(name, a.exit);
        break;
      }
      case 'stale': {
        const idle = sim.state.children.map((c) => c.spec.name).filter((n) => !host.live.has(n));
        const name = idle[a.pick % Math.max(1, idle.length)];
        if (name !== undefined) expect(sim.exit(name, a.exit)).toEqual([]);
        break;
      }
      case 'started': {
        const name = host.nth(a.pick);
        if (name !== undefined) step(sim.started(name, 1_000 + a.pick));
        break;
      }
      case 'advance':
        step(sim.advance(a.ms));
        break;
      case 'shutdown':
        step(sim.shutdown(a.mode));
        break;
      case 'fail': {
        const name = host.nth(a.pick);
        if (name !== undefined) step(sim.fail(name));
        break;
      }
      case 'pattern_backoff': {
        const name = host.nth(a.pick);
        if (name !== undefined) step(sim.patternBackoff(name));
        break;
      }
      case 'defer':
        step(sim.defer(a.on));
        break;
      case 'command': {
        const names = [...sim.state.children.map((c) => c.spec.name), 'nobody'];
        const name = names[a.pick % names.length] ?? 'nobody';
        const { fx, answer } = sim.command(a.op, name);
        step(fx);
        checkAnswer(a.op, name, answer, fx, sim.state);
        break;
      }
      case 'pause': {
        const names = [...sim.state.children.map((c) => c.spec.name), 'nobody'];
        const name = names[a.pick % names.length] ?? 'nobody';
        // A real host reports a process's pid as soon as it has spawned it, before anyone could pause it.
        const child = sim.state.children.find((c) => c.spec.name === name);
        if (child !== undefined && child.pid === null && host.live.has(name)) step(sim.started(name, 7_000 + a.pick));
        const before = sim.state.children.find((c) => c.spec.name === name)?.status;
        const { fx, answer } = sim.pause(a.op, name, a.by);
        step(fx);
        const st = sim.state.children.find((c) => c.spec.name === name)?.status;
        const acted = fx.filter((e) => e.type !== 'reply');
        if (answer.kind !== 'done') {
          ensure(acted.length === 0, () => `${a.op} ${name} answered ${answer.kind} but did ${JSON.stringify(acted)}`);
          ensure(JSON.stringify(st) === JSON.stringify(before), () => `${a.op} ${name} refused but changed it`);
        } else {
          const paused = st?.tag === 'running' && st.paused !== null;
          ensure(paused === (a.op === 'pause'), () => `${a.op} ${name} answered done, left ${JSON.stringify(st)}`);
        }
        break;
      }
      case 'reconfigure': {
        // What a reload leaves of the state, but for children an earlier reload removed that have stopped:
        // the next reload drops those, whatever it brings.
        const kept = (st: SupervisorState) =>
          JSON.stringify({
            ...st,
            children: st.children.filter(
              (c) => c.status.tag !== 'stopped' || c.status.why !== 'removed from the config',
            ),
          });
        const before = kept(sim.state);
        const next = reloaded(sim.state.spec, a.change, a.pick, added++);
        const { fx, answer } = sim.reconfigure(next);
        step(fx);
        if (answer.kind !== 'done') {
          ensure(fx.length === 1, () => `a refused reload did ${JSON.stringify(fx)}`);
          break;
        }
        if (a.change === 'same') {
          // Nothing changed, nothing done: only the reload event and the answer.
          ensure(fx.map((e) => e.type).join() === 'event,reply', () => `same spec, effects ${JSON.stringify(fx)}`);
          ensure(kept(sim.state) === before, () => 'the same spec changed the state');
        }
        for (const c of sim.state.children) {
          if (!next.children.some((x) => x.name === c.spec.name)) removed.add(c.spec.name);
        }
        break;
      }
    }
  }
  // Whatever state it is in, a shutdown followed by every running child
  // exiting ends the supervisor exactly once, with no timer left behind.
  step(sim.shutdown('terminate'));
  for (const name of [...host.live]) host.exit(name, exits.killed('SIGTERM'));
  step(sim.advance(1_000_000));
  expect(host.ended).toBe(true);
  expect(sim.state.phase).toBe('done');
  expect(host.live.size).toBe(0);
  expect(sim.pendingTimers()).toEqual([]);
}

describe('supervision state machine (random scenarios)', () => {
  it('never starts a running child, never stops an idle one, ends exactly once', () => {
    fc.assert(
      fc.property(
        supervisorSpec,
        fc.array(action, { maxLength: 60, size: 'max' }),
        fc.constantFrom(0, 0.5, 0.999),
        (spec, actions, random) => play(spec, actions, random),
      ),
      { numRuns: 300 },
    );
  });
});
