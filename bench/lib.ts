/**
 * Shared plumbing of the benchmark suite: starting herder as a user would for
 * a long run (the JavaScript build, `node dist/main.mjs`, one process), reading its record, reading
 * /proc, statistics, results, and the cleanup that every benchmark runs at the
 * end. Every process a benchmark starts carries HERDER_BENCH_TAG in its
 * environment (herder passes its environment on to its children, its reaper
 * and its threads), so whatever is left over is found by that tag and killed by
 * pid, and nothing else is touched.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sqlite from 'node-sqlite3-wasm';

export const BENCH = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH, '..');
/** The built herder, as `npm start` runs it (built once per benchmark process). */
export const MAIN = path.join(ROOT, 'dist', 'main.mjs');
let built = false;
export const FIXTURES = path.join(BENCH, 'fixtures');
export const JOB_PY = path.join(ROOT, 'test', 'fixtures', 'job.py');
export const RESULTS = path.join(BENCH, 'results');
/** tsx's loader by absolute URL: herder runs with a temp folder as its cwd. */
export const TSX = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export const QUICK = process.argv.includes('--quick');
export const KEEP = process.argv.includes('--keep');

/** The mark on every process this benchmark run starts (inherited by their descendants). */
export const TAG = `herder-bench-${process.pid}-${Date.now()}`;

/** Environment for anything a benchmark spawns: tagged, and without the caller's NODE_OPTIONS. */
export function benchEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return { ...env, NODE_OPTIONS: '', HERDER_BENCH_TAG: TAG, ...extra };
}

/** Wall-clock milliseconds with sub-millisecond precision. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a truthy value; throws after `timeoutMs`. */
export async function waitUntil<T>(check: () => T, timeoutMs: number, what: string, everyMs = 20): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------- temp dirs

const dirs: string[] = [];

export function tempDir(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `herder-bench-${name}-`));
  dirs.push(dir);
  return dir;
}

// ---------------------------------------------------------------- processes

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** wallMs() when the 'exit' event arrived. */
  at: number;
}

export interface Started {
  child: ChildProcess;
  pid: number;
  spawnedAt: number;
  exited: Promise<Exited>;
  stderr(): string;
  stdout(): string;
}

/** Spawns a tagged process in its own process group, capturing its output. */
export function start(
  argv: readonly string[],
  opts: { cwd?: string; env?: Record<string, string>; stdio?: 'pipe' | 'ignore' } = {},
): Started {
  const [program, ...args] = argv;
  const spawnedAt = wallMs();
  const child = spawn(program ?? '', args, {
    cwd: opts.cwd ?? ROOT,
    env: benchEnv(opts.env),
    detached: true,
    stdio: ['ignore', opts.stdio ?? 'pipe', opts.stdio ?? 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    if (out.length < 1_000_000) out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 1_000_000) err += d;
  });
  const exited = new Promise<Exited>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, at: wallMs() }));
  });
  if (child.pid === undefined) throw new Error(`could not start ${program}`);
  return { child, pid: child.pid, spawnedAt, exited, stderr: () => err, stdout: () => out };
}

/**
 * Starts herder exactly as a user would for a long run, as one process (the
 * real node, not a launcher): `node dist/main.mjs run --config actors.yaml
 * --runtime MIN --no-echo` (what `npm start` runs), in `dir`, which holds actors.yaml;
 * `nodeFlags` go to node before the script (e.g. --expose-gc).
 */
