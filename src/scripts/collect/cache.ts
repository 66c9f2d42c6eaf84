/**
 * A small SQLite cache for a collector (its own file): values keyed by
 * request, each with fetched_at and the source that served it.
 */
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type sqliteModule from 'node-sqlite3-wasm';
import { StaleRefused } from './errors.ts';

export type Db = InstanceType<typeof sqliteModule.Database>;

/**
 * node-sqlite3-wasm locks a database with a `<file>.lock` folder held for the
 * length of each write; a job killed mid-write leaves it behind and every later
 * open would be "locked" for ever. A collector's writes take milliseconds, so a
 * lock folder this old is taken to be such a leftover.
 */
export const STALE_LOCK_MS = 60_000;

/**
 * Opens (creating it and its folder if needed) a SQLite file with
 * node-sqlite3-wasm. A stale lock folder is removed and the interrupted write
 * rolled back from SQLite's journal; `onRecover` is told so.
 */
export function openDb(file: string, onRecover: (line: string) => void = () => {}): Db {
  const sqlite = createRequire(import.meta.url)('node-sqlite3-wasm') as typeof sqliteModule;
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let recovered = false;
  try {
    const age = Date.now() - statSync(`${file}.lock`).mtimeMs;
    if (age > STALE_LOCK_MS) {
      rmdirSync(`${file}.lock`);
      recovered = true;
      onRecover(`${file}: removed a lock left by an interrupted write ${Math.round(age / 1000)} s ago`);
    }
  } catch {
    // no lock folder (the usual case), or it went away meanwhile
  }
  const db = new sqlite.Database(file);
  db.exec('PRAGMA busy_timeout = 5000');
  if (recovered) db.exec('BEGIN IMMEDIATE; ROLLBACK;');
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

  /** The cached value whatever its age; null when absent. */
  peek<T>(key: string): { value: T; source: string; fetchedAt: number } | null {
    const row = this.db.get('SELECT value, source, fetched_at FROM cache WHERE key = ?', [key]);
    if (row === null) return null;
    return {
      value: JSON.parse(String(row.value)) as T,
      source: String(row.source),
      fetchedAt: Number(row.fetched_at) * 1000,
    };
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
