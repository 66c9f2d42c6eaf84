/** The health score: component curves, the minimum, and the grace rule. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  belowThreshold,
  HEALTH_COMPONENTS,
  type HealthComponent,
  type HealthInputs,
  healthScore,
} from '../../src/runtime/health.ts';

/** Healthy on every count: each test changes only what it is about. */
const base: HealthInputs = {
  rssMb: 100,
  memLimitMb: 1_000,
  machineMemMb: 16_000,
  cpuPercent: 10,
  cpuLimitPercent: 200,
  cores: 4,
  recentFailures: 0,
  recentErrors: 0,
  sinceActivityMs: 1_000,
  stallTimeoutMs: 300_000,
  selfReported: null,
};

const component = (c: HealthComponent, over: Partial<HealthInputs>) => healthScore({ ...base, ...over }).components[c];

describe('healthScore components', () => {
  it.each([
    [{ rssMb: 0 }, 1],
    [{ rssMb: 700 }, 1],
    [{ rssMb: 850 }, 0.5],
    [{ rssMb: 1_000 }, 0],
    [{ rssMb: 1_500 }, 0],
    [{ rssMb: null }, 1],
    [{ memLimitMb: null, rssMb: 11_200 }, 1],
    [{ memLimitMb: null, rssMb: 13_600 }, 0.5],
    [{ memLimitMb: 0, rssMb: 13_600 }, 0.5],
  ] as const)('memory %o → %f', (over, want) => {
    expect(component('memory', over)).toBeCloseTo(want, 10);
  });

  it.each([
    [{ cpuPercent: 0 }, 1],
    [{ cpuPercent: 160 }, 1],
    [{ cpuPercent: 180 }, 0.5],
    [{ cpuPercent: 200 }, 0],
    [{ cpuPercent: 390 }, 0],
    [{ cpuPercent: null }, 1],
    [{ cpuLimitPercent: null, cpuPercent: 320 }, 1],
    [{ cpuLimitPercent: null, cpuPercent: 360 }, 0.5],
    [{ cpuLimitPercent: null, cpuPercent: 400 }, 0],
  ] as const)('cpu %o → %f', (over, want) => {
    expect(component('cpu', over)).toBeCloseTo(want, 10);
  });

  it.each([
    [0, 1],
    [1, 0.5],
    [3, 0.25],
    [9, 0.1],
  ])('failures %i → %f', (n, want) => {
    expect(component('failures', { recentFailures: n })).toBeCloseTo(want, 10);
  });

  it.each([
    [0, 1],
    [5, 0.5],
    [15, 0.25],
    [45, 0.1],
  ])('errors %i → %f', (n, want) => {
    expect(component('errors', { recentErrors: n })).toBeCloseTo(want, 10);
  });

  it.each([
    [{ sinceActivityMs: 0 }, 1],
    [{ sinceActivityMs: 150_000 }, 1],
    [{ sinceActivityMs: 225_000 }, 0.5],
    [{ sinceActivityMs: 300_000 }, 0],
    [{ sinceActivityMs: 3_000_000 }, 0],
    [{ sinceActivityMs: null }, 1],
    [{ sinceActivityMs: 3_000_000, stallTimeoutMs: null }, 1],
    [{ sinceActivityMs: 3_000_000, stallTimeoutMs: 0 }, 1],
  ] as const)('stall %o → %f', (over, want) => {
    expect(component('stall', over)).toBeCloseTo(want, 10);
  });

  it.each([
    [null, 1],
    [1, 1],
    [0.3, 0.3],
    [0, 0],
    [1.5, 1],
    [-1, 0],
  ])('self %s → %f', (selfReported, want) => {
    expect(component('self', { selfReported })).toBeCloseTo(want, 10);
  });
});

describe('healthScore combination', () => {
  it('is 1 and all components 1 when everything is healthy', () => {
    const h = healthScore(base);
    expect(h.score).toBe(1);
    for (const c of HEALTH_COMPONENTS) expect(h.components[c]).toBe(1);
  });

  it('counts every missing input as healthy', () => {
    const h = healthScore({
      ...base,
      rssMb: null,
      memLimitMb: null,
      cpuPercent: null,
      cpuLimitPercent: null,
      sinceActivityMs: null,
      stallTimeoutMs: null,
      selfReported: null,
    });
    expect(h.score).toBe(1);
    expect(h.weakest).toBe('memory');
    expect(h.detail).toBe('memory 1.00: memory not known');
  });

  it('is the minimum: one sick component is not averaged away', () => {
    const h = healthScore({ ...base, sinceActivityMs: 280_000, recentFailures: 1 });
    expect(h.components.stall).toBeCloseTo(2 / 15, 10);
    expect(h.components.failures).toBe(0.5);
    expect(h.score).toBe(h.components.stall);
    expect(h.weakest).toBe('stall');
  });

  it('names the first component in the declared order on a tie', () => {
    const h = healthScore({ ...base, recentFailures: 1, recentErrors: 5, selfReported: 0.5 });
    expect(h.score).toBe(0.5);
    expect(h.weakest).toBe('failures');
  });

  it.each<[Partial<HealthInputs>, HealthComponent, string]>([
    [
      { sinceActivityMs: 310_000 },
      'stall',
      'stall 0.00: no output, heartbeat or progress for 5m10s (stall_timeout 5m00s)',
    ],
    [{ rssMb: 900 }, 'memory', 'memory 0.33: rss 900 MB of 1000 MB limit (90 %)'],
    [{ memLimitMb: null, rssMb: 15_000 }, 'memory', 'memory 0.21: rss 15000 MB of 16000 MB machine memory (94 %)'],
    [{ cpuPercent: 190 }, 'cpu', 'cpu 0.25: cpu 190 % of 200 % limit (95 %)'],
    [{ cpuLimitPercent: null, cpuPercent: 380 }, 'cpu', 'cpu 0.25: cpu 380 % of 400 % for 4 cores (95 %)'],
    [{ recentFailures: 1 }, 'failures', 'failures 0.50: 1 failure in the recent window'],
    [{ recentFailures: 4 }, 'failures', 'failures 0.20: 4 failures in the recent window'],
    [{ recentErrors: 20 }, 'errors', 'errors 0.20: 20 errors in the recent window'],
    [{ selfReported: 0.1 }, 'self', 'self 0.10: the job reports health 0.10'],
  ])('detail for %o names %s', (over, weakest, detail) => {
    const h = healthScore({ ...base, ...over });
    expect(h.weakest).toBe(weakest);
    expect(h.detail).toBe(detail);
  });
});

