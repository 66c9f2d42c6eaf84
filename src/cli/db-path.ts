/**
 * Which database a reading command looks at: --db, else the config's
 * runtime.db (relative to the config file), else herder.db beside it. Reading
 * commands must work even when the config no longer validates, so this reads
 * only that one key.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { HerderError } from '../runtime/errors.ts';

export function resolveDbPath(opts: { db?: string | undefined; config: string }): string {
  if (opts.db !== undefined) return path.resolve(opts.db);
  const config = path.resolve(opts.config);
  let db = 'herder.db';
  if (existsSync(config)) {
    try {
      const raw = parse(readFileSync(config, 'utf8')) as { runtime?: { db?: unknown } } | null;
      if (typeof raw?.runtime?.db === 'string') db = raw.runtime.db;
    } catch {
      // an unreadable config still leaves the default
    }
  }
  const file = path.resolve(path.dirname(config), db);
  if (!existsSync(config) && !existsSync(file)) {
    throw new HerderError(
      'HERDER_ERR_DB_MISSING',
      `${opts.config}: not found, and no ${db} beside it: run this from the folder of your actors file, or pass --config F or --db F`,
    );
  }
  return file;
}
