/**
 * Where daily bars come from: Yahoo Finance through yahoo-finance2 (the
 * primary), Stooq's CSV quotes over plain HTTP (an independent fallback), and
 * a demo generator that runs only when asked for and says so in every row.
 * Each source turns its failures into typed SourceErrors, so that the record
 * says "yahoo.json" or "stooq.http.503" rather than "Error".
 */
import YahooFinance from 'yahoo-finance2';
import { HttpError, SourceError } from '../collect/errors.ts';
import type { Source } from '../collect/fallback.ts';
import { fetchText } from '../collect/fetch-json.ts';
import { parseRetryAfter, Resilient, transient } from '../collect/resilience.ts';
import type { CollectorConfig } from './config.ts';

export interface Bar {
  /** The trading day, YYYY-MM-DD in the exchange's time zone. */
  readonly ts: string;
  readonly open: number | null;
  readonly high: number | null;
  readonly low: number | null;
  readonly close: number;
  readonly volume: number | null;
}

/** Yahoo answered something that is not JSON (typically its HTML rate-limit page): the yfinance "JSON errors". */
export class YahooUnparsable extends SourceError {
  constructor(message: string) {
    super(message.slice(0, 300), 'json', message.slice(0, 500));
    this.name = 'YahooUnparsable';
  }
}

export class NoData extends SourceError {
  constructor(message: string) {
    super(message, 'no_data');
    this.name = 'NoData';
  }
}

/** yahoo-finance2's own errors (HTTPError with .code, its "not parsable" Error, validation errors) as SourceErrors. */
export function fromYahooError(e: unknown, symbol: string, retryAfterMs: number | null = null): unknown {
  if (!(e instanceof Error)) return e;
  if (e.name === 'HTTPError') {
    const code = Number((e as Error & { code?: unknown }).code);
    return new HttpError(Number.isInteger(code) ? code : 0, retryAfterMs, `yahoo chart ${symbol}`, e.message);
  }
  if (/where we expect JSON|not parsable|Unexpected token/i.test(e.message)) return new YahooUnparsable(e.message);
  if (e.name === 'FailedYahooValidationError') return new SourceError(e.message.slice(0, 300), 'validation');
  if (/No data found|delisted/i.test(e.message)) return new NoData(`${symbol}: ${e.message}`);
  return e;
}

/** Worth another try from Yahoo: what the toolkit retries, and the HTML page it sends when it is rate limiting. */
const yahooTransient = (e: unknown) => transient(e) || e instanceof YahooUnparsable;

function policy(c: CollectorConfig, retryOn: (e: unknown) => boolean): Resilient {
  return new Resilient({
    tries: c.tries,
    timeoutMs: c.timeout_seconds * 1000,
    initialDelayMs: c.retry_delay_seconds * 1000,
    maxDelayMs: Math.max(c.retry_delay_seconds * 1000, 30_000),
    maxElapsedMs: c.timeout_seconds * 1000 * c.tries * 2,
    retryOn,
  });
}

/**
 * One policy per source for a whole run, shared by every ticker: once a
 * source has failed `breakAfter` times in a row (Yahoo down, no network), its
 * circuit opens and the remaining tickers go straight to the next source.
 */
export function sourcePolicies(c: CollectorConfig): { yahoo: Resilient; stooq: Resilient } {
  return { yahoo: policy(c, yahooTransient), stooq: policy(c, transient) };
}

const DEFAULT_YAHOO = 'https://query2.finance.yahoo.com';
type Fetch = typeof fetch;

export interface Log {
  info(line: string): void;
  warn(line: string): void;
}

let client: InstanceType<typeof YahooFinance> | null = null;
/** Where the client's own messages go: the log of the run in progress. */
let clientLog: Log = { info: () => {}, warn: () => {} };

/** One client per worker (a warm worker reuses it from run to run); its messages go to the current run's log. */
function yahooClient(log: Log): InstanceType<typeof YahooFinance> {
  clientLog = log;
  if (client === null) {
    const say = (a: unknown[]) => {
      const line = `yahoo-finance2: ${a.map(String).join(' ')}`;
      // yahoo-finance2 3.x asks for Node 22 at run time although its engines field admits Node 20; it works.
      if (/Unsupported environment/.test(line)) clientLog.info(line);
      else clientLog.warn(line);
    };
    client = new YahooFinance({
      suppressNotices: ['yahooSurvey'],
      logger: { info: () => {}, debug: () => {}, dir: () => {}, warn: (...a) => say(a), error: (...a) => say(a) },
    });
  }
  return client;
}

/**
 * The trading day of a bar, in the exchange's own time zone. Yahoo stamps a
 * daily bar at the session's open (New York) or at local midnight (London, FX),
 * and meta.gmtoffset is only today's offset: across a DST change it would put a
 * midnight bar on the previous day.
 */
export function tradingDay(d: Date, timeZone: string | undefined, gmtoffset: number): string {
  if (timeZone !== undefined) {
    try {
      return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
        d,
      );
    } catch {
      // an unknown zone name: fall back to the offset
    }
  }
  return new Date(d.getTime() + gmtoffset * 1000).toISOString().slice(0, 10);
}

