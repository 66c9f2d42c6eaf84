/** ManualClock: the clock every unit test of timing relies on. */
import { describe, expect, it, vi } from 'vitest';
import { ManualClock, systemClock } from '../../src/runtime/clock.ts';

describe('ManualClock', () => {
  it('only moves when advanced; wall = origin + now', () => {
    const clock = new ManualClock(1_000_000);
    expect(clock.now()).toBe(0);
    expect(clock.wall()).toBe(1_000_000);
    clock.advance(2_500);
    expect(clock.now()).toBe(2_500);
    expect(clock.wall()).toBe(1_002_500);
  });

  it('fires timers in due order, at their due time, not in the order they were set', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    for (const [name, ms] of [
      ['c', 300],
      ['a', 100],
      ['b', 200],
    ] as const) {
      clock.setTimeout(() => fired.push(`${name}@${clock.now()}`), ms);
    }
    clock.advance(250);
    expect(fired).toEqual(['a@100', 'b@200']);
    expect(clock.now()).toBe(250);
    clock.advance(50);
    expect(fired).toEqual(['a@100', 'b@200', 'c@300']);
  });

  it('fires timers due at the same time in the order they were set', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    for (let i = 0; i < 5; i++) clock.setTimeout(() => fired.push(i), 10);
    clock.advance(10);
    expect(fired).toEqual([0, 1, 2, 3, 4]);
  });

  it('fires a timer set by a timer when it falls due within the same advance', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 40);
    }, 50);
    clock.advance(100);
    expect(fired).toEqual([50, 90]);
    expect(clock.pending()).toBe(0);
  });

  it('does not fire a cleared timer', () => {
    const clock = new ManualClock();
    let fired = false;
    const h = clock.setTimeout(() => {
      fired = true;
    }, 10);
    expect(clock.pending()).toBe(1);
    clock.clearTimeout(h);
    clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pending()).toBe(0);
  });

  it('treats a negative delay as 0', () => {
    const clock = new ManualClock();
    clock.advance(100);
    let at = -1;
    clock.setTimeout(() => {
      at = clock.now();
    }, -50);
    clock.advance(0);
    expect(at).toBe(100);
  });
});

describe('systemClock', () => {
  it('chains waits longer than Node can time (24.8 days) instead of firing at once', () => {
    vi.useFakeTimers();
    try {
      const clock = systemClock();
      const fired = vi.fn();
      const fiftyDays = 50 * 24 * 3600 * 1000;
      clock.setTimeout(fired, fiftyDays);
      vi.advanceTimersByTime(1000);
      expect(fired).not.toHaveBeenCalled();
      vi.advanceTimersByTime(fiftyDays - 2000);
      expect(fired).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1000);
      expect(fired).toHaveBeenCalledOnce();
    } finally {
      vi.useRealTimers();
    }
  });

  it('cancels a chained wait', () => {
    vi.useFakeTimers();
    try {
      const clock = systemClock();
      const fired = vi.fn();
      const h = clock.setTimeout(fired, 2 ** 31 + 5_000);
      vi.advanceTimersByTime(2 ** 31);
      clock.clearTimeout(h);
      vi.advanceTimersByTime(10_000);
      expect(fired).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});
