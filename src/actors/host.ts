/**
 * What a supervisor needs from whatever runs a child: start it, be told when
 * it started and how it ended, ask it to stop (gracefully or at once).
 */
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
}

/** After a "finish" grace runs out, how long SIGTERM gets before SIGKILL. */
export function killWindowMs(graceMs: number): number {
  return Math.min(graceMs, 5_000);
}
