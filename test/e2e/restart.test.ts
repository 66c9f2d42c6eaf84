import { unlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_PY, project, query, startRun, waitForActor } from '../helpers/cli.ts';

const events = (dir: string, process: string, kind: string) =>
  query(path.join(dir, 'herder.db'), 'SELECT ts, detail FROM events WHERE process = ? AND kind = ? ORDER BY id', [
    process,
    kind,
  ]);

describe.concurrent('restarts, backoff and giving up', () => {
  it('backs off exponentially up to the cap, then gives up after max_restarts with a reason', async () => {
    const dir = project(`
runtime: { restart_jitter: 0, shutdown_grace_seconds: 1 }
actors:
  - name: crasher
    script: ${JOB_PY}
    args: [--runs, runs.txt, --exit, "3"]
    restart_delay: 0.1
    max_restart_delay: 0.4
    max_restarts: 4
  - name: bystander
    command: [sleep, "30"]
`);
    const run = startRun(dir);
    await waitForActor(dir, 'crasher', (a) => a.state === 'fatal');
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    const restarts = events(dir, 'crasher', 'restart').map((e) => String(e.detail));
    expect(restarts).toEqual([
      'restart in 100ms (failure 1 of 4 in a row)',
      'restart in 200ms (failure 2 of 4 in a row)',
      'restart in 400ms (failure 3 of 4 in a row)',
      'restart in 400ms (failure 4 of 4 in a row)',
    ]);
    // The delays really were waited: each start comes at least the announced delay after the exit.
    const starts = events(dir, 'crasher', 'start').map((e) => Number(e.ts));
    const exits = events(dir, 'crasher', 'exit').map((e) => Number(e.ts));
    expect(starts).toHaveLength(5);
    [0.1, 0.2, 0.4, 0.4].forEach((d, i) => {
      expect((starts[i + 1] ?? 0) - (exits[i] ?? 0)).toBeGreaterThanOrEqual(d - 0.01);
    });
    const giveup = events(dir, 'crasher', 'giveup');
    expect(giveup).toHaveLength(1);
    expect(String(giveup[0]?.detail)).toMatch(/gave up after 5 failures in a row \(max_restarts 4\)/);
    const db = path.join(dir, 'herder.db');
    const state = query(db, "SELECT state, failures, restarts FROM process_state WHERE process = 'crasher'")[0];
    expect(state).toMatchObject({ state: 'fatal', failures: 5, restarts: 4 });
    const errs = query(db, "SELECT error_type, message FROM process_errors WHERE process = 'crasher' ORDER BY id");
    expect(errs.filter((e) => e.error_type === 'exit')).toHaveLength(5);
    expect(errs.at(-1)?.error_type).toBe('giveup');
    // The others carry on.
    const other = query(db, "SELECT state, runs FROM process_state WHERE process = 'bystander'")[0];
    expect(other).toMatchObject({ state: 'stopped', runs: 1 });
  });

  it('a success resets the failure count (loop job that fails twice, then succeeds)', async () => {
    const dir = project(`
runtime: { restart_jitter: 0, shutdown_grace_seconds: 1 }
actors:
  - name: recovering
    script: ${JOB_PY}
    args: [--runs, runs.txt, --fail-until, "3"]
    requires_loop: true
    loop_interval: 60
    restart_delay: 0.1
    max_restart_delay: 10
    max_restarts: 2
`);
    const run = startRun(dir);
    await waitForActor(dir, 'recovering', (a) => a.state === 'loop_wait');
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(events(dir, 'recovering', 'restart').map((e) => String(e.detail))).toEqual([
      'restart in 100ms (failure 1 of 2 in a row)',
      'restart in 200ms (failure 2 of 2 in a row)',
    ]);
    expect(events(dir, 'recovering', 'loop_wait').map((e) => String(e.detail))).toEqual(['next run in 1m00s']);
    const state = query(path.join(dir, 'herder.db'), "SELECT * FROM process_state WHERE process = 'recovering'")[0];
    expect(state).toMatchObject({ successes: 1, failures: 2, runs: 3 });
    expect(events(dir, 'recovering', 'giveup')).toHaveLength(0);
  });

  it('hints when a continuous actor keeps exiting 0 quickly', async () => {
    const dir = project(`
runtime: { restart_jitter: 0 }
actors:
  - name: oneshot_by_mistake
    script: ${JOB_PY}
    restart_delay: 0.05
    max_restarts: 0
`);
    const run = startRun(dir);
    await waitForActor(dir, 'oneshot_by_mistake', (a) => a.runs >= 4);
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    const hints = events(dir, 'oneshot_by_mistake', 'hint');
    expect(hints).toHaveLength(1);
    expect(String(hints[0]?.detail)).toBe('exits 0 quickly; if it is a one-shot script, set requires_loop: true');
  });

  it('stops a run that exceeds run_timeout and counts it as a failure', async () => {
    const dir = project(`
runtime: { restart_jitter: 0, shutdown_grace_seconds: 1 }
actors:
  - name: slow
    script: ${JOB_PY}
    args: [--runs, runs.txt, --sleep, "30"]
    requires_loop: true
    loop_interval: 1
    run_timeout: 0.3
    restart_delay: 5
`);
    const run = startRun(dir);
    await waitForActor(dir, 'slow', (a) => a.state === 'restarting');
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(events(dir, 'slow', 'timeout')).toHaveLength(1);
    const exit = events(dir, 'slow', 'exit')[0];
    // A loaded machine may take over a second to see the group gone: "after 1.2s" is as right as "after 412ms".
    const m = /^stopped by run_timeout after (\d+(?:\.\d+)?)(ms|s)$/.exec(String(exit?.detail));
    expect(m, String(exit?.detail)).not.toBeNull();
    const ms = Number(m?.[1]) * (m?.[2] === 's' ? 1000 : 1);
    expect(ms).toBeGreaterThanOrEqual(300);
    const err = query(
      path.join(dir, 'herder.db'),
      "SELECT error_type, message FROM process_errors WHERE process = 'slow'",
    );
    expect(err[0]).toMatchObject({ error_type: 'timeout', message: 'run took longer than run_timeout (300ms)' });
    expect(String(events(dir, 'slow', 'restart')[0]?.detail)).toMatch(/^restart in 5s/);
  });

  it('records a Python traceback as one error row with its exception type and the traceback as context', async () => {
    const dir = project(`
runtime: { restart_jitter: 0 }
actors:
  - name: parser
    script: ${JOB_PY}
    args: [--traceback]
    restart: transient
    restart_delay: 60
`);
    const run = startRun(dir);
    await waitForActor(dir, 'parser', (a) => a.state === 'restarting');
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    const errs = query(path.join(dir, 'herder.db'), "SELECT * FROM process_errors WHERE process = 'parser'");
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ error_type: 'ValueError', message: 'boom' });
    expect(String(errs[0]?.context)).toMatch(/^Traceback \(most recent call last\):\n {2}File .*job\.py/);
    expect(String(events(dir, 'parser', 'exit')[0]?.detail)).toMatch(/^exited with code 1 after/);
  });

  it('a non-zero exit records the code and the last stderr lines', async () => {
    const dir = project(`
actors:
  - name: failing
    script: ${JOB_PY}
    args: [--stderr, "could not reach upstream", --exit, "7"]
    restart: transient
    restart_delay: 60
`);
    const run = startRun(dir);
    await waitForActor(dir, 'failing', (a) => a.state === 'restarting');
    await run.stop();
    const e = query(path.join(dir, 'herder.db'), "SELECT * FROM process_errors WHERE process = 'failing'")[0];
    expect(e).toMatchObject({ error_type: 'exit', message: 'exited with code 7: could not reach upstream' });
    expect(String(e?.context)).toContain('could not reach upstream');
    const s = query(
      path.join(dir, 'herder.db'),
      "SELECT last_exit_code FROM process_state WHERE process = 'failing'",
    )[0];
    expect(s?.last_exit_code).toBe(7);
  });

  it('a script deleted during the run is a failure like any other, never a crash of herder', async () => {
    const dir = project(`
runtime: { restart_jitter: 0 }
actors:
  - name: vanishing
    script: gone.sh
    requires_loop: true
    loop_interval: 0.2
    restart_delay: 0.1
    max_restarts: 2
  - name: steady
    command: [sleep, "30"]
`);
    const script = path.join(dir, 'gone.sh');
    await import('node:fs').then((fs) => fs.writeFileSync(script, 'rm -f "$0"\necho ran once\n'));
    const run = startRun(dir);
    await waitForActor(dir, 'vanishing', (a) => a.state === 'fatal');
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const db = path.join(dir, 'herder.db');
    const errs = query(db, "SELECT error_type, message FROM process_errors WHERE process = 'vanishing' ORDER BY id");
    expect(errs.length).toBeGreaterThanOrEqual(3);
    expect(String(errs[0]?.message)).toMatch(/No such file|gone\.sh/);
    expect(errs.at(-1)?.error_type).toBe('giveup');
    expect(query(db, "SELECT state FROM process_state WHERE process = 'steady'")[0]?.state).toBe('stopped');
    try {
      unlinkSync(script);
    } catch {
      // already removed by itself
    }
  });
});
