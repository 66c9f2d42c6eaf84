/**
 * Benchmark 8: what resource sampling costs. Two herders each hold 100 idle
 * actors (`sleep 3600`) over the same window: one samples every 5 s (the
 * default: /proc for every actor's process group, the machine through
 * systeminformation, a health score and a resource_usage row per actor), the
 * other has sampling off (sample_interval_seconds: 0). The difference in
 * their CPU seconds per minute, as a share of one core, is the cost.
 * Goal: under 2 % of one core.
 */
import {
  type BenchResult,
  childrenOf,
  exitWithin,
  fmt,
  procStat,
  QUICK,
  round,
  runBench,
  type Started,
  signal,
  sleep,
  startHerder,
  tempDir,
  waitUntil,
} from './lib.ts';

const N = 100;
const SETTLE_S = 6;
const WINDOW_S = QUICK ? 30 : 90;

function config(sampleSeconds: number): string {
  return [
    `runtime: { shutdown_grace_seconds: 5, sample_interval_seconds: ${sampleSeconds} }`,
    'actors:',
    ...Array.from({ length: N }, (_, i) => `  - name: idle${String(i).padStart(3, '0')}\n    command: [sleep, "3600"]`),
    '',
  ].join('\n');
}

async function ready(h: Started, what: string): Promise<void> {
  await waitUntil(
    () => {
      if (h.child.exitCode !== null) throw new Error(`${what} exited early: ${h.stderr().slice(-1500)}`);
      return childrenOf(h.pid).filter((c) => c.comm === 'sleep').length >= N;
    },
    90_000,
    `${N} children under ${what}`,
    200,
  );
}

runBench('sampling-cost', 300_000, async (): Promise<BenchResult> => {
  const on = startHerder(tempDir('sampling-on'), config(5), 10);
  const off = startHerder(tempDir('sampling-off'), config(0), 10);
  try {
    await ready(on, 'the sampling herder');
    await ready(off, 'the non-sampling herder');
    await sleep(SETTLE_S * 1000);
    const a0 = procStat(on.pid)?.cpuS ?? 0;
    const b0 = procStat(off.pid)?.cpuS ?? 0;
    await sleep(WINDOW_S * 1000);
    const a1 = procStat(on.pid)?.cpuS ?? 0;
    const b1 = procStat(off.pid)?.cpuS ?? 0;
    const perMin = (d: number) => (d / WINDOW_S) * 60;
    const onMin = perMin(a1 - a0);
    const offMin = perMin(b1 - b0);
    const costPercent = ((onMin - offMin) / 60) * 100;
    return {
      name: 'sampling-cost',
      title: `8. Sampling cost: 100 actors sampled every 5 s (${WINDOW_S} s window)`,
      herder: `${fmt(onMin, 2)} CPU-s/min with sampling`,
      baseline: `${fmt(offMin, 2)} CPU-s/min with sampling off`,
      figure: `${fmt(costPercent, 2)} % of one core`,
      goal: '< 2 % of one core',
      met: costPercent < 2,
      details: {
        actors: N,
        windowS: WINDOW_S,
        onCpuSPerMin: round(onMin),
        offCpuSPerMin: round(offMin),
        costPercent: round(costPercent),
      },
      notes: [],
    };
  } finally {
    for (const h of [on, off]) signal(h.pid, 'SIGTERM');
    await Promise.allSettled([exitWithin(on, 30_000, 'herder'), exitWithin(off, 30_000, 'herder')]);
  }
});
