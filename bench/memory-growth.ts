/**
 * Benchmark 10: herder's memory after thousands of starts and heartbeats.
 *
 * herder runs two crash loops and two loop jobs that restart at once
 * (restart_delay 0, loop_interval 0; `sh -c`) and a thread actor calling
 * ctx.heartbeat() fifty times a millisecond (test/fixtures/beater.mjs), under
 * `node --expose-gc dist/main.mjs`, so that its own "_herder" resource_usage
 * rows carry its live heap, while `logs -f` follows every actor's output.
 * After a warm-up of WARMUP starts, it is measured until STARTS more: its
 * live heap, its RSS (VmRSS, all threads) and the thread
 * actor's heap in use, early in the window against late in it (medians of the
 * first and last fifth). Beside it, over the same window: a bare Node parent
 * respawning the same crashing command (bench/fixtures/bare-respawn.mjs) and
 * the same heartbeat job in a bare worker whose heartbeat does nothing
 * (bench/fixtures/bare-beater.mjs) - what a Node process doing this much
 * grows by anyway (V8 sizing its young generation up, code compiled).
 * Goal: herder's live heap grows by less than 1 MB over the window.
 */
import path from 'node:path';
import { call, socketPathFor } from '../src/actors/control.ts';
import {
  type BenchResult,
  exitWithin,
  fmt,
  MAIN,
  median,
  procMem,
  QUICK,
  query,
  ROOT,
  readLines,
  round,
  runBench,
  signal,
  sleep,
  start,
  startBare,
  startHerder,
  tempDir,
} from './lib.ts';

const WARMUP = QUICK ? 500 : 1_000;
const STARTS = QUICK ? 3_000 : 10_000;
const BEATER = path.join(ROOT, 'test', 'fixtures', 'beater.mjs');
const CRASH = 'echo about to fail; exit 1';
const GOAL_MB = 1;

const yaml = (go: string) =>
  `runtime: { db: herder.db, sample_interval_seconds: 1, shutdown_grace_seconds: 2, protection: { enabled: false } }
actors:
  - { name: beater, module: ${JSON.stringify(BEATER)}, env: { BEAT_GO: ${JSON.stringify(go)} } }
  - { name: crash0, command: [sh, -c, ${JSON.stringify(CRASH)}], restart_delay: 0, max_restart_delay: 0, max_restarts: 0 }
  - { name: crash1, command: [sh, -c, ${JSON.stringify(CRASH)}], restart_delay: 0, max_restart_delay: 0, max_restarts: 0 }
  - { name: loop0, command: [sh, -c, "echo row"], requires_loop: true, loop_interval: 0 }
  - { name: loop1, command: [sh, -c, "echo row"], requires_loop: true, loop_interval: 0 }
`;

/** Median of the first and of the last fifth of a series, and the change between them. */
function drift(xs: readonly number[]): { early: number; late: number; growth: number } {
  const k = Math.max(1, Math.floor(xs.length / 5));
  const early = median(xs.slice(0, k));
  const late = median(xs.slice(-k));
  return { early: round(early, 1), late: round(late, 1), growth: round(late - early, 2) };
}

