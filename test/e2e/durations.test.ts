/**
 * Durations with units, end to end: `--runtime 3s` ends a real run at its
 * deadline, and a loop job with `loop_interval: "500ms"` really runs twice a
 * second (no rounding to whole seconds on the way to the timers).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_PY, project, query, runCli, startCli, startRun, waitUntil } from '../helpers/cli.ts';

const runsIn = (file: string): number =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).length : 0;

describe.concurrent('durations with units', () => {
  it('--runtime 3s: the run ends at its 3-second deadline, exit 0', async () => {
    const dir = project(`
runtime: { shutdown_grace_seconds: 2s }
actors:
  - name: steady
    script: ${JOB_PY}
    args: [--forever]
`);
    const r = await runCli(['run', '--runtime', '3s', '--no-echo'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/; stops at \d\d:\d\d UTC, in 3s \(--runtime 0 for no limit\);/);
    const run = query(path.join(dir, 'herder.db'), 'SELECT * FROM runs')[0];
    expect(run).toMatchObject({ status: 'completed', exit_code: 0, max_runtime_s: 3 });
    expect(String(run?.end_reason)).toContain('deadline reached (3s)');
    const ran = Number(run?.ended_at) - Number(run?.started_at);
    expect(ran).toBeGreaterThanOrEqual(3);
    expect(ran, 'ended by its deadline, not by something much later').toBeLessThan(20);
  });

  it('without a limit in the config or on the command line, the run says it stops after six hours, and when', async () => {
    const dir = project('actors:\n  - name: s\n    command: [sleep, "600"]\n');
    const run = startCli(['run', '--no-echo'], dir);
    let stderr = '';
    run.child.stderr?.on('data', (d: Buffer) => {
      stderr += String(d);
    });
    try {
      const line = await waitUntil(() => /herder: run 1 started[^\n]*\n/.exec(stderr)?.[0], 30_000, 'the start line');
      expect(line).toMatch(
        /^herder: run 1 started \(pid \d+\); stops at \d\d:\d\d UTC, in 6h00m \(--runtime 0 for no limit\);/,
      );
      // six hours from now, give or take the minute the clock may turn meanwhile
      const around = [0, 60_000, 120_000].map((back) =>
        new Date(Date.now() + 6 * 3600_000 - back).toISOString().slice(11, 16),
      );
      expect(around).toContain(/stops at (\d\d:\d\d)/.exec(line)?.[1]);
    } finally {
      run.child.kill('SIGTERM');
      expect((await run.done).code).toBe(0);
    }
  });

  it('loop_interval: "500ms" re-runs a one-shot job every half second', async () => {
    const dir = project(`
runtime: { shutdown_grace_seconds: 2s }
actors:
  - name: tick
    script: ${JOB_PY}
    args: [--runs, runs.txt]
    requires_loop: true
    loop_interval: "500ms"
    restart_delay: 250ms
`);
    const runs = path.join(dir, 'runs.txt');
    const run = startRun(dir);
    try {
      // Six runs take about 3 s at this interval; 60 s at the default of 60 s.
      await waitUntil(() => runsIn(runs) >= 6, 30_000, 'six runs of tick');
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
    const waits = query(
      path.join(dir, 'herder.db'),
      "SELECT detail FROM events WHERE process = 'tick' AND kind = 'loop_wait'",
    );
    expect(waits.length).toBeGreaterThanOrEqual(5);
    for (const w of waits) expect(String(w.detail)).toBe('next run in 500ms');
  });
});
