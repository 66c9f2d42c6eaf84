/**
 * What a run works out before it starts, from its spec and its record: when
 * it will end (said in its first line), how long its longest stop can take
 * (the shutdown watchdog's bound), and where each loop job's schedule stood
 * when herder last ran on this database.
 */
import type { PastSchedule } from '../record/runs.ts';
import { formatMs } from '../runtime/duration.ts';
import { allWorkers, type SupervisorSpec } from '../runtime/spec.ts';
import type { ResumePoint } from '../runtime/supervision.ts';
import { killWindowMs } from './host.ts';

/** The longest a stop of this tree can take: every grace and kill window, nested supervisors included. */
export function longestStop(spec: SupervisorSpec): number {
  let ms = 0;
  for (const c of spec.children) {
    ms = Math.max(ms, c.kind === 'supervisor' ? longestStop(c) : c.shutdownGraceMs + killWindowMs(c.shutdownGraceMs));
  }
  return ms;
}

/** When the run will end, said at its start: "stops at 14:32 UTC, in 6h00m (--runtime 0 for no limit)". */
export function runLengthNote(maxRuntimeMs: number | null, nowWall: number): string {
  if (maxRuntimeMs === null) return 'no time limit (it runs until stopped)';
  const at = new Date(nowWall + maxRuntimeMs).toISOString();
  const when = maxRuntimeMs >= 86_400_000 ? `${at.slice(0, 16).replace('T', ' ')} UTC` : `${at.slice(11, 16)} UTC`;
  return `stops at ${when}, in ${formatMs(maxRuntimeMs)} (--runtime 0 for no limit)`;
}

/**
 * Where each loop job's schedule stood at the end of the last run that had it:
 * the run it was waiting for, else its last successful run plus its interval.
 * A job with `resume: false`, or whose last run failed or was cut short, starts at once.
 */
export function resumePoints(root: SupervisorSpec, past: readonly PastSchedule[]): Map<string, ResumePoint> {
  const byName = new Map(past.map((p) => [p.process, p]));
  const points = new Map<string, ResumePoint>();
  for (const w of allWorkers(root)) {
    const p = byName.get(w.name);
    if (w.loop === null || !w.loop.resume || p === undefined) continue;
    const from = `run ${p.runId}'s schedule`;
    if (p.nextRunAt !== null) points.set(w.name, { dueWall: p.nextRunAt * 1000, from });
    else if (p.lastExit !== null && p.lastExitOk)
      points.set(w.name, { dueWall: p.lastExit * 1000 + w.loop.intervalMs, from });
  }
  return points;
}
