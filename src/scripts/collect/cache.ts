/**
 * A small SQLite cache for a collector (its own file): values keyed by
 * request, each with fetched_at and the source that served it.
 */
import { createRequire } from 'node:module';
import type sqliteModule from 'node-sqlite3-wasm';
import { StaleRefused } from './errors.ts';

type Db = InstanceType<typeof sqliteModule.Database>;

export class Cache {
  private readonly db: Db;

  constructor(file: string) {
    const sqlite = createRequire(import.meta.url)('node-sqlite3-wasm') as typeof sqliteModule;
    this.db = new sqlite.Database(file);
    this.db.exec(`PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, source TEXT NOT NULL, fetched_at REAL NOT NULL)`);
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
    this.db.close();
  }
}
