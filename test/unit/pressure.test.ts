/** System-wide protection: the policy as a pure function of synthetic readings. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PROTECTION,
  INITIAL_PRESSURE,
  type PressureAction,
  type PressureActor,
  type PressureState,
  pressureStep,
} from '../../src/runtime/pressure.ts';

const actor = (name: string, priority: number, running = true): PressureActor => ({
  name,
  priority,
  running,
  paused: false,
});

/** Applies each step's pauses and resumes to the actors, as the monitor would. */
function apply(actors: readonly PressureActor[], actions: readonly PressureAction[]): PressureActor[] {
  return actors.map((a) => {
    let paused = a.paused;
    for (const x of actions) {
      if (x.type === 'pause' && x.actor === a.name) paused = true;
      if (x.type === 'resume' && x.actor === a.name) paused = false;
    }
    return { ...a, paused };
  });
}

/** Runs readings ([mem, cpu]) from INITIAL_PRESSURE; returns the actions of each step. */
function run(start: readonly PressureActor[], readings: readonly (readonly [number, number])[]) {
  let state: PressureState = INITIAL_PRESSURE;
  let actors = [...start];
  const steps: PressureAction[][] = [];
  const states: PressureState[] = [];
  for (const [memPercent, cpuPercent] of readings) {
    const [next, actions] = pressureStep(state, { memPercent, cpuPercent }, actors);
    state = next;
    actors = apply(actors, actions);
    steps.push(actions);
    states.push(state);
  }
  return { steps, states, actors };
}

/** A compact view of one step: "alert:memory:warn", "pause:x", "resume:x", "defer:on". */
const brief = (actions: readonly PressureAction[]) =>
  actions.map((a) =>
    a.type === 'alert'
      ? `alert:${a.resource}:${a.level}`
      : a.type === 'defer_starts'
        ? `defer:${a.on ? 'on' : 'off'}`
        : `${a.type}:${a.actor}`,
  );

const crew = [actor('main', 0), actor('mid', 1), actor('low-a', 5), actor('low-b', 5), actor('loop', 9, false)];

describe('pressureStep: memory', () => {
  it('warns once, pauses least important first one per step, holds, then resumes most important first', () => {
    const { steps, states } = run(crew, [
      [50, 10], // 0 normal
      [86, 10], // 1 warn
      [88, 10], // 2 still warn: no second alert
      [96, 10], // 3 critical
      [96, 10], // 4 still critical: next pause
      [90, 10], // 5 below critical, above resume: hold
      [82, 10], // 6 hold
      [79, 10], // 7 below resume
      [79, 10], // 8
      [79, 10], // 9 nothing left to resume
      [86, 10], // 10 warn again after normal: a new alert
    ]);
    expect(steps.map(brief)).toEqual([
      [],
      ['alert:memory:warn'],
      [],
      ['alert:memory:critical', 'defer:on', 'pause:low-b'],
      ['pause:low-a'],
      [],
      [],
      ['defer:off', 'resume:low-a'],
      ['resume:low-b'],
      [],
      ['alert:memory:warn'],
    ]);
    expect(states.map((s) => s.level)).toEqual([
      'normal',
      'warn',
      'warn',
      'critical',
      'critical',
      'critical',
      'critical',
      'normal',
      'normal',
      'normal',
      'warn',
    ]);
  });

  it('does not repeat the warn alert while hovering around warn above resume', () => {
    const { steps } = run(crew, [
      [86, 0],
      [84, 0],
      [86, 0],
      [81, 0],
      [87, 0],
    ]);
    expect(steps.flat().filter((a) => a.type === 'alert')).toHaveLength(1);
  });

  it('gives human-readable reasons', () => {
    const { steps } = run(crew, [
      [86, 10],
      [96, 10],
      [79, 10],
    ]);
    expect(steps[0]).toEqual([{ type: 'alert', resource: 'memory', level: 'warn', detail: 'memory 86 % ≥ warn 85 %' }]);
    expect(steps[1]).toContainEqual({ type: 'pause', actor: 'low-b', reason: 'memory 96 % ≥ critical 95 %' });
    expect(steps[2]).toContainEqual({
      type: 'resume',
      actor: 'low-b',
      reason: 'memory 79 % < resume 80 %, cpu 10 % < resume 75 %',
    });
  });

  it('never shows a value on the wrong side of its threshold', () => {
    const [, actions] = pressureStep({ ...INITIAL_PRESSURE, level: 'critical' }, { memPercent: 79.97, cpuPercent: 0 }, [
      { ...actor('a', 1), paused: true },
    ]);
    expect(actions).toContainEqual(
      expect.objectContaining({ type: 'resume', reason: expect.stringMatching(/^memory 79.9 % < resume 80 %/) }),
    );
  });

  it('pauses the most important actor only as the last resort, with an extra alert', () => {
    const { steps } = run(
      [actor('main', 0), actor('low', 5)],
      [
        [97, 0],
        [97, 0],
        [97, 0],
      ],
    );
    expect(steps.map(brief)).toEqual([
      ['alert:memory:critical', 'defer:on', 'pause:low'],
      ['alert:memory:critical', 'pause:main'],
      [],
    ]);
    const lastResort = steps[1]?.[0];
    expect(lastResort).toMatchObject({
      type: 'alert',
      detail: expect.stringContaining('main, the most important actor'),
    });
  });

  it('pauses nothing that is not running', () => {
    const { steps } = run(
      [actor('main', 0), actor('idle', 5, false)],
      [
        [97, 0],
        [97, 0],
      ],
    );
    expect(steps.map(brief)).toEqual([
      ['alert:memory:critical', 'defer:on', 'alert:memory:critical', 'pause:main'],
      [],
    ]);
  });
});

