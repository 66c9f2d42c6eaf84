/**
 * A snapshot of the process table from /proc, cheap enough to take every few
 * seconds: per pid its process group, CPU ticks, threads and resident memory.
 * herder starts each process actor as its own group, so an actor's whole tree
 * (the job and everything it forked) is the set of processes with its pgid.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime (USER_HZ: 100 on every Linux herder runs on). */
export const TICKS_PER_SECOND = 100;
const PAGE_KB = 4;

export interface ProcEntry {
  readonly pid: number;
  readonly pgid: number;
  /** Ended but not yet reaped by its parent (state Z or X): in the table, no longer running. */
  readonly zombie: boolean;
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
  readonly threads: number;
  readonly rssKb: number;
}

function parseStat(pid: number, stat: string): ProcEntry | null {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command: state(0) ppid(1) pgrp(2) ... utime(11) stime(12) ... num_threads(17) ... rss(21)
  const pgid = Number(f[2]);
  const cpuTicks = Number(f[11]) + Number(f[12]);
  const threads = Number(f[17]);
  const rssKb = Number(f[21]) * PAGE_KB;
  if (!Number.isFinite(pgid) || !Number.isFinite(cpuTicks)) return null;
  return { pid, pgid, zombie: f[0] === 'Z' || f[0] === 'X', cpuTicks, threads, rssKb };
}

/** Every live process, grouped by process group. */
export function processGroups(): Map<number, ProcEntry[]> {
  const groups = new Map<number, ProcEntry[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const e = parseStat(pid, stat);
    if (e === null) continue;
    const list = groups.get(e.pgid);
    if (list === undefined) groups.set(e.pgid, [e]);
    else list.push(e);
  }
  return groups;
}

/** Open file descriptors of a process (0 when it is gone or not ours to see). */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}
