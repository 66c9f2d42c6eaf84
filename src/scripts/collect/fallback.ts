/**
 * A chain of sources tried in order, and a cache behind them. The answer says
 * which source served it and whether it is stale: a cached value is flagged
 * stale with its age, and past the maximum age the cache refuses rather than
 * pass old data off as fresh. Each source failure is reported with the
 * source's name and error type; reporting never makes the job fail.
 */
import type { Cache } from './cache.ts';
import { AllSourcesFailed, errorTypeOf, messageOf, StaleRefused } from './errors.ts';
import type { Resilient } from './resilience.ts';

export interface Source<T> {
  readonly name: string;
  readonly policy: Resilient;
  fetch(signal: AbortSignal): Promise<T>;
}

export interface Served<T> {
  readonly value: T;
  readonly source: string;
  readonly stale: boolean;
  /** Age of the value; 0 for a fresh one. */
  readonly ageMs: number;
  readonly fetchedAt: number;
}

/** Where failures go: herder's record under herder (health channel or ctx), stderr outside it. */
export type Reporter = (errorType: string, message: string, context: string) => void;

/** `signal` is the job being stopped: then the chain ends at once, with the signal's reason, and reports nothing. */
export async function firstOf<T>(
  sources: readonly Source<T>[],
  report: Reporter,
  signal?: AbortSignal,
): Promise<Served<T>> {
  const failures: { source: string; error: unknown }[] = [];
  for (const s of sources) {
    signal?.throwIfAborted();
    try {
      const value = await s.policy.run((trySignal) => s.fetch(trySignal), signal);
      return { value, source: s.name, stale: false, ageMs: 0, fetchedAt: Date.now() };
    } catch (error) {
      signal?.throwIfAborted();
      failures.push({ source: s.name, error });
      const context =
        error instanceof Error && 'context' in error ? String((error as { context: unknown }).context) : '';
      try {
        report(`${s.name}.${errorTypeOf(error)}`, messageOf(error), context);
      } catch {
        // reporting must never make the job fail
      }
    }
  }
  throw new AllSourcesFailed(failures);
}

/**
 * The sources first; what they serve is cached under `key`. When every source
 * fails, the cached value is served, flagged stale with its age, if it is not
 * older than `maxAgeMs`; otherwise the failure stands (StaleRefused when too old).
 */
export async function withCache<T>(
  cache: Cache,
  key: string,
  maxAgeMs: number,
  sources: readonly Source<T>[],
  report: Reporter,
  signal?: AbortSignal,
): Promise<Served<T>> {
  try {
    const fresh = await firstOf(sources, report, signal);
    cache.put(key, fresh.value, fresh.source, fresh.fetchedAt);
    return fresh;
  } catch (e) {
    if (!(e instanceof AllSourcesFailed)) throw e;
    let hit: ReturnType<typeof cache.get<T>>;
    try {
      hit = cache.get<T>(key, maxAgeMs);
    } catch (old) {
      // Too old: say so, with how each source failed.
      if (old instanceof StaleRefused) throw new StaleRefused(key, old.ageMs, old.maxAgeMs, e.failures);
      throw old;
    }
    if (hit === null) throw e;
    return {
      value: hit.value,
      source: `cache(${hit.source})`,
      stale: true,
      ageMs: hit.ageMs,
      fetchedAt: hit.fetchedAt,
    };
  }
}
