/**
 * Benchmark 11: what the HTTP listener costs. Two herders each hold 100 idle
 * actors (`sleep 3600`, sampled every 5 s) over the same window: one serves
 * the dashboard and /metrics, with a real browser (Debian's chromium) showing
 * the page and one actor's output tail, and a real Prometheus scraping
 * /metrics every second; the other has no listener. The difference in their
 * CPU seconds per minute, as a share of one core, is the cost (goal: under
 * 0.5 %). Then the scrape itself: /metrics with 100 actors, timed from the
 * client over 100 scrapes (goal: median under 20 ms).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
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
  waitUntil,
} from './lib.ts';

const N = 100;
const SETTLE_S = 8;
const WINDOW_S = QUICK ? 30 : 90;
const SCRAPES = 100;

const config = (http: boolean) =>
  idleConfig(N, `shutdown_grace_seconds: 5${http ? ', http: { listen: "127.0.0.1:0" }' : ''}`);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)] ?? 0;

runBench('http-cost', 330_000, async (): Promise<BenchResult> => {
  const dirOn = tempDir('http-on');
  const on = startHerder(dirOn, config(true), 10);
  const off = startHerder(tempDir('http-off'), config(false), 10);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  let prom: ReturnType<typeof spawn> | null = null;
  try {
    await sleepersReady(on, N, 'the herder with the listener');
    await sleepersReady(off, N, 'the herder without it');
    const found = await waitUntil(
      () => /dashboard and \/metrics at (http:\/\/[^;\s]+)/.exec(on.stderr())?.[1],
      20_000,
      'the address',
    );
    const url = String(found);
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.locator('tr[data-name="idle000"]').click();
    const promBin = ['/usr/bin/prometheus'].find((p) => existsSync(p));
    if (promBin !== undefined) {
      const home = tempDir('http-prom');
      mkdirSync(path.join(home, 'data'));
      writeFileSync(
        path.join(home, 'prometheus.yml'),
        `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: herder\n    static_configs: [{ targets: ["${new URL(url).host}"] }]\n`,
      );
      const port = await freePort();
      prom = spawn(
        promBin,
        [
          `--config.file=${path.join(home, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(home, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: 'ignore' },
      );
    }
    // Without Prometheus installed, the bench scrapes every second itself.
    const scraper = prom === null ? setInterval(() => void fetch(`${url}/metrics`).then((r) => r.text()), 1_000) : null;
    await sleep(SETTLE_S * 1000);
    const a0 = procStat(on.pid)?.cpuS ?? 0;
    const b0 = procStat(off.pid)?.cpuS ?? 0;
    await sleep(WINDOW_S * 1000);
    const a1 = procStat(on.pid)?.cpuS ?? 0;
    const b1 = procStat(off.pid)?.cpuS ?? 0;
    if (scraper !== null) clearInterval(scraper);
    const perMin = (d: number) => (d / WINDOW_S) * 60;
    const onMin = perMin(a1 - a0);
    const offMin = perMin(b1 - b0);
    const costPercent = ((onMin - offMin) / 60) * 100;
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < SCRAPES; i++) {
      const t0 = performance.now();
      bytes = (await (await fetch(`${url}/metrics`)).text()).length;
      times.push(performance.now() - t0);
    }
    const scrapeMs = median(times);
    return {
      name: 'http-cost',
      title: `11. HTTP listener: 100 actors, a browser on the page and Prometheus scraping every 1 s (${WINDOW_S} s window)`,
      herder: `${fmt(onMin, 2)} CPU-s/min with the listener; /metrics ${fmt(scrapeMs, 1)} ms median (p90 ${fmt(p90(times), 1)}), ${Math.round(bytes / 1024)} KiB`,
      baseline: `${fmt(offMin, 2)} CPU-s/min without it`,
      figure: `${fmt(costPercent, 2)} % of one core; scrape ${fmt(scrapeMs, 1)} ms`,
      goal: '< 0.5 % of one core; scrape < 20 ms',
      met: costPercent < 0.5 && scrapeMs < 20,
      details: {
        actors: N,
        windowS: WINDOW_S,
        prometheus: prom !== null,
        onCpuSPerMin: round(onMin),
        offCpuSPerMin: round(offMin),
        costPercent: round(costPercent),
        scrapeMedianMs: round(scrapeMs),
        scrapeP90Ms: round(p90(times)),
        metricsBytes: bytes,
      },
      notes: [
        prom === null
          ? 'prometheus is not installed here: the bench scraped every second itself'
          : 'a real Prometheus scraped every second',
      ],
    };
  } finally {
    if (prom?.pid !== undefined) process.kill(prom.pid, 'SIGTERM');
    await browser.close();
    for (const h of [on, off]) signal(h.pid, 'SIGTERM');
    await Promise.allSettled([exitWithin(on, 30_000, 'herder'), exitWithin(off, 30_000, 'herder')]);
  }
});
