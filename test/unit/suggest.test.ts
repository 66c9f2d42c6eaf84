/** "Did you mean" for misspelt config keys and values. */
import { describe, expect, it } from 'vitest';
import { suggest } from '../../src/config/suggest.ts';

const keys = [
  'restart',
  'restart_delay',
  'max_restarts',
  'max_restart_delay',
  'reset_after',
  'requires_loop',
  'priority',
];

describe('suggest', () => {
  it.each([
    ['restrat', 'restart'],
    ['max_restart', 'max_restarts'],
    ['requires_lop', 'requires_loop'],
    ['PRIORITY', 'priority'],
    ['priorty', 'priority'],
    ['reset_afer', 'reset_after'],
  ])('%s -> %s', (word, expected) => {
    expect(suggest(word, keys)).toBe(expected);
  });

  it.each(['command', 'x', 'timeout', ''])('%s has no close match', (word) => {
    expect(suggest(word, keys)).toBeNull();
  });

  it('allows one edit for short words, a third of the length for long ones', () => {
    expect(suggest('ab', ['ax'])).toBe('ax');
    expect(suggest('ab', ['xy'])).toBeNull();
    expect(suggest('strategyy_x', ['strategy'])).toBe('strategy');
    expect(suggest('strat', ['strategy'])).toBeNull();
  });

  it('prefers the first of equally close words', () => {
    expect(suggest('cat', ['bat', 'hat'])).toBe('bat');
  });

  it('returns null when nothing is known', () => {
    expect(suggest('restart', [])).toBeNull();
  });
});
