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

  it('a new run on the same record resumes each loop schedule: a run still ahead is waited for, a missed one runs at once', {
    timeout: 90_000,
  }, async () => {
    const dir = project(`
runtime: { shutdown_grace_seconds: 2 }
actors:
  - name: every5s
    command: [sh, -c, "echo ran"]
    requires_loop: true
    loop_interval: 5s
  - name: often
    command: [sh, -c, "echo ran"]
    requires_loop: true
    loop_interval: 300ms
  - name: fresh
    command: [sh, -c, "echo ran"]
    requires_loop: true
    loop_interval: 5s
    resume: false
`);
    const db = path.join(dir, 'herder.db');
    const first = await runCli(['--runtime', '1.5s', '--no-echo'], dir);
    expect(first.code, first.stderr).toBe(0);
    const due = (name: string) =>
      Number(
        query(db, 'SELECT next_run_at FROM process_state WHERE run_id = 1 AND process = ?', [name])[0]?.next_run_at,
      );
    const every5sDue = due('every5s');
    expect(every5sDue).toBeGreaterThan(Date.now() / 1000); // still ahead when the next run begins

    const second = await runCli(['--runtime', '7s', '--no-echo'], dir);
    expect(second.code, second.stderr).toBe(0);
    const run2 = (name: string) =>
      query(db, 'SELECT ts, kind, detail FROM events WHERE run_id = 2 AND process = ? ORDER BY id', [name]);
    // every5s: waits for the run run 1 planned, says so, then runs at that time (not at the start of run 2)
    const e = run2('every5s');
    expect(e[0]?.kind).toBe('loop_wait');
    expect(String(e[0]?.detail)).toMatch(
      /^next run in [\d.]+m?s \(resuming run 1's schedule: due at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$/,
    );
    const firstStart = e.find((x) => x.kind === 'start');
    expect(firstStart).toBeDefined();
    expect(Number(firstStart?.ts)).toBeGreaterThanOrEqual(every5sDue - 0.01);
    // often: its next run was due a moment after run 1 ended; missed while herder was down, so it runs at once, once
    const o = run2('often');
    expect(String(o[0]?.detail)).toMatch(
      /^next run now \(resuming run 1's schedule: its run due at .* was missed while herder was down\)$/,
    );
    expect(o[1]?.kind).toBe('start');
    // fresh (resume: false) starts at once, with no loop_wait before its first run
    expect(run2('fresh')[0]?.kind).toBe('start');
    expect(Number(run2('fresh')[0]?.ts)).toBeLessThan(every5sDue);
  });
});
