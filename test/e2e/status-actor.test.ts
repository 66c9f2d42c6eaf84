/**
 * One actor in detail: `ctl status NAME` from the live run, `status NAME`
 * from the file afterwards, as supervisorctl and systemctl users type first.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ActorDetail } from '../../src/record/queries.ts';
import { project, runCli, startRun, waitForActor } from '../helpers/cli.ts';

describe('status NAME', () => {
  it('shows one actor: state, pid, uptime, counts, last exit and why, next run, limits, errors, output, config', {
    timeout: 120_000,
  }, async () => {
    const dir = project(`
runtime: { sample_interval_seconds: 0.5 }
actors:
  - name: feed
    command: [sh, -c, "echo fetching page $$; echo 'ConnectionError: feed down' >&2; exit 2"]
    requires_loop: true
    loop_interval: 90s
    restart_delay: 60s
    env: { FEED_TOKEN: s3cr3t-value }
  - name: svc
    command: [sh, -c, "for i in $(seq 1 12); do echo line $i; done; exec sleep 600"]
    resource_limits: { max_memory_mb: 300, max_cpu_percent: 80 }
`);
    const run = startRun(dir);
    try {
      await waitForActor(dir, 'feed', (a) => a.state === 'restarting');
      await waitForActor(dir, 'svc', (a) => a.state === 'running' && a.rss_mb !== null);
      const live = await runCli(['ctl', 'status', 'feed'], dir);
      expect(live.code, live.stderr).toBe(0);
      const text = live.stdout;
      expect(text).toMatch(/^feed · process · restarting · run 1 \(live\)\n/);
      expect(text).toMatch(/\n {2}runs: +1 \(0 ok, 1 failed\) · 0 restarts\n/);
      expect(text).toMatch(/\n {2}last exit: +exit code 2 at \d\d:\d\d:\d\d UTC, after [\d.]+m?s\n/);
      expect(text).toMatch(/\n {2}why: +.*ConnectionError: feed down\n/);
      expect(text).toMatch(/\n {2}next: +restart in \d+s \(\d\d:\d\d:\d\d UTC\)\n/);
      expect(text).toMatch(
        /\nlast errors \(newest last\):\n {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}exit: exited with code 2: ConnectionError: feed down\n/,
      );
      expect(text).toMatch(/\nlast output \(newest last\):\n.*\| fetching page \d+\n.*! ConnectionError: feed down\n/);
      expect(text).toContain('\nconfig, as herder understood it:\n  name: feed\n  kind: process\n');
      expect(text).toMatch(/\n {2}loop_interval: 1m30s\n/);
      expect(text).toMatch(/\n {2}restart_delay: 1m00s\n/);
      expect(text).toContain('\n  env_names:\n    - FEED_TOKEN\n');
      expect(text).not.toContain('s3cr3t-value');

      const svc = JSON.parse((await runCli(['status', 'svc', '--json'], dir)).stdout) as ActorDetail;
      expect(svc.format).toBe('herder.actor/1');
      expect(svc.live).toBe(true);
      expect(svc.actor).toMatchObject({ name: 'svc', state: 'running', runs: 1 });
      expect(svc.actor.pid).toBeGreaterThan(0);
      expect(svc.actor.uptime_s).toBeGreaterThan(0);
      expect(svc.actor.limits).toEqual({ max_memory_mb: 300, max_cpu_percent: 80, max_fds: null });
      expect(svc.output.map((l) => l.line)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 3}`));
      expect(svc.sample?.rss_mb).toBeGreaterThan(0);
      const svcText = await runCli(['ctl', 'status', 'svc'], dir);
      expect(svcText.stdout).toMatch(/^svc · process · running · pid \d+ · up [\d.]+m?s · run 1 \(live\)\n/);
      expect(svcText.stdout).toMatch(/\n {2}limits: +memory 300 MB · cpu 80% · then restart after 3 samples over\n/);
      expect(svcText.stdout).toMatch(/\n {2}health: +score [\d.]+ · cpu \d+% · memory \d+ MB/);

      const unknown = await runCli(['ctl', 'status', 'nobody'], dir);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toBe('herder: no actor named "nobody" in run 1 (actors: feed, svc)\n');
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
    // From the file, the same view of the finished run.
    const after = await runCli(['status', 'feed'], dir);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^feed · process · stopped · run 1 \(stopped\)\n/);
    expect(after.stdout).toContain('ConnectionError: feed down');
    expect(after.stdout).toMatch(/\n {2}loop_interval: 1m30s\n/);
    const unknown = await runCli(['status', 'nobody'], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('herder: no actor named "nobody" in run 1 (actors: feed, svc)\n');
    // Environment values are never recorded (that is where tokens live).
    expect(readFileSync(path.join(dir, 'herder.db')).includes('s3cr3t-value')).toBe(false);
  });
});
