/**
 * Benchmark 6: orphans after `kill -9` of herder.
 *
 * 3 actors run test/fixtures/job.py, each forking a grandchild (`sleep 1000`)
 * and sleeping forever; their pids are written to files. Once all 6 run, the
 * benchmark SIGKILLs herder's own pid (the node process it started directly,
 * checked against runs.pid in the record), waits 3 s, and counts how many of
 * the 6 recorded pids are still alive (zombies count as gone). Nothing of
 * herder's can run after SIGKILL except its reaper process. The baseline, for
 * contrast, is a bare Node parent (bench/fixtures/bare-hold.mjs) holding the
 * same 3 jobs, killed the same way: its children are expected to be left.
 * Goal: 0 left under herder.
 */
import path from 'node:path';
import {
  alive,
  type BenchResult,
  childrenOf,
  countLines,
  exitWithin,
  JOB_PY,
  QUICK,
  query,
  readLines,
  runBench,
  type Started,
  signal,
  sleep,
  startBare,
  startHerder,
  tempDir,
  waitUntil,
} from './lib.ts';

const N = 3;
const ROUNDS = QUICK ? 1 : 2;
const WAIT_MS = 3_000;

interface Round {
  pids: { children: number[]; grandchildren: number[] };
  leftChildren: number;
  leftGrandchildren: number;
  reaperLeft: boolean | null;
}

function pids(dir: string): { children: number[]; grandchildren: number[] } {
  const children: number[] = [];
  for (let i = 0; i < N; i++) {
    const l = readLines(path.join(dir, `pid${i}`))[0];
    if (l !== undefined) children.push(Number(l[0]));
  }
  const grandchildren = readLines(path.join(dir, 'grandchildren')).map((l) => Number(l[0]));
  return { children, grandchildren };
}

async function killAndCount(p: Started, dir: string, what: string, reaper: number | null): Promise<Round> {
  await waitUntil(
    () => {
      if (p.child.exitCode !== null) throw new Error(`${what} exited early: ${p.stderr().slice(-1500)}`);
      const got = pids(dir);
      return got.children.length === N && countLines(path.join(dir, 'grandchildren')) === N;
    },
    60_000,
    `${N} children and grandchildren under ${what}`,
  );
  await sleep(300);
  const got = pids(dir);
  signal(p.pid, 'SIGKILL');
  await exitWithin(p, 5_000, what);
  await sleep(WAIT_MS);
  const r = {
    pids: got,
    leftChildren: got.children.filter(alive).length,
    leftGrandchildren: got.grandchildren.filter(alive).length,
    reaperLeft: reaper === null ? null : alive(reaper),
  };
  // what was left goes now, so that the next round starts clean
  for (const pid of [...got.children, ...got.grandchildren]) if (alive(pid)) signal(pid, 'SIGKILL');
  return r;
}

const jobArgs = (i: string) => ['--grandchild', 'grandchildren', '--pidfile', `pid${i}`, '--forever'];

async function underHerder(): Promise<Round & { herderPid: number; recordedPid: number }> {
  const dir = tempDir('orphans');
  const yaml = [
    'runtime: { db: herder.db, shutdown_grace_seconds: 5 }',
    'actors:',
    ...Array.from(
      { length: N },
      (_, i) =>
        `  - name: job${i}\n    command: ${JSON.stringify(['python3', JOB_PY, ...jobArgs(String(i))])}\n    restart: permanent`,
    ),
    '',
  ].join('\n');
  const h = startHerder(dir, yaml, 10);
  // herder's record names its own pid: it must be the process we are about to kill
  const recordedPid = await waitUntil(
    () => {
      try {
        return Number(query(path.join(dir, 'herder.db'), 'SELECT pid FROM runs ORDER BY id DESC LIMIT 1')[0]?.pid);
      } catch {
        return 0; // not created yet
      }
    },
    30_000,
    "herder's run in its record",
    50,
  );
  if (recordedPid !== h.pid) throw new Error(`runs.pid is ${recordedPid} but the process started is ${h.pid}`);
  const reaper = await waitUntil(
    () => childrenOf(h.pid).find((c) => c.comm === 'bash')?.pid ?? 0,
    30_000,
    "herder's reaper",
  );
  const r = await killAndCount(h, dir, 'herder', reaper);
  return { ...r, herderPid: h.pid, recordedPid };
}

async function underBare(): Promise<Round> {
  const dir = tempDir('orphans-bare');
  const p = startBare('bare-hold.mjs', [String(N), 'python3', JOB_PY, ...jobArgs('{i}')], dir);
  return killAndCount(p, dir, 'the bare parent', null);
}

runBench('orphans', 120_000, async () => {
  const herder: (Round & { herderPid: number; recordedPid: number })[] = [];
  const bare: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    herder.push(await underHerder());
    bare.push(await underBare());
  }
  const left = (r: Round) => r.leftChildren + r.leftGrandchildren;
  const worst = Math.max(...herder.map(left));
  const bareWorst = Math.max(...bare.map(left));
  const notes: string[] = [];
  for (const [i, r] of herder.entries()) {
    if (left(r) > 0)
      notes.push(
        `herder round ${i + 1}: ${r.leftChildren} children and ${r.leftGrandchildren} grandchildren alive ${WAIT_MS} ms after kill -9 ` +
          `(children ${r.pids.children.join(' ')}, grandchildren ${r.pids.grandchildren.join(' ')})`,
      );
    if (r.reaperLeft) notes.push(`herder round ${i + 1}: the reaper was still alive ${WAIT_MS} ms after kill -9`);
  }
  return {
    name: 'orphans',
    title: `6. Orphans ${WAIT_MS / 1000} s after kill -9 of the supervisor (${N} children + ${N} grandchildren)`,
    herder: `${worst} of ${2 * N} left`,
    baseline: `bare Node ${bareWorst} of ${2 * N} left`,
    figure: `${worst} left`,
    goal: '0 left',
    met: worst === 0,
    details: { rounds: ROUNDS, waitMs: WAIT_MS, perRound: { herder, bare } },
    notes,
  } satisfies BenchResult;
});
