#!/usr/bin/env python3
"""The market-data collector as a plain Python script (stdlib only).

The twin of market-data-collector.ts, for a process actor: the same JSON config,
the same sources in the same order (Yahoo's chart API, then Stooq's CSV quotes,
then the cache), the same bars and cache tables, the same error types. Errors
go to herder through the health channel (process_errors rows), and as a line
on stderr, where an error pattern can match them.

    python3 src/scripts/market_data_collector.py [--config F] [--db F] [--demo]

Exit 0 when every ticker got a row (fresh or stale), 1 with a summary when some
got nothing, 2 for a bad config.
"""
import argparse
import csv
import datetime as dt
import email.utils
import http.client
import io
import json
import os
import random
import socket
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

try:
    from zoneinfo import ZoneInfo
except ImportError:  # Python < 3.9: dates fall back to Yahoo's gmtoffset
    ZoneInfo = None

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import health_channel as hc  # noqa: E402

DEFAULTS = {
    "db": "market.db",
    "days": 5,
    "max_stale_hours": 96,
    "yahoo": True,
    "yahoo_url": "https://query2.finance.yahoo.com",
    "stooq": True,
    "stooq_url": "https://stooq.com/q/l/?s={symbol}&f=sd2t2ohlcv&h&e=csv",
    "stooq_suffix": ".us",
    "timeout_seconds": 10,
    "tries": 3,
    "retry_delay_seconds": 1,
    "demo": False,
}
BREAK_AFTER = 5
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) market-data-collector"

BARS_SCHEMA = """CREATE TABLE IF NOT EXISTS bars (
  ticker TEXT NOT NULL, ts TEXT NOT NULL, open REAL, high REAL, low REAL, close REAL NOT NULL,
  volume REAL, source TEXT NOT NULL, stale INTEGER NOT NULL DEFAULT 0, fetched_at TEXT NOT NULL,
  PRIMARY KEY (ticker, ts))"""
CACHE_SCHEMA = """CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL,
  source TEXT NOT NULL, fetched_at REAL NOT NULL)"""


class SourceError(Exception):
    """A failure with the error_type it is recorded under."""

    def __init__(self, error_type, message, context="", retry=False, retry_after=None):
        super().__init__(message)
        self.error_type = error_type
        self.context = context
        self.retry = retry
        self.retry_after = retry_after


class ConfigProblem(Exception):
    """Every problem of a config file, one line each (as `herder check` reports them)."""

    def __init__(self, lines):
        super().__init__("\n".join(lines))
        self.lines = lines


def _check(path, c):
    """The same rules as the TypeScript collector's schema (market/config.ts); returns every problem."""
    import re

    problems = []

    def problem(key, what):
        problems.append(f"{path}: {key}: {what}")

    tickers = c.get("tickers")
    if not isinstance(tickers, list) or not tickers:
        problem("tickers", "a non-empty list of symbols such as [\"AAPL\"]")
    else:
        for i, t in enumerate(tickers):
            if not isinstance(t, str) or not re.fullmatch(r"[A-Za-z0-9^.=-]{1,20}", t):
                problem(f"tickers.{i}", "a ticker symbol such as AAPL or ^GSPC")

    def number(key, lo, hi=None, integer=False, lo_open=False):
        v = c[key]
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and (not integer or float(v).is_integer())
        ok = ok and (v > lo if lo_open else v >= lo) and (hi is None or v <= hi)
        if not ok:
            rng = f"{'more than' if lo_open else 'at least'} {lo}" + (f" and at most {hi}" if hi is not None else "")
            problem(key, f"{'a whole number' if integer else 'a number'} {rng}")

    number("days", 1, 366, integer=True)
    number("max_stale_hours", 0, lo_open=True)
    number("timeout_seconds", 0, lo_open=True)
    number("tries", 1, 10, integer=True)
    number("retry_delay_seconds", 0)
    for key in ("yahoo", "stooq", "demo"):
        if not isinstance(c[key], bool):
            problem(key, "true or false")
    for key in ("db", "yahoo_url", "stooq_url", "stooq_suffix"):
        if not isinstance(c[key], str) or (key != "stooq_suffix" and not c[key]):
            problem(key, "a string")
    if isinstance(c["yahoo_url"], str) and c["yahoo_url"] and not c["yahoo_url"].startswith(("http://", "https://")):
        problem("yahoo_url", "an http:// or https:// URL")
    if isinstance(c["stooq_url"], str) and c["stooq_url"] and "{symbol}" not in c["stooq_url"]:
        problem("stooq_url", "a URL with {symbol} where the symbol goes")
    if not problems:
        c["days"], c["tries"] = int(c["days"]), int(c["tries"])
    return problems


