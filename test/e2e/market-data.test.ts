import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sqlite from 'node-sqlite3-wasm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadCollectorConfig } from '../../src/scripts/market/config.ts';
import { CollectionFailed, type CollectorIO, collect } from '../../src/scripts/market-data-collector.ts';
import { query, ROOT, runCli, startRun, waitForActor, waitUntil } from '../helpers/cli.ts';
import { collectorConfig, type MarketServer, startMarketServer, yahooChart } from '../helpers/market-server.ts';

const run = promisify(execFile);
const COLLECTOR_TS = path.join(ROOT, 'src', 'scripts', 'market-data-collector.ts');
const COLLECTOR_PY = path.join(ROOT, 'src', 'scripts', 'market_data_collector.py');
const TSX_CLI = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

let server: MarketServer;
beforeAll(async () => {
  server = await startMarketServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.yahoo = 'ok';
  server.stooq = 'ok';
});

/** A folder with the collector's config pointed at the local server. */
function workdir(extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herder-market-'));
  writeFileSync(path.join(dir, 'market.json'), collectorConfig(server, extra));
  return dir;
}

interface Captured extends CollectorIO {
  readonly lines: string[];
  readonly reports: { type: string; message: string; context: string }[];
}

function capture(): Captured {
  const lines: string[] = [];
  const reports: Captured['reports'] = [];
  return {
    lines,
    reports,
    info: (l) => lines.push(l),
    warn: (l) => lines.push(l),
    report: (type, message, context) => reports.push({ type, message, context }),
    heartbeat: () => {},
    progress: () => {},
  };
}

function bars(dir: string, file = 'market.db') {
  return query(path.join(dir, file), 'SELECT ticker, ts, close, source, stale FROM bars ORDER BY ticker, ts') as {
    ticker: string;
    ts: string;
    close: number;
    source: string;
    stale: number;
  }[];
}

