/**
 * Benchmark 5: stop time with 50 children that exit promptly on SIGTERM.
 *
 * 50 Python jobs (bench/fixtures/term.py) stamp the moment their SIGTERM
 * handler runs and exit at once. Once all are ready, the benchmark sends
 * SIGTERM to herder and times until herder's process has exited. "Beyond the
 * children" = herder's exit - the last child's SIGTERM stamp: what herder
 * itself adds once its children are gone (reaping, flushing the record,
 * closing its threads, node's exit). The baseline is a bare Node parent
 * (bench/fixtures/bare-hold.mjs) that SIGTERMs its 50 children and exits when
 * all have exited, measured the same way. Rounds alternate.
 * Goal: herder exits under 150 ms beyond its children's own exit.
 */
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
  signal,
  sleep,
  startBare,
  startHerder,
  stats,
  tempDir,
  waitForLines,
} from './lib.ts';

const N = 50;
const ROUNDS = QUICK ? 2 : 4;
const TERM = path.join(FIXTURES, 'term.py');

interface Round {
  /** SIGTERM sent -> supervisor's exit observed (ms). */
  stopMs: number;
  /** SIGTERM sent -> the last child's handler ran (ms). */
  childrenMs: number;
  /** The last child's handler -> supervisor's exit (ms). */
  beyondMs: number;
  exitCode: number | null;
  childrenStamped: number;
}

async function stop(p: Started, dir: string, what: string): Promise<Round> {
  const ready = path.join(dir, 'ready');
  const stamps = path.join(dir, 'stamps');
  await waitForLines(ready, N, p, what, 60_000);
  await sleep(500); // let start-up work (records, JIT) settle
  const t0 = performance.timeOrigin + performance.now();
  signal(p.pid, 'SIGTERM');
  const exit = await exitWithin(p, 60_000, what);
  const stamped = readLines(stamps).map((l) => Number(l[1]) * 1000);
  const last = Math.max(...stamped);
  return {
    stopMs: round(exit.at - t0),
    childrenMs: round(last - t0),
    beyondMs: round(exit.at - last),
    exitCode: exit.code,
    childrenStamped: stamped.length,
  };
}

async function underHerder(): Promise<Round & { runStatus: string }> {
  const dir = tempDir('stop');
  const args = [TERM, path.join(dir, 'ready'), path.join(dir, 'stamps')].map((a) => JSON.stringify(a)).join(', ');
  const yaml = [
    'runtime: { db: herder.db, shutdown_grace_seconds: 10 }',
    'actors:',
    ...Array.from(
      { length: N },
      (_, i) => `  - name: job${String(i).padStart(2, '0')}\n    command: [python3, ${args}]\n    restart: permanent`,
    ),
    '',
  ].join('\n');
  const h = startHerder(dir, yaml, 10);
  const r = await stop(h, dir, 'herder');
  const run = query(path.join(dir, 'herder.db'), 'SELECT status FROM runs ORDER BY id DESC LIMIT 1')[0];
  return { ...r, runStatus: String(run?.status) };
}

async function underBare(): Promise<Round> {
  const dir = tempDir('stop-bare');
  const p = startBare('bare-hold.mjs', [String(N), 'python3', TERM, 'ready', 'stamps'], dir);
  return stop(p, dir, 'the bare parent');
}

runBench('stop-time', 240_000, async () => {
  const herder: (Round & { runStatus: string })[] = [];
  const bare: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    herder.push(await underHerder());
    bare.push(await underBare());
  }
  const hs = stats(herder.map((r) => r.stopMs));
  const hb = stats(herder.map((r) => r.beyondMs));
  const bs = stats(bare.map((r) => r.stopMs));
  const bb = stats(bare.map((r) => r.beyondMs));
  const notes: string[] = [];
  for (const [i, r] of herder.entries()) {
    if (r.childrenStamped !== N)
      notes.push(`herder round ${i + 1}: only ${r.childrenStamped} of ${N} children got SIGTERM`);
    if (r.exitCode !== 0 || r.runStatus !== 'stopped')
      notes.push(`herder round ${i + 1}: exit code ${r.exitCode}, run status ${r.runStatus}`);
  }
  return {
    name: 'stop-time',
    title: `5. Stop time: SIGTERM to herder with ${N} children that exit promptly`,
    herder: `${fmt(hs.median, 0)} ms to exit; ${fmt(hb.median, 0)} ms beyond the last child`,
    baseline: `bare Node ${fmt(bs.median, 0)} ms to exit; ${fmt(bb.median, 0)} ms beyond the last child`,
    figure: `+${fmt(hb.median, 0)} ms (bare +${fmt(bb.median, 0)} ms)`,
    goal: '< 150 ms beyond the children',
    met: hb.median < 150,
    details: {
      children: N,
      rounds: ROUNDS,
      herderStopMs: hs,
      herderBeyondChildrenMs: hb,
      bareStopMs: bs,
      bareBeyondChildrenMs: bb,
      herderMinusBareStopMs: round(hs.median - bs.median),
      perRound: { herder, bare },
    },
    notes,
  } satisfies BenchResult;
});
