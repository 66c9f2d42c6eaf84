import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cache } from '../../src/scripts/collect/cache.ts';
import {
  AllSourcesFailed,
  BadPayload,
  errorTypeOf,
  HttpError,
  SourceTimeout,
  StaleRefused,
} from '../../src/scripts/collect/errors.ts';
import { firstOf, type Source, withCache } from '../../src/scripts/collect/fallback.ts';
import { fetchJson } from '../../src/scripts/collect/fetch-json.ts';
import { DEFAULTS, Resilient, retryDelay } from '../../src/scripts/collect/resilience.ts';

const hits = new Map<string, number>();
let base = '';
const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  const n = (hits.get(url) ?? 0) + 1;
  hits.set(url, n);
  const json = (status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };
  if (url.startsWith('/flaky')) return n <= 2 ? json(500, '{"error": "boom"}') : json(200, '{"price": 101.5}');
  if (url === '/rate') return n === 1 ? json(429, '{}', { 'retry-after': '0' }) : json(200, '{"price": 99}');
  if (url === '/slow') return; // never answers
  if (url === '/html') {
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end('<html><body>Too many requests</body></html>');
  }
  if (url === '/truncated') return json(200, '{"chart": {"result": [1, 2');
  if (url === '/notjson') return json(200, 'hello');
  if (url === '/missing') return json(404, '{}');
  if (url.startsWith('/down')) return json(503, 'maintenance');
  return json(200, '{"price": 1}');
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

// A generous timeout: on a loaded machine a try that times out may never reach the server, which would skew the hit counts.
const quick = (o: Partial<typeof DEFAULTS> = {}) =>
  new Resilient({ initialDelayMs: 10, maxDelayMs: 50, timeoutMs: 10_000, jitter: 0, ...o });
const source = (name: string, url: string, policy = quick()): Source<unknown> => ({
  name,
  policy,
  fetch: (signal) => fetchJson(`${base}${url}`, signal),
});

describe('the collection toolkit against a local server', () => {
  it('retries 500s and succeeds; honours 429 Retry-After; does not retry a 404', async () => {
    expect(await quick().run((s) => fetchJson(`${base}/flaky-a`, s))).toEqual({ price: 101.5 });
    expect(hits.get('/flaky-a')).toBe(3);
    expect(await quick().run((s) => fetchJson(`${base}/rate`, s))).toEqual({ price: 99 });
    await expect(quick().run((s) => fetchJson(`${base}/missing`, s))).rejects.toMatchObject({ errorType: 'http.404' });
    expect(hits.get('/missing')).toBe(1);
  });

  it('names what came back: HTML where JSON was expected, a truncated body, not JSON, a timeout', async () => {
    const one = quick({ tries: 1 });
    await expect(one.run((s) => fetchJson(`${base}/html`, s))).rejects.toBeInstanceOf(BadPayload);
    await expect(one.run((s) => fetchJson(`${base}/html`, s))).rejects.toMatchObject({ errorType: 'payload.html' });
    await expect(one.run((s) => fetchJson(`${base}/truncated`, s))).rejects.toMatchObject({
      errorType: 'payload.truncated',
    });
    await expect(one.run((s) => fetchJson(`${base}/notjson`, s))).rejects.toMatchObject({ errorType: 'payload.json' });
    await expect(quick({ tries: 2, timeoutMs: 100 }).run((s) => fetchJson(`${base}/slow`, s))).rejects.toBeInstanceOf(
      SourceTimeout,
    );
  });

  it('opens the circuit after failures in a row, and then fails without calling the source', async () => {
    const policy = quick({ tries: 1, breakAfter: 2, halfOpenAfterMs: 60_000 });
    for (let i = 0; i < 2; i++)
      await expect(policy.run((s) => fetchJson(`${base}/down-b`, s))).rejects.toBeInstanceOf(HttpError);
    const before = hits.get('/down-b');
    const open = await policy.run((s) => fetchJson(`${base}/down-b`, s)).catch((e: unknown) => e);
    expect(errorTypeOf(open)).toBe('circuit.open');
    expect(hits.get('/down-b')).toBe(before);
  });

  it('falls back along the chain, reporting each failure with its source and type', async () => {
    const reports: string[] = [];
    const served = await firstOf([source('yahoo', '/html', quick({ tries: 1 })), source('stooq', '/ok')], (t, m) =>
      reports.push(`${t}: ${m}`),
    );
    expect(served).toMatchObject({ value: { price: 1 }, source: 'stooq', stale: false });
    expect(reports).toEqual([`yahoo.payload.html: ${base}/html answered an HTML page where JSON was expected`]);
  });

  it('serves the cache, flagged stale with its age, when every source is down; refuses it past the max age; invents nothing', async () => {
    const cache = new Cache(path.join(mkdtempSync(path.join(tmpdir(), 'herder-cache-')), 'cache.db'));
    const sources = [source('yahoo', '/down-c', quick({ tries: 1 })), source('stooq', '/down-d', quick({ tries: 1 }))];
    const report = () => {};
    // empty cache, every source down: the failure stands
    await expect(withCache(cache, 'AAPL', 60_000, sources, report)).rejects.toBeInstanceOf(AllSourcesFailed);
    cache.put('AAPL', { price: 190 }, 'stooq', Date.now() - 5_000);
    const stale = await withCache(cache, 'AAPL', 60_000, sources, report);
    expect(stale).toMatchObject({ value: { price: 190 }, source: 'cache(stooq)', stale: true });
    expect(stale.ageMs).toBeGreaterThanOrEqual(5_000);
    await expect(withCache(cache, 'AAPL', 1_000, sources, report)).rejects.toBeInstanceOf(StaleRefused);
    cache.close();
  });
});

describe('retryDelay', () => {
  const o = { ...DEFAULTS, initialDelayMs: 100, maxDelayMs: 1_000, jitter: 0.2, random: () => 0.5 };
  it('doubles per attempt with jitter, capped; the server’s Retry-After wins, capped too', () => {
    expect([1, 2, 3, 4, 5].map((a) => retryDelay(a, new Error('x'), { ...o, jitter: 0 }))).toEqual([
      100, 200, 400, 800, 1000,
    ]);
    expect(retryDelay(2, new Error('x'), o)).toBe(180);
    expect(retryDelay(1, new HttpError(429, 700, 'u', ''), o)).toBe(700);
    expect(retryDelay(1, new HttpError(429, 60_000, 'u', ''), o)).toBe(1_000);
  });
});
