import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpError, SourceTimeout } from '../../src/scripts/collect/errors.ts';
import { Resilient } from '../../src/scripts/collect/resilience.ts';

/** A source that fails `failures` times with `error`, then answers; it notes when each call came (fake time). */
function flaky(failures: number, error: () => unknown = () => new HttpError(503, null, 'u', '')) {
  const calls: number[] = [];
  const start = Date.now();
  return {
    calls,
    fn: async () => {
      calls.push(Date.now() - start);
      if (calls.length <= failures) throw error();
      return 'ok';
    },
  };
}

describe('Resilient, on fake timers: when each try happens', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const policy = (o: ConstructorParameters<typeof Resilient>[0] = {}) =>
    new Resilient({ initialDelayMs: 1000, maxDelayMs: 60_000, jitter: 0, timeoutMs: 600_000, breakAfter: 100, ...o });

  it('waits 1 s, 2 s, 4 s between tries, then succeeds', async () => {
    const s = flaky(3);
    const p = policy({ tries: 4 }).run(s.fn);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(p).resolves.toBe('ok');
    expect(s.calls).toEqual([0, 1000, 3000, 7000]);
  });

  it('caps each wait at maxDelayMs and stops after `tries`, with the last error', async () => {
    const s = flaky(10);
    const p = policy({ tries: 5, maxDelayMs: 3000 }).run(s.fn);
    const seen = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await seen).toBeInstanceOf(HttpError);
    expect(s.calls).toEqual([0, 1000, 3000, 6000, 9000]);
  });

  it('stops retrying once maxElapsedMs has gone by', async () => {
    const s = flaky(10);
    const seen = policy({ tries: 10, maxElapsedMs: 2500 })
      .run(s.fn)
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await seen).toBeInstanceOf(HttpError);
    expect(s.calls).toEqual([0, 1000, 3000]);
  });

  it('waits what the server’s Retry-After says', async () => {
    const s = flaky(1, () => new HttpError(429, 5000, 'u', ''));
    const p = policy({ tries: 3 }).run(s.fn);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(p).resolves.toBe('ok');
    expect(s.calls).toEqual([0, 5000]);
  });

  it('shortens a wait by at most the jitter fraction', async () => {
    const s = flaky(1);
    const p = policy({ tries: 2, jitter: 0.5, random: () => 1 }).run(s.fn);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(p).resolves.toBe('ok');
    expect(s.calls).toEqual([0, 500]);
  });

  it('does not retry what the caller did not name as transient', async () => {
    const s = flaky(1, () => new HttpError(404, null, 'u', ''));
    const seen = policy({ tries: 5 })
      .run(s.fn)
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await seen).toBeInstanceOf(HttpError);
    expect(s.calls).toEqual([0]);
  });

  it('times each try out after timeoutMs, and a timeout is retried', async () => {
    const calls: number[] = [];
    const p = policy({ tries: 2, timeoutMs: 2000 })
      .run(async (signal) => {
        calls.push(Date.now() - 1_000_000);
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      })
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await p).toBeInstanceOf(SourceTimeout);
    expect(calls).toEqual([0, 3000]); // 2 s timeout, 1 s backoff, the second try
  });

  it('a stop request ends the wait at once, with its reason, and no further try', async () => {
    const s = flaky(10);
    const stop = new AbortController();
    const seen = policy({ tries: 5 })
      .run(s.fn, stop.signal)
      .catch((e: unknown) => e);
    let settled = false;
    void seen.then(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(1500); // tries at 0 and 1000; now waiting 2 s
    expect(settled).toBe(false);
    stop.abort(new Error('stopping'));
    await vi.advanceTimersByTimeAsync(0); // no time passes: only what is already due runs
    expect(settled).toBe(true);
    expect(await seen).toMatchObject({ message: 'stopping' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(s.calls).toEqual([0, 1000]);
  });

  it('opens the circuit only on failures that say the source is unwell', async () => {
    const p = policy({ tries: 1, breakAfter: 2 });
    const missing = flaky(10, () => new HttpError(404, null, 'u', ''));
    for (let i = 0; i < 4; i++) await p.run(missing.fn).catch(() => {});
    expect(missing.calls).toHaveLength(4); // four 404s in a row: each call still reaches the source
    const down = flaky(10);
    for (let i = 0; i < 4; i++) await p.run(down.fn).catch(() => {});
    expect(down.calls).toHaveLength(2); // two 503s in a row open it
  });
});
