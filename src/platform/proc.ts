/** Linux process facts used to kill the right things and only those. */
import { readFileSync } from 'node:fs';

/**
 * The start time of a process in clock ticks since boot (field 22 of
 * /proc/PID/stat): with the pid it identifies a process across pid reuse.
 */
export function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * True when `pid` is alive and is the same process that had `start`. Without a
 * recorded start time there is no telling a reused pid apart: false.
 */
export function isSameProcess(pid: number, start: string | null): boolean {
  const now = procStartTime(pid);
  return now !== null && start !== null && now === start;
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