describe('the market-data collector', () => {
  it('takes bars from Yahoo through yahoo-finance2 and stores each bar once however often it runs', async () => {
    const dir = workdir();
    const c = loadCollectorConfig(path.join(dir, 'market.json'));
    const first = await collect(c, capture());
    expect(first.map((o) => [o.ticker, o.source, o.added])).toEqual([
      ['AAPL', 'yahoo', 3],
      ['MSFT', 'yahoo', 3],
    ]);
    const again = await collect(c, capture());
    expect(again.map((o) => o.added + o.updated)).toEqual([0, 0]);
    const rows = bars(dir);
    expect(rows).toHaveLength(6);
    expect(rows.filter((r) => r.ticker === 'AAPL').map((r) => r.ts)).toEqual(server.days);
    expect(rows.every((r) => r.source === 'yahoo' && r.stale === 0)).toBe(true);
  });

  it('falls back to Stooq CSV when Yahoo answers HTML or 429, recording yahoo-finance2’s own errors', async () => {
    const dir = workdir();
    const c = loadCollectorConfig(path.join(dir, 'market.json'));
    server.yahoo = 'html';
    const io = capture();
    const out = await collect(c, io);
    expect(out.map((o) => o.source)).toEqual(['stooq', 'stooq']);
    const json = io.reports.filter((r) => r.type === 'yahoo.json');
    expect(json).toHaveLength(2);
    // The message is yahoo-finance2's own: the error came from the library, not from a mock of it.
    expect(json[0]?.message).toMatch(/^AAPL: Response\.ok where we expect JSON/);
    expect(json[0]?.context).toContain('<!DOCTYPE html>');
    expect(bars(dir).map((r) => [r.ticker, r.source, r.close])).toEqual([
      ['AAPL', 'stooq', 100 + 'A'.charCodeAt(0) + 7],
      ['MSFT', 'stooq', 100 + 'M'.charCodeAt(0) + 7],
    ]);

    server.yahoo = '429';
    const before = server.hits.yahoo;
    const io2 = capture();
    await collect(c, io2);
    expect(io2.reports.map((r) => r.type)).toEqual(['yahoo.http.429', 'yahoo.http.429']);
    expect(server.hits.yahoo - before).toBe(4); // two tries per ticker: a 429 is worth another try
  });

  it('with every source down serves the cache, flagged stale with its age, and never overwrites a row with it', async () => {
    const dir = workdir();
    const c = loadCollectorConfig(path.join(dir, 'market.json'));
    await collect(c, capture());
    const db = new sqlite.Database(path.join(dir, 'market.db'));
    db.run("DELETE FROM bars WHERE ticker = 'AAPL'");
    db.close();

    server.yahoo = '500';
    server.stooq = 'drop';
    const io = capture();
    const out = await collect(c, io);
    expect(out.map((o) => [o.ticker, o.source, o.stale, o.added])).toEqual([
      ['AAPL', 'cache(yahoo)', true, 3],
      ['MSFT', 'cache(yahoo)', true, 0],
    ]);
    expect(io.reports.map((r) => r.type)).toEqual([
      'yahoo.http.500',
      'stooq.network',
      'cache.stale',
      'yahoo.http.500',
      'stooq.network',
      'cache.stale',
    ]);
    expect(io.lines).toContain('AAPL: 3 bars from cache(yahoo) (stale, 0.0 h old): 3 new, 0 updated');
    const rows = bars(dir);
    expect(rows.filter((r) => r.ticker === 'AAPL').every((r) => r.stale === 1 && r.source === 'cache(yahoo)')).toBe(
      true,
    );
    expect(rows.filter((r) => r.ticker === 'MSFT').every((r) => r.stale === 0 && r.source === 'yahoo')).toBe(true);

    // Fresh data replaces the stale rows.
    server.yahoo = 'ok';
    await collect(c, capture());
    expect(bars(dir).every((r) => r.stale === 0 && r.source === 'yahoo')).toBe(true);
  });

  it('refuses a cache older than max_stale_hours', async () => {
    const dir = workdir({ max_stale_hours: 1 });
    const c = loadCollectorConfig(path.join(dir, 'market.json'));
    await collect(c, capture());
    const db = new sqlite.Database(path.join(dir, 'market.db'));
    db.run('UPDATE cache SET fetched_at = fetched_at - 7200');
    db.close();
    server.yahoo = '500';
    server.stooq = '500';
    const e = await collect(c, capture()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CollectionFailed);
    expect((e as Error).message).toBe(
      '2 of 2 tickers got nothing: AAPL (yahoo: http.500, stooq: http.500, cache: 2.0 h old, beyond the 1 h allowed); ' +
        'MSFT (yahoo: http.500, stooq: http.500, cache: 2.0 h old, beyond the 1 h allowed)',
    );
  });

  it('with an empty cache and every source down fails, names each ticker and why, and invents nothing', async () => {
    const dir = workdir();
    const c = loadCollectorConfig(path.join(dir, 'market.json'));
    server.yahoo = 'html';
    server.stooq = '500';
    const io = capture();
    const e = await collect(c, io).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CollectionFailed);
    expect((e as Error).message).toBe(
      '2 of 2 tickers got nothing: AAPL (yahoo: json, stooq: http.500, cache: empty); MSFT (yahoo: json, stooq: http.500, cache: empty)',
    );
    expect(io.reports.map((r) => r.type)).toEqual(['yahoo.json', 'stooq.http.500', 'yahoo.json', 'stooq.http.500']);
    expect(bars(dir)).toEqual([]);
  });

  it('dates a bar by the exchange’s own calendar, across a change of summer time', async () => {
    // A London listing: Yahoo stamps its daily bars at local midnight, and meta.gmtoffset is only today's offset (GMT).
    // Friday 23 October 2026 is still BST (midnight = 22 Oct 23:00 UTC); Monday 26 October is GMT.
    const stamps = [Date.parse('2026-10-22T23:00:00Z') / 1000, Date.parse('2026-10-26T00:00:00Z') / 1000];
    server.charts.set(
      'VOD.L',
      yahooChart('VOD.L', ['2026-10-23', '2026-10-26'], { name: 'Europe/London', short: 'GMT', gmtoffset: 0 }, stamps),
    );
    try {
      const dir = workdir({ tickers: ['VOD.L'] });
      await collect(loadCollectorConfig(path.join(dir, 'market.json')), capture());
      expect(bars(dir).map((r) => r.ts)).toEqual(['2026-10-23', '2026-10-26']);
      const py = await run('python3', [COLLECTOR_PY, '--config', 'market.json', '--db', 'py.db'], { cwd: dir });
      expect(py.stderr).toBe('');
      expect(bars(dir, 'py.db').map((r) => r.ts)).toEqual(['2026-10-23', '2026-10-26']);
    } finally {
      server.charts.delete('VOD.L');
    }
  });

  it('keeps every day in the cache when a source serves fewer, and names each cached bar’s source', async () => {
    const dir = workdir();
    const c = loadCollectorConfig(path.join(dir, 'market.json'));
    await collect(c, capture()); // three days from Yahoo
    server.yahoo = 'html';
    await collect(c, capture()); // the latest day from Stooq
    const db = new sqlite.Database(path.join(dir, 'market.db'));
    db.run('DELETE FROM bars');
    db.close();
    server.stooq = '500';
    await collect(c, capture());
    expect(
      bars(dir)
        .filter((r) => r.ticker === 'AAPL')
        .map((r) => [r.ts, r.source, r.stale]),
    ).toEqual([
      [server.days[0], 'cache(yahoo)', 1],
      [server.days[1], 'cache(yahoo)', 1],
      [server.days[2], 'cache(stooq)', 1],
    ]);
  });

  it('records a body cut off mid-way as a network failure, and retries it', async () => {
    const dir = workdir({ tickers: ['AAPL'] });
    server.yahoo = '500';
    server.stooq = 'cut';
    const before = server.hits.stooq;
    const io = capture();
    await collect(loadCollectorConfig(path.join(dir, 'market.json')), io).catch(() => {});
    expect(io.reports.map((r) => r.type)).toEqual(['yahoo.http.500', 'stooq.network']);
    expect(server.hits.stooq - before).toBe(2);
  });

  it('opens a database in a folder that does not exist yet, and gets past a lock left by a killed writer', async () => {
    const dir = workdir({ db: 'sub/dir/market.db' });
    const c = loadCollectorConfig(path.join(dir, 'market.json'));
    await collect(c, capture());
    const lock = path.join(dir, 'sub', 'dir', 'market.db.lock');
    mkdirSync(lock);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    const io = capture();
    await collect(c, io);
    expect(io.lines.some((l) => /market\.db: removed a lock left by an interrupted write 1[12]\d s ago$/.test(l))).toBe(
      true,
    );
    expect(bars(dir, 'sub/dir/market.db')).toHaveLength(6);
  });

  it('never lets demo bars overwrite real ones; real bars replace demo ones', async () => {
    const dir = workdir();
    const real = loadCollectorConfig(path.join(dir, 'market.json'));
    await collect(real, capture());
    const demo = await collect({ ...real, demo: true }, capture());
    expect(demo.every((o) => o.updated === 0)).toBe(true);
    const rows = bars(dir);
    expect(rows.filter((r) => server.days.includes(r.ts)).every((r) => r.source === 'yahoo')).toBe(true);
    expect(rows.filter((r) => !server.days.includes(r.ts)).every((r) => r.source === 'demo')).toBe(true);
    // A real run over demo rows replaces them.
    const fresh = await run('python3', [COLLECTOR_PY, '--config', 'market.json', '--db', 'both.db', '--demo'], {
      cwd: dir,
    });
    expect(fresh.stderr).toBe('');
    await run('python3', [COLLECTOR_PY, '--config', 'market.json', '--db', 'both.db'], { cwd: dir });
    const both = bars(dir, 'both.db');
    expect(both.filter((r) => server.days.includes(r.ts)).every((r) => r.source === 'yahoo')).toBe(true);
  });

  it('makes demo bars only when asked, and says so in every row', async () => {
    const dir = workdir({ demo: true });
    const before = { ...server.hits };
    await collect(loadCollectorConfig(path.join(dir, 'market.json')), capture());
    expect(server.hits).toEqual(before);
    const rows = bars(dir);
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['demo']));
  });

  it('runs on its own with tsx: exit 0, 1 with a one-line summary, 2 for a bad config', async () => {
    const dir = workdir();
    const cli = (args: string[]) =>
      run(process.execPath, [TSX_CLI, COLLECTOR_TS, ...args], { cwd: dir }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const ok = await cli(['--config', 'market.json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`collected 2 tickers into ${path.join(dir, 'market.db')}`);

    server.yahoo = 'drop';
    server.stooq = 'html';
    const failed = await cli(['--config', 'market.json', '--db', 'other.db']);
    expect(failed.code).toBe(1);
    const last = failed.stderr.trim().split('\n').at(-1);
    expect(last).toBe(
      'market-data-collector: 2 of 2 tickers got nothing: AAPL (yahoo: network, stooq: payload.csv, cache: empty); MSFT (yahoo: network, stooq: payload.csv, cache: empty)',
    );
    expect(failed.stderr).toMatch(/AAPL: yahoo\.network: fetch failed \(.*\)/);

    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ tickers: [], dayz: 3 }));
    const bad = await cli(['--config', 'bad.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    expect(bad.stderr).toContain('bad.json: tickers:');
    expect(bad.stderr).toContain('bad.json: dayz: unknown key (known: tickers, db, days,');
  });

  it('the Python twin on its own: the cache when every source is down, exit 1 with a summary when it is empty, 2 for a bad config', async () => {
    const dir = workdir();
    const py = (args: string[]) =>
      run('python3', [COLLECTOR_PY, '--config', 'market.json', ...args], { cwd: dir }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const ok = await py(['--db', 'py.db']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(bars(dir, 'py.db').map((r) => r.source)).toEqual(Array(6).fill('yahoo'));

    server.yahoo = '429';
    server.stooq = 'drop';
    const stale = await py(['--db', 'py.db']);
    expect(stale.code, stale.stderr).toBe(0);
    expect(stale.stdout).toMatch(/^AAPL: 3 bars from cache\(yahoo\) \(stale, 0\.0 h old\): 0 new, 0 updated$/m);
    expect(stale.stderr).toMatch(/^AAPL: yahoo\.http\.429: /m);
    expect(stale.stderr).toMatch(/^AAPL: stooq\.network: /m);

    const empty = await py(['--db', 'empty.db']);
    expect(empty.code).toBe(1);
    expect(empty.stderr.trim().split('\n').at(-1)).toMatch(
      /^market_data_collector: 2 of 2 tickers got nothing: AAPL \(yahoo: (http\.429|circuit\.open), stooq: (network|circuit\.open), cache: empty\); MSFT/,
    );
    expect(bars(dir, 'empty.db')).toEqual([]);

    writeFileSync(path.join(dir, 'two.json'), JSON.stringify({ tickers: [], tries: 0 }));
    const two = await run('python3', [COLLECTOR_PY, '--config', 'two.json'], { cwd: dir }).catch((e) => e);
    expect([two.code, two.stderr]).toEqual([
      2,
      'market_data_collector: two.json: tickers: a non-empty list of symbols such as ["AAPL"]\n' +
        'market_data_collector: two.json: tries: a whole number at least 1 and at most 10\n',
    ]); // every problem at once, as the TypeScript collector and herder check report them
    writeFileSync(path.join(dir, 'market.json'), JSON.stringify({ tickers: ['AAPL'], dayz: 3 }));
    const bad = await py([]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      `market_data_collector: market.json: dayz: unknown key (known: tickers, ${[
        'db',
        'days',
        'max_stale_hours',
        'yahoo',
        'yahoo_url',
        'stooq',
        'stooq_url',
        'stooq_suffix',
        'timeout_seconds',
        'tries',
        'retry_delay_seconds',
        'demo',
      ].join(', ')})`,
    );
  });

  it('under herder as a thread loop job: API errors in process_errors and status, then bars once a source answers', async () => {
    const dir = workdir();
    writeFileSync(
      path.join(dir, 'actors.yaml'),
      `
runtime: { restart_jitter: 0, shutdown_grace_seconds: 5, protection: { enabled: false } }
actors:
  - name: market
    module: ${COLLECTOR_TS}
    env: { MARKET_DATA_CONFIG: market.json }
    requires_loop: true
    loop_interval: 0.3
    restart_delay: 0.3
    max_restart_delay: 1
    max_restarts: 0
    error_patterns:
      - { name: yahoo-json, pattern: 'yahoo\\.json', action: backoff }
`,
    );
    server.yahoo = 'html';
    server.stooq = '500';
    const herder = startRun(dir);
    try {
      const failing = await waitForActor(dir, 'market', (a) => a.failures >= 1, 30_000);
      expect(failing.last_error?.type).toBe('CollectionFailed');
      expect(failing.error_patterns?.['yahoo-json']).toBeGreaterThanOrEqual(1);
      server.yahoo = 'ok';
      await waitForActor(dir, 'market', (a) => a.successes >= 1, 30_000);
    } finally {
      const r = await herder.stop();
      expect(r.code, r.stderr).toBe(0);
    }
    const errors = query(
      path.join(dir, 'herder.db'),
      "SELECT error_type, message FROM process_errors WHERE process = 'market' ORDER BY id",
    );
    const types = errors.map((e) => e.error_type);
    expect(types).toContain('yahoo.json');
    expect(types).toContain('stooq.http.500');
    expect(types).toContain('CollectionFailed');
    expect(errors.find((e) => e.error_type === 'yahoo.json')?.message).toMatch(
      /^AAPL: Response\.ok where we expect JSON/,
    );
    expect(bars(dir).filter((r) => r.source === 'yahoo')).toHaveLength(6);

    // After the run, status reads the file: the failure is still the actor's last error.
    const status = await runCli(['status'], dir);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/market\s+thread .*CollectionFailed: 2 of 2 tickers got nothing/);
  });

  it('returns when herder stops it in the middle of a hung call instead of being terminated', async () => {
    const dir = workdir({ timeout_seconds: 60, tries: 1 });
    writeFileSync(
      path.join(dir, 'actors.yaml'),
      `
runtime: { shutdown_grace_seconds: 3, protection: { enabled: false } }
actors:
  - name: market
    module: ${COLLECTOR_TS}
    env: { MARKET_DATA_CONFIG: market.json }
    requires_loop: true
    loop_interval: 60
`,
    );
    server.yahoo = 'hang';
    const before = server.hits.yahoo;
    const herder = startRun(dir);
    await waitUntil(() => server.hits.yahoo > before, 30_000, 'the first call to Yahoo');
    const r = await herder.stop();
    expect(r.code, r.stderr).toBe(0);
    const exit = query(path.join(dir, 'herder.db'), "SELECT detail FROM events WHERE kind = 'exit'");
    // A loop job mid-run gets the grace to finish, then ctx.signal aborts: the collector gives up the hung call
    // and returns, instead of being terminated a second later.
    expect(String(exit[0]?.detail)).toMatch(/^exited normally after .*\(finished its run during shutdown\)$/);
    expect(query(path.join(dir, 'herder.db'), 'SELECT error_type FROM process_errors')).toEqual([]);
  });

  it('the Python twin under herder reports through the health channel and stores the same bars', async () => {
    const dir = workdir();
    writeFileSync(
      path.join(dir, 'actors.yaml'),
      `
runtime: { restart_jitter: 0, shutdown_grace_seconds: 5, protection: { enabled: false } }
actors:
  - name: market_py
    script: ${COLLECTOR_PY}
    env: { MARKET_DATA_CONFIG: market.json, MARKET_DATA_DB: py.db }
    requires_loop: true
    loop_interval: 0.3
    restart_delay: 0.3
    max_restart_delay: 1
    max_restarts: 0
`,
    );
    server.yahoo = 'html';
    server.stooq = 'nd';
    const herder = startRun(dir);
    try {
      await waitForActor(dir, 'market_py', (a) => a.failures >= 1, 30_000);
      server.yahoo = 'ok';
      await waitForActor(dir, 'market_py', (a) => a.successes >= 1, 30_000);
    } finally {
      const r = await herder.stop();
      expect(r.code, r.stderr).toBe(0);
    }
    const types = query(
      path.join(dir, 'herder.db'),
      "SELECT DISTINCT error_type FROM process_errors WHERE process = 'market_py'",
    ).map((e) => e.error_type);
    expect(types).toEqual(expect.arrayContaining(['yahoo.json', 'stooq.no_data']));
    const rows = bars(dir, 'py.db');
    expect(rows.filter((r) => r.source === 'yahoo').map((r) => r.ts)).toEqual([...server.days, ...server.days]);
  });
});
