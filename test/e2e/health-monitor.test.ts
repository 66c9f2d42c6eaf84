import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, query, ROOT, runCli, startRun, waitForActor, waitUntil } from '../helpers/cli.ts';

const GROWER = path.join(ROOT, 'test', 'fixtures', 'grower.py');
const db = (dir: string) => path.join(dir, 'herder.db');
const events = (dir: string, process: string, kind: string) =>
  query(path.join(dir, 'herder.db'), 'SELECT detail FROM events WHERE process = ? AND kind = ? ORDER BY id', [
    process,
    kind,
  ]).map((e) => String(e.detail));

describe.concurrent('the health monitor', () => {
  it('restarts a silent, hung job once its health stays below health_threshold (stall)', async () => {
    const dir = project(`
runtime: { sample_interval_seconds: 0.3, restart_jitter: 0, protection: { enabled: false } }
actors:
  - name: hung
    command: [sleep, "600"]
    stall_timeout: 1
    health_threshold: 0.5
    health_grace: 2
    restart_delay: 30
`);
    const run = startRun(dir);
    await waitForActor(dir, 'hung', (a) => a.state === 'restarting', 30_000);
    await run.stop();
    const health = events(dir, 'hung', 'health');
    expect(health).toHaveLength(1);
    expect(health[0]).toMatch(
      /^restarting: health 0\.00 below 0\.5 for 2 samples; weakest: stall 0\.00: no output, heartbeat or progress for/,
    );
    const err = query(path.join(dir, 'herder.db'), "SELECT error_type FROM process_errors WHERE process = 'hung'");
    expect(err.map((e) => e.error_type)).toEqual(['health']);
    const scores = query(
      path.join(dir, 'herder.db'),
      "SELECT health FROM resource_usage WHERE process = 'hung' ORDER BY id",
    );
    // Fresh at first (the stall component only falls once half of stall_timeout has passed in silence).
    expect(Number(scores[0]?.health)).toBeGreaterThan(0.5);
    expect(Number(scores.at(-1)?.health)).toBe(0);
  });

  it('enforces a memory limit after limit_grace samples (restart), and reports a steady leak', async () => {
    const dir = project(`
runtime:
  sample_interval_seconds: 0.25
  restart_jitter: 0
  protection: { enabled: false }
  leak: { window_minutes: 0.1, min_samples: 5 }
actors:
  - name: leaky
    script: ${GROWER}
    args: ["4", "0.1"]
    resource_limits: { max_memory_mb: 120, action: restart }
    limit_grace: 2
    restart_delay: 30
`);
    const run = startRun(dir);
    await waitForActor(dir, 'leaky', (a) => a.state === 'restarting', 40_000);
    await run.stop();
    const limit = events(dir, 'leaky', 'limit');
    expect(limit[0]).toMatch(/^restarting: memory \d+(\.\d)?MB over its limit 120MB for 2 samples$/);
    const leak = events(dir, 'leaky', 'leak');
    expect(leak.length).toBeGreaterThanOrEqual(1);
    expect(leak[0]).toMatch(/^memory grows \d+ MB\/h .*limit 120 MB/);
  });

  it('sends alerts to a webhook and a command, at most once per actor and kind in the rate window', async () => {
    const received: unknown[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const dir = project(`
runtime:
  sample_interval_seconds: 0.25
  protection: { enabled: false }
  alerts:
    webhook: http://127.0.0.1:${port}/hook
    command: [sh, -c, "cat >> alerts.jsonl"]
actors:
  - name: busy
    command: [python3, -c, "while True: pass"]
    resource_limits: { max_cpu_percent: 20, action: alert }
    limit_grace: 2
`);
      const run = startRun(dir);
      await waitUntil(() => received.length >= 1, 30_000, 'the webhook to be called');
      await new Promise((r) => setTimeout(r, 1500)); // more samples over the limit: no second alert
      await run.stop();
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ format: 'herder.alert/1', run_id: 1, process: 'busy', kind: 'limit' });
      const lines = readFileSync(path.join(dir, 'alerts.jsonl'), 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] ?? '')).toEqual(received[0]);
    } finally {
      server.close();
    }
  });

  it('protects the machine: past the critical level it pauses the least important actor, and defers loop runs', async () => {
    // Thresholds below what any machine uses make the real memory reading critical.
    const dir = project(`
runtime:
  sample_interval_seconds: 0.25
  protection: { memory: { warn: 1, critical: 2, resume: 0.5 } }
actors:
  - name: important
    command: [sleep, "600"]
    priority: 1
  - name: optional
    command: [sleep, "600"]
    priority: 5
  - name: periodic
    command: [sh, -c, "exit 0"]
    priority: 3
    requires_loop: true
    loop_interval: 0.2
`);
    const run = startRun(dir);
    const a = await waitForActor(dir, 'optional', (x) => x.state === 'running' && x.pid !== null);
    await waitUntil(
      () => {
        try {
          return readFileSync(`/proc/${a.pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T');
        } catch {
          return false;
        }
      },
      20_000,
      'the least important actor to be stopped (SIGSTOP)',
    );
    await waitForActor(dir, 'periodic', (x) => x.state === 'loop_wait');
    await new Promise((r) => setTimeout(r, 800));
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0); // a paused actor still stops cleanly
    expect(events(dir, 'optional', 'pause')[0]).toMatch(/^protection: memory \d+(\.\d)? % ≥ critical 2 %/);
    // Least important first; the most important one only as the last resort, with its own alert.
    const pauses = query(db(dir), "SELECT process FROM events WHERE kind = 'pause' ORDER BY id").map((e) => e.process);
    expect(pauses[0]).toBe('optional');
    const pressure = events(dir, '_herder', 'pressure');
    expect(pressure.some((p) => p.startsWith('memory critical: memory'))).toBe(true);
    if (pauses.includes('important')) expect(pressure.some((p) => p.includes('last resort'))).toBe(true);
    expect(events(dir, 'periodic', 'deferred').length).toBeGreaterThanOrEqual(1);
  });

  it('a limit with action pause freezes the job; a person resumes it, and it is judged again and paused again', async () => {
    const dir = project(`
runtime: { sample_interval_seconds: 0.25, protection: { enabled: false } }
actors:
  - name: hog
    command: [python3, -c, "import time; x = b'x' * (80 * 1024 * 1024); time.sleep(600)"]
    resource_limits: { max_memory_mb: 40, action: pause }
    limit_grace: 2
`);
    const run = startRun(dir);
    const frozen = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('T');
    const a = await waitForActor(dir, 'hog', (x) => x.paused === true, 30_000);
    expect(frozen(Number(a.pid))).toBe(true);
    let r = await runCli(['ctl', 'resume', 'hog'], dir);
    expect(r.stdout, r.stderr).toBe('hog: resumed\n');
    // Still over its limit: after limit_grace samples it is paused again (it used to stay unjudged for good).
    const pauses = async () => (await runCli(['events', 'hog', '--kind', 'pause'], dir)).stdout.trim().split('\n');
    await waitUntil(async () => (await pauses()).length === 2, 30_000, 'a second pause by the limit');
    expect(frozen(Number(a.pid))).toBe(true);
    r = await run.stop();
    expect(r.code, r.stderr).toBe(0); // a paused job is thawed to hear its SIGTERM
    const limit = events(dir, 'hog', 'limit');
    expect(limit[0]).toMatch(/^pausing: memory \d+(\.\d)?MB over its limit 40MB for 2 samples; resume it with/);
    expect(events(dir, 'hog', 'pause')[0]).toMatch(/^limit: memory \d+(\.\d)?MB over its limit 40MB/);
    expect(events(dir, 'hog', 'resume')).toEqual([expect.stringMatching(/^by /)]);
    const states = query(db(dir), "SELECT state FROM process_state WHERE process = 'hog'");
    expect(states.map((x) => x.state)).toEqual(['stopped']);
  });

  it('a hard memory limit (prlimit) makes an over-allocation fail inside the job', async () => {
    const dir = project(`
runtime: { protection: { enabled: false } }
actors:
  - name: greedy
    command: [python3, -c, "b = bytearray(300 * 1024 * 1024)"]
    resource_limits: { max_memory_mb: 100, hard: true }
    restart: transient
    restart_delay: 60
`);
    const run = startRun(dir);
    await waitForActor(dir, 'greedy', (a) => a.state === 'restarting');
    await run.stop();
    const err = query(db(dir), "SELECT error_type FROM process_errors WHERE process = 'greedy'");
    expect(err.map((e) => e.error_type)).toEqual(['MemoryError']);
  });
});
