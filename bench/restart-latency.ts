/**
 * Benchmark 1: process restart latency with restart_delay 0.
 *
 * A bash job that exits 1 at once (bench/fixtures/crash.sh) stamps, with
 * $EPOCHREALTIME (µs, no fork), when it started and just before it exits.
 * Crash-to-respawn = next run's start stamp - previous run's exit stamp: the
 * same clock and the same job under every supervisor, so it includes the
 * kernel's exit/fork/exec and bash's start-up (a constant) plus the
 * supervisor's own reaction. Supervisors: herder (one permanent actor,
 * restart_delay 0, max_restarts 0 = no limit, root intensity 0), a bare Node
 * respawn loop (bench/fixtures/bare-respawn.mjs), and PM2 when it can be
 * installed. Rounds alternate herder and the bare loop; the first samples of
 * each round are warm-up and dropped.
 * Goal: herder's median within 1.5x of the bare loop's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type BenchResult,
  exitWithin,
  FIXTURES,
  fmt,
  QUICK,
  query,
  readLines,
  round,
  runBench,
  type Started,
  type Stats,
  signal,
  stampGaps,
  startBare,
  startHerder,
  stats,
  tempDir,
  waitForLines,
} from './lib.ts';
import { ensurePm2, Pm2 } from './pm2.ts';

const ROUNDS = QUICK ? 2 : 4;
const SAMPLES = QUICK ? 60 : 100; // per round
const WARMUP = 30;
const CRASH = path.join(FIXTURES, 'crash.sh');

const gaps = (file: string) => stampGaps(file, 1000, WARMUP, SAMPLES);
const collect = (file: string, p: Started | null, what: string) => waitForLines(file, WARMUP + SAMPLES + 2, p, what);

async function underHerder(round: number): Promise<{ gaps: number[]; breakdown: Breakdown }> {
  const dir = tempDir('restart');
  const stamps = path.join(dir, 'stamps');
  const h = startHerder(
    dir,
    `runtime: { db: herder.db, shutdown_grace_seconds: 2 }
supervisor: { intensity: 0 }
actors:
  - name: crasher
    command: [bash, ${JSON.stringify(CRASH)}, ${JSON.stringify(stamps)}]
    restart: permanent
    restart_delay: 0
    max_restarts: 0
`,
    3,
  );
  await collect(stamps, h, `herder (round ${round})`);
  signal(h.pid, 'SIGTERM');
  await exitWithin(h, 20_000, 'herder');
  // Where the time goes, from herder's record (ms resolution) against the job's stamps:
  // job's exit stamp -> herder's exit event -> herder's next start event -> the job's next start stamp.
  const rows = query(
    path.join(dir, 'herder.db'),
    "SELECT ts * 1000 AS t, kind FROM events WHERE process = 'crasher' AND kind IN ('start', 'exit') ORDER BY id",
  );
  const starts = rows.filter((r) => r.kind === 'start').map((r) => Number(r.t));
  const exits = rows.filter((r) => r.kind === 'exit').map((r) => Number(r.t));
  const runs = readLines(stamps).map((l) => l.map((x) => Number(x) * 1000));
  const b: Breakdown = { detectMs: [], reactMs: [], execMs: [] };
  const n = Math.min(runs.length, exits.length, starts.length) - 1;
  for (let i = WARMUP; i < Math.min(n, WARMUP + SAMPLES); i++) {
    const next = starts[i + 1] ?? 0;
    b.detectMs.push((exits[i] ?? 0) - (runs[i]?.[1] ?? 0));
    b.reactMs.push(next - (exits[i] ?? 0));
    b.execMs.push((runs[i + 1]?.[0] ?? 0) - next);
  }
  return { gaps: gaps(stamps), breakdown: b };
}

/** Herder's restart, in three legs (ms). */
interface Breakdown {
  /** The job's exit stamp -> herder's exit event (exit seen, pipes closed, transition). */
  detectMs: number[];
  /** Herder's exit event -> its next start event (restart decision, delay-0 timer, spawn). */
  reactMs: number[];
  /** Herder's start event -> the new job's start stamp (exec and bash start-up). */
  execMs: number[];
}