describe('pressureStep: cpu', () => {
  it('acts only once a level has held for sustainSamples readings', () => {
    const { steps } = run(crew, [
      [10, 99],
      [10, 99],
      [10, 50], // streak broken
      [10, 99],
      [10, 99],
      [10, 99], // third in a row: critical
    ]);
    expect(steps.map(brief)).toEqual([[], [], [], [], [], ['alert:cpu:critical', 'defer:on', 'pause:low-b']]);
    expect(steps[5]?.[2]).toEqual({ type: 'pause', actor: 'low-b', reason: 'cpu 99 % ≥ critical 98 % for 3 samples' });
  });

  it('warns on sustained high CPU', () => {
    const { steps } = run(crew, [
      [10, 92],
      [10, 92],
      [10, 92],
      [10, 92],
    ]);
    expect(steps.map(brief)).toEqual([[], [], ['alert:cpu:warn'], []]);
  });

  it('never pauses the most important actor for CPU, and resumes below the resume level', () => {
    const readings: [number, number][] = [
      ...Array.from({ length: 8 }, (): [number, number] => [10, 100]),
      [10, 80], // hold
      [10, 70],
      [10, 70],
      [10, 70],
      [10, 70],
    ];
    const { steps } = run(crew, readings);
    expect(steps.map(brief)).toEqual([
      [],
      [],
      ['alert:cpu:critical', 'defer:on', 'pause:low-b'],
      ['pause:low-a'],
      ['pause:mid'],
      [],
      [],
      [],
      [],
      ['defer:off', 'resume:mid'],
      ['resume:low-a'],
      ['resume:low-b'],
      [],
    ]);
  });

  it('takes the most important actor among all actors, running or not', () => {
    const { steps } = run(
      [actor('main', 0, false), actor('b', 3)],
      [
        [10, 100],
        [10, 100],
        [10, 100],
      ],
    );
    expect(steps[2]).toContainEqual(expect.objectContaining({ type: 'pause', actor: 'b' }));
  });

  it('breaks a tie for most important by name', () => {
    const { steps } = run(
      [actor('b', 0), actor('a', 0)],
      [
        [10, 100],
        [10, 100],
        [10, 100],
        [10, 100],
      ],
    );
    expect(steps.flatMap(brief)).toEqual(['alert:cpu:critical', 'defer:on', 'pause:b']);
  });

  it('does not resume while memory is still above its resume level', () => {
    const { steps } = run(crew, [
      [10, 100],
      [10, 100],
      [10, 100],
      [83, 10],
    ]);
    expect(steps[3]).toEqual([]);
  });
});

describe('pressureStep properties', () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f'];
  const actorsArb = fc
    .uniqueArray(fc.constantFrom(...names), { minLength: 0, maxLength: names.length })
    .chain((ns) =>
      fc.tuple(...ns.map((name) => fc.record({ name: fc.constant(name), priority: fc.integer({ min: 0, max: 3 }) }))),
    );
  const step = fc.record({
    memPercent: fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constantFrom(79, 80, 85, 95)),
    cpuPercent: fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constantFrom(75, 90, 98, 100)),
    running: fc.array(fc.boolean(), { minLength: names.length, maxLength: names.length }),
  });

  it('pauses or resumes at most one actor per step, only actors in the right state, the most important only for memory as the last resort', () => {
    fc.assert(
      fc.property(actorsArb, fc.array(step, { maxLength: 40 }), (specs, steps) => {
        let state = INITIAL_PRESSURE;
        let actors: PressureActor[] = specs.map((s) => ({ ...s, running: true, paused: false }));
        const ranked = [...actors].sort((x, y) => x.priority - y.priority || (x.name < y.name ? -1 : 1));
        const top = ranked[0]?.name;
        let deferring = false;
        for (const s of steps) {
          actors = actors.map((a, i) => ({ ...a, running: s.running[i] ?? true }));
          const [next, actions] = pressureStep(state, s, actors);
          const moves = actions.filter((a) => a.type === 'pause' || a.type === 'resume');
          expect(moves.length).toBeLessThanOrEqual(1);
          for (const m of moves) {
            const target = actors.find((a) => a.name === m.actor);
            expect(target).toBeDefined();
            if (m.type === 'pause') {
              expect(target?.running && !target.paused).toBe(true);
              if (m.actor === top) {
                expect(s.memPercent).toBeGreaterThanOrEqual(DEFAULT_PROTECTION.memory.critical);
                expect(actors.filter((a) => a.name !== top && a.running && !a.paused)).toEqual([]);
                expect(actions).toContainEqual(expect.objectContaining({ type: 'alert', resource: 'memory' }));
              }
            } else {
              expect(target?.paused).toBe(true);
            }
          }
          for (const d of actions) {
            if (d.type !== 'defer_starts') continue;
            expect(d.on).toBe(!deferring);
            deferring = d.on;
          }
          expect(deferring).toBe(next.level === 'critical');
          state = next;
          actors = apply(actors, actions);
        }
      }),
    );
  });
});
