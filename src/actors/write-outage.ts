/**
 * What the logging actor says when writes to the database fail and when they
 * work again: one warning on stderr at the start of an outage, one at its end,
 * and the outage recorded as an error of the run once it is over. Also how
 * soon a failed batch is tried again.
 */
import { formatMs } from '../runtime/duration.ts';

/** Writes that fail, from the first failure until one succeeds again. */
export interface WriteFailure {
  readonly code: string;
  readonly message: string;
  /** Monotonic, for the outage's length; and wall-clock seconds, for what status shows. */
  readonly since: number;
  readonly sinceTs: number;
}

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;
const RETRY_FULL_MS = 1_000;

/** A full filesystem fails a write at its first page, cheaply: try every second, to write as soon as space returns. */
export function nextRetryMs(code: string, lastMs: number): number {
  if (code === 'HERDER_ERR_DB_FULL') return RETRY_FULL_MS;
  return Math.min(RETRY_MAX_MS, lastMs === 0 ? RETRY_FIRST_MS : lastMs * 2);
}

export function outageBegins(f: WriteFailure, queued: { records: number; lines: number }): string {
  const kept = `records are kept in memory (${queued.records} queued, ${queued.lines} output lines) and written when`;
  return f.code === 'HERDER_ERR_DB_FULL'
    ? `herder: ${f.message}; ${kept} space returns`
    : `herder: could not write to the database (${f.message}); ${kept} it accepts writes again`;
}

/** The outage is over after `tookMs`: the warning, and the error row it is recorded as. */
export function outageEnds(
  f: WriteFailure,
  tookMs: number,
): { warning: string; errorType: string; message: string; context: string } {
  const took = formatMs(tookMs);
  return {
    warning: `herder: the database accepts writes again after ${took}; nothing queued was lost`,
    errorType: f.code === 'HERDER_ERR_DB_FULL' ? 'disk_full' : 'db_write_failed',
    message: `writes to the database failed for ${took} (${f.message}); the records waited in memory and were written when it recovered`,
    context: `first failure at ${new Date(f.sinceTs * 1000).toISOString()}`,
  };
}
