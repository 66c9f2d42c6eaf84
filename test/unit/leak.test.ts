/** Memory-leak detection: windowing, the line fit and the verdict on synthetic series. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LEAK_SETTINGS,
  detectLeak,
  fitLine,
  type LeakVerdict,
  type MemorySample,
  windowed,
} from '../../src/runtime/leak.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = 5_000_000; // a monotonic clock rarely starts at 0

/** Deterministic uniform noise in [-1, 1) (mulberry32). */
function noise(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return (((x ^ (x >>> 14)) >>> 0) / 2 ** 32) * 2 - 1;
  };
}

/** Samples every `everyMs` over `minutes`, memory given by `mb(ms since the first)`. */
function series(minutes: number, everyMs: number, mb: (ms: number) => number, from = T0): MemorySample[] {
  const out: MemorySample[] = [];
  for (let ms = 0; ms <= minutes * MIN; ms += everyMs) out.push({ t: from + ms, mb: mb(ms) });
  return out;
}

/** 0 → 1 repeatedly over `periodMs`: allocate, then one GC drop. */
const tooth = (ms: number, periodMs: number, phase = 0): number => (ms / periodMs + phase) % 1;

function expectFinite(v: LeakVerdict): void {
  for (const x of [v.slopeMbPerHour, v.r2, v.samples, v.growthPercent, v.msToLimit ?? 0]) {
    expect(Number.isFinite(x)).toBe(true);
  }
  expect(v.r2).toBeGreaterThanOrEqual(0);
  expect(v.r2).toBeLessThanOrEqual(1);
}

describe('windowed', () => {
  it('keeps samples no older than windowMs before the newest, boundary included', () => {
    const s = series(10, MIN, (ms) => ms / MIN);
    expect(windowed(s, 3 * MIN).map((x) => x.mb)).toEqual([7, 8, 9, 10]);
  });

  it('finds the newest sample in any order and keeps the input order', () => {
    const s = [
      { t: 9_000, mb: 1 },
      { t: 1_000, mb: 2 },
      { t: 10_000, mb: 3 },
      { t: 5_000, mb: 4 },
    ];
    expect(windowed(s, 5_000)).toEqual([s[0], s[2], s[3]]);
  });

  it('drops samples with a non-finite time or value', () => {
    const s = [
      { t: Number.NaN, mb: 1 },
      { t: Number.POSITIVE_INFINITY, mb: 1 },
      { t: 1, mb: Number.NaN },
      { t: 2, mb: 5 },
    ];
    expect(windowed(s, MIN)).toEqual([{ t: 2, mb: 5 }]);
  });

  it('returns a new array and leaves the input alone', () => {
    const s = series(1, 10_000, () => 100);
    const copy = [...s];
    const w = windowed(s, HOUR);
    expect(w).not.toBe(s);
    expect(w).toEqual(s);
    expect(s).toEqual(copy);
  });

  it.each([0, -5, Number.NaN])('a window of %d keeps only samples at the newest time', (ms) => {
    const s = [
      { t: 1, mb: 1 },
      { t: 2, mb: 2 },
      { t: 2, mb: 3 },
    ];
    expect(windowed(s, ms)).toEqual([s[1], s[2]]);
  });

  it('is empty for no samples', () => {
    expect(windowed([], MIN)).toEqual([]);
  });
});

describe('fitLine', () => {
  it('recovers an exact line: slope per hour, intercept at t = 0, R² 1', () => {
    const f = fitLine(series(30, MIN, () => 0, 0).map((s) => ({ t: s.t, mb: 100 + (24 * s.t) / HOUR })));
    expect(f.slopeMbPerHour).toBeCloseTo(24, 9);
    expect(f.intercept).toBeCloseTo(100, 9);
    expect(f.r2).toBeCloseTo(1, 12);
  });

  it.each([
    { name: 'no samples', s: [], intercept: 0 },
    { name: 'one sample', s: [{ t: 5, mb: 300 }], intercept: 300 },
    {
      name: 'identical times',
      s: [
        { t: 5, mb: 100 },
        { t: 5, mb: 300 },
      ],
      intercept: 200,
    },
    { name: 'constant memory', s: series(30, MIN, () => 0.1 * 3), intercept: 0.1 * 3 },
  ])('$name: slope 0, R² 0', ({ s, intercept }) => {
    const f = fitLine(s);
    expect(f).toEqual({ slopeMbPerHour: 0, intercept: expect.closeTo(intercept, 12), r2: 0 });
  });
});

