/**
 * What happened in a run, read back from the record: its events (with their
 * fields) and its actors' output lines, filtered as `events` and `logs` ask.
 */
import type { Db } from './open.ts';

export interface EventRow {
  /** The row id; null for an event the live run holds that is not written yet. */
  readonly id: number | null;
  readonly ts: number;
  readonly process: string;
  readonly kind: string;
  readonly detail: string;
  /** The event's fields (src/runtime/events.ts); null for an event recorded before they were kept. */
  readonly data: unknown;
}

/** An event's fields from the record's JSON; null when there are none or they do not parse. */
export function eventData(json: unknown): unknown {
  if (typeof json !== 'string') return null;
  try {
    return JSON.parse(json);
  } catch {
    return null;
  }
}

export function events(db: Db, runId: number, limit = 1000): EventRow[] {
  return db
    .all('SELECT id, ts, process, kind, detail, data FROM events WHERE run_id = ? ORDER BY id DESC LIMIT ?', [
      runId,
      limit,
    ])
    .reverse()
    .map((e) => ({
      id: Number(e.id),
      ts: Number(e.ts),
      process: String(e.process),
      kind: String(e.kind),
      detail: String(e.detail),
      data: eventData(e.data),
    }));
}

export interface LogQuery {
  readonly runId: number;
  readonly process?: string | undefined;
  readonly stream?: 'stdout' | 'stderr' | undefined;
  /** Unix seconds. */
  readonly sinceTs?: number | undefined;
  readonly grep?: string | undefined;
  /** Only lines after this row id (following). */
  readonly afterId?: number | undefined;
  readonly limit: number;
}

export interface LogLine {
  /** The row id; null for a line the live run holds that is not written yet. */
  readonly id: number | null;
  readonly ts: number;
  readonly process: string;
  readonly stream: string;
  readonly line: string;
}

const compiled = new Map<string, RegExp>();

/** Makes herder_match(pattern, text) available to SQL on this connection (for --grep). */
export function registerMatch(db: Db): void {
  db.function(
    'herder_match',
    (pattern, text) => {
      const p = String(pattern);
      let re = compiled.get(p);
      if (re === undefined) {
        re = new RegExp(p);
        if (compiled.size > 100) compiled.clear();
        compiled.set(p, re);
      }
      return re.test(String(text)) ? 1 : 0;
    },
    { deterministic: true },
  );
}

/** The newest `limit` matching lines in order, or (with afterId) the next ones after a row. */
export function logLines(db: Db, q: LogQuery): LogLine[] {
  const where = ['run_id = ?'];
  const args: (string | number)[] = [q.runId];
  if (q.process !== undefined) {
    where.push('process = ?');
    args.push(q.process);
  }
  if (q.stream !== undefined) {
    where.push('stream = ?');
    args.push(q.stream);
  }
  if (q.sinceTs !== undefined) {
    where.push('ts >= ?');
    args.push(q.sinceTs);
  }
  if (q.grep !== undefined) {
    where.push('herder_match(?, line)');
    args.push(q.grep);
  }
  const following = q.afterId !== undefined;
  if (following) {
    where.push('id > ?');
    args.push(q.afterId ?? 0);
  }
  const order = following ? 'ASC' : 'DESC';
  const rows = db.all(
    `SELECT id, ts, process, stream, line FROM process_output WHERE ${where.join(' AND ')} ORDER BY id ${order} LIMIT ?`,
    [...args, q.limit],
  );
  const lines = rows.map((r) => ({
    id: Number(r.id),
    ts: Number(r.ts),
    process: String(r.process),
    stream: String(r.stream),
    line: String(r.line),
  }));
  return following ? lines : lines.reverse();
}

/** The actors a run knows, to name them when a user asks for one that does not exist. */
