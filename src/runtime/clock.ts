/**
 * All of herder's timing goes through a Clock: a monotonic `now` for every
 * deadline and delay, a wall clock only for stored timestamps. Unit tests use
 * ManualClock so that backoff and intensity windows run in microseconds.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch (for records only). */
  wall(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's timers overflow past 2^31-1 ms (24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function systemClock(): Clock {
  let next = 1;
  const live = new Map<number, NodeJS.Timeout>();
  const arm = (id: number, fn: () => void, ms: number) => {
    const step = Math.min(Math.max(0, ms), MAX_TIMER_MS);
    const t = setTimeout(() => {
      if (ms > MAX_TIMER_MS) {
        arm(id, fn, ms - MAX_TIMER_MS);
        return;
      }
      live.delete(id);
      fn();
    }, step);
    live.set(id, t);
  };
  return {
    now: () => performance.now(),
    wall: () => Date.now(),
    setTimeout(fn, ms) {
      const id = next++;
      arm(id, fn, ms);
      return { id };
    },
    clearTimeout(handle) {
      const t = live.get(handle.id);
      if (t !== undefined) {
        clearTimeout(t);
        live.delete(handle.id);
      }
    },
  };
}

/** A clock that only moves when told to; timers fire in due order. */
export class ManualClock implements Clock {
  private t = 0;
  private readonly wallOrigin: number;
  private next = 1;
  private readonly timers = new Map<number, { due: number; fn: () => void }>();

  constructor(wallOrigin = Date.UTC(2026, 0, 1)) {
    this.wallOrigin = wallOrigin;
  }

  now(): number {
    return this.t;
  }

  wall(): number {
    return this.wallOrigin + this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { due: this.t + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }

  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      let nextId = -1;
      let nextDue = Number.POSITIVE_INFINITY;
      for (const [id, timer] of this.timers) {
        if (timer.due <= target && timer.due < nextDue) {
          nextDue = timer.due;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const timer = this.timers.get(nextId);
      this.timers.delete(nextId);
      this.t = Math.max(this.t, nextDue);
      timer?.fn();
    }
    this.t = target;
  }
}