def load_config(path, db_override=None):
    if not os.path.exists(path):
        raise ConfigProblem([f"{path}: not found (pass --config PATH or set MARKET_DATA_CONFIG)"])
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except ValueError as e:
        raise ConfigProblem([f"{path}: not valid JSON: {e}"]) from None
    if not isinstance(raw, dict):
        raise ConfigProblem([f"{path}: expected a JSON object"])
    known = ", ".join(DEFAULTS)
    problems = [f"{path}: {k}: unknown key (known: tickers, {known})" for k in sorted(set(raw) - set(DEFAULTS) - {"tickers"})]
    c = dict(DEFAULTS, **raw)
    problems += _check(path, c)
    if problems:
        raise ConfigProblem(problems)
    base = os.path.dirname(os.path.abspath(path))
    c["db"] = os.path.abspath(db_override) if db_override else os.path.join(base, c["db"])
    return c


def http_get(url, timeout):
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json, text/csv"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.read().decode("utf-8", "replace"), res.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
        retry_after = parse_retry_after(e.headers.get("Retry-After"))
        raise SourceError(f"http.{e.code}", f"{url} answered HTTP {e.code}", body[:500],
                          retry=e.code == 429 or e.code >= 500, retry_after=retry_after) from None
    except (socket.timeout, TimeoutError):
        raise SourceError("timeout", f"no answer within {timeout} s", retry=True) from None
    except urllib.error.URLError as e:
        if isinstance(e.reason, (socket.timeout, TimeoutError)):
            raise SourceError("timeout", f"no answer within {timeout} s", retry=True) from None
        raise SourceError("network", f"{urllib.parse.urlsplit(url).netloc}: {e.reason}", retry=True) from None
    except (ConnectionError, OSError, http.client.HTTPException) as e:
        # refused, reset, or a body cut off mid-way (IncompleteRead)
        raise SourceError("network", f"{urllib.parse.urlsplit(url).netloc}: {e!r}", retry=True) from None


def parse_retry_after(value):
    """Seconds or an HTTP date, as in a Retry-After header; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time()) if when else None


def yahoo_bars(ticker, c):
    now = int(time.time())
    query = urllib.parse.urlencode({"period1": now - window_days(c["days"]) * 86400, "period2": now, "interval": "1d"})
    url = f"{c['yahoo_url'].rstrip('/')}/v8/finance/chart/{urllib.parse.quote(ticker)}?{query}"
    try:
        text, ctype = http_get(url, c["timeout_seconds"])
    except SourceError as e:
        # A 404 with Yahoo's own error body: "No data found, symbol may be delisted".
        try:
            described = json.loads(e.context)["chart"]["error"]["description"]
        except (ValueError, KeyError, TypeError):
            raise e from None
        raise SourceError("no_data", f"{ticker}: {described}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        # The yfinance "JSON errors": usually Yahoo's HTML rate-limit page; worth a later try.
        raise SourceError("json", f"JSONDecodeError: {e} ({ctype or 'no content type'})", text[:500], retry=True) from None
    chart = doc.get("chart") or {}
    if chart.get("error"):
        raise SourceError("no_data", f"{ticker}: {chart['error'].get('description', chart['error'])}")
    try:
        result = chart["result"][0]
        offset = result["meta"].get("gmtoffset") or 0
        zone = result["meta"].get("exchangeTimezoneName")
        stamps = result.get("timestamp") or []
        q = result["indicators"]["quote"][0]
    except (KeyError, IndexError, TypeError) as e:
        raise SourceError("validation", f"{ticker}: unexpected chart shape ({e!r})", text[:500]) from None
    bars = []
    for i, stamp in enumerate(stamps):
        close = q.get("close", [None])[i] if i < len(q.get("close", [])) else None
        if close is None:
            continue
        day = trading_day(stamp, zone, offset)

        def pick(name, i=i):
            values = q.get(name) or []
            return values[i] if i < len(values) else None

        bars.append({"ts": day, "open": pick("open"), "high": pick("high"), "low": pick("low"),
                     "close": close, "volume": pick("volume")})
    if not bars:
        raise SourceError("no_data", f"{ticker}: Yahoo has no daily bars in the last {c['days']} days")
    return bars[-c["days"]:]


def window_days(bars):
    """Calendar days that hold `bars` trading days, with room for a week of holidays."""
    return -(-bars * 7 // 5) + 7


def trading_day(stamp, zone, offset):
    """The bar's day in the exchange's own time zone; today's gmtoffset would be wrong across a DST change."""
    if zone and ZoneInfo is not None:
        try:
            return dt.datetime.fromtimestamp(stamp, ZoneInfo(zone)).strftime("%Y-%m-%d")
        except (KeyError, ValueError, OSError):
            pass  # an unknown zone here: fall back to the offset
    return dt.datetime.fromtimestamp(stamp + offset, dt.timezone.utc).strftime("%Y-%m-%d")


