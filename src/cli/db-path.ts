/**
 * Which database a reading command looks at: --db, else the config's
 * runtime.db (relative to the config file), else herder.db beside it. Reading
 * commands must work even when the config no longer validates, so this reads
 * only that one key.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { HerderError } from '../runtime/errors.ts';

export function resolveDbPath(
  opts: { db?: string | undefined; config: string },
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): string {
  if (opts.db !== undefined) return path.resolve(opts.db);
  const config = path.resolve(opts.config);
  let db = 'herder.db';
  let unreadable: string | null = null;
  if (existsSync(config)) {
    try {
      const doc = parseDocument(readFileSync(config, 'utf8'));
      const first = doc.errors[0];
      if (first !== undefined) unreadable = first.message.split('\n')[0] ?? first.message;
      else {
        const raw = doc.toJS() as { runtime?: { db?: unknown } } | null;
        if (typeof raw?.runtime?.db === 'string') db = raw.runtime.db;
      }
    } catch (e) {
      unreadable = e instanceof Error ? e.message : String(e);
    }
  }
  const file = path.resolve(path.dirname(config), db);
  if (unreadable !== null) {
    // Where the run's database is depends on that file: say so instead of guessing in silence.
    if (!existsSync(file)) {
      throw new HerderError(
        'HERDER_ERR_CONFIG_YAML',
        `${opts.config}: ${unreadable}; its runtime.db cannot be read: fix the file, or pass --db F`,
      );
    }
    warn(`herder: ${opts.config}: ${unreadable}; reading ${db} beside it (pass --db F if the run uses another)`);
  }
  if (!existsSync(config) && !existsSync(file)) {
    throw new HerderError(
      'HERDER_ERR_DB_MISSING',
      `${opts.config}: not found, and no ${db} beside it: run this from the folder of your actors file, or pass --config F or --db F`,
    );
  }
  return file;
}
