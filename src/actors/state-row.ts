/**
 * A child as its supervisor sees it, turned into the row the record keeps
 * (process_state): what `status` lists, one row per actor, rewritten at each
 * change of its state.
 */
import type { ProcessStateRow } from '../record/records.ts';
import type { ChildState } from '../runtime/supervision.ts';

export function stateRow(
  c: ChildState,
  parent: string,
  pidStart: string | null,
  /** The actor's error-pattern counts so far (written with each row, the last one at its stop). */
  patternCounts: ReadonlyMap<string, number> | null,
): ProcessStateRow {
  const s = c.status;
  const detail =
    s.tag === 'fatal' ? s.reason : s.tag === 'stopped' ? s.why : s.tag === 'stopping' ? `stopping (${s.cause})` : '';
  return {
    process: c.spec.name,
    kind: c.spec.kind === 'supervisor' ? 'supervisor' : c.spec.launch.type,
    parent,
    state: s.tag,
    pid: c.pid,
    pidStart,
    restarts: c.restarts,
    runs: c.runs,
    successes: c.successes,
    failures: c.failuresTotal,
    lastExitCode: c.lastExitCode,
    lastExitSignal: c.lastExitSignal,
    lastStart: c.lastStartWall === null ? null : c.lastStartWall / 1000,
    lastExit: c.lastExitWall === null ? null : c.lastExitWall / 1000,
    nextRunAt: c.nextRunWall === null ? null : c.nextRunWall / 1000,
    detail,
    errorPatterns: patternCounts === null ? null : JSON.stringify(Object.fromEntries(patternCounts)),
  };
}