export function startHerder(
  dir: string,
  yaml: string,
  runtimeMinutes: number,
  nodeFlags: readonly string[] = [],
): Started {
  if (!built) {
    execFileSync(process.execPath, [path.join(ROOT, 'tools', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
    built = true;
  }
  writeFileSync(path.join(dir, 'actors.yaml'), yaml);
  return start(
    [
      process.execPath,
      ...nodeFlags,
      MAIN,
      'run',
      '--config',
      'actors.yaml',
      '--runtime',
      String(runtimeMinutes),
      '--no-echo',
    ],
    { cwd: dir },
  );
}

/** Starts one of the bare-parent baselines in bench/fixtures (plain .mjs, no loader). */
export function startBare(script: string, args: readonly string[], cwd: string): Started {
  return start([process.execPath, path.join(FIXTURES, script), ...args], { cwd });
}

/** Waits for an exit, or SIGKILLs the process group after `timeoutMs` and reports that. */
export async function exitWithin(p: Started, timeoutMs: number, what: string): Promise<Exited> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      killGroup(p.pid, 'SIGKILL');
      reject(new Error(`${what} did not exit within ${timeoutMs} ms (killed); stderr: ${p.stderr().slice(-2000)}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** True when a process with this pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  const st = procStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X';
}

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  /** user + system CPU of the process itself (all its threads), in seconds; children excluded. */
  cpuS: number;
  threads: number;
}

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64 and arm64

export function procStat(pid: number): ProcStat | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field N is f[N - 3]
  return {
    pid,
    comm,
    state: f[0] ?? '?',
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    cpuS: (Number(f[11]) + Number(f[12])) / CLK_TCK,
    threads: Number(f[17]),
  };
}

/** VmRSS (and VmHWM, the peak) of a process in MiB, from /proc/PID/status. */
export function procMem(pid: number): { rssMb: number; hwmMb: number } | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  const rss = kb('VmRSS');
  const hwm = kb('VmHWM');
  // a zombie has no memory lines
  return Number.isFinite(rss) && Number.isFinite(hwm) ? { rssMb: rss / 1024, hwmMb: hwm / 1024 } : null;
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Live (non-zombie) direct children of `pid`. */
export function childrenOf(pid: number): ProcStat[] {
  const out: ProcStat[] = [];
  for (const p of allPids()) {
    const st = procStat(p);
    if (st !== null && st.ppid === pid && st.state !== 'Z') out.push(st);
  }
  return out;
}

/** Every live process carrying this run's tag (never this process). */
export function taggedPids(): number[] {
  const needle = `HERDER_BENCH_TAG=${TAG}\0`;
  const out: number[] = [];
  for (const p of allPids()) {
    if (p === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/environ`, 'latin1').includes(needle) && alive(p)) out.push(p);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** SIGKILLs every process left from this run, by pid; returns how many there were. */
export async function killLeftovers(): Promise<number> {
  let killed = 0;
  for (let i = 0; i < 5; i++) {
    const left = taggedPids();
    if (left.length === 0) break;
    for (const p of left) if (signal(p, 'SIGKILL')) killed++;
    await sleep(100);
  }
  return killed;
}

// ---------------------------------------------------------------- the record

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

// ---------------------------------------------------------------- statistics

export interface Stats {
  n: number;
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return (sorted[lo] ?? 0) + ((sorted[hi] ?? 0) - (sorted[lo] ?? 0)) * (i - lo);
}

export function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  return {
    n: s.length,
    median: round(quantile(s, 0.5)),
    p10: round(quantile(s, 0.1)),
    p90: round(quantile(s, 0.9)),
    min: round(s[0] ?? Number.NaN),
    max: round(s[s.length - 1] ?? Number.NaN),
    mean: round(s.reduce((a, b) => a + b, 0) / (s.length || Number.NaN)),
  };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

// ---------------------------------------------------------------- results

/** One benchmark's result: the figures for the summary table plus whatever details it has. */
export interface BenchResult {
  name: string;
  title: string;
  /** What herder scored, as shown in the table (with its unit). */
  herder: string;
  /** What the baseline(s) scored, as shown in the table. */
  baseline: string;
  /** The comparison the goal is about, e.g. "1.12×" or "+35 ms". */
  figure: string;
  goal: string;
  met: boolean;
  details: Record<string, unknown>;
  notes: string[];
}

export function writeResult(r: BenchResult): string {
  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${r.name}.json`);
  const doc = {
    ...r,
    quick: QUICK,
    date: new Date().toISOString(),
    node: process.version,
    cpus: (() => {
      try {
        return readFileSync('/proc/cpuinfo', 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('processor')).length;
      } catch {
        return null;
      }
    })(),
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}

/**
 * Runs one benchmark: prints its result, writes its JSON, and whatever happens
 * (error, timeout, Ctrl-C) kills every process it left and removes its temp
 * folders (kept with --keep). Exits 0 when it measured, 1 when it could not;
 * a missed goal is a result, not a failure.
 */
export function runBench(name: string, limitMs: number, body: () => Promise<BenchResult>): void {
  let finished = false;
  const cleanup = async () => {
    const n = await killLeftovers();
    if (n > 0) console.log(`  (cleanup: killed ${n} leftover process${n === 1 ? '' : 'es'})`);
    if (!KEEP) for (const d of dirs) rmSync(d, { recursive: true, force: true });
    else for (const d of dirs) console.log(`  (kept ${d})`);
  };
  const fail = async (why: string) => {
    if (finished) return;
    finished = true;
    console.error(`${name}: FAILED: ${why}`);
    await cleanup();
    process.exit(1);
  };
  const guard = setTimeout(() => void fail(`took longer than ${limitMs / 1000} s`), limitMs);
  guard.unref();
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => void fail(`interrupted by ${s}`));
  body().then(
    async (r) => {
      if (finished) return;
      finished = true;
      clearTimeout(guard);
      await cleanup();
      const file = writeResult(r);
      console.log(
        `${r.title}\n  herder: ${r.herder}\n  baseline: ${r.baseline}\n  => ${r.figure} (goal: ${r.goal}) ${r.met ? 'MET' : 'NOT MET'}`,
      );
      for (const n of r.notes) console.log(`  note: ${n}`);
      console.log(`  (${path.relative(ROOT, file)})`);
      process.exit(0);
    },
    (e: unknown) => fail(e instanceof Error ? (e.stack ?? e.message) : String(e)),
  );
}

/** Reads a file of whitespace-separated lines; missing file = no lines. */
export function readLines(file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(/\s+/));
}

/** Number of complete lines in a file (0 when it does not exist). */
export function countLines(file: string): number {
  try {
    const text = readFileSync(file, 'utf8');
    let n = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
    return n;
  } catch {
    return 0;
  }
}

/**
 * Gaps between runs from a stamps file of "START EXIT" lines: next START minus
 * previous EXIT, times `toMs`; the first `skip` gaps dropped, at most `take` kept.
 */
export function stampGaps(file: string, toMs: number, skip: number, take: number): number[] {
  const runs = readLines(file)
    .map((l) => l.map(Number))
    .filter((l) => l.length === 2 && l.every(Number.isFinite));
  const out: number[] = [];
  for (let i = 1; i < runs.length; i++) out.push(((runs[i]?.[0] ?? 0) - (runs[i - 1]?.[1] ?? 0)) * toMs);
  return out.slice(skip, skip + take);
}

/** Waits until a stamps file has `lines` lines, failing early when `p` has exited. */
export async function waitForLines(
  file: string,
  lines: number,
  p: Started | null,
  what: string,
  timeoutMs = 90_000,
): Promise<void> {
  await waitUntil(
    () => {
      if (p !== null && p.child.exitCode !== null) throw new Error(`${what} exited early: ${p.stderr().slice(-1500)}`);
      return countLines(file) >= lines;
    },
    timeoutMs,
    `${lines} runs under ${what}`,
  );
}

export function median(xs: readonly number[]): number {
  return quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
}

/** CPU seconds of each thread of a process, by thread id (with the thread's name). */
export function threadCpu(pid: number): Map<number, { comm: string; cpuS: number }> {
  const out = new Map<number, { comm: string; cpuS: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const f = stat.slice(close + 2).split(' ');
      out.set(Number(t), {
        comm: stat.slice(stat.indexOf('(') + 1, close),
        cpuS: (Number(f[11]) + Number(f[12])) / CLK_TCK,
      });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** CPU seconds per minute of each thread between two threadCpu() readings, by thread name (only those that ran). */
export function threadCpuPerMin(
  before: Map<number, { comm: string; cpuS: number }>,
  after: Map<number, { comm: string; cpuS: number }>,
  seconds: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [tid, a] of after) {
    const used = a.cpuS - (before.get(tid)?.cpuS ?? 0);
    if (used <= 0) continue;
    const key = `${a.comm} (${tid})`;
    out[key] = round((used / seconds) * 60, 3);
  }
  return out;
}

/** An actors.yaml of `n` idle actors (`sleep 3600`) named idle000…, with `runtime` inside its runtime mapping. */
export function idleConfig(n: number, runtime: string): string {
  return [
    `runtime: { ${runtime} }`,
    'actors:',
    ...Array.from({ length: n }, (_, i) => `  - name: idle${String(i).padStart(3, '0')}\n    command: [sleep, "3600"]`),
    '',
  ].join('\n');
}

/** Waits until `n` `sleep` children run under `h`, failing at once if it exits first. */
export async function sleepersReady(h: Started, n: number, what: string): Promise<void> {
  await waitUntil(
    () => {
      if (h.child.exitCode !== null) throw new Error(`${what} exited early: ${h.stderr().slice(-1500)}`);
      return childrenOf(h.pid).filter((c) => c.comm === 'sleep').length >= n;
    },
    90_000,
    `${n} children under ${what}`,
    200,
  );
}
