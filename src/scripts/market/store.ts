/**
 * The bars table. A bar is identified by (ticker, ts): re-running the same
 * period adds nothing; a fresh bar replaces what was there (today's bar moves
 * until the close); a stale bar, served from the cache, never overwrites a row.
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

export function storeBars(
  db: Db,
  ticker: string,
  bars: readonly Bar[],
  source: string,
  stale: boolean,
  fetchedAtMs: number,
): Stored {
  const fetchedAt = new Date(fetchedAtMs).toISOString();
  let added = 0;
  let updated = 0;
  db.exec('BEGIN');
  try {
    for (const b of bars) {
      const values = [ticker, b.ts, b.open, b.high, b.low, b.close, b.volume, source, stale ? 1 : 0, fetchedAt];
      const exists = db.get('SELECT 1 AS x FROM bars WHERE ticker = ? AND ts = ?', [ticker, b.ts]) !== null;
      if (!exists) {
        db.run(
          `INSERT INTO bars(ticker, ts, open, high, low, close, volume, source, stale, fetched_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          values,
        );
        added++;
      } else if (!stale) {
        const r = db.run(
          `UPDATE bars SET open = ?, high = ?, low = ?, close = ?, volume = ?, source = ?, stale = 0, fetched_at = ?
           WHERE ticker = ? AND ts = ? AND (stale = 1 OR open IS NOT ? OR high IS NOT ? OR low IS NOT ?
             OR close IS NOT ? OR volume IS NOT ?)`,
          [
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume,
            source,
            fetchedAt,
            ticker,
            b.ts,
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume,
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
