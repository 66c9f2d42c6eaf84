/**
 * The ways a source fails, each with the error_type it is recorded under
 * (process_errors), so that "http.429" and "payload.html" can be counted,
 * matched by error patterns and alerted on.
 */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly errorType: string,
    readonly context = '',
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

export class HttpError extends SourceError {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | null,
    url: string,
    body: string,
  ) {
    super(`${url} answered HTTP ${status}`, `http.${status}`, body.slice(0, 500));
    this.name = 'HttpError';
  }
}

/** The body is not what was asked for: an HTML page (a rate-limit or error page), cut short, or not JSON. */
export class BadPayload extends SourceError {
  constructor(
    readonly kind: 'html' | 'truncated' | 'json',
    url: string,
    body: string,
  ) {
    const what = { html: 'an HTML page', truncated: 'a truncated body', json: 'a body that is not JSON' }[kind];
    super(`${url} answered ${what} where JSON was expected`, `payload.${kind}`, body.slice(0, 500));
    this.name = 'BadPayload';
  }
}

export class SourceTimeout extends SourceError {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`, 'timeout');
    this.name = 'SourceTimeout';
  }
}

/** Every source failed; `failures` says how each did. */
export class AllSourcesFailed extends SourceError {
  constructor(readonly failures: readonly { source: string; error: unknown }[]) {
    super(
      `every source failed: ${failures.map((f) => `${f.source} (${errorTypeOf(f.error)})`).join(', ')}`,
      'sources.all_failed',
    );
    this.name = 'AllSourcesFailed';
  }
}

/** The cache has the value, but older than allowed: never passed off as usable. */
export class StaleRefused extends SourceError {
  constructor(
    readonly key: string,
    readonly ageMs: number,
    readonly maxAgeMs: number,
    /** How each source failed before the cache was asked, when it was. */
    readonly failures: readonly { source: string; error: unknown }[] = [],
  ) {
    const h = (ms: number) => `${Number((ms / 3_600_000).toFixed(1))} h`;
    const before =
      failures.length === 0
        ? ''
        : `every source failed (${failures.map((f) => `${f.source}: ${errorTypeOf(f.error)}`).join(', ')}) and `;
    super(`${before}the cached ${key} is ${h(ageMs)} old, beyond the ${h(maxAgeMs)} allowed`, 'cache.too_old');
    this.name = 'StaleRefused';
  }
}

/** The error_type to record for anything thrown by a source. */
export function errorTypeOf(e: unknown): string {
  if (e instanceof SourceError) return e.errorType;
  if (typeof e === 'object' && e !== null && 'isBrokenCircuitError' in e) return 'circuit.open';
  if (typeof e === 'object' && e !== null && 'isTaskCancelledError' in e) return 'timeout';
  if (isNetworkError(e)) return 'network';
  return e instanceof Error ? e.name : 'error';
}

/** An error's message, with the cause a bare "fetch failed" hides (ENOTFOUND stooq.com, ECONNREFUSED 127.0.0.1:80…). */
export function messageOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if ('isBrokenCircuitError' in e) return 'skipped: this source failed too many times in a row (circuit open)';
  const cause = (e as { cause?: unknown }).cause;
  if (typeof cause !== 'object' || cause === null) return e.message;
  const c = cause as { code?: unknown; hostname?: unknown; address?: unknown; port?: unknown; message?: unknown };
  const code = typeof c.code === 'string' ? c.code : '';
  const where =
    typeof c.hostname === 'string'
      ? c.hostname
      : typeof c.address === 'string'
        ? `${c.address}${typeof c.port === 'number' ? `:${c.port}` : ''}`
        : '';
  const detail = [code, where].filter((x) => x !== '').join(' ') || (typeof c.message === 'string' ? c.message : '');
  return detail === '' ? e.message : `${e.message} (${detail})`;
}

/**
 * A connection that failed or broke: "fetch failed" (refused, DNS, reset) or
 * undici's "terminated" (a body cut off mid-stream), each with a UND_ERR_* or
 * errno cause.
 */
export function isNetworkError(e: unknown): boolean {
  if (!(e instanceof TypeError)) return false;
  if (/fetch failed|terminated/i.test(e.message)) return true;
  const code = (e as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' && /^(UND_ERR_|E[A-Z]+$)/.test(code);
}
