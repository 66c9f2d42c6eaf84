/** Durations: parseDuration reads what actors.yaml, --runtime and --since accept; formatMs shows them. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DurationUnit, durationForms, formatMs, parseDuration } from '../../src/runtime/duration.ts';

describe('formatMs', () => {
  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [999.4, '999ms'],
    [1_000, '1s'],
    [2_500, '2.5s'],
    [9_950, '9.9s'],
    [10_000, '10s'],
    [12_345, '12s'],
    [59_400, '59s'],
    [60_000, '1m00s'],
    [185_000, '3m05s'],
    [3_599_000, '59m59s'],
    [3_600_000, '1h00m'],
    [7_260_000, '2h01m'],
    [90_000_000, '25h00m'],
    [-1_500, '-1.5s'],
    [-200, '-200ms'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });

  it.each([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN])('%d reads ∞', (ms) => {
    expect(formatMs(ms)).toBe('∞');
  });
});

describe('parseDuration', () => {
  it.each<[number | string, DurationUnit, number]>([
    // a bare number (or numeric string) is in the key's own unit
    [90, 's', 90_000],
    [0.5, 's', 500],
    [0, 's', 0],
    [480, 'm', 28_800_000],
    [0.05, 'm', 3_000],
    ['480', 'm', 28_800_000],
    ['0', 'm', 0],
    ['90', 's', 90_000],
    ['.5', 's', 500],
    [250, 'ms', 250],
    // a unit wins over the key's unit
    ['500ms', 's', 500],
    ['500ms', 'm', 500],
    ['90s', 'm', 90_000],
    ['2m', 's', 120_000],
    ['6h', 'm', 21_600_000],
    ['1d', 's', 86_400_000],
    ['1.5h', 's', 5_400_000],
    ['1.1s', 's', 1_100],
    ['0s', 's', 0],
    // parts, largest unit first
    ['1h30m', 'm', 5_400_000],
    ['1m30s', 's', 90_000],
    ['1d2h3m4s5ms', 's', 93_784_005],
    ['1s500ms', 's', 1_500],
    // spaces around and between parts are tolerated
    [' 1h 30m ', 's', 5_400_000],
    ['90 s', 's', 90_000],
  ])('%j (bare number in %s) is %d ms', (value, unit, ms) => {
    expect(parseDuration(value, unit)).toBe(ms);
  });

  it.each<number | string>([
    '',
    '   ',
    'soon',
    '2x',
    '5 minutes',
    '2min',
    '10M',
    'h',
    '1h30', // a trailing number without a unit
    '30m1h', // smallest unit first
    '1m1m', // the same unit twice
    '1ms1s',
    '-5',
    '-5s',
    '1e3',
    '1,5h',
    '1..5s',
    '5.s',
    'Infinity',
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ])('%j is not a duration', (value) => {
    expect(parseDuration(value, 's')).toBeNull();
  });

  it('a whole number with a unit reads the same as that many of the unit as a bare number', () => {
    const units: DurationUnit[] = ['ms', 's', 'm', 'h', 'd'];
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), fc.constantFrom(...units), (n, unit) => {
        expect(parseDuration(`${n}${unit}`, 's')).toBe(parseDuration(n, unit));
      }),
    );
  });

  it('parts add up: "<h>h<m>m<s>s" is h hours + m minutes + s seconds', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1000 }), fc.nat({ max: 59 }), fc.nat({ max: 59 }), (h, m, s) => {
        expect(parseDuration(`${h}h${m}m${s}s`, 'm')).toBe(((h * 60 + m) * 60 + s) * 1000);
      }),
    );
  });

  it('what formatMs prints for whole seconds and above reads back to the same duration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 3_599 }), (s) => {
        expect(parseDuration(formatMs(s * 1000), 's')).toBe(s * 1000);
      }),
    );
  });

  it('the accepted forms name the bare unit and every unit', () => {
    expect(durationForms('s')).toBe(
      'write a number of seconds, or a number with a unit: 500ms, 90s, 2m, 6h, 1d, 1h30m',
    );
    expect(durationForms('m')).toContain('a number of minutes');
    for (const example of ['500ms', '90s', '2m', '6h', '1d', '1h30m']) {
      expect(parseDuration(example, 's'), example).not.toBeNull();
    }
  });
});
