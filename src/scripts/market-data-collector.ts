/**
 * The market-data collector: a loop job that fetches the latest daily bars of
 * a list of tickers and appends them to a SQLite table, idempotently.
 *
 *   Yahoo Finance (yahoo-finance2)  →  Stooq CSV quotes (plain HTTP)  →  the cache
 *
 * Every source failure is recorded with its source and type ("yahoo.json",
 * "stooq.http.503"); a ticker served from the cache is stored with stale = 1
 * and its age is logged; a ticker that got nothing fails the run, with a
 * summary, and nothing is invented. Demo bars exist only behind demo: true
 * (or --demo), and their rows say source = "demo".
 *
 * Under herder, as a worker-thread actor (module:), errors go through ctx.
 * On its own:  npx tsx src/scripts/market-data-collector.ts [--config F] [--db F] [--demo]
 * (under herder as a command, errors go through the health channel).
 * The config is a small JSON file: examples/market-data.json.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ActorContext } from '../actors/thread-worker.ts';
import { Cache, openDb } from './collect/cache.ts';
import { AllSourcesFailed, errorTypeOf, SourceError, StaleRefused } from './collect/errors.ts';
import { type Reporter, type Source, withCache } from './collect/fallback.ts';
import * as channel from './health-channel.ts';
import { type CollectorConfig, ConfigProblem, loadCollectorConfig } from './market/config.ts';
import { type Bar, demoSource, sourcePolicies, stooqSource, yahooSource } from './market/sources.ts';
import { BARS_SCHEMA, mergeBars, storeBars } from './market/store.ts';

export interface CollectorIO {
  /** A progress line (stdout). */
  info(line: string): void;
  /** A failure line (stderr), where error patterns can see it. */
  warn(line: string): void;
  /** A process_errors row under herder. */
  report: Reporter;
  heartbeat(): void;
  progress(value: number): void;
  /** Aborted when the job is asked to stop: the run ends after storing what it has. */
  readonly signal?: AbortSignal;
  /** Replaces fetch for yahoo-finance2 (tests; proxies). */
  readonly yahooFetch?: typeof fetch;
}

/** A bar as the cache keeps it: with the source that served it. */
type CachedBar = Bar & { readonly source?: string };

export interface TickerOutcome {
  readonly ticker: string;
  /** Who served it ("yahoo", "stooq", "cache(stooq)", "demo"); null when nothing did. */
  readonly source: string | null;
  readonly stale: boolean;
  readonly ageMs: number;
  readonly added: number;
  readonly updated: number;
  /** Why it got nothing. */
  readonly failure: string | null;
}

/** Some tickers got nothing: the run failed; the message says which and why. */
export class CollectionFailed extends SourceError {
  constructor(readonly outcomes: readonly TickerOutcome[]) {
    const failed = outcomes.filter((o) => o.source === null);
    super(
      `${failed.length} of ${outcomes.length} tickers got nothing: ${failed.map((o) => `${o.ticker} (${o.failure})`).join('; ')}`,
      'collect.incomplete',
    );
    this.name = 'CollectionFailed';
  }
}

function sourcesFor(
  ticker: string,
  c: CollectorConfig,
  io: CollectorIO,
  policies: ReturnType<typeof sourcePolicies>,
): Source<Bar[]>[] {
  if (c.demo) return [demoSource(ticker, c)];
  const list: Source<Bar[]>[] = [];
  if (c.yahoo) list.push(yahooSource(ticker, c, io, policies.yahoo, io.yahooFetch));
  if (c.stooq) list.push(stooqSource(ticker, c, policies.stooq));
  // A heartbeat per try: a run that is backing off is alive, not stalled.
  return list.map((s) => ({
    ...s,
    fetch: (signal: AbortSignal) => {
      io.heartbeat();
      return s.fetch(signal);
    },
  }));
}

const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;

function whyNothing(e: unknown): string {
  if (e instanceof AllSourcesFailed) {
    return `${e.failures.map((f) => `${f.source}: ${errorTypeOf(f.error)}`).join(', ')}, cache: empty`;
  }
  if (e instanceof StaleRefused) {
    const failed = e.failures.map((f) => `${f.source}: ${errorTypeOf(f.error)}, `).join('');
    return `${failed}cache: ${hours(e.ageMs)} old, beyond the ${e.maxAgeMs / 3_600_000} h allowed`;
  }
  return `${errorTypeOf(e)}: ${e instanceof Error ? e.message : String(e)}`;
}

