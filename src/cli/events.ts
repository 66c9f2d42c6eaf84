/**
 * `herder events [NAME] [-f] [-n 50] [--kind K] [--run ID] [--json]`: what happened
 * in a run — starts, exits, restarts, loop waits, health and limit actions,
 * commands, reloads — with UTC timestamps. From the live run over its
 * socket, else from the file; -f follows a live run until it ends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { call, socketPathFor } from '../actors/control.ts';
import { ROOT_NAME } from '../config/load.ts';
import { openForRead, reading } from '../record/open.ts';
import { actorNames, type EventRow, events, latestRunId, requireRun } from '../record/queries.ts';
import { HerderError } from '../runtime/errors.ts';

export interface EventsOptions {
  readonly follow: boolean;
  readonly lines: number;
  readonly kind?: string | undefined;
  readonly run?: number | undefined;
  /** One JSON object per line (herder.event/1): the line people read and the event's fields. */
  readonly json?: boolean | undefined;
}

const FOLLOW_EVERY_MS = 500;
/** How far back the live run is asked each time; more than a busy run records between two polls. */
const LIVE_WINDOW = 1000;

function format(e: EventRow, json: boolean): string {
  if (json) {
    const { id, ts, process, kind, detail, data } = e;
    return `${JSON.stringify({ format: 'herder.event/1', id, ts, process, kind, detail, data })}\n`;
  }
  const t = new Date(e.ts * 1000).toISOString().replace('T', ' ').slice(0, 23);
  return `${t} ${e.process} ${e.kind}: ${e.detail}${e.id === null ? '  [not yet written]' : ''}\n`;
}

/** An actor the run never had is a mistake in the command, as in `logs`. */
function checkName(name: string | undefined, names: readonly string[], runId: number): void {
  if (name === undefined || names.includes(name) || name === ROOT_NAME) return;
  throw new HerderError(
    'HERDER_ERR_ARGS',
    `herder events: no actor named "${name}" in run ${runId} (actors: ${names.join(', ')}, ${ROOT_NAME})`,
  );
}

export async function eventsCommand(
  dbPath: string,
  name: string | undefined,
  o: EventsOptions,
  write: (text: string) => void,
): Promise<void> {
  const wanted = (e: EventRow) =>
    (name === undefined || e.process === name) && (o.kind === undefined || e.kind === o.kind);
  /** A kind that matches nothing may be good news (no giveups) or a typo: say which kinds there are. */
  const noteKind = (rows: readonly EventRow[]) => {
    if (o.kind === undefined || rows.some((e) => e.kind === o.kind)) return;
    const kinds = [...new Set(rows.map((e) => e.kind))].sort();
    process.stderr.write(`herder events: no "${o.kind}" events (kinds seen: ${kinds.join(', ') || 'none'})\n`);
  };
  const socket = socketPathFor(dbPath);
  // Events the run holds but has not written (a busy or full disk) are shown, marked, unless following:
  // a follower prints each event once, when it is written.
  const live = async (unwritten: boolean): Promise<EventRow[] | null> => {
    try {
      return await call(socket, 'events', { limit: LIVE_WINDOW, unwritten });
    } catch (e) {
      if (e instanceof HerderError && e.code === 'HERDER_ERR_NOT_LIVE') return null;
      throw e;
    }
  };
  let rows = o.run === undefined ? await live(!o.follow) : null;
  if (rows === null) {
    const db = openForRead(dbPath);
    let runId: number;
    try {
      runId = o.run ?? reading(dbPath, () => latestRunId(db));
      const id = runId;
      reading(dbPath, () => requireRun(db, id));
      checkName(
        name,
        reading(dbPath, () => actorNames(db, id)),
        id,
      );
      rows = reading(dbPath, () => events(db, id, 1_000_000));
    } finally {
      db.close();
    }
    for (const e of rows.filter(wanted).slice(-o.lines)) write(format(e, o.json === true));
    noteKind(rows);
    // As `logs -f`: what the file holds, then why there is nothing to follow.
    if (o.follow) process.stderr.write(`herder events: run ${runId} is not live; nothing to follow\n`);
    return;
  }
  if (name !== undefined) {
    const doc = await call(socket, 'status', {});
    checkName(
      name,
      doc.actors.map((a) => a.name),
      doc.run.id,
    );
  }
  let last = 0;
  for (const e of rows.filter(wanted).slice(-o.lines)) write(format(e, o.json === true));
  if (!o.follow) noteKind(rows);
  last = rows.at(-1)?.id ?? 0;
  while (o.follow) {
    await sleep(FOLLOW_EVERY_MS);
    const next = await live(false);
    if (next === null) return; // the run ended
    for (const e of next) if (e.id !== null && e.id > last && wanted(e)) write(format(e, o.json === true));
    last = Math.max(last, next.at(-1)?.id ?? 0);
  }
}
