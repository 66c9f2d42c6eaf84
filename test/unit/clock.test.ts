/** ManualClock: the clock every unit test of timing relies on. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/runtime/clock.ts';

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
