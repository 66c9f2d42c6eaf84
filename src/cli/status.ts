/** `herder status`: from the live run over its socket, else from the database file. */
import { call, socketPathFor } from '../actors/control.ts';
import { openForRead, reading } from '../record/open.ts';
import {
  type ActorDetail,
  type ActorStatus,
  actorDetail,
  latestRunId,
  type RunStatus,
  type StatusDoc,
  statusDoc,
} from '../record/queries.ts';
import { HerderError } from '../runtime/errors.ts';
import { renderActor } from './actor-view.ts';
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
      return await call(socketPathFor(dbPath), 'status', {}, 5000);
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
  return (await endedUnseen(dbPath, doc.run, runId)) ? asCrashed(doc) : doc;
}

/** Recorded as running, yet nothing answers on its socket: that herder is gone. */
async function endedUnseen(dbPath: string, run: RunStatus, runId: number | undefined): Promise<boolean> {
  if (run.status !== 'running') return false;
  return !(runId !== undefined && (await answers(dbPath)));
}

/** What its actors were doing when that herder went is not known (the next run kills any that are left). */
function asCrashed(doc: StatusDoc): StatusDoc {
  return {
    ...doc,
    run: crashedRun(doc.run),
    actors: doc.actors.map(asUnknown),
  };
}

const crashedRun = (run: RunStatus): RunStatus => ({ ...run, status: 'crashed', end_reason: crashedReason(run.pid) });

function asUnknown(a: ActorStatus): ActorStatus {
  return UNFINISHED.has(a.state)
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
    : { ...a, uptime_s: null };
}

/** One actor in detail: from the live run, else from the file (`status NAME`, `ctl status NAME`). */
export async function readActor(dbPath: string, name: string, runId?: number): Promise<ActorDetail> {
  if (runId === undefined) {
    try {
      return await call(socketPathFor(dbPath), 'actor', { name }, 5000);
    } catch (e) {
      if (!(e instanceof HerderError) || e.code !== 'HERDER_ERR_NOT_LIVE') throw e;
    }
  }
  const db = openForRead(dbPath);
  let d: ActorDetail;
  try {
    d = reading(dbPath, () => actorDetail(db, runId ?? latestRunId(db), name, Date.now() / 1000, false));
  } finally {
    db.close();
  }
  return (await endedUnseen(dbPath, d.run, runId)) ? { ...d, run: crashedRun(d.run), actor: asUnknown(d.actor) } : d;
}

export async function statusCommand(
  dbPath: string,
  opts: { json: boolean; run?: number | undefined; name?: string | undefined },
): Promise<string> {
  if (opts.name !== undefined) {
    const d = await readActor(dbPath, opts.name, opts.run);
    return opts.json ? `${JSON.stringify(d, null, 2)}\n` : renderActor(d);
  }
  const doc = await readStatus(dbPath, opts.run);
  return opts.json ? `${JSON.stringify(doc, null, 2)}\n` : renderStatus(doc);
}