describe('healthScore properties', () => {
  const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
  const num = (max: number) => fc.double({ min: 0, max, noNaN: true });
  const inputs: fc.Arbitrary<HealthInputs> = fc.record({
    rssMb: maybe(num(100_000)),
    memLimitMb: maybe(num(50_000)),
    machineMemMb: num(100_000),
    cpuPercent: maybe(num(2_000)),
    cpuLimitPercent: maybe(num(1_000)),
    cores: fc.integer({ min: 0, max: 64 }),
    recentFailures: fc.integer({ min: 0, max: 1_000 }),
    recentErrors: fc.integer({ min: 0, max: 100_000 }),
    sinceActivityMs: maybe(num(10_000_000)),
    stallTimeoutMs: maybe(num(3_600_000)),
    selfReported: maybe(fc.double({ min: -2, max: 2, noNaN: true })),
  });

  it('keeps the score and every component in [0, 1], the score the minimum, weakest the minimum', () => {
    fc.assert(
      fc.property(inputs, (x) => {
        const h = healthScore(x);
        expect(h.score).toBeGreaterThanOrEqual(0);
        expect(h.score).toBeLessThanOrEqual(1);
        for (const c of HEALTH_COMPONENTS) {
          expect(h.components[c]).toBeGreaterThanOrEqual(0);
          expect(h.components[c]).toBeLessThanOrEqual(1);
          expect(h.score).toBeLessThanOrEqual(h.components[c]);
        }
        expect(h.components[h.weakest]).toBe(h.score);
        expect(h.detail.startsWith(`${h.weakest} ${h.score.toFixed(2)}: `)).toBe(true);
      }),
    );
  });

  const worse: [string, (x: HealthInputs, d: number) => HealthInputs][] = [
    ['failures', (x, d) => ({ ...x, recentFailures: x.recentFailures + Math.round(d) })],
    ['errors', (x, d) => ({ ...x, recentErrors: x.recentErrors + Math.round(d) })],
    ['stall', (x, d) => ({ ...x, sinceActivityMs: x.sinceActivityMs === null ? null : x.sinceActivityMs + d * 1_000 })],
    ['memory', (x, d) => ({ ...x, rssMb: x.rssMb === null ? null : x.rssMb + d })],
    ['cpu', (x, d) => ({ ...x, cpuPercent: x.cpuPercent === null ? null : x.cpuPercent + d })],
  ];
  it.each(worse)('never rises with more %s', (_name, more) => {
    fc.assert(
      fc.property(inputs, num(1_000), (x, d) => {
        expect(healthScore(more(x, d)).score).toBeLessThanOrEqual(healthScore(x).score);
      }),
    );
  });
});

describe('belowThreshold', () => {
  it('acts exactly once, on the grace-th sample in a row, and keeps counting', () => {
    let count = 0;
    const acts: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const r = belowThreshold(count, 0.2, 0.5, 3);
      count = r.count;
      acts.push(r.act);
    }
    expect(acts).toEqual([false, false, true, false, false, false]);
    expect(count).toBe(6);
  });

  it('resets on a sample at or above the threshold', () => {
    expect(belowThreshold(2, 0.5, 0.5, 3)).toEqual({ count: 0, act: false });
    expect(belowThreshold(2, 0.9, 0.5, 3)).toEqual({ count: 0, act: false });
    expect(belowThreshold(0, 0.4, 0.5, 3)).toEqual({ count: 1, act: false });
  });

  it('acts again after the caller resets', () => {
    expect(belowThreshold(2, 0.1, 0.5, 3).act).toBe(true);
    expect(belowThreshold(0, 0.1, 0.5, 1).act).toBe(true);
  });

  it('is off without a threshold', () => {
    expect(belowThreshold(5, 0, null, 1)).toEqual({ count: 0, act: false });
  });

  it.each([0, -3])('treats grace %i as 1', (grace) => {
    expect(belowThreshold(0, 0.1, 0.5, grace)).toEqual({ count: 1, act: true });
  });

  it('acts at most once in any run of samples without a reset', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 50 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 10 }),
        (scores, threshold, grace) => {
          let count = 0;
          let run = 0;
          for (const s of scores) {
            const r = belowThreshold(count, s, threshold, grace);
            run = s < threshold ? run + 1 : 0;
            expect(r.count).toBe(run);
            expect(r.act).toBe(run === grace);
            count = r.count;
          }
        },
      ),
    );
  });
});
