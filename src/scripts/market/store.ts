/**
 * The bars table. A bar is identified by (ticker, ts): re-running the same
 * period adds nothing. What may replace a row: a fresh bar from a real source
 * replaces anything that differs (today's bar moves until the close), and
 * always a stale or a demo row. A stale bar (from the cache) or a demo bar
 * only fills a gap: it never overwrites a row.
 */
import type { Db } from '../collect/cache.ts';
import type { Bar } from './sources.ts';

export const BARS_SCHEMA = `CREATE TABLE IF NOT EXISTS bars (
  ticker TEXT NOT NULL,
  ts TEXT NOT NULL,
  open REAL, high REAL, low REAL,
  close REAL NOT NULL,
  volume REAL,
  source TEXT NOT NULL,
  stale INTEGER NOT NULL DEFAULT 0,
  fetched_at TEXT NOT NULL,
  PRIMARY KEY (ticker, ts)
)`;

export interface Stored {
  readonly added: number;
  readonly updated: number;
}

export type Kind = 'fresh' | 'stale' | 'demo';

export function storeBars(
  db: Db,
  ticker: string,
  bars: readonly (Bar & { readonly source: string })[],
  kind: Kind,
  fetchedAtMs: number,
): Stored {
  const fetchedAt = new Date(fetchedAtMs).toISOString();
  let added = 0;
  let updated = 0;
  db.exec('BEGIN');
  try {
    for (const b of bars) {
      const exists = db.get('SELECT 1 AS x FROM bars WHERE ticker = ? AND ts = ?', [ticker, b.ts]) !== null;
      if (!exists) {
        db.run(
          `INSERT INTO bars(ticker, ts, open, high, low, close, volume, source, stale, fetched_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [ticker, b.ts, b.open, b.high, b.low, b.close, b.volume, b.source, kind === 'stale' ? 1 : 0, fetchedAt],
        );
        added++;
      } else if (kind === 'fresh') {
        const r = db.run(
          `UPDATE bars SET open = ?, high = ?, low = ?, close = ?, volume = ?, source = ?, stale = 0, fetched_at = ?
           WHERE ticker = ? AND ts = ? AND (stale = 1 OR source = 'demo' OR open IS NOT ? OR high IS NOT ?
             OR low IS NOT ? OR close IS NOT ? OR volume IS NOT ?)`,
          [
            ...[b.open, b.high, b.low, b.close, b.volume, b.source, fetchedAt, ticker, b.ts],
            ...[b.open, b.high, b.low, b.close, b.volume],
          ],
        );
        updated += r.changes;
      }
    }
    db.exec('COMMIT');
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
  return { added, updated };
}

/** The bars a cache entry keeps: both lists merged by day (the newer wins), the last `keep` of them. */
export function mergeBars<B extends Bar>(older: readonly B[], newer: readonly B[], keep: number): B[] {
  const byDay = new Map<string, B>();
  for (const b of older) byDay.set(b.ts, b);
  for (const b of newer) byDay.set(b.ts, b);
  return [...byDay.values()].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0)).slice(-keep);
}
