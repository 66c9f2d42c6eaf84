/** `herder status`: from the live run over its socket, else from the database file. */
import { call, socketPathFor } from '../actors/control.ts';
import { openForRead, reading } from '../record/open.ts';
import { latestRunId, type StatusDoc, statusDoc } from '../record/queries.ts';
import { HerderError } from '../runtime/errors.ts';
import { renderStatus } from './render.ts';

/** Whether a live run answers on the database's control socket. */
export async function answers(dbPath: string): Promise<boolean> {
  try {
    await call(socketPathFor(dbPath), 'ping', {}, 5000);
    return true;
  } catch (e) {
    if (e instanceof HerderError && e.code === 'HERDER_ERR_NOT_LIVE') return false;
    throw e;
  }
}

/** What the record says of a run whose herder is gone without a shutdown. */
export function crashedReason(pid: number): string {
  return `herder (pid ${pid}) ended without a shutdown; the next run cleans up after it`;
}

const UNFINISHED = new Set(['running', 'stopping', 'restarting', 'loop_wait', 'idle']);

export async function readStatus(dbPath: string, runId?: number): Promise<StatusDoc> {
  if (runId === undefined) {
    try {
      return (await call(socketPathFor(dbPath), 'status', {}, 5000)) as StatusDoc;
    } catch (e) {
      if (!(e instanceof HerderError) || e.code !== 'HERDER_ERR_NOT_LIVE') throw e;
    }
  }
  const db = openForRead(dbPath);
  let doc: StatusDoc;
  try {
    doc = reading(dbPath, () => statusDoc(db, runId ?? latestRunId(db), Date.now() / 1000, false));
  } finally {
    db.close();
  }
  if (doc.run.status !== 'running') return doc;
  if (runId !== undefined && (await answers(dbPath))) return doc;
  // Recorded as running, yet nothing answers on its socket: that herder is gone, and what its actors were
  // doing when it went is not known (the next run kills any that are left).
  return {
    ...doc,
    run: { ...doc.run, status: 'crashed', end_reason: crashedReason(doc.run.pid) },
    actors: doc.actors.map((a) =>
      UNFINISHED.has(a.state)
        ? {
            ...a,
            state: 'unknown',
            pid: null,
            uptime_s: null,
            next_run_at: null,
            cpu_percent: null,
            rss_mb: null,
            detail: `was ${a.state}${a.pid === null ? '' : ` (pid ${a.pid})`} when herder ended`,
          }
        : { ...a, uptime_s: null },
    ),
  };
}

export async function statusCommand(
  dbPath: string,
  opts: { json: boolean; run?: number | undefined },
): Promise<string> {
  const doc = await readStatus(dbPath, opts.run);
  return opts.json ? `${JSON.stringify(doc, null, 2)}\n` : renderStatus(doc);
}