describe('detectLeak on synthetic series', () => {
  const rnd = noise(42);
  const cases: { name: string; s: MemorySample[]; leak: boolean }[] = [
    {
      name: 'steady growth 60 MB/h with ±3 MB noise',
      s: series(30, 30_000, (ms) => 200 + (60 * ms) / HOUR + 3 * rnd()),
      leak: true,
    },
    {
      name: 'sawtooth 200→260 MB every 5 min, no trend',
      s: series(30, 15_000, (ms) => 200 + 60 * tooth(ms, 5 * MIN)),
      leak: false,
    },
    {
      name: 'sawtooth 200→260 MB every 7 min, phase 0.3, no trend',
      s: series(30, 15_000, (ms) => 200 + 60 * tooth(ms, 7 * MIN, 0.3)),
      leak: false,
    },
    {
      name: 'sawtooth 200→230 MB every 3 min on a 200 MB/h trend',
      s: series(30, 15_000, (ms) => 200 + (200 * ms) / HOUR + 30 * tooth(ms, 3 * MIN)),
      leak: true,
    },
    { name: 'flat 300 MB with ±5 MB noise', s: series(30, 30_000, () => 300 + 5 * rnd()), leak: false },
    { name: 'decreasing 80 MB/h', s: series(30, 30_000, (ms) => 400 - (80 * ms) / HOUR + rnd()), leak: false },
    { name: '5 MB/h on 20 MB: +12 % but under 10 MB/h', s: series(30, MIN, (ms) => 20 + (5 * ms) / HOUR), leak: false },
    { name: '40 MB/h on 2 GB: under 10 %', s: series(30, MIN, (ms) => 2_000 + (40 * ms) / HOUR), leak: false },
    { name: '19 samples of steep growth', s: series(18, MIN, (ms) => 100 + (300 * ms) / HOUR), leak: false },
    { name: '20 samples of steep growth', s: series(19, MIN, (ms) => 100 + (300 * ms) / HOUR), leak: true },
    {
      name: 'growth 90 min ago, flat for the last 30 min',
      s: series(120, MIN, (ms) => (ms < 90 * MIN ? 100 + (200 * ms) / HOUR : 400) + rnd()),
      leak: false,
    },
    {
      name: 'flat for 90 min, growing 100 MB/h in the last 30',
      s: series(120, MIN, (ms) => (ms < 90 * MIN ? 300 : 300 + (100 * (ms - 90 * MIN)) / HOUR) + rnd()),
      leak: true,
    },
  ];

  it.each(cases)('$name → leak $leak', ({ s, leak }) => {
    const v = detectLeak(s, 512);
    expectFinite(v);
    expect(v.leak, v.summary).toBe(leak);
    expect(v.summary.startsWith(leak ? 'memory grows' : 'no leak')).toBe(true);
  });

  it('steady growth: slope within 5 % of the truth and the time to the limit follows', () => {
    const r = noise(7);
    const v = detectLeak(
      series(30, 30_000, (ms) => 200 + (60 * ms) / HOUR + 3 * r()),
      512,
    );
    expect(v.leak).toBe(true);
    expect(v.samples).toBe(61);
    expect(Math.abs(v.slopeMbPerHour - 60) / 60).toBeLessThan(0.05);
    expect(v.r2).toBeGreaterThan(0.9);
    expect(v.growthPercent).toBeCloseTo(15, 0);
    // at the newest sample the true line is at 230 MB: 282 MB to go at 60 MB/h
    expect(Math.abs((v.msToLimit ?? 0) - (282 / 60) * HOUR) / ((282 / 60) * HOUR)).toBeLessThan(0.05);
  });

  it('exact growth reads as one line', () => {
    const v = detectLeak(
      series(30, MIN, (ms) => 200 + (60 * ms) / HOUR),
      512,
    );
    expect(v).toMatchObject({ leak: true, samples: 31, msToLimit: expect.closeTo(4.7 * HOUR, 3) });
    expect(v.summary).toBe('memory grows 60 MB/h (R² 1.00, +15 % over 30m00s); limit 512 MB in ~4h42m');
  });

  it('sawtooth with no trend: a slope, but R² far below the bar', () => {
    const v = detectLeak(
      series(30, 15_000, (ms) => 200 + 60 * tooth(ms, 5 * MIN)),
      null,
    );
    expect(v.slopeMbPerHour).toBeGreaterThan(0);
    expect(v.r2).toBeLessThan(0.1);
    expect(v.summary).toMatch(/^no leak, fit too loose \(R² < 0.8\)/);
  });

  it('only the window counts: the slope is that of the last 30 minutes', () => {
    const s = series(120, MIN, (ms) => (ms < 90 * MIN ? 300 - (50 * ms) / HOUR : 225 + (100 * (ms - 90 * MIN)) / HOUR));
    const v = detectLeak(s, null);
    expect(v.samples).toBe(31);
    expect(v.slopeMbPerHour).toBeCloseTo(100, 6);
    expect(detectLeak(s.slice(-31), null)).toEqual(v);
  });

  it.each([
    { limit: null, ms: null },
    { limit: 512, ms: 4.7 * HOUR },
    { limit: 230, ms: 0 },
    { limit: 100, ms: 0 },
    { limit: Number.NaN, ms: null },
  ])('limit $limit MB: msToLimit $ms', ({ limit, ms }) => {
    const v = detectLeak(
      series(30, MIN, (ms) => 200 + (60 * ms) / HOUR),
      limit,
    );
    if (ms === null) expect(v.msToLimit).toBeNull();
    else expect(v.msToLimit).toBeCloseTo(ms, 3);
  });

  it('already over the limit', () => {
    const v = detectLeak(
      series(30, MIN, (ms) => 200 + (60 * ms) / HOUR),
      100,
    );
    expect(v.summary).toMatch(/; limit 100 MB already reached$/);
  });

  it('no time to the limit while memory falls', () => {
    expect(
      detectLeak(
        series(30, MIN, (ms) => 400 - (80 * ms) / HOUR),
        512,
      ).msToLimit,
    ).toBeNull();
  });

  it.each([
    { name: 'no samples', s: [] },
    { name: 'one sample', s: [{ t: 1, mb: 100 }] },
    { name: 'identical times', s: Array.from({ length: 30 }, (_, i) => ({ t: 7, mb: 100 + i })) },
    { name: 'constant memory', s: series(30, MIN, () => 256) },
  ])('degenerate input ($name): zero fit, no leak', ({ s }) => {
    const v = detectLeak(s, 512);
    expect(v).toMatchObject({ leak: false, slopeMbPerHour: 0, r2: 0, growthPercent: 0, msToLimit: null });
    expectFinite(v);
  });

  it('too few samples says so', () => {
    expect(
      detectLeak(
        series(4, MIN, (ms) => ms),
        null,
      ).summary,
    ).toBe('no leak: 5 samples in the window, 20 needed');
  });

  it('settings are honoured', () => {
    const s = series(30, MIN, (ms) => 2_000 + (40 * ms) / HOUR);
    expect(detectLeak(s, null).leak).toBe(false);
    expect(detectLeak(s, null, { ...DEFAULT_LEAK_SETTINGS, minGrowthPercent: 0.5 }).leak).toBe(true);
    expect(detectLeak(s, null, { ...DEFAULT_LEAK_SETTINGS, minSamples: 40 }).leak).toBe(false);
    expect(detectLeak(s, null, { ...DEFAULT_LEAK_SETTINGS, minGrowthPercent: 0.5, minMbPerHour: 50 }).leak).toBe(false);
  });
});