/** Calendar days that hold `bars` trading days, with room for a week of holidays. */
export const windowDays = (bars: number) => Math.ceil((bars * 7) / 5) + 7;

/**
 * The primary: yahoo-finance2's chart() for the last `days` days. `yahoo_url`
 * (for a proxy or a test server) replaces Yahoo's own address; `baseFetch`
 * lets a caller supply fetch itself.
 */
export function yahooSource(
  symbol: string,
  c: CollectorConfig,
  log: Log,
  resilient: Resilient,
  baseFetch: Fetch = fetch,
): Source<Bar[]> {
  const base = c.yahoo_url.replace(/\/+$/, '');
  return {
    name: 'yahoo',
    policy: resilient,
    async fetch(signal) {
      // yahoo-finance2's HTTPError carries no headers: the Retry-After of a 429 is kept here.
      let retryAfterMs: number | null = null;
      const viaBase: Fetch = async (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        const target = base === DEFAULT_YAHOO ? url : url.replace(/^https:\/\/[^/]*yahoo\.com/, base);
        const res = await baseFetch(target, { ...init, signal });
        retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
        return res;
      };
      try {
        const period1 = new Date(Date.now() - windowDays(c.days) * 86_400_000);
        const result = await yahooClient(log).chart(symbol, { period1, interval: '1d' }, { fetch: viaBase });
        const { gmtoffset, exchangeTimezoneName } = result.meta;
        const bars = result.quotes
          .filter((q) => typeof q.close === 'number')
          .map((q) => ({
            ts: tradingDay(q.date, exchangeTimezoneName, gmtoffset ?? 0),
            open: q.open ?? null,
            high: q.high ?? null,
            low: q.low ?? null,
            close: q.close as number,
            volume: q.volume ?? null,
          }))
          .slice(-c.days);
        if (bars.length === 0) throw new NoData(`${symbol}: Yahoo has no daily bars in the last ${c.days} days`);
        return bars;
      } catch (e) {
        throw fromYahooError(e, symbol, retryAfterMs);
      }
    },
  };
}

/** Stooq's symbol for a ticker: lower case, with the market suffix (".us") unless it has one. */
export function stooqSymbol(ticker: string, suffix: string): string {
  const t = ticker.toLowerCase();
  return t.includes('.') || t.startsWith('^') ? t : `${t}${suffix}`;
}

/**
 * Stooq's CSV: the quote form (Symbol,Date,Time,Open,High,Low,Close,Volume)
 * or the history form (Date,Open,High,Low,Close,Volume). "N/D" means no data.
 */
export function parseStooqCsv(text: string, what: string): Bar[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  if (col('date') < 0 || col('close') < 0) {
    throw new SourceError(`${what} answered something that is not Stooq CSV`, 'payload.csv', text.slice(0, 500));
  }
  const num = (cells: string[], name: string): number | null => {
    const i = col(name);
    const v = i < 0 ? undefined : cells[i]?.trim();
    if (v === undefined || v === '' || v === 'N/D') return null;
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  };
  const bars: Bar[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const date = cells[col('date')]?.trim() ?? '';
    const close = num(cells, 'close');
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || close === null) continue;
    bars.push({
      ts: date,
      open: num(cells, 'open'),
      high: num(cells, 'high'),
      low: num(cells, 'low'),
      close,
      volume: num(cells, 'volume'),
    });
  }
  if (bars.length === 0) throw new NoData(`${what}: Stooq has no data for it (N/D)`);
  return bars;
}

export function stooqSource(ticker: string, c: CollectorConfig, resilient: Resilient): Source<Bar[]> {
  const symbol = stooqSymbol(ticker, c.stooq_suffix);
  const url = c.stooq_url.replaceAll('{symbol}', encodeURIComponent(symbol));
  return {
    name: 'stooq',
    policy: resilient,
    async fetch(signal) {
      const { text } = await fetchText(url, signal);
      return parseStooqCsv(text, `stooq ${symbol}`).slice(-c.days);
    },
  };
}

/** Made-up bars for trying herder without a network: only with demo: true / --demo, and source "demo" says so. */
export function demoSource(ticker: string, c: CollectorConfig): Source<Bar[]> {
  return {
    name: 'demo',
    policy: new Resilient({ tries: 1 }),
    async fetch() {
      let seed = [...ticker].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7);
      const rnd = () => {
        seed = (seed * 1_103_515_245 + 12_345) >>> 0;
        return seed / 2 ** 32;
      };
      let price = 50 + rnd() * 200;
      const bars: Bar[] = [];
      const days: string[] = []; // the last c.days weekdays
      for (let back = 0; days.length < c.days; back++) {
        const d = new Date(Date.now() - back * 86_400_000);
        if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) days.unshift(d.toISOString().slice(0, 10));
      }
      for (const ts of days) {
        const open = price;
        price = Math.max(1, price * (1 + (rnd() - 0.5) * 0.04));
        const r2 = (x: number) => Math.round(x * 100) / 100;
        bars.push({
          ts,
          open: r2(open),
          high: r2(Math.max(open, price) * 1.01),
          low: r2(Math.min(open, price) * 0.99),
          close: r2(price),
          volume: Math.round(1e6 + rnd() * 1e7),
        });
      }
      return bars;
    },
  };
}
