/**
 * Benchmark 4: idle cost with 100 idle children (`sleep 3600`).
 *
 * Three supervisors each hold 100 sleeping children at the same time and are
 * measured over the same window (so the machine's noise hits them alike):
 * herder (100 actors, command: [sleep, "3600"]), a bare Node parent
 * (bench/fixtures/bare-hold.mjs) and, when it can be installed, PM2's daemon
 * with 100 apps. For each: the supervisor process's own RSS (VmRSS, all its
 * threads; children excluded; herder's reaper bash process is counted
 * separately) sampled every second, and its CPU seconds per minute from
 * utime+stime in /proc/PID/stat (its threads, not its children), after a
 * settling period once all 100 children run.
 * Goals: herder's RSS below PM2's daemon's; under 1 CPU-second per minute.
 */
import { execFileSync } from 'node:child_process';
import {
  type BenchResult,
  childrenOf,
  exitWithin,
  fmt,
  median,
  procMem,
  procStat,
  QUICK,
  round,
  runBench,
  type Started,
  signal,
  sleep,
  startBare,
  startHerder,
  tempDir,
  threadCpu,
  threadCpuPerMin,
  waitUntil,
} from './lib.ts';
import { ensurePm2, Pm2 } from './pm2.ts';

const N = 100;
const SETTLE_S = QUICK ? 3 : 5;
const WINDOW_S = QUICK ? 20 : 60;

interface Subject {
  label: string;
  pid: number;
  cpu0: number;
  rss: number[];
  threads: number;
}

function sleepers(pid: number): number {
  return childrenOf(pid).filter((c) => c.comm === 'sleep').length;
}

async function allStarted(pid: number, what: string, p: Started | null): Promise<void> {
  await waitUntil(
    () => {
      if (p !== null && p.child.exitCode !== null) throw new Error(`${what} exited early: ${p.stderr().slice(-1500)}`);
      return sleepers(pid) >= N;
    },
    90_000,
    `${N} sleeping children under ${what}`,
    200,
  );
}

function subject(label: string, pid: number): Subject {
  const st = procStat(pid);
  if (st === null) throw new Error(`${label} (pid ${pid}) is gone`);
  return { label, pid, cpu0: st.cpuS, rss: [], threads: st.threads };
}

