/**
 * A small SQLite cache for a collector (its own file): values keyed by
 * request, each with fetched_at and the source that served it.
 */
import { createRequire } from 'node:module';
import type sqliteModule from 'node-sqlite3-wasm';
import { StaleRefused } from './errors.ts';

export type Db = InstanceType<typeof sqliteModule.Database>;

/** Opens (creating if needed) a SQLite file with node-sqlite3-wasm. */
export function openDb(file: string): Db {
  const sqlite = createRequire(import.meta.url)('node-sqlite3-wasm') as typeof sqliteModule;
  const db = new sqlite.Database(file);
  db.exec('PRAGMA busy_timeout = 5000');
  return db;
}

export class Cache {
  private readonly db: Db;
  private readonly owned: boolean;

  /** A file of its own, or a table in a database the job already has open (then close() leaves it open). */
  constructor(fileOrDb: string | Db) {
    this.owned = typeof fileOrDb === 'string';
    this.db = typeof fileOrDb === 'string' ? openDb(fileOrDb) : fileOrDb;
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, source TEXT NOT NULL, fetched_at REAL NOT NULL)`,
    );
  }

  put(key: string, value: unknown, source: string, fetchedAtMs: number): void {
    this.db.run(
      `INSERT INTO cache(key, value, source, fetched_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, source = excluded.source, fetched_at = excluded.fetched_at`,
      [key, JSON.stringify(value), source, fetchedAtMs / 1000],
    );
  }

  /** The cached value with its age; null when absent; StaleRefused when older than maxAgeMs. */
  get<T>(
    key: string,
    maxAgeMs: number,
    nowMs = Date.now(),
  ): { value: T; source: string; fetchedAt: number; ageMs: number } | null {
    const row = this.db.get('SELECT value, source, fetched_at FROM cache WHERE key = ?', [key]);
    if (row === null) return null;
    const fetchedAt = Number(row.fetched_at) * 1000;
    const ageMs = Math.max(0, nowMs - fetchedAt);
    if (ageMs > maxAgeMs) throw new StaleRefused(key, ageMs, maxAgeMs);
    return { value: JSON.parse(String(row.value)) as T, source: String(row.source), fetchedAt, ageMs };
  }

  close(): void {
    if (this.owned) this.db.close();
  }
}
