/**
 * Retries, timeouts and a circuit breaker for one source, on cockatiel:
 * each try has its own timeout; a failure the caller names as transient is
 * retried after an exponential backoff with jitter (or the server's
 * Retry-After), up to `tries` tries and `maxElapsedMs` in all; after
 * `breakAfter` failures in a row the circuit opens and calls fail at once
 * (circuit.open) until `halfOpenAfterMs` has passed.
 */
import {
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  DelegateBackoff,
  handleWhen,
  type IRetryBackoffContext,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { BadPayload, HttpError, isNetworkError, SourceTimeout } from './errors.ts';

export interface ResilienceOptions {
  readonly tries: number;
  readonly timeoutMs: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Fraction (0..1) by which a delay may be shortened at random. */
  readonly jitter: number;
  /** Stop retrying once this much time has gone by. */
  readonly maxElapsedMs: number;
  readonly breakAfter: number;
  readonly halfOpenAfterMs: number;
  /** Which failures are worth another try. */
  readonly retryOn: (e: unknown) => boolean;
  readonly random: () => number;
}

/** cockatiel marks its timeout error with a property, not a class name. */
const isCancelled = (e: unknown) => typeof e === 'object' && e !== null && 'isTaskCancelledError' in e;

/** Worth another try: timeouts, 429 and 5xx, HTML or cut-short bodies, network errors. Not: 4xx, bad JSON. */
export function transient(e: unknown): boolean {
  if (e instanceof HttpError) return e.status === 429 || e.status >= 500;
  if (e instanceof BadPayload) return e.kind !== 'json';
  if (e instanceof SourceTimeout) return true;
  if (isCancelled(e)) return true;
  return isNetworkError(e);
}

export const DEFAULTS: ResilienceOptions = {
  tries: 3,
  timeoutMs: 10_000,
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  jitter: 0.2,
  maxElapsedMs: 60_000,
  breakAfter: 5,
  halfOpenAfterMs: 60_000,
  retryOn: transient,
  random: Math.random,
};

/** The wait before try number `attempt + 1`: the server's Retry-After, else exponential with jitter, capped. */
export function retryDelay(attempt: number, error: unknown, o: ResilienceOptions): number {
  if (error instanceof HttpError && error.retryAfterMs !== null) return Math.min(error.retryAfterMs, o.maxDelayMs);
  const base = Math.min(o.initialDelayMs * 2 ** Math.max(0, attempt - 1), o.maxDelayMs);
  return Math.round(base * (1 - o.jitter * o.random()));
}

export class Resilient {
  readonly options: ResilienceOptions;
  private readonly breaker: CircuitBreakerPolicy;

  constructor(options: Partial<ResilienceOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    // Only failures that say the source is unwell count towards opening the circuit:
    // a 404 or "no data" for one symbol says nothing about the others.
    this.breaker = circuitBreaker(handleWhen(this.options.retryOn), {
      halfOpenAfter: this.options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(this.options.breakAfter),
    });
  }

  /**
   * Runs `fn` with the policy; `fn` gets a signal that aborts when its try
   * times out or when `signal` (the job being stopped) aborts.
   */
  async run<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const o = this.options;
    const started = Date.now();
    const stopped = () => signal?.aborted === true;
    const again = handleWhen((e) => !stopped() && o.retryOn(e) && Date.now() - started < o.maxElapsedMs);
    const retries = retry(again, {
      maxAttempts: Math.max(0, o.tries - 1),
      backoff: new DelegateBackoff((ctx: IRetryBackoffContext<unknown>) =>
        retryDelay(ctx.attempt, 'error' in ctx.result ? ctx.result.error : undefined, o),
      ),
    });
    const perTry = timeout(o.timeoutMs, TimeoutStrategy.Aggressive);
    const attempt = wrap(retries, this.breaker, perTry).execute((ctx) => {
      // A stop that came during a backoff wait: no further try.
      signal?.throwIfAborted();
      return fn(ctx.signal);
    }, signal);
    try {
      return await (signal === undefined ? attempt : untilAborted(attempt, signal));
    } catch (e) {
      if (stopped()) throw signal?.reason;
      if (isCancelled(e)) throw new SourceTimeout(o.timeoutMs);
      throw e;
    }
  }
}

/** `p`, or the signal's reason as soon as it aborts (cockatiel's backoff wait does not listen to it). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => {}); // it ends by itself, without another try
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Seconds or an HTTP date, as in a Retry-After header, to milliseconds. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const s = Number(header);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const when = Date.parse(header);
  return Number.isNaN(when) ? null : Math.max(0, when - now);
}