/** One run: every ticker through the sources and the cache, into the bars table. Throws CollectionFailed. */
export async function collect(c: CollectorConfig, io: CollectorIO): Promise<TickerOutcome[]> {
  const db = openDb(c.db, io.warn);
  try {
    db.exec(BARS_SCHEMA);
    const cache = new Cache(db);
    const policies = sourcePolicies(c);
    const stopped = () => io.signal?.aborted === true;
    const outcomes: TickerOutcome[] = [];
    for (const [i, ticker] of c.tickers.entries()) {
      if (stopped()) break;
      const report: Reporter = (type, message, context) => {
        io.warn(`${ticker}: ${type}: ${message}`);
        io.report(type, `${ticker}: ${message}`, context);
      };
      try {
        // Demo bars are cached under their own key, so they can never stand in for real ones.
        const key = `${c.demo ? 'demo' : 'bars'}:${ticker}`;
        const before = cache.peek<CachedBar[]>(key)?.value ?? [];
        const served = await withCache<CachedBar[]>(
          cache,
          key,
          c.max_stale_hours * 3_600_000,
          sourcesFor(ticker, c, io, policies),
          report,
          io.signal,
        );
        let rows: (Bar & { source: string })[];
        if (served.stale) {
          // Each cached bar says which source served it.
          rows = served.value.map((b) => ({
            ...b,
            source: b.source === undefined ? served.source : `cache(${b.source})`,
          }));
        } else {
          rows = served.value.map((b) => ({ ...b, source: served.source }));
          // One source may serve fewer days than another (Stooq's quote is the latest bar only): the cache keeps them all.
          cache.put(key, mergeBars(before, rows, c.days), served.source, served.fetchedAt);
        }
        const kind = c.demo ? 'demo' : served.stale ? 'stale' : 'fresh';
        const stored = storeBars(db, ticker, rows, kind, served.fetchedAt);
        outcomes.push({
          ticker,
          source: served.source,
          stale: served.stale,
          ageMs: served.ageMs,
          ...stored,
          failure: null,
        });
        io.info(
          `${ticker}: ${served.value.length} bars from ${served.source}` +
            `${served.stale ? ` (stale, ${hours(served.ageMs)} old)` : ''}: ${stored.added} new, ${stored.updated} updated`,
        );
        if (served.stale) io.report('cache.stale', `${ticker}: served from the cache, ${hours(served.ageMs)} old`, '');
      } catch (e) {
        if (stopped()) break;
        const failure = whyNothing(e);
        outcomes.push({ ticker, source: null, stale: false, ageMs: 0, added: 0, updated: 0, failure });
        io.warn(`${ticker}: nothing collected: ${failure}`);
      }
      io.progress((i + 1) / c.tickers.length);
      io.heartbeat();
    }
    if (stopped()) {
      io.info(`stopped on request after ${outcomes.length} of ${c.tickers.length} tickers; what they got is stored`);
      return outcomes;
    }
    if (outcomes.some((o) => o.source === null)) throw new CollectionFailed(outcomes);
    const stale = outcomes.filter((o) => o.stale).length;
    io.info(`collected ${outcomes.length} tickers into ${c.db}${stale > 0 ? `; ${stale} from the cache (stale)` : ''}`);
    return outcomes;
  } finally {
    db.close();
  }
}

const DEFAULT_CONFIG = 'examples/market-data.json';

/** The config file and database, from the environment (a thread actor has no argv of its own). */
function configFromEnv(cwd: string): CollectorConfig {
  const file = path.resolve(cwd, process.env.MARKET_DATA_CONFIG ?? DEFAULT_CONFIG);
  const db = process.env.MARKET_DATA_DB;
  const c = loadCollectorConfig(file, db === undefined ? undefined : path.resolve(cwd, db));
  return process.env.MARKET_DATA_DEMO === '1' ? { ...c, demo: true } : c;
}

/** As a herder worker-thread actor: module: src/scripts/market-data-collector.ts */
export default async function run(ctx: ActorContext): Promise<void> {
  await collect(configFromEnv(ctx.cwd), {
    info: (l) => ctx.log.info(l),
    warn: (l) => ctx.log.warn(l),
    report: (t, m, x) => ctx.reportError(t, m, x),
    heartbeat: () => ctx.heartbeat(),
    progress: (v) => ctx.reportHealth({ progress: v }),
    signal: ctx.signal,
  });
}

async function main(): Promise<number> {
  let args: { config?: string; db?: string; demo?: boolean; help?: boolean };
  try {
    args = parseArgs({
      options: {
        config: { type: 'string' },
        db: { type: 'string' },
        demo: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`market-data-collector: ${(e as Error).message} (usage: [--config F] [--db F] [--demo])\n`);
    return 2;
  }
  if (args.help === true) {
    process.stdout.write(
      'usage: market-data-collector [--config F] [--db F] [--demo]\n' +
        '  fetches the latest daily bars of the tickers in F (default $MARKET_DATA_CONFIG or examples/market-data.json)\n' +
        '  into the SQLite table bars: Yahoo Finance, then Stooq, then the cache; --demo makes up bars marked "demo".\n' +
        '  exit 0: every ticker got a row; 1: some got nothing; 2: a bad config or argument\n',
    );
    return 0;
  }
  try {
    let c: CollectorConfig;
    if (args.config !== undefined) {
      c = loadCollectorConfig(path.resolve(args.config), args.db);
      if (process.env.MARKET_DATA_DEMO === '1') c = { ...c, demo: true };
    } else {
      c = configFromEnv(process.cwd());
      if (args.db !== undefined) c = { ...c, db: path.resolve(args.db) };
    }
    if (args.demo === true) c = { ...c, demo: true };
    await collect(c, {
      info: (l) => process.stdout.write(`${l}\n`),
      warn: (l) => process.stderr.write(`${l}\n`),
      // Under herder the row is recorded through the channel; on its own the warn line above already said it.
      report: (t, m, x) => {
        if (channel.connected()) channel.error(t, m, x);
      },
      heartbeat: channel.heartbeat,
      progress: channel.progress,
    });
    return 0;
  } catch (e) {
    if (e instanceof ConfigProblem) {
      process.stderr.write(`market-data-collector: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CollectionFailed) {
      process.stderr.write(`market-data-collector: ${e.message}\n`);
      return 1;
    }
    // Anything else (a database that cannot be opened, say) in one line; the stack only on request.
    const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    process.stderr.write(`market-data-collector: ${why.split('\n')[0]?.slice(0, 500)}\n`);
    if (process.env.DEBUG !== undefined && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main();
}
