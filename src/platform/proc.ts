/** Linux process facts used to kill the right things and only those. */
import { readFileSync } from 'node:fs';
import { processGroups } from './proctable.ts';

interface ProcStat {
  /** Field 3: R, S, D, T, Z (zombie), X (dead), … */
  readonly state: string;
  /** Field 22: the start time in clock ticks since boot. */
  readonly start: string;
}

function procStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted from its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, start] = [fields[0], fields[19]];
    return state === undefined || start === undefined ? null : { state, start };
  } catch {
    return null;
  }
}

/**
 * The start time of a process in clock ticks since boot (field 22 of
 * /proc/PID/stat): with the pid it identifies a process across pid reuse.
 */
export function procStartTime(pid: number): string | null {
  return procStat(pid)?.start ?? null;
}

/**
 * True when `pid` still names the process that had `start`, even as a zombie
 * (its pid, and so its process group id, cannot be reused until it is reaped).
 * Without a recorded start time there is no telling a reused pid apart: false.
 */
export function isSameProcess(pid: number, start: string | null): boolean {
  const now = procStartTime(pid);
  return now !== null && start !== null && now === start;
}

/**
 * True when that same process is still running: a zombie or a process being
 * torn down (state Z or X) has ended, whether or not its parent has reaped it.
 */
export function isRunning(pid: number, start: string | null): boolean {
  const s = procStat(pid);
  return s !== null && start !== null && s.start === start && s.state !== 'Z' && s.state !== 'X';
}

/**
 * True while a process group has a member that is not a zombie. A zombie
 * keeps its group "alive" to kill(-pgid, 0) until whoever inherited it reaps
 * it, which an init that reaps lazily (or herder itself as PID 1 in a
 * container) may do late or never: it has ended all the same.
 */
export function groupHasLiving(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  return (
    processGroups()
      .get(pgid)
      ?.some((p) => !p.zombie) ?? false
  );
}

/** Signals a whole process group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
