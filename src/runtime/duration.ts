/**
 * Durations, read and shown the same way everywhere: actors.yaml's duration
 * keys, `run --runtime` and `logs --since` all parse with parseDuration, and
 * events, tables and check's summary print with formatMs.
 */

/** The unit a bare number is in: each key keeps its own (loop_interval seconds, --runtime minutes). */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const UNIT_MS: Readonly<Record<DurationUnit, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const UNIT_NAME: Readonly<Record<DurationUnit, string>> = {
  ms: 'milliseconds',
  s: 'seconds',
  m: 'minutes',
  h: 'hours',
  d: 'days',
};

/** Largest first: "1h30m" is accepted, "30m1h" and "1m1m" are not. */
const ORDER: readonly DurationUnit[] = ['d', 'h', 'm', 's', 'ms'];

const NUMBER = String.raw`(?:\d+(?:\.\d+)?|\.\d+)`;
const BARE = new RegExp(`^${NUMBER}$`);
// "ms" before "m", so that "500ms" is not read as 500 minutes followed by garbage.
const PART = new RegExp(`(${NUMBER})\\s*(ms|d|h|m|s)\\s*`, 'y');

/**
 * Milliseconds, or null when `value` is not a duration: a number in `unit`,
 * a numeric string in `unit`, or one or more number+unit parts from the
 * largest unit down ("500ms", "90s", "2m", "6h", "1d", "1h30m", "1.5h").
 * Negative, infinite and empty values are not durations.
 */
export function parseDuration(value: number | string, unit: DurationUnit): number | null {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? toMs(value * UNIT_MS[unit]) : null;
  }
  const text = value.trim();
  if (BARE.test(text)) return toMs(Number(text) * UNIT_MS[unit]);
  if (text === '') return null;
  let total = 0;
  let smallestSoFar = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (m === null) return null;
    const u = m[2] as DurationUnit;
    const rank = ORDER.indexOf(u);
    if (rank <= smallestSoFar) return null;
    smallestSoFar = rank;
    total += Number(m[1]) * UNIT_MS[u];
  }
  return Number.isFinite(total) ? toMs(total) : null;
}

/** What a duration may look like, for the fix part of an error line: "a number of seconds, or ...". */
export function durationForms(unit: DurationUnit): string {
  return `write a number of ${UNIT_NAME[unit]}, or a number with a unit: 500ms, 90s, 2m, 6h, 1d, 1h30m`;
}

/** Float noise ("1.1s" is 1100.0000000000002 ms) trimmed; sub-millisecond precision is kept. */
function toMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Human-readable duration for events and tables: 850ms, 2.5s, 3m05s, 2h01m. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  const neg = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  if (a < 1000) return `${neg}${Math.round(a)}ms`;
  if (a < 59_500) {
    const s = a / 1000;
    return `${neg}${s < 10 ? s.toFixed(1).replace(/\.0$/, '') : Math.round(s)}s`;
  }
  const totalS = Math.round(a / 1000);
  if (totalS < 3600) return `${neg}${Math.floor(totalS / 60)}m${String(totalS % 60).padStart(2, '0')}s`;
  const totalM = Math.round(totalS / 60);
  return `${neg}${Math.floor(totalM / 60)}h${String(totalM % 60).padStart(2, '0')}m`;
}
