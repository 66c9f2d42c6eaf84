/**
 * Benchmark 2: thread actor restart latency.
 *
 * A module whose run(ctx) throws at once (bench/fixtures/thread-crash.mjs)
 * stamps, with process.hrtime (one monotonic clock for all threads of a
 * process), when it started and just before it throws. Crash-to-respawn =
 * next start stamp - previous exit stamp. Under herder it is a thread actor
 * (restart: permanent, restart_delay 0, max_restarts 0); the baseline is a
 * bare loop that runs the same module in a `new Worker` and makes a new one
 * when the old has exited (bench/fixtures/bare-worker-respawn.mjs). Rounds
 * alternate; the first samples of each round are warm-up and dropped.
 * Goal: herder's median within 1.5x of the bare loop's.
 */
import path from 'node:path';
import {
  type BenchResult,
  exitWithin,
  FIXTURES,
  fmt,
  QUICK,
  round,
  runBench,
  type Stats,
  signal,
  stampGaps,
  start,
  startHerder,
  stats,
  tempDir,
  waitForLines,
} from './lib.ts';

const ROUNDS = QUICK ? 2 : 4;
const SAMPLES = QUICK ? 60 : 100; // per round
const WARMUP = 30;
const MODULE = path.join(FIXTURES, 'thread-crash.mjs');
const LINES = WARMUP + SAMPLES + 2;

async function underHerder(r: number): Promise<number[]> {
  const dir = tempDir('thread');
  const stamps = path.join(dir, 'stamps');
  const h = startHerder(
    dir,
    `runtime: { db: herder.db, shutdown_grace_seconds: 2 }
supervisor: { intensity: 0 }
actors:
  - name: crasher
    module: ${JSON.stringify(MODULE)}
    env: { BENCH_STAMPS: ${JSON.stringify(stamps)} }
    restart: permanent
    restart_delay: 0
    max_restarts: 0
`,
    3,
  );
  await waitForLines(stamps, LINES, h, `herder (round ${r})`);
  signal(h.pid, 'SIGTERM');
  await exitWithin(h, 20_000, 'herder');
  return stampGaps(stamps, 1, WARMUP, SAMPLES);
}

async function underBare(r: number): Promise<number[]> {
  const dir = tempDir('thread-bare');
  const stamps = path.join(dir, 'stamps');
  const p = start([process.execPath, path.join(FIXTURES, 'bare-worker-respawn.mjs')], {
    cwd: dir,
    env: { BENCH_STAMPS: stamps },
  });
  await waitForLines(stamps, LINES, p, `the bare Worker loop (round ${r})`);
  signal(p.pid, 'SIGTERM');
  await exitWithin(p, 10_000, 'the bare Worker loop');
  return stampGaps(stamps, 1, WARMUP, SAMPLES);
}

runBench('thread-restart', 180_000, async () => {
  const herder: number[] = [];
  const bare: number[] = [];
  const perRound: { herder: Stats; bare: Stats }[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const h = await underHerder(r);
    const b = await underBare(r);
    herder.push(...h);
    bare.push(...b);
    perRound.push({ herder: stats(h), bare: stats(b) });
  }
  const hs = stats(herder);
  const bs = stats(bare);
  const ratio = hs.median / bs.median;
  return {
    name: 'thread-restart',
    title: '2. Thread actor restart latency (restart_delay 0), median crash-to-respawn',
    herder: `${fmt(hs.median, 2)} ms (p90 ${fmt(hs.p90, 2)})`,
    baseline: `bare \`new Worker\` loop ${fmt(bs.median, 2)} ms (p90 ${fmt(bs.p90, 2)})`,
    figure: `${fmt(ratio, 2)}× bare`,
    goal: '≤ 1.5× bare',
    met: ratio <= 1.5,
    details: {
      rounds: ROUNDS,
      samplesPerRound: SAMPLES,
      warmupDropped: WARMUP,
      herderMs: hs,
      bareMs: bs,
      ratio: round(ratio),
      perRound,
    },
    notes: [],
  } satisfies BenchResult;
});
