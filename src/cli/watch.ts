/** Where the dashboard's data comes from: the live run's socket, or the file of a finished run. */
import { userInfo } from 'node:os';
import { call, socketPathFor } from '../actors/control.ts';
import { openForRead, reading } from '../record/open.ts';
import { events, latestRunId, logLines, type StatusDoc } from '../record/queries.ts';
import { HerderError } from '../runtime/errors.ts';
import type { DashboardSource } from './dashboard.tsx';
import { readStatus } from './status.ts';

export function dashboardSource(dbPath: string): DashboardSource {
  const socket = socketPathFor(dbPath);
  let live = true;
  const fromFile = <T>(fn: (db: ReturnType<typeof openForRead>, runId: number) => T): T => {
    const db = openForRead(dbPath);
    try {
      return reading(dbPath, () => fn(db, latestRunId(db)));
    } finally {
      db.close();
    }
  };
  return {
    async status(): Promise<StatusDoc> {
      const doc = await readStatus(dbPath);
      live = doc.live;
      return doc;
    },
    async events(limit) {
      if (live) return await call(socket, 'events', { limit });
      return fromFile((db, runId) => events(db, runId, limit));
    },
    async logs(name, afterId) {
      const q = { process: name, afterId, limit: afterId === undefined ? 15 : 1000 };
      if (live) return await call(socket, 'logs', q);
      return fromFile((db, runId) => logLines(db, { ...q, runId }));
    },
    async command(op, name) {
      if (!live) throw new HerderError('HERDER_ERR_NOT_LIVE', 'the run is over: nothing to steer');
      const r = await call(socket, op, { name, by: `${userInfo().username} (dashboard, pid ${process.pid})` });
      return r.detail;
    },
  };
}
