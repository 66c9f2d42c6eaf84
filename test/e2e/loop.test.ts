import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_PY, project, query, runCli } from '../helpers/cli.ts';

describe('loop jobs', () => {
  it('re-runs a one-shot script after loop_interval, records loop_wait and successes', async () => {
    const dir = project(`
runtime: { shutdown_grace_seconds: 2 }
actors:
  - name: oneshot
    script: ${JOB_PY}
    args: [--runs, runs.txt, --print, "2"]
    requires_loop: true
    loop_interval: 0.3
`);
    const r = await runCli(['--runtime', '0.1', '--no-echo'], dir); // 6 s: room for 3 runs on a loaded machine
    expect(r.code, r.stderr).toBe(0);
    const runs = readFileSync(path.join(dir, 'runs.txt'), 'utf8').trim().split('\n');
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const db = path.join(dir, 'herder.db');
    const waits = query(db, "SELECT detail FROM events WHERE process = 'oneshot' AND kind = 'loop_wait'");
    expect(waits.length).toBeGreaterThanOrEqual(runs.length - 1);
    expect(String(waits[0]?.detail)).toContain('next run in 300ms');
    const restarts = query(db, "SELECT COUNT(*) AS n FROM events WHERE kind = 'restart'");
    expect(Number(restarts[0]?.n)).toBe(0);
    const state = query(db, "SELECT * FROM process_state WHERE process = 'oneshot'")[0];
    expect(Number(state?.successes)).toBe(runs.length);
    expect(Number(state?.failures)).toBe(0);
    const lines = query(db, "SELECT COUNT(*) AS n FROM process_output WHERE process = 'oneshot'");
    expect(Number(lines[0]?.n)).toBe(runs.length * 2);
    const run = query(db, 'SELECT status, exit_code FROM runs')[0];
    expect(run).toMatchObject({ status: 'completed', exit_code: 0 });
  });
});
