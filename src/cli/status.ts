/** `herder status`: from the live run over its socket, else from the database file. */
import { call, socketPathFor } from '../actors/control.ts';
import { openForRead, reading } from '../record/open.ts';
import { latestRunId, type StatusDoc, statusDoc } from '../record/queries.ts';
import { HerderError } from '../runtime/errors.ts';
import { renderStatus } from './render.ts';

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
  // Recorded as running, yet nothing answers on its socket: that herder is gone.
  return {
    ...doc,
    run: {
      ...doc.run,
      status: 'crashed',
      end_reason: `herder (pid ${doc.run.pid}) ended without a shutdown; the next run cleans up after it`,
    },
    actors: doc.actors.map((a) => ({ ...a, uptime_s: null })),
  };
}

export async function statusCommand(
  dbPath: string,
  opts: { json: boolean; run?: number | undefined },
): Promise<string> {
  const doc = await readStatus(dbPath, opts.run);
  return opts.json ? `${JSON.stringify(doc, null, 2)}\n` : renderStatus(doc);
}