runBench('idle-cost', 300_000, async () => {
  const sleepBin = execFileSync('bash', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim();
  const yaml = [
    'runtime: { db: herder.db, shutdown_grace_seconds: 5 }',
    'actors:',
    ...Array.from(
      { length: N },
      (_, i) => `  - name: idle${String(i).padStart(3, '0')}\n    command: [sleep, "3600"]\n    restart: permanent`,
    ),
    '',
  ].join('\n');
  const herder = startHerder(tempDir('idle'), yaml, 10);
  const bare = startBare('bare-hold.mjs', [String(N), sleepBin, '3600'], tempDir('idle-bare'));
  const notes: string[] = [];
  let pm2: Pm2 | null = null;
  let pm2Version: string | null = null;
  try {
    await allStarted(herder.pid, 'herder', herder);
    await allStarted(bare.pid, 'the bare parent', bare);
    const have = await ensurePm2();
    if ('error' in have) {
      notes.push(`PM2 not measured: ${have.error}`);
    } else {
      pm2Version = have.version;
      pm2 = new Pm2(tempDir('idle-pm2'));
      await pm2.startApps(
        Array.from({ length: N }, (_, i) => ({
          name: `idle${String(i).padStart(3, '0')}`,
          script: sleepBin,
          args: ['3600'],
          interpreter: 'none',
          autorestart: true,
        })),
      );
      const pid = await waitUntil(() => pm2?.daemonPid() ?? 0, 30_000, 'the PM2 daemon pid');
      await allStarted(pid, 'PM2', null);
    }

    const reaper = childrenOf(herder.pid).find((c) => c.comm === 'bash');
    if (reaper === undefined) notes.push('herder has no reaper (bash) child');
    await sleep(SETTLE_S * 1000);
    const subjects = [subject('herder', herder.pid), subject('bare', bare.pid)];
    if (reaper !== undefined) subjects.push(subject('reaper', reaper.pid));
    const pm2Pid = pm2?.daemonPid() ?? null;
    if (pm2Pid !== null) subjects.push(subject('pm2', pm2Pid));
    const threads0 = threadCpu(herder.pid);
    const t0 = performance.now();
    while (performance.now() - t0 < WINDOW_S * 1000) {
      for (const s of subjects) {
        const m = procMem(s.pid);
        if (m === null) throw new Error(`${s.label} (pid ${s.pid}) died during the measurement`);
        s.rss.push(m.rssMb);
      }
      await sleep(1000);
    }
    const windowS = (performance.now() - t0) / 1000;
    const herderThreads = threadCpuPerMin(threads0, threadCpu(herder.pid), windowS);
    const out: Record<string, { rssMb: number; rssMaxMb: number; cpuSPerMin: number; threads: number; pid: number }> =
      {};
    for (const s of subjects) {
      const st = procStat(s.pid);
      out[s.label] = {
        pid: s.pid,
        rssMb: round(median(s.rss), 1),
        rssMaxMb: round(Math.max(...s.rss), 1),
        cpuSPerMin: round((((st?.cpuS ?? Number.NaN) - s.cpu0) / windowS) * 60, 3),
        threads: st?.threads ?? s.threads,
      };
    }
    const stillHeld = { herder: sleepers(herder.pid), bare: sleepers(bare.pid) };
    if (stillHeld.herder !== N) notes.push(`herder held ${stillHeld.herder} of ${N} children at the end`);

    const h = out.herder;
    const b = out.bare;
    const p = out.pm2;
    const r = out.reaper;
    if (h === undefined || b === undefined) throw new Error('lost a subject');
    const cpuOk = h.cpuSPerMin < 1;
    const rssOk = p === undefined ? null : h.rssMb < p.rssMb;
    if (p === undefined) notes.push('without PM2 only the CPU goal is judged');
    return {
      name: 'idle-cost',
      title: `4. Idle cost with ${N} sleeping children (${WINDOW_S} s window)`,
      herder: `${fmt(h.rssMb)} MiB RSS, ${fmt(h.cpuSPerMin, 2)} CPU-s/min${r === undefined ? '' : ` (+ reaper ${fmt(r.rssMb)} MiB, ${fmt(r.cpuSPerMin, 2)} CPU-s/min)`}`,
      baseline: `bare Node ${fmt(b.rssMb)} MiB, ${fmt(b.cpuSPerMin, 2)} CPU-s/min${p === undefined ? '' : `; PM2 ${pm2Version} daemon ${fmt(p.rssMb)} MiB, ${fmt(p.cpuSPerMin, 2)} CPU-s/min`}`,
      figure: `RSS ${fmt(h.rssMb / b.rssMb, 2)}× bare${p === undefined ? '' : `, ${fmt(h.rssMb / p.rssMb, 2)}× PM2`}`,
      goal: 'RSS < PM2; < 1 CPU-s/min',
      met: cpuOk && rssOk !== false,
      details: {
        children: N,
        settleS: SETTLE_S,
        windowS: round(windowS, 1),
        pm2Version,
        subjects: out,
        herderCpuSPerMinByThread: herderThreads,
        cpuGoalMet: cpuOk,
        rssGoalMet: rssOk,
      },
      notes,
    } satisfies BenchResult;
  } finally {
    signal(herder.pid, 'SIGTERM');
    signal(bare.pid, 'SIGTERM');
    await Promise.allSettled([exitWithin(herder, 30_000, 'herder'), exitWithin(bare, 10_000, 'the bare parent')]);
    await pm2?.kill();
  }
});
