import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, query, runCli, startRun, THREAD_JOB, waitForActor } from '../helpers/cli.ts';

describe('resource sampling', () => {
  it('records each actor’s whole process group, thread actors from inside, and the machine', async () => {
    const dir = project(`
runtime: { sample_interval_seconds: 0.5, protection: { enabled: false } }
actors:
  - name: spinner_behind_wrapper
    command: [sh, -c, "python3 -c 'while True: pass'; echo never"]
  - name: hoarder
    command: [python3, -c, "import time; b = b'x' * (160 * 1024 * 1024); time.sleep(120)"]
  - name: threaded
    module: ${THREAD_JOB}
    env: { JOB_MODE: forever }
`);
    const run = startRun(dir);
    try {
      // What a user sees in status: the busy wrapper's CPU is its python child's.
      await waitForActor(dir, 'spinner_behind_wrapper', (a) => (a.cpu_percent ?? 0) > 30, 30_000);
      await waitForActor(dir, 'hoarder', (a) => (a.rss_mb ?? 0) > 150, 30_000);
      // A thread has no resident memory of its own: status shows its worker's heap in use, said as such.
      const t = await waitForActor(dir, 'threaded', (a) => (a.heap_mb ?? null) !== null, 30_000);
      expect(t.rss_mb).toBeNull();
      const table = await runCli(['status'], dir);
      expect(table.stdout).toMatch(/\nthreaded\s+thread\s+running\s+-\s+\S+\s+\d+%\s+\d+M heap\s/);
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
    const db = path.join(dir, 'herder.db');
    const rows = (p: string) => query(db, 'SELECT * FROM resource_usage WHERE process = ? ORDER BY id', [p]);
    const spinner = rows('spinner_behind_wrapper');
    expect(spinner.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...spinner.map((r) => Number(r.num_threads)))).toBeGreaterThanOrEqual(2); // sh + python
    expect(Math.max(...spinner.map((r) => Number(r.num_fds)))).toBeGreaterThan(0);
    const thread = rows('threaded').at(-1);
    expect(Number(thread?.heap_used_mb)).toBeGreaterThan(0);
    expect(Number(thread?.heap_total_mb)).toBeGreaterThanOrEqual(Number(thread?.heap_used_mb));
    expect(thread?.rss_mb).toBeNull();
    expect(Number(thread?.elu)).toBeGreaterThanOrEqual(0);
    const system = rows('_system').at(-1);
    expect(Number(system?.mem_percent)).toBeGreaterThan(0);
    expect(Number(system?.mem_percent)).toBeLessThanOrEqual(100);
    expect(Number(system?.available_mb)).toBeGreaterThan(0);
    expect(Number(system?.disk_free_mb)).toBeGreaterThan(0);
    expect(system?.load1).not.toBeNull();
  });
});