describe('detectLeak properties', () => {
  const settings = fc.record({
    windowMs: fc.integer({ min: MIN, max: 2 * HOUR }),
    minSamples: fc.integer({ min: 2, max: 40 }),
    minR2: fc.double({ min: 0, max: 1, noNaN: true }),
    minMbPerHour: fc.double({ min: 0, max: 100, noNaN: true }),
    minGrowthPercent: fc.double({ min: 0, max: 50, noNaN: true }),
  });

  /** Increasing times, at least 1 s apart, starting anywhere up to epoch-sized. */
  const times = (min: number, max: number) =>
    fc
      .tuple(
        fc.integer({ min: 0, max: 2e12 }),
        fc.array(fc.integer({ min: 1_000, max: 5 * MIN }), { minLength: min, maxLength: max }),
      )
      .map(([start, gaps]) => {
        let t = start;
        return [start, ...gaps.map((g) => (t += g))];
      });

  /** Linear trend plus noise: leaks and non-leaks both turn up. */
  const trend = fc
    .record({
      ts: times(1, 80),
      base: fc.double({ min: 1, max: 4_000, noNaN: true }),
      slope: fc.double({ min: -500, max: 500, noNaN: true }),
      amp: fc.double({ min: 0, max: 50, noNaN: true }),
      seed: fc.integer(),
    })
    .map(({ ts, base, slope, amp, seed }) => {
      const r = noise(seed);
      const t0 = ts[0] ?? 0;
      return ts.map((t) => ({ t, mb: base + (slope * (t - t0)) / HOUR + amp * r() }));
    });

  it('every field is finite, whatever the input', () => {
    const anyNumber = fc.oneof(fc.double(), fc.integer({ min: -1e6, max: 1e6 }));
    const sample = fc.record({ t: anyNumber, mb: anyNumber });
    const limit = fc.option(fc.double(), { nil: null });
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 40 }), limit, (s, l) => {
        const v = detectLeak(s, l);
        expectFinite(v);
        expect(typeof v.summary).toBe('string');
      }),
      { numRuns: 500 },
    );
    fc.assert(fc.property(trend, limit, settings, (s, l, st) => expectFinite(detectLeak(s, l, st))));
  });

  it('a leak always clears every bar', () => {
    let leaks = 0;
    fc.assert(
      fc.property(trend, settings, (s, st) => {
        const v = detectLeak(s, null, st);
        if (!v.leak) return;
        leaks++;
        expect(v.slopeMbPerHour).toBeGreaterThan(0);
        expect(v.r2).toBeGreaterThanOrEqual(st.minR2);
        expect(v.slopeMbPerHour).toBeGreaterThanOrEqual(st.minMbPerHour);
        expect(v.growthPercent).toBeGreaterThanOrEqual(st.minGrowthPercent);
        expect(v.samples).toBeGreaterThanOrEqual(st.minSamples);
      }),
      { numRuns: 300 },
    );
    expect(leaks).toBeGreaterThan(0); // the property was not vacuous
  });

  it('a constant offset in memory or in time leaves slope and R² alone', () => {
    fc.assert(
      fc.property(
        trend,
        fc.double({ min: -1e4, max: 1e4, noNaN: true }),
        fc.integer({ min: -1e12, max: 1e12 }),
        (s, dmb, dt) => {
          // Near-constant memory has (numerically) no variance: R² is meaningless there.
          const mbs = s.map((x) => x.mb);
          fc.pre(Math.max(...mbs) - Math.min(...mbs) > 1e-6 * Math.max(1, ...mbs.map(Math.abs)));
          const a = fitLine(s);
          const b = fitLine(s.map((x) => ({ t: x.t + dt, mb: x.mb + dmb })));
          expect(Math.abs(b.slopeMbPerHour - a.slopeMbPerHour)).toBeLessThanOrEqual(
            1e-6 * (1 + Math.abs(a.slopeMbPerHour)),
          );
          expect(Math.abs(b.r2 - a.r2)).toBeLessThanOrEqual(1e-6);
        },
      ),
    );
  });

  it('scaling time does not turn a series with zero slope into a leak', () => {
    // a palindrome over evenly spaced times has slope 0 by symmetry
    const palindrome = fc
      .array(fc.double({ min: 1, max: 4_000, noNaN: true }), { minLength: 1, maxLength: 30 })
      .map((half) => [...half, ...half.slice(0, -1).reverse()]);
    const open = { ...DEFAULT_LEAK_SETTINGS, windowMs: Number.POSITIVE_INFINITY };
    fc.assert(
      fc.property(
        palindrome,
        fc.integer({ min: 1_000, max: 10 * MIN }),
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        (mbs, step, k) => {
          const at = (scale: number) => mbs.map((mb, i) => ({ t: T0 + i * step * scale, mb }));
          const before = detectLeak(at(1), null, open);
          const after = detectLeak(at(k), null, open);
          expect(before.leak).toBe(false);
          expect(after.leak).toBe(false);
          expect(Math.abs(after.slopeMbPerHour)).toBeLessThan(1e-6 * (1 + Math.max(...mbs)) * (1 + 1 / k));
        },
      ),
    );
  });

  it('exactly linear data: slope exact and R² 1', () => {
    const nonzero = fc.oneof(
      fc.double({ min: -1_000, max: -0.01, noNaN: true }),
      fc.double({ min: 0.01, max: 1_000, noNaN: true }),
    );
    fc.assert(
      fc.property(times(2, 60), fc.double({ min: 50, max: 5_000, noNaN: true }), nonzero, (ts, base, slope) => {
        const t0 = ts[0] ?? 0;
        const f = fitLine(ts.map((t) => ({ t, mb: base + (slope * (t - t0)) / HOUR })));
        expect(Math.abs(f.slopeMbPerHour - slope)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(slope)));
        expect(f.r2).toBeCloseTo(1, 6);
      }),
    );
  });

  it('a steady sawtooth with no trend is never a leak', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN, max: 20 * MIN }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.double({ min: 5, max: 500, noNaN: true }),
        fc.double({ min: 50, max: 4_000, noNaN: true }),
        fc.integer({ min: 5_000, max: 60_000 }),
        (period, phase, height, base, every) => {
          const v = detectLeak(
            series(60, every, (ms) => base + height * tooth(ms, period, phase)),
            null,
          );
          expect(v.leak, v.summary).toBe(false);
        },
      ),
    );
  });

  it('growth well above every bar with modest noise is found, its slope within 5 %', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 50, max: 1_000, noNaN: true }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.integer(),
        (base, perHour, seed) => {
          // grows by 30–120 % of its size per hour, noise ±1 % of the size
          const slope = (base * perHour * 30) / 100;
          const r = noise(seed);
          const v = detectLeak(
            series(30, 30_000, (ms) => base + (slope * ms) / HOUR + 0.01 * base * r()),
            null,
          );
          expect(v.leak, v.summary).toBe(true);
          expect(Math.abs(v.slopeMbPerHour - slope) / slope).toBeLessThan(0.1); // random noise: the 5 % bound is pinned by the seeded example above;
        },
      ),
    );
  });
});
