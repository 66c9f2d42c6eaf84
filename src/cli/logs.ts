/**
 * `herder logs [NAME] [-f] [-n 100] [--stream S] [--since 10m] [--grep RE] [--run ID]`:
 * captured output with timestamps (UTC), one actor's or all interleaved and
 * prefixed by name. From the live run over its socket, else from the file;
 * -f follows a live run until it ends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { call, socketPathFor } from '../actors/control.ts';
import { openForRead, reading } from '../record/open.ts';
import {
  actorNames,
  type LogLine,
  latestRunId,
  logLines,
  registerMatch,
  requireRun,
  type StatusDoc,
} from '../record/queries.ts';
import { durationForms, parseDuration } from '../runtime/duration.ts';
import { HerderError } from '../runtime/errors.ts';

export interface LogsOptions {
  readonly follow: boolean;
  readonly lines: number;
  readonly stream?: 'stdout' | 'stderr' | undefined;
  readonly since?: string | undefined;
  readonly grep?: string | undefined;
  readonly run?: number | undefined;
}

const FOLLOW_EVERY_MS = 500;

/** --since: "90s", "10m", "2h", "1d", "1h30m" (or a bare number of seconds) -> seconds. */
export function parseSince(text: string): number {
  const ms = parseDuration(text, 's');
  if (ms === null) {
    throw new HerderError(
      'HERDER_ERR_ARGS',
      `herder logs --since: "${text}" is not a duration (${durationForms('s')})`,
    );
  }
  return ms / 1000;
}

function format(l: LogLine): string {
  const t = new Date(l.ts * 1000).toISOString().replace('T', ' ').slice(0, 23);
  const mark = l.id === null ? '  [not yet written]' : '';
  return `${t} ${l.process} ${l.stream === 'stderr' ? '!' : '|'} ${l.line}${mark}\n`;
}

export async function logsCommand(
  dbPath: string,
  name: string | undefined,
  o: LogsOptions,
  write: (text: string) => void,
): Promise<void> {
  if (o.grep !== undefined) {
    try {
      new RegExp(o.grep);
    } catch (e) {
      throw new HerderError(
        'HERDER_ERR_ARGS',
        `herder logs --grep: /${o.grep}/ is not a valid regular expression (${(e as Error).message})`,
      );
    }
  }
  const query = {
    process: name,
    stream: o.stream,
    sinceTs: o.since === undefined ? undefined : Date.now() / 1000 - parseSince(o.since),
    grep: o.grep,
    limit: o.lines,
  };
  const socket = socketPathFor(dbPath);
  let live: StatusDoc | null = null;
  try {
    live = await call(socket, 'status', {});
  } catch (e) {
    if (!(e instanceof HerderError) || e.code !== 'HERDER_ERR_NOT_LIVE') throw e;
  }
  if (live !== null && (o.run === undefined || o.run === live.run.id)) {
    const names = live.actors.map((a) => a.name);
    if (name !== undefined && !names.includes(name)) {
      throw new HerderError(
        'HERDER_ERR_ARGS',
        `herder logs: no actor named "${name}" in run ${live.run.id} (actors: ${names.join(', ')})`,
      );
    }
    // Lines the run holds but has not written are shown, marked, unless following (then each comes once, written).
    let lines = await call(socket, 'logs', { ...query, unwritten: !o.follow });
    for (const l of lines) write(format(l));
    if (!o.follow) return;
    let last = lines.at(-1)?.id ?? 0;
    for (;;) {
      await sleep(FOLLOW_EVERY_MS);
      try {
        lines = await call(socket, 'logs', {
          ...query,
          limit: 10_000,
          afterId: last,
          sinceTs: undefined,
        });
      } catch (e) {
        if (e instanceof HerderError && e.code === 'HERDER_ERR_NOT_LIVE') {
          process.stderr.write('herder logs: the run has ended\n');
          return;
        }
        throw e;
      }
      for (const l of lines) write(format(l));
      last = lines.at(-1)?.id ?? last;
    }
  }
  const db = openForRead(dbPath);
  try {
    const runId = o.run ?? reading(dbPath, () => latestRunId(db));
    reading(dbPath, () => requireRun(db, runId));
    const names = reading(dbPath, () => actorNames(db, runId));
    if (name !== undefined && !names.includes(name)) {
      throw new HerderError(
        'HERDER_ERR_ARGS',
        `herder logs: no actor named "${name}" in run ${runId} (actors: ${names.join(', ')})`,
      );
    }
    registerMatch(db);
    for (const l of reading(dbPath, () => logLines(db, { ...query, runId }))) write(format(l));
    if (o.follow) process.stderr.write(`herder logs: run ${runId} is not live; nothing to follow\n`);
  } finally {
    db.close();
  }
}
