/**
 * What a supervisor needs from whatever runs a child: start it, be told when
 * it started and how it ended, ask it to stop (gracefully or at once).
 */
import type { Clock, TimerHandle } from '../runtime/clock.ts';
import type { Exit, StopMode } from '../runtime/supervision.ts';

export interface ChildEvents {
  started(pid: number | null, pidStart: string | null): void;
  exited(exit: Exit): void;
}

export interface RunningChild {
  /**
   * terminate: SIGTERM (or abort) now, SIGKILL (or terminate) after graceMs.
   * finish: let it end on its own within graceMs, then as terminate with a short kill window.
   */
  stop(mode: StopMode, graceMs: number): void;
  /** Ends it at once (SIGKILL to the whole group, or terminates the thread). */
  kill(): void;
  /** Freezes / thaws it (SIGSTOP / SIGCONT to its group); false when it cannot be paused (a thread). */
  pause?(): boolean;
  resume?(): boolean;
}

/** After a "finish" grace runs out, how long SIGTERM gets before SIGKILL. */
export function killWindowMs(graceMs: number): number {
  return Math.min(graceMs, 5_000);
}

/**
 * The stop sequence both hosts share. terminate: `soft` now (SIGTERM, abort),
 * `hard` after the grace (SIGKILL, terminate). finish: nothing for the grace,
 * then the same with the short kill window.
 */
export function planStop(
  clock: Clock,
  timers: TimerHandle[],
  mode: StopMode,
  graceMs: number,
  soft: () => void,
  hard: () => void,
): void {
  const terminate = (ms: number) => {
    soft();
    timers.push(clock.setTimeout(hard, ms));
  };
  if (mode === 'terminate') terminate(graceMs);
  else timers.push(clock.setTimeout(() => terminate(killWindowMs(graceMs)), graceMs));
}
