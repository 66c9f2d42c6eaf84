/**
 * Opening the database, with every failure turned into a HerderError that
 * names the file and the fix.
 */
import fs, { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type sqliteModule from 'node-sqlite3-wasm';
import { HerderError } from '../runtime/errors.ts';
import { clearStaleLock } from './owner.ts';
import { DDL, MIGRATIONS, SCHEMA_VERSION } from './schema.ts';

export type Db = InstanceType<typeof sqliteModule.Database>;

/**
 * node-sqlite3-wasm compiles and instantiates its WebAssembly when it is
 * loaded, so it is loaded on first use: only the logging thread (and a
 * `status` reading a finished run) pays for it, never herder's main thread.
 */
let loaded: typeof sqliteModule | null = null;
function sqlite(): typeof sqliteModule {
  loaded ??= createRequire(import.meta.url)('node-sqlite3-wasm') as typeof sqliteModule;
  return loaded;
}

function translate(file: string, e: unknown): HerderError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/not a database|malformed|corrupt/i.test(msg)) {
    return new HerderError(
      'HERDER_ERR_DB_CORRUPT',
      `${file}: not a herder database or damaged (${msg}); move it aside or pass --db NEW.db`,
      { cause: e },
    );
  }
  if (/locked|busy/i.test(msg)) {
    const lock = `${file}.lock`;
    const left = existsSync(lock)
      ? `; if nothing uses it any more, the folder ${lock} was left by a program killed mid-write: remove it`
      : '';
    return new HerderError(
      'HERDER_ERR_DB_OPEN',
      `${file}: the database is locked by another program (${msg}); close that program or pass --db NEW.db${left}`,
      { cause: e },
    );
  }
  return new HerderError(
    'HERDER_ERR_DB_OPEN',
    `${file}: cannot open the database (${msg}); check that its folder exists and is writable, or pass --db`,
    { cause: e },
  );
}

function checkVersion(file: string, db: Db): number {
  const row = db.get('PRAGMA user_version');
  const version = Number(row?.user_version ?? 0);
  if (version > SCHEMA_VERSION) {
    throw new HerderError(
      'HERDER_ERR_DB_VERSION',
      `${file}: written by a newer herder (schema ${version}, this one knows ${SCHEMA_VERSION}); upgrade herder or pass --db NEW.db`,
    );
  }
  return version;
}

/** Opens (creating if needed) the database for writing and brings its schema up to date. */
export function openForWrite(file: string): Db {
  let db: Db | undefined;
  try {
    db = new (sqlite().Database)(file);
    db.exec('PRAGMA busy_timeout = 5000');
    const version = checkVersion(file, db);
    if (version === 0) {
      // A new file, or another program's database: never add herder's tables to someone else's data.
      const theirs = db.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
      if (theirs.length > 0) {
        const names = theirs.map((t) => String(t.name)).slice(0, 5);
        throw new HerderError(
          'HERDER_ERR_DB_CORRUPT',
          `${file}: not a herder database (it holds other tables: ${names.join(', ')}); pass --db NEW.db`,
        );
      }
      db.exec(`BEGIN; ${DDL}; PRAGMA user_version = ${SCHEMA_VERSION}; COMMIT;`);
    } else if (version < SCHEMA_VERSION) {
      let steps = '';
      for (let v = version; v < SCHEMA_VERSION; v++) steps += MIGRATIONS[v] ?? '';
      db.exec(`BEGIN; ${steps} PRAGMA user_version = ${SCHEMA_VERSION}; COMMIT;`);
    }
    db.exec('PRAGMA synchronous = NORMAL');
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      // already failing; the first error is the one to report
    }
    throw e instanceof HerderError ? e : translate(file, e);
  }
}

/**
 * Opens an existing database read-only, for the CLI's readers. A lock left by
 * a herder that was killed mid-write is cleared first, and its interrupted
 * write rolled back, so that the record of a crashed run can still be read.
 */
export function openForRead(
  file: string,
  note: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Db {
  if (!existsSync(file)) {
    throw new HerderError(
      'HERDER_ERR_DB_MISSING',
      `${file}: no database yet (start a run first, or pass --db / --config to pick another)`,
    );
  }
  if (!folderWritable(file)) {
    // Nothing can write here, so nothing is written: no lock folder, no clean-up of a dead writer's lock.
    readWithoutLock(file);
    if (!said.has(file)) {
      said.add(file);
      note(`herder: ${file} is on a read-only filesystem (or in a folder you cannot write): reading it as it is`);
    }
  } else if (clearStaleLock(file) !== null) {
    try {
      const db = new (sqlite().Database)(file, { fileMustExist: true });
      db.exec('BEGIN IMMEDIATE; ROLLBACK;');
      db.close();
    } catch (e) {
      throw translate(file, e);
    }
  }
  let db: Db | undefined;
  try {
    db = new (sqlite().Database)(file, { readOnly: true, fileMustExist: true });
    db.exec('PRAGMA busy_timeout = 5000');
    const version = checkVersion(file, db);
    if (version === 0) {
      throw new HerderError(
        'HERDER_ERR_DB_CORRUPT',
        `${file}: not a herder database (no schema); pass --db to pick the right file`,
      );
    }
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      // already failing
    }
    throw e instanceof HerderError ? e : translate(file, e);
  }
}

/**
 * node-sqlite3-wasm locks a database, even to read it, by making the folder
 * `<db>.lock` beside it and removing it after each query. On a read-only
 * medium (an archive, a snapshot, a folder this user cannot write) that fails
 * as a "disk I/O error", though nobody can be writing there either. For those
 * files, and only those, the lock is skipped: the one fs call it makes is
 * answered here instead (node:fs is the same object for every module).
 */
const lockless = new Set<string>();
let lockHooked = false;
function readWithoutLock(file: string): void {
  lockless.add(`${path.resolve(file)}.lock`);
  if (lockHooked) return;
  lockHooked = true;
  const { mkdirSync, rmdirSync } = fs;
  fs.mkdirSync = ((p: fs.PathLike, o?: fs.MakeDirectoryOptions | fs.Mode | null) =>
    typeof p === 'string' && lockless.has(p) ? undefined : mkdirSync(p, o)) as typeof fs.mkdirSync;
  fs.rmdirSync = ((p: fs.PathLike, o?: fs.RmDirOptions) =>
    typeof p === 'string' && lockless.has(p) ? undefined : rmdirSync(p, o)) as typeof fs.rmdirSync;
}

function folderWritable(file: string): boolean {
  try {
    accessSync(path.dirname(path.resolve(file)), constants.W_OK);
    return true;
  } catch {
    return false; // EROFS, EACCES
  }
}

const said = new Set<string>();

/** Runs a read query, turning SQLite's errors into one clear line. */
export function reading<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw e instanceof HerderError ? e : translate(file, e);
  }
}
