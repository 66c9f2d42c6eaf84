/**
 * Memory-leak detection for one actor: a least-squares line through its memory
 * samples over a sliding window (default the last 30 minutes, at least 20
 * samples). A leak is reported only when all of these hold:
 *
 * - the slope is positive;
 * - R² ≥ 0.8. A steady sawtooth (allocate, then garbage-collect) has a slope
 *   in any finite window, but the line explains little of it: with k whole
 *   teeth in the window R² is at most about 1/k² (0.25 for two, 0.03 for six)
 *   and lower in between; only a tooth nearly as long as the window looks like
 *   a leak, and inside one window it is one. The price: growth under a
 *   sawtooth is seen only once its rise over the window is about twice the
 *   tooth height;
 * - growth ≥ 10 MB/hour, so that noise on a small process does not count;
 * - growth ≥ 10 % over the window, relative to the fitted value at the oldest
 *   sample in it: a steady drift of a few MB/hour in a 2 GB process is not
 *   material. 10 % in 30 minutes doubles the process in about five hours.
 *   Slower growth is never reported as a leak (the window slides, the
 *   percentage does not grow), but `msToLimit` is given whenever memory
 *   grows, so a caller with a limit can still act on it.
 *
 * Growth is measured over the span actually observed: right after a start,
 * 20 samples may cover far less than the window, and a fast warm-up can then
 * pass all four bars. Pure: no I/O, no clock; never returns NaN or Infinity.
 */
import { formatMs } from './duration.ts';

export interface MemorySample {
  /** ms, monotonic */
  readonly t: number;
  readonly mb: number;
}

export interface LeakSettings {
  readonly windowMs: number;
  readonly minSamples: number;
  readonly minR2: number;
  readonly minMbPerHour: number;
  /** growth over the window, in % of the fitted value at its start */
  readonly minGrowthPercent: number;
}

export const DEFAULT_LEAK_SETTINGS: LeakSettings = Object.freeze({
  windowMs: 30 * 60_000,
  minSamples: 20,
  minR2: 0.8,
  minMbPerHour: 10,
  minGrowthPercent: 10,
});

export interface LeakVerdict {
  readonly leak: boolean;
  readonly slopeMbPerHour: number;
  readonly r2: number;
  readonly samples: number;
  readonly growthPercent: number;
  /** ms until `limitMb` is reached at this slope; null without a limit or when not growing */
  readonly msToLimit: number | null;
  /** one human-readable line, e.g. "memory grows 42 MB/h (R² 0.97, +35 % over 30m00s); limit 512 MB in ~6h10m" */
  readonly summary: string;
}

const MS_PER_HOUR = 3_600_000;

/** A verdict must never carry NaN or Infinity (e.g. after overflow on absurd input). */
const finite = (x: number): number => (Number.isFinite(x) ? x : 0);

/**
 * Keeps only samples inside the window ending at the newest sample (inclusive
 * at both ends), in their input order. Samples with a non-finite time or value
 * belong to no window and are dropped. Pure: returns a new array.
 */
export function windowed(samples: readonly MemorySample[], windowMs: number): MemorySample[] {
  const valid = samples.filter((s) => Number.isFinite(s.t) && Number.isFinite(s.mb));
  const newest = valid.reduce((max, s) => Math.max(max, s.t), Number.NEGATIVE_INFINITY);
  const from = newest - (Number.isNaN(windowMs) ? 0 : Math.max(0, windowMs));
  return valid.filter((s) => s.t >= from);
}

/**
 * Least-squares fit of mb against t (hours); slope in MB/hour, intercept at
 * t = 0, r2 (0 when variance is 0). Sums are taken relative to the first
 * sample, so constant memory or identical times give exactly zero variance
 * rather than rounding noise, and epoch-sized times lose no precision.
 */
export function fitLine(samples: readonly MemorySample[]): { slopeMbPerHour: number; intercept: number; r2: number } {
  const first = samples[0];
  if (first === undefined) return { slopeMbPerHour: 0, intercept: 0, r2: 0 };
  const n = samples.length;
  let sx = 0;
  let sy = 0;
  for (const s of samples) {
    sx += (s.t - first.t) / MS_PER_HOUR;
    sy += s.mb - first.mb;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const s of samples) {
    const dx = (s.t - first.t) / MS_PER_HOUR - mx;
    const dy = s.mb - first.mb - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const flat = !(sxx > 0 && syy > 0);
  const slope = flat ? 0 : finite(sxy / sxx);
  const r2 = flat ? 0 : Math.min(1, Math.max(0, finite((sxy * sxy) / (sxx * syy))));
  const intercept = finite(first.mb + my - slope * (first.t / MS_PER_HOUR + mx));
  return { slopeMbPerHour: slope, intercept, r2 };
}

/** 42, 3.5, -0.2: whole numbers from 10 on. */
const num = (x: number): string => (Math.abs(x) >= 10 ? String(Math.round(x)) : x.toFixed(1));

/**
 * Verdict on the samples inside the window ending at the newest one. `limitMb`
 * (the actor's memory limit, if any) only adds the projected time to reach it,
 * measured from the fitted value at the newest sample; 0 when already over.
 */
export function detectLeak(
  samples: readonly MemorySample[],
  limitMb: number | null,
  settings: LeakSettings = DEFAULT_LEAK_SETTINGS,
): LeakVerdict {
  const win = windowed(samples, settings.windowMs);
  const { slopeMbPerHour: slope, intercept, r2 } = fitLine(win);
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const s of win) {
    start = Math.min(start, s.t);
    end = Math.max(end, s.t);
  }
  const spanMs = win.length > 0 ? finite(end - start) : 0;
  // Below 1 MB the percentage would explode; a process is never that small.
  const fittedStart = Math.max(1, finite(intercept + (slope * start) / MS_PER_HOUR));
  const growthPercent = finite((((slope * spanMs) / MS_PER_HOUR) * 100) / fittedStart);

  let msToLimit: number | null = null;
  if (limitMb !== null && Number.isFinite(limitMb) && slope > 0) {
    const fittedNow = intercept + (slope * end) / MS_PER_HOUR;
    const ms = Math.max(0, ((limitMb - fittedNow) / slope) * MS_PER_HOUR);
    msToLimit = Number.isFinite(ms) ? ms : null;
  }

  const tooFew = win.length < settings.minSamples;
  const loose = r2 < settings.minR2;
  const small = slope < settings.minMbPerHour || growthPercent < settings.minGrowthPercent;
  const leak = !tooFew && slope > 0 && !loose && !small;
  const fitText = `${num(slope)} MB/h (R² ${r2.toFixed(2)}, ${growthPercent >= 0 ? '+' : ''}${num(growthPercent)} % over ${formatMs(spanMs)})`;
  let summary: string;
  if (leak) {
    summary = `memory grows ${fitText}`;
    if (msToLimit !== null)
      summary += `; limit ${num(limitMb ?? 0)} MB ${msToLimit === 0 ? 'already reached' : `in ~${formatMs(msToLimit)}`}`;
  } else if (tooFew) {
    summary = `no leak: ${win.length} samples in the window, ${settings.minSamples} needed`;
  } else {
    const why = slope <= 0 ? 'not growing' : loose ? `fit too loose (R² < ${settings.minR2})` : 'growth too small';
    summary = `no leak, ${why}: ${fitText}`;
  }
  return { leak, slopeMbPerHour: slope, r2, samples: win.length, growthPercent, msToLimit, summary };
}
