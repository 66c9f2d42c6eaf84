/** Run herder's real CLI as a child process, as a user would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sqlite from 'node-sqlite3-wasm';
import { call, socketPathFor } from '../../src/actors/control.ts';
import type { StatusDoc } from '../../src/record/queries.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAIN = path.join(ROOT, 'src', 'main.ts');
export const JOB_PY = path.join(ROOT, 'test', 'fixtures', 'job.py');
export const THREAD_JOB = path.join(ROOT, 'test', 'fixtures', 'thread-job.ts');
/** tsx's loader by absolute URL: a test's cwd is a temp folder without node_modules. */
export const TSX = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Started {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** What it wrote to stderr so far. */
  err(): string;
}

/**
 * Every herder a test started and that has not ended: killed when the test
 * worker exits, so that a test that fails between start and stop leaves no
 * run behind (herder's reaper then takes its actors with it).
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Starts `node --import tsx src/main.ts ARGS` in `cwd` (one process: the real herder). */
export function startCli(args: readonly string[], cwd: string, env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd,
    env: { ...process.env, ...env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, err: () => stderr };
}

export function runCli(args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, cwd, env).done;
}

/** A fresh folder with an actors.yaml; returns its path. `tsx` is resolved from the repo. */
export function project(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herder-test-'));
  writeFileSync(path.join(dir, 'actors.yaml'), yaml);
  return dir;
}

export type Row = Record<string, string | number | bigint | Uint8Array | null>;

/** Runs a query on a herder database file (read-only) and closes it. */
export function query(dbFile: string, sql: string, params: (string | number)[] = []): Row[] {
  const db = new sqlite.Database(dbFile, { readOnly: true, fileMustExist: true });
  try {
    return db.all(sql, params) as Row[];
  } finally {
    db.close();
  }
}

/** Polls `check` every 50 ms until it returns a truthy value or `timeoutMs` passes. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True when a process with this pid exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The live run's status document, over its control socket (null when not answering yet). */
export async function liveStatus(dir: string, db = 'herder.db'): Promise<StatusDoc | null> {
  try {
    return (await call(socketPathFor(path.join(dir, db)), 'status', {}, 3000)) as StatusDoc;
  } catch {
    return null;
  }
}

/** Waits until the live run shows `actor` matching `pred`. */
export function waitForActor(
  dir: string,
  actor: string,
  pred: (a: StatusDoc['actors'][number]) => boolean,
  timeoutMs = 30_000,
): Promise<StatusDoc['actors'][number]> {
  return waitUntil(
    async () => {
      const a = (await liveStatus(dir))?.actors.find((x) => x.name === actor);
      return a !== undefined && pred(a) ? a : null;
    },
    timeoutMs,
    `actor ${actor}`,
  );
}

/** A run with no time limit, to be driven by the test and stopped with SIGTERM. */
export function startRun(
  dir: string,
  extra: readonly string[] = [],
  env: Record<string, string> = {},
): Started & { stop(): Promise<CliResult> } {
  // A long but finite deadline: a run a failed test never stopped ends by itself.
  const s = startCli(['run', '--runtime', '15', '--no-echo', ...extra], dir, env);
  return {
    ...s,
    async stop() {
      s.child.kill('SIGTERM');
      return s.done;
    },
  };
}