def stooq_symbol(ticker, suffix):
    t = ticker.lower()
    return t if "." in t or t.startswith("^") else t + suffix


def stooq_bars(ticker, c):
    symbol = stooq_symbol(ticker, c["stooq_suffix"])
    url = c["stooq_url"].replace("{symbol}", urllib.parse.quote(symbol))
    text, _ = http_get(url, c["timeout_seconds"])
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip().lower() for h in (rows[0] if rows else [])]
    if "date" not in header or "close" not in header:
        raise SourceError("payload.csv", f"stooq {symbol} answered something that is not Stooq CSV", text[:500])

    def num(row, name):
        if name not in header:
            return None
        i = header.index(name)
        try:
            return float(row[i]) if i < len(row) and row[i].strip() not in ("", "N/D") else None
        except ValueError:
            return None

    bars = []
    for row in rows[1:]:
        date = row[header.index("date")].strip() if len(row) > header.index("date") else ""
        close = num(row, "close")
        if len(date) == 10 and date[4] == "-" and close is not None:
            bars.append({"ts": date, "open": num(row, "open"), "high": num(row, "high"), "low": num(row, "low"),
                         "close": close, "volume": num(row, "volume")})
    if not bars:
        raise SourceError("no_data", f"stooq {symbol}: Stooq has no data for it (N/D)")
    return bars[-c["days"]:]


def demo_bars(ticker, c):
    rnd = random.Random(ticker)
    price, bars, days = 50 + rnd.random() * 200, [], []
    today, back = dt.datetime.now(dt.timezone.utc), 0
    while len(days) < c["days"]:  # the last `days` weekdays
        d = today - dt.timedelta(days=back)
        if d.weekday() < 5:
            days.insert(0, d.strftime("%Y-%m-%d"))
        back += 1
    for day in days:
        start = price
        price = max(1.0, price * (1 + (rnd.random() - 0.5) * 0.04))
        bars.append({"ts": day, "open": round(start, 2),
                     "high": round(max(start, price) * 1.01, 2), "low": round(min(start, price) * 0.99, 2),
                     "close": round(price, 2), "volume": rnd.randint(1_000_000, 11_000_000)})
    return bars


class Source:
    """One source with retries (exponential backoff, jitter, Retry-After) and a simple circuit breaker."""

    def __init__(self, name, fetch, c):
        self.name, self.fetch, self.c = name, fetch, c
        self.failures_in_a_row = 0

    def get(self, ticker):
        if self.failures_in_a_row >= BREAK_AFTER:
            raise SourceError("circuit.open", "skipped: this source failed too many times in a row (circuit open)")
        tries, delay = self.c["tries"], self.c["retry_delay_seconds"]
        for attempt in range(1, tries + 1):
            hc.heartbeat()  # a run that is backing off is alive, not stalled
            try:
                bars = self.fetch(ticker, self.c)
                self.failures_in_a_row = 0
                return bars
            except SourceError as e:
                # Only failures that say the source is unwell count: a 404 for one symbol says nothing of the others.
                if e.retry:
                    self.failures_in_a_row += 1
                if not e.retry or attempt == tries or self.failures_in_a_row >= BREAK_AFTER:
                    raise
                wait = e.retry_after if e.retry_after is not None else delay * 2 ** (attempt - 1) * (1 - 0.2 * random.random())
                time.sleep(min(wait, 30))


def report(ticker, error_type, message, context=""):
    print(f"{ticker}: {error_type}: {message}", file=sys.stderr, flush=True)
    if os.environ.get("HERDER_HEALTH_FD"):
        hc.error(error_type, f"{ticker}: {message}", context)