async function underBare(round: number): Promise<{ gaps: number[]; spawnMs: number[] }> {
  const dir = tempDir('restart-bare');
  const stamps = path.join(dir, 'stamps');
  const gapsFile = path.join(dir, 'parent-gaps.json');
  const p = startBare('bare-respawn.mjs', [gapsFile, 'bash', CRASH, stamps], dir);
  await collect(stamps, p, `the bare loop (round ${round})`);
  signal(p.pid, 'SIGTERM');
  await exitWithin(p, 10_000, 'the bare loop');
  const spawnMs = JSON.parse(readFileSync(gapsFile, 'utf8')) as number[];
  return { gaps: gaps(stamps), spawnMs: spawnMs.slice(WARMUP, WARMUP + SAMPLES) };
}

async function underPm2(): Promise<{ gaps: number[] } | { error: string }> {
  const have = await ensurePm2();
  if ('error' in have) return have;
  const dir = tempDir('restart-pm2');
  const stamps = path.join(dir, 'stamps');
  const pm2 = new Pm2(dir);
  try {
    await pm2.startApps([
      {
        name: 'crasher',
        script: 'bash',
        args: [CRASH, stamps],
        interpreter: 'none',
        autorestart: true,
        restart_delay: 0,
        max_restarts: 1_000_000_000,
        min_uptime: 0,
      },
    ]);
    await collect(stamps, null, 'PM2');
  } finally {
    await pm2.kill();
  }
  return { gaps: gaps(stamps) };
}

runBench('restart-latency', 240_000, async () => {
  const herder: number[] = [];
  const breakdown: Breakdown = { detectMs: [], reactMs: [], execMs: [] };
  const bare: number[] = [];
  const spawnMs: number[] = [];
  const perRound: { herder: Stats; bare: Stats }[] = [];
  let pm2: { gaps: number[] } | { error: string } = { error: 'not run' };
  for (let r = 1; r <= ROUNDS; r++) {
    const h = await underHerder(r);
    const b = await underBare(r);
    herder.push(...h.gaps);
    breakdown.detectMs.push(...h.breakdown.detectMs);
    breakdown.reactMs.push(...h.breakdown.reactMs);
    breakdown.execMs.push(...h.breakdown.execMs);
    bare.push(...b.gaps);
    spawnMs.push(...b.spawnMs);
    perRound.push({ herder: stats(h.gaps), bare: stats(b.gaps) });
    if (r === 1) {
      try {
        pm2 = await underPm2();
      } catch (e) {
        pm2 = { error: e instanceof Error ? e.message : String(e) };
      }
    }
  }
  const hs = stats(herder);
  const bs = stats(bare);
  const ps = 'gaps' in pm2 ? stats(pm2.gaps) : null;
  const ratio = hs.median / bs.median;
  const leg = (xs: number[]) => fmt(stats(xs).median, 1);
  const notes = [
    'crash-to-respawn = next start stamp - previous exit stamp, taken by the job itself (includes exec + bash start-up)',
    `herder's legs (medians, its record has ms resolution): job exit -> exit event ${leg(breakdown.detectMs)} ms, ` +
      `exit event -> next start event ${leg(breakdown.reactMs)} ms, start event -> job start ${leg(breakdown.execMs)} ms; ` +
      `the bare loop's spawn() call takes ${leg(spawnMs)} ms`,
  ];
  if (ps === null && 'error' in pm2) notes.push(`PM2 not measured: ${pm2.error}`);
  return {
    name: 'restart-latency',
    title: '1. Process restart latency (restart_delay 0), median crash-to-respawn',
    herder: `${fmt(hs.median, 2)} ms (p90 ${fmt(hs.p90, 2)})`,
    baseline: `bare Node ${fmt(bs.median, 2)} ms (p90 ${fmt(bs.p90, 2)})${ps === null ? '' : `; PM2 ${fmt(ps.median, 2)} ms`}`,
    figure: `${fmt(ratio, 2)}× bare`,
    goal: '≤ 1.5× bare',
    met: ratio <= 1.5,
    details: {
      rounds: ROUNDS,
      samplesPerRound: SAMPLES,
      warmupDropped: WARMUP,
      herderMs: hs,
      bareMs: bs,
      pm2Ms: ps,
      ratio: round(ratio),
      pm2Ratio: ps === null ? null : round(ps.median / bs.median),
      herderBreakdownMs: {
        jobExitToExitEvent: stats(breakdown.detectMs),
        exitEventToStartEvent: stats(breakdown.reactMs),
        startEventToJobStart: stats(breakdown.execMs),
      },
      bareSpawnCallMs: stats(spawnMs),
      perRound,
    },
    notes,
  } satisfies BenchResult;
});
