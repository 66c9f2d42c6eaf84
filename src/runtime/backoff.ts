import type { BackoffSpec } from './spec.ts';

/**
 * Delay before restart number `failures` (1 = the first failure in a row):
 * initial × 2^(failures-1), capped at max, then shortened by up to `jitter`
 * of itself so that actors failing together do not restart in lockstep.
 * `random` is in [0, 1).
 */
export function backoffDelay(spec: BackoffSpec, failures: number, random: number): number {
  if (failures <= 0 || spec.initialMs <= 0) return 0;
  const exp = Math.min(failures - 1, 52);
  const base = Math.min(spec.initialMs * 2 ** exp, spec.maxMs);
  return Math.round(base * (1 - spec.jitter * random));
}

/**
 * Restart-intensity window as in OTP: restart times more than the period ago
 * are dropped; the supervisor gives up once more than `intensity` remain.
 */
export function recordRestart(
  times: readonly number[],
  now: number,
  periodMs: number,
  intensity: number,
): { times: number[]; exceeded: boolean } {
  const kept = times.filter((t) => now - t <= periodMs);
  kept.push(now);
  return { times: kept, exceeded: intensity > 0 && kept.length > intensity };
}
