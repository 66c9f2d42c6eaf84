/** formatMs: the durations shown in events and tables. */
import { describe, expect, it } from 'vitest';
import { formatMs } from '../../src/runtime/duration.ts';

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
