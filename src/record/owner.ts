/**
 * Who holds the database. node-sqlite3-wasm locks a database by creating the
 * folder `<db>.lock` for the length of each transaction, and that folder says
 * nothing about its owner: a herder killed mid-write leaves it behind, and
 * every later open would report "locked" for ever. So a run also keeps
 * `<db>.owner` (its pid and start time) while it holds the file. A lock folder
 * whose recorded owner is dead is stale and is removed; SQLite then rolls back
 * the interrupted write from its journal on the next open.
 */
import { existsSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { isRunning, procStartTime } from '../platform/proc.ts';

const lockDir = (file: string) => `${file}.lock`;
const ownerFile = (file: string) => `${file}.owner`;

export function claimOwnership(file: string): void {
  writeFileSync(ownerFile(file), `${process.pid} ${procStartTime(process.pid) ?? ''}\n`);
}

export function releaseOwnership(file: string): void {
  rmSync(ownerFile(file), { force: true });
}

/** The herder that holds the file now, when one is still running (a zombie has let go). */
function runningOwner(file: string): number | null {
  let text: string;
  try {
    text = readFileSync(ownerFile(file), 'utf8');
  } catch {
    return null;
  }
  const [pidText, start] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  return start === undefined || start === ''
    ? procStartTime(pid) === null
      ? null
      : pid
    : isRunning(pid, start)
      ? pid
      : null;
}

/**
 * A herder that is ending (killed, or finishing its shutdown) lets go of the
 * file within moments: a run started right after it waits up to `ms` for that
 * before it looks at who holds the file, instead of refusing at once.
 */
export async function waitForOwnerToGo(file: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (runningOwner(file) !== null && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}

/**
 * Removes a lock left by a herder that died. Returns the dead owner's pid when
 * it did, null when there was nothing stale (no lock, a live owner, or a lock
 * of some other program, which is left alone).
 */
export function clearStaleLock(file: string): number | null {
  if (!existsSync(lockDir(file)) || !existsSync(ownerFile(file))) return null;
  const [pidText, start] = readFileSync(ownerFile(file), 'utf8').trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  // Without a start time, a live pid might be the owner: leave the lock alone.
  const alive = start === undefined || start === '' ? procStartTime(pid) !== null : isRunning(pid, start);
  if (pid === process.pid || alive) return null;
  try {
    rmdirSync(lockDir(file));
  } catch {
    return null;
  }
  rmSync(ownerFile(file), { force: true });
  return pid;
}
