/**
 * A local stand-in for Yahoo's chart API and Stooq's CSV quotes, answering in
 * their recorded formats or failing the ways they fail (HTML where JSON was
 * expected, 429 with Retry-After, 5xx, a dropped connection).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Mode = 'ok' | 'html' | '429' | '500' | 'drop' | 'cut' | 'nd' | 'hang';

export interface MarketServer {
  readonly url: string;
  /** The three trading days the server answers with (fixed when it starts). */
  readonly days: readonly string[];
  /** A chart answer of one's own for a symbol (Yahoo's format). */
  readonly charts: Map<string, string>;
  yahoo: Mode;
  stooq: Mode;
  readonly hits: { yahoo: number; stooq: number };
  close(): Promise<void>;
}

/** Three recent weekdays ending at `end`, as Yahoo stamps them: 09:30 New York (13:30 or 14:30 UTC). */
export function tradingDays(end = new Date()): string[] {
  const days: string[] = [];
  const d = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate()));
  while (days.length < 3) {
    d.setUTCDate(d.getUTCDate() - 1);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) days.unshift(d.toISOString().slice(0, 10));
  }
  return days;
}

export function priceOf(symbol: string, day: number): number {
  return 100 + symbol.charCodeAt(0) + day;
}

/** Yahoo's v8 chart answer, with the meta fields yahoo-finance2 validates. */
export function yahooChart(
  symbol: string,
  days: readonly string[],
  zone = { name: 'America/New_York', short: 'EST', gmtoffset: -18_000 },
  stamps = days.map((d) => Date.parse(`${d}T14:30:00Z`) / 1000),
): string {
  const ts = stamps;
  const close = days.map((_, i) => priceOf(symbol, i));
  const period = (start: number) => ({ timezone: zone.short, start, end: start + 23_400, gmtoffset: zone.gmtoffset });
  const last = ts[ts.length - 1] ?? 0;
  return JSON.stringify({
    chart: {
      result: [
        {
          meta: {
            currency: 'USD',
            symbol,
            exchangeName: 'NMS',
            fullExchangeName: 'NasdaqGS',
            instrumentType: 'EQUITY',
            firstTradeDate: 345_479_400,
            regularMarketTime: last + 23_400,
            hasPrePostMarketData: true,
            gmtoffset: zone.gmtoffset,
            timezone: zone.short,
            exchangeTimezoneName: zone.name,
            regularMarketPrice: close[close.length - 1],
            chartPreviousClose: 99,
            priceHint: 2,
            currentTradingPeriod: { pre: period(last - 19_800), regular: period(last), post: period(last + 23_400) },
            dataGranularity: '1d',
            range: '',
            validRanges: ['1d', '5d', '1mo', '3mo', '6mo', '1y', '2y', '5y', '10y', 'ytd', 'max'],
          },
          timestamp: ts,
          indicators: {
            quote: [
              {
                open: close.map((c) => c - 1),
                high: close.map((c) => c + 2),
                low: close.map((c) => c - 2),
                close,
                volume: close.map((_, i) => 1_000_000 + i),
              },
            ],
            adjclose: [{ adjclose: close }],
          },
        },
      ],
      error: null,
    },
  });
}

/** Stooq's CSV quote (the latest bar) for `symbol` like "aapl.us". */
export function stooqQuote(symbol: string, day: string, nd = false): string {
  const s = symbol.toUpperCase();
  const row = nd ? `${s},N/D,N/D,N/D,N/D,N/D,N/D,N/D` : `${s},${day},22:00:09,201,204,199,${priceOf(s, 7)},4242`;
  return `Symbol,Date,Time,Open,High,Low,Close,Volume\r\n${row}\r\n`;
}

const HTML = '<!DOCTYPE html><html><head><title>Yahoo</title></head><body>Will be right back…</body></html>';

export async function startMarketServer(): Promise<MarketServer> {
  const days = tradingDays();
  const state = { yahoo: 'ok' as Mode, stooq: 'ok' as Mode, hits: { yahoo: 0, stooq: 0 } };
  const charts = new Map<string, string>();
  const fail = (mode: Mode, res: http.ServerResponse): boolean => {
    switch (mode) {
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HTML);
        return true;
      case '429':
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '0' }).end('Too Many Requests');
        return true;
      case '500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
        return true;
      case 'drop':
        res.socket?.destroy();
        return true;
      case 'cut': // the headers promise a body that stops half-way
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': '400' });
        res.write('Symbol,Date,Time,Open,High,Low,Close,Volume\r\nAAPL.US,2026-');
        setTimeout(() => res.socket?.destroy(), 20);
        return true;
      case 'hang': // a call that never answers, the commonest failure of a collector
        return true;
      default:
        return false;
    }
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chart = /^\/v8\/finance\/chart\/([^/]+)$/.exec(url.pathname);
    if (chart !== null) {
      state.hits.yahoo++;
      if (fail(state.yahoo, res)) return;
      const symbol = decodeURIComponent(chart[1] ?? '');
      const own = charts.get(symbol);
      if (own !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json;charset=utf-8' }).end(own);
        return;
      }
      if (state.yahoo === 'nd') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            chart: {
              result: null,
              error: { code: 'Not Found', description: 'No data found, symbol may be delisted' },
            },
          }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json;charset=utf-8' }).end(yahooChart(symbol, days));
      return;
    }
    if (url.pathname === '/q/l/') {
      state.hits.stooq++;
      if (fail(state.stooq, res)) return;
      res
        .writeHead(200, { 'content-type': 'text/csv' })
        .end(stooqQuote(url.searchParams.get('s') ?? '', days[2] ?? '', state.stooq === 'nd'));
      return;
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    days,
    charts,
    get yahoo() {
      return state.yahoo;
    },
    set yahoo(m: Mode) {
      state.yahoo = m;
    },
    get stooq() {
      return state.stooq;
    },
    set stooq(m: Mode) {
      state.stooq = m;
    },
    hits: state.hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The collector's JSON config pointed at the local server, fast retries. */
export function collectorConfig(server: MarketServer, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      tickers: ['AAPL', 'MSFT'],
      db: 'market.db',
      days: 3,
      yahoo_url: server.url,
      stooq_url: `${server.url}/q/l/?s={symbol}&f=sd2t2ohlcv&h&e=csv`,
      timeout_seconds: 10, // generous: a loaded machine must not turn an answer into a timeout
      tries: 2,
      retry_delay_seconds: 0.01,
      ...extra,
    },
    null,
    2,
  );
}
