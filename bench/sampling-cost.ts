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
  exitWithin,
  fmt,
  idleConfig,
  procStat,
  QUICK,
  round,
  runBench,
  signal,
  sleep,
  sleepersReady,
  startHerder,
  tempDir,
} from './lib.ts';

const N = 100;
const SETTLE_S = 6;
const WINDOW_S = QUICK ? 30 : 90;

const config = (sampleSeconds: number) =>
  idleConfig(N, `shutdown_grace_seconds: 5, sample_interval_seconds: ${sampleSeconds}`);

runBench('sampling-cost', 300_000, async (): Promise<BenchResult> => {
  const on = startHerder(tempDir('sampling-on'), config(5), 10);
  const off = startHerder(tempDir('sampling-off'), config(0), 10);
  try {
    await sleepersReady(on, N, 'the sampling herder');
    await sleepersReady(off, N, 'the non-sampling herder');
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