runBench('memory-growth', 330_000, async () => {
  const dir = tempDir('memory');
  // BEAT_GO names a file that exists: the thread actor beats from its first run.
  const herder = startHerder(dir, yaml(BEATER), 15, ['--expose-gc']);
  const socket = socketPathFor(path.join(dir, 'herder.db'));
  const starts = async (): Promise<number> => {
    try {
      const doc = await call(socket, 'status', {}, 10_000);
      return doc.actors.filter((a) => a.kind === 'process').reduce((n, a) => n + a.runs, 0);
    } catch {
      return 0;
    }
  };
  const bareDir = tempDir('memory-bare');
  const bareHeap = path.join(bareDir, 'heap');
  let bare: ReturnType<typeof startBare> | null = null;
  let follower: ReturnType<typeof start> | null = null;
  let beaters: ReturnType<typeof startBare> | null = null;
  try {
    let warm = 0;
    for (const until = Date.now() + 120_000; warm < WARMUP; warm = await starts()) {
      if (herder.child.exitCode !== null) throw new Error(`herder exited early: ${herder.stderr().slice(-1500)}`);
      if (Date.now() > until) throw new Error(`only ${warm} of ${WARMUP} warm-up starts in 120 s`);
      await sleep(200);
    }
    // Someone follows every actor's output meanwhile, as `logs -f` does.
    follower = start([process.execPath, MAIN, 'logs', '-f'], { cwd: dir, stdio: 'ignore' });
    bare = startBare('bare-respawn.mjs', [path.join(bareDir, 'gaps.json'), 'sh', '-c', CRASH], bareDir);
    beaters = startBare('bare-beater.mjs', [bareHeap, BEATER], bareDir);
    const from = await starts();
    const t0 = Date.now() / 1000;
    const rss = { herder: [] as number[], bare: [] as number[], bareBeater: [] as number[] };
    for (let now = from; now < from + STARTS; now = await starts()) {
      if (herder.child.exitCode !== null) throw new Error(`herder exited: ${herder.stderr().slice(-1500)}`);
      if (Date.now() / 1000 - t0 > 240) throw new Error(`only ${now - from} of ${STARTS} starts in 240 s`);
      const m = procMem(herder.pid);
      const b = procMem(bare.pid);
      const bb = procMem(beaters.pid);
      if (m !== null) rss.herder.push(m.rssMb);
      if (b !== null) rss.bare.push(b.rssMb);
      if (bb !== null) rss.bareBeater.push(bb.rssMb);
      await sleep(1000);
    }
    const t1 = Date.now() / 1000;
    const measured = (await starts()) - from;
    signal(herder.pid, 'SIGTERM');
    signal(bare.pid, 'SIGTERM');
    signal(beaters.pid, 'SIGKILL');
    await Promise.allSettled([
      exitWithin(herder, 30_000, 'herder'),
      exitWithin(bare, 10_000, 'the bare loop'),
      exitWithin(beaters, 10_000, 'the bare worker'),
    ]);

    const db = path.join(dir, 'herder.db');
    const series = (name: string) =>
      query(db, 'SELECT heap_used_mb AS mb FROM resource_usage WHERE process = ? AND ts >= ? AND ts < ? ORDER BY ts', [
        name,
        t0,
        t1,
      ]).map((r) => Number(r.mb));
    const live = drift(series('_herder'));
    const worker = drift(series('beater'));
    const herderRss = drift(rss.herder);
    const bareRss = drift(rss.bare);
    const bareWorker = drift(readLines(bareHeap).map((l) => Number(l[0])));
    const lastBeat = query(db, "SELECT line FROM process_output WHERE process = 'beater' ORDER BY id DESC LIMIT 1");
    const beats = Number(String(lastBeat[0]?.line ?? '').replace('beats ', ''));
    const windowS = round(t1 - t0, 1);
    const met = live.growth < GOAL_MB;
    return {
      name: 'memory-growth',
      title: `10. Memory over ${measured} starts and ${(beats / 1e6).toFixed(1)} M heartbeats (${windowS} s, after ${WARMUP} starts)`,
      herder: `live heap ${fmt(live.early)} → ${fmt(live.late)} MB; RSS ${fmt(herderRss.early)} → ${fmt(herderRss.late)} MiB; thread actor's heap ${fmt(worker.early)} → ${fmt(worker.late)} MB`,
      baseline: `bare Node respawn loop RSS ${fmt(bareRss.early)} → ${fmt(bareRss.late)} MiB; bare worker's heap ${fmt(bareWorker.early)} → ${fmt(bareWorker.late)} MB`,
      figure: `live heap ${live.growth >= 0 ? '+' : ''}${fmt(live.growth, 2)} MB`,
      goal: `live heap < +${GOAL_MB} MB`,
      met,
      details: {
        warmupStarts: WARMUP,
        measuredStarts: measured,
        heartbeats: beats,
        windowS,
        herderLiveHeapMb: live,
        herderRssMb: herderRss,
        threadActorHeapMb: worker,
        bareRespawnRssMb: bareRss,
        bareWorkerHeapMb: bareWorker,
      },
      notes: [
        'RSS counts every thread of the process (herder: the logging thread and the thread actor too); early/late are medians of the first and last fifth of the window',
      ],
    } satisfies BenchResult;
  } finally {
    signal(herder.pid, 'SIGKILL');
    if (bare !== null) signal(bare.pid, 'SIGKILL');
    if (beaters !== null) signal(beaters.pid, 'SIGKILL');
    if (follower !== null) signal(follower.pid, 'SIGKILL');
  }
});
