/**
 * The market-data collector's own small config, a JSON file so that the
 * TypeScript collector and its stdlib-only Python twin read the same one.
 * Paths in it are relative to the file. Problems come back as one line each,
 * naming the file, the key and the fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const Config = z
  .object({
    tickers: z.array(z.string().regex(/^[A-Za-z0-9^.=-]{1,20}$/, 'a ticker symbol such as AAPL or ^GSPC')).min(1),
    db: z.string().min(1).default('market.db'),
    days: z.number().int().min(1).max(366).default(5),
    max_stale_hours: z.number().positive().default(96),
    yahoo: z.boolean().default(true),
    yahoo_url: z.url().default('https://query2.finance.yahoo.com'),
    stooq: z.boolean().default(true),
    stooq_url: z.string().includes('{symbol}').default('https://stooq.com/q/l/?s={symbol}&f=sd2t2ohlcv&h&e=csv'),
    stooq_suffix: z.string().default('.us'),
    timeout_seconds: z.number().positive().default(10),
    tries: z.number().int().min(1).max(10).default(3),
    retry_delay_seconds: z.number().min(0).default(1),
    demo: z.boolean().default(false),
  })
  .strict();

export type CollectorConfig = z.infer<typeof Config> & { readonly file: string };

export class ConfigProblem extends Error {
  override name = 'ConfigProblem';
}

/** Reads and checks the config; `db` comes back absolute. `dbOverride` (absolute or relative to cwd) wins. */
export function loadCollectorConfig(file: string, dbOverride?: string): CollectorConfig {
  if (!existsSync(file)) {
    throw new ConfigProblem(`${file}: not found (pass --config PATH or set MARKET_DATA_CONFIG)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigProblem(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const parsed = Config.safeParse(raw);
  if (!parsed.success) {
    const known = Object.keys(Config.shape).join(', ');
    const lines = parsed.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `${file}: ${i.keys.join(', ')}: unknown key (known: ${known})`
        : `${file}: ${i.path.join('.') || '(top)'}: ${i.message}`,
    );
    throw new ConfigProblem(lines.join('\n'));
  }
  const db =
    dbOverride !== undefined && dbOverride !== ''
      ? path.resolve(dbOverride)
      : path.resolve(path.dirname(file), parsed.data.db);
  return { ...parsed.data, db, file };
}