def store(db, ticker, bars, kind, fetched_at):
    """Bars (each with its source) into the table. A fresh bar replaces what differs, and any stale or demo row;
    a stale or demo bar only fills a gap."""
    stamp = dt.datetime.fromtimestamp(fetched_at, dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    added = updated = 0
    with db:
        for b in bars:
            values = (b["open"], b["high"], b["low"], b["close"], b["volume"])
            exists = db.execute("SELECT 1 FROM bars WHERE ticker = ? AND ts = ?", (ticker, b["ts"])).fetchone()
            if exists is None:
                db.execute("INSERT INTO bars(ticker, ts, open, high, low, close, volume, source, stale, fetched_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (ticker, b["ts"], *values, b["source"], 1 if kind == "stale" else 0, stamp))
                added += 1
            elif kind == "fresh":
                cur = db.execute(
                    "UPDATE bars SET open = ?, high = ?, low = ?, close = ?, volume = ?, source = ?, stale = 0,"
                    " fetched_at = ? WHERE ticker = ? AND ts = ? AND (stale = 1 OR source = 'demo' OR open IS NOT ?"
                    " OR high IS NOT ? OR low IS NOT ? OR close IS NOT ? OR volume IS NOT ?)",
                    (*values, b["source"], stamp, ticker, b["ts"], *values))
                updated += cur.rowcount
    return added, updated


def merge_bars(older, newer, keep):
    """Both lists merged by day (the newer wins), the last `keep` of them."""
    by_day = {b["ts"]: b for b in older}
    by_day.update({b["ts"]: b for b in newer})
    return [by_day[d] for d in sorted(by_day)][-keep:]


def collect(c):
    """One run; returns the list of tickers that got nothing, with why."""
    os.makedirs(os.path.dirname(c["db"]) or ".", exist_ok=True)
    db = sqlite3.connect(c["db"], timeout=5)
    db.execute(BARS_SCHEMA)
    db.execute(CACHE_SCHEMA)
    if c["demo"]:
        sources = [Source("demo", demo_bars, c)]
    else:
        sources = ([Source("yahoo", yahoo_bars, c)] if c["yahoo"] else []) + \
                  ([Source("stooq", stooq_bars, c)] if c["stooq"] else [])
    failed, stale_count = [], 0
    for i, ticker in enumerate(c["tickers"]):
        key = f"{'demo' if c['demo'] else 'bars'}:{ticker}"
        served, why = None, []
        for s in sources:
            try:
                bars = [dict(b, source=s.name) for b in s.get(ticker)]
                served = (bars, s.name, False, time.time())
                row = db.execute("SELECT value FROM cache WHERE key = ?", (key,)).fetchone()
                # One source may serve fewer days than another (Stooq's quote is the latest bar): keep them all.
                kept = merge_bars(json.loads(row[0]) if row else [], bars, c["days"])
                db.execute("INSERT INTO cache(key, value, source, fetched_at) VALUES (?, ?, ?, ?) ON CONFLICT(key)"
                           " DO UPDATE SET value = excluded.value, source = excluded.source,"
                           " fetched_at = excluded.fetched_at", (key, json.dumps(kept), s.name, served[3]))
                db.commit()
                break
            except SourceError as e:
                report(ticker, f"{s.name}.{e.error_type}", str(e), e.context)
                why.append(f"{s.name}: {e.error_type}")
        if served is None:
            row = db.execute("SELECT value, source, fetched_at FROM cache WHERE key = ?", (key,)).fetchone()
            max_age = c["max_stale_hours"] * 3600
            if row is None:
                why.append("cache: empty")
            elif time.time() - row[2] > max_age:
                why.append(f"cache: {(time.time() - row[2]) / 3600:.1f} h old, beyond the {c['max_stale_hours']} h allowed")
            else:
                bars = [dict(b, source=f"cache({b.get('source', row[1])})") for b in json.loads(row[0])]
                served = (bars, f"cache({row[1]})", True, row[2])
        if served is None:
            failed.append(f"{ticker} ({', '.join(why)})")
            print(f"{ticker}: nothing collected: {', '.join(why)}", file=sys.stderr, flush=True)
        else:
            bars, source, stale, fetched_at = served
            kind = "demo" if c["demo"] else "stale" if stale else "fresh"
            added, updated = store(db, ticker, bars, kind, fetched_at)
            age = f" (stale, {(time.time() - fetched_at) / 3600:.1f} h old)" if stale else ""
            print(f"{ticker}: {len(bars)} bars from {source}{age}: {added} new, {updated} updated", flush=True)
            if stale:
                stale_count += 1
                report(ticker, "cache.stale", f"served from the cache, {(time.time() - fetched_at) / 3600:.1f} h old")
        hc.progress((i + 1) / len(c["tickers"]))
        hc.heartbeat()
    db.close()
    if not failed:
        print(f"collected {len(c['tickers'])} tickers into {c['db']}"
              + (f"; {stale_count} from the cache (stale)" if stale_count else ""), flush=True)
    return failed


def main():
    parser = argparse.ArgumentParser(description="Fetch the latest daily bars into a SQLite table.")
    parser.add_argument("--config", default=os.environ.get("MARKET_DATA_CONFIG", "examples/market-data.json"))
    parser.add_argument("--db", default=os.environ.get("MARKET_DATA_DB"))
    parser.add_argument("--demo", action="store_true", default=os.environ.get("MARKET_DATA_DEMO") == "1")
    args = parser.parse_args()
    try:
        c = load_config(args.config, args.db)
    except ConfigProblem as e:
        for line in e.lines:
            print(f"market_data_collector: {line}", file=sys.stderr)
        return 2
    if args.demo:
        c["demo"] = True
    failed = collect(c)
    if failed:
        print(f"market_data_collector: {len(failed)} of {len(c['tickers'])} tickers got nothing: {'; '.join(failed)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
