/**
 * Benchmark 3: output flood.
 *
 * A Python job (bench/fixtures/flood.py) writes 500,000 lines of 80 bytes to
 * stdout as fast as it can and exits 0; it stamps its own start and end.
 * Under herder it is a transient actor (not restarted after exit 0), so herder
 * ends by itself once the job has gone and everything is written. Figures:
 * - the job's wall time under herder vs the same job writing to a file
 *   (how much herder's capture slows a chatty job down; goal: within 1.5×),
 *   and vs a bare Node parent that only reads and splits its pipe
 *   (bench/fixtures/bare-reader.mjs: what capturing in Node costs at all);
 * - lines lost = 500,000 - COUNT(*) in process_output once herder has exited
 *   (goal 0: all lines in the record when `run` returns);
 * - herder's total time (spawn to exit) and drain time (job's last write to
 *   herder's exit), and herder's peak RSS (VmHWM).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import {
  type BenchResult,
  benchEnv,
  exitWithin,
  FIXTURES,
  fmt,
  procMem,
  QUICK,
  query,
  readLines,
  round,
  runBench,
  startHerder,
  stats,
  tempDir,
} from './lib.ts';

const LINES = 500_000;
const ROUNDS = QUICK ? 1 : 4;
const FLOOD = path.join(FIXTURES, 'flood.py');

function stampsOf(file: string): { t0: number; t1: number } {
  const l = readLines(file)[0];
  if (l === undefined) throw new Error(`no stamps in ${file}`);
  return { t0: Number(l[0]) * 1000, t1: Number(l[1]) * 1000 };
}

interface HerderRound {
  jobMs: number;
  totalMs: number;
  drainMs: number;
  startupMs: number;
  linesInDb: number;
  intactLines: number;
  lost: number;
  droppedErrors: string[];
  run: { status: string; exitCode: number; reason: string };
  peakRssMb: number;
}

async function underHerder(): Promise<HerderRound> {
  const dir = tempDir('flood');
  const stamps = path.join(dir, 'stamps');
  const h = startHerder(
    dir,
    `runtime: { db: herder.db, shutdown_grace_seconds: 5 }
actors:
  - name: flood
    command: [python3, ${JSON.stringify(FLOOD)}, ${JSON.stringify(stamps)}, "${LINES}"]
    restart: transient
`,
    2,
  );
  let peak = 0;
  const poll = setInterval(() => {
    const m = procMem(h.pid);
    if (m !== null && Number.isFinite(m.hwmMb)) peak = Math.max(peak, m.hwmMb);
  }, 50);
  let exit: Awaited<ReturnType<typeof exitWithin>>;
  try {
    exit = await exitWithin(h, 150_000, 'herder');
  } finally {
    clearInterval(poll);
  }
  const { t0, t1 } = stampsOf(stamps);
  const db = path.join(dir, 'herder.db');
  const n = (sql: string) => Number(query(db, sql)[0]?.n ?? 0);
  const linesInDb = n("SELECT COUNT(*) AS n FROM process_output WHERE process = 'flood' AND stream = 'stdout'");
  const intactLines = n(
    "SELECT COUNT(DISTINCT substr(line, 1, 9)) AS n FROM process_output WHERE process = 'flood' AND length(line) = 80",
  );
  const droppedErrors = query(db, "SELECT message FROM process_errors WHERE error_type = 'output_dropped'").map((r) =>
    String(r.message),
  );
  const run = query(db, 'SELECT status, exit_code, end_reason FROM runs ORDER BY id DESC LIMIT 1')[0];
  if (exit.code !== 0) throw new Error(`herder exited with ${exit.code ?? exit.signal}: ${h.stderr().slice(-1500)}`);
  return {
    jobMs: t1 - t0,
    totalMs: exit.at - h.spawnedAt,
    drainMs: exit.at - t1,
    startupMs: t0 - h.spawnedAt,
    linesInDb,
    intactLines,
    lost: LINES - linesInDb,
    droppedErrors,
    run: { status: String(run?.status), exitCode: Number(run?.exit_code), reason: String(run?.end_reason) },
    peakRssMb: round(peak, 1),
  };
}

async function toBareReader(): Promise<number> {
  const dir = tempDir('flood-bare');
  const stamps = path.join(dir, 'stamps');
  const child = spawn(
    process.execPath,
    [path.join(FIXTURES, 'bare-reader.mjs'), 'python3', FLOOD, stamps, String(LINES)],
    {
      cwd: dir,
      env: benchEnv(),
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  const code = await new Promise<number | null>((resolve, reject) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
  if (code !== 0) throw new Error(`bare reader exited with ${code}`);
  const { t0, t1 } = stampsOf(stamps);
  return t1 - t0;
}

async function toFile(): Promise<number> {
  const dir = tempDir('flood-file');
  const stamps = path.join(dir, 'stamps');
  const fd = openSync(path.join(dir, 'out.txt'), 'w');
  try {
    const child = spawn('python3', [FLOOD, stamps, String(LINES)], {
      cwd: dir,
      env: benchEnv(),
      stdio: ['ignore', fd, 'inherit'],
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    if (code !== 0) throw new Error(`flood.py to a file exited with ${code}`);
  } finally {
    closeSync(fd);
  }
  const { t0, t1 } = stampsOf(stamps);
  return t1 - t0;
}

runBench('output-flood', 240_000, async () => {
  const rounds: HerderRound[] = [];
  const fileMs: number[] = [];
  const bareMs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    rounds.push(await underHerder());
    fileMs.push(await toFile());
    bareMs.push(await toBareReader());
  }
  const bare = stats(bareMs);
  const job = stats(rounds.map((r) => r.jobMs));
  const file = stats(fileMs);
  const total = stats(rounds.map((r) => r.totalMs));
  const drain = stats(rounds.map((r) => r.drainMs));
  const lost = Math.max(...rounds.map((r) => r.lost));
  const ratio = job.median / file.median;
  const notes: string[] = [];
  for (const [i, r] of rounds.entries()) {
    if (r.lost !== 0 || r.intactLines !== LINES)
      notes.push(
        `round ${i + 1}: ${r.linesInDb} lines in process_output (${r.intactLines} distinct intact), ${r.lost} lost; ` +
          `output_dropped errors: ${r.droppedErrors.join('; ') || 'none'}; run ${r.run.status} (${r.run.reason})`,
      );
  }
  return {
    name: 'output-flood',
    title: `3. Output flood: ${LINES.toLocaleString('en')} lines of 80 bytes, then exit`,
    herder: `job ${fmt(job.median / 1000, 2)} s; ${lost} lines lost; herder total ${fmt(total.median / 1000, 2)} s (drain ${fmt(drain.median / 1000, 2)} s)`,
    baseline: `job writing to a file ${fmt(file.median / 1000, 2)} s; under a bare Node reader ${fmt(bare.median / 1000, 2)} s (${fmt(bare.median / file.median, 2)}× file)`,
    figure: `${fmt(ratio, 2)}× file; ${lost} lost`,
    goal: 'within 1.5× file; 0 lines lost',
    met: lost === 0 && ratio <= 1.5,
    details: {
      lines: LINES,
      rounds: ROUNDS,
      jobUnderHerderMs: job,
      jobToFileMs: file,
      jobUnderBareReaderMs: bare,
      jobRatio: round(ratio),
      herderTotalMs: total,
      herderDrainMs: drain,
      linesLostMax: lost,
      perRound: rounds,
      fileMs,
    },
    notes,
  } satisfies BenchResult;
});
