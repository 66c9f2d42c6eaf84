import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  alive,
  JOB_PY,
  project,
  query,
  runCli,
  startCli,
  startRun,
  THREAD_JOB,
  waitForActor,
  waitUntil,
} from '../helpers/cli.ts';
import { killAll, readPids } from '../helpers/procs.ts';

const db = (dir: string) => path.join(dir, 'herder.db');

describe.concurrent('bounded runs and graceful shutdown', () => {
  it('at the deadline, a running loop job may finish its run; no new run starts; state is saved', async () => {
    const dir = project(`
runtime: { shutdown_grace_seconds: 10 }
actors:
  - name: collector
    script: ${JOB_PY}
    args: [--runs, runs.txt, --sleep, "2.5", --then-print, "run complete"]
    requires_loop: true
    loop_interval: 0.1
  - name: service
    script: ${JOB_PY}
    args: [--forever]
`);
    const r = await runCli(['--runtime', '0.02', '--no-echo'], dir); // deadline after 1.2 s, mid-run
    expect(r.code, r.stderr).toBe(0);
    // Without echo: one line when the run is up, one when it ends.
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^herder: run 1 started \(pid \d+\); stops at \d\d:\d\d UTC, in 1\.2s \(--runtime 0 for no limit\); follow it with `status --watch`/,
      ),
      'herder: run 1 completed: deadline reached (1.2s) (record: herder.db)',
    ]);
    expect(readFileSync(path.join(dir, 'runs.txt'), 'utf8').trim().split('\n')).toHaveLength(1);
    const out = query(db(dir), "SELECT line FROM process_output WHERE process = 'collector'");
    expect(out.map((o) => o.line)).toEqual(['run complete']);
    const exits = query(db(dir), "SELECT process, detail FROM events WHERE kind = 'exit' ORDER BY id");
    expect(exits.map((e) => [e.process, String(e.detail).replace(/after [\d.]+m?s/, 'after T')])).toEqual([
      ['service', 'stopped by herder (shutdown) (SIGTERM) after T'],
      ['collector', 'exited normally after T (finished its run during shutdown)'],
    ]);
    const kinds = query(db(dir), "SELECT kind FROM events WHERE process = '_herder' ORDER BY id").map((e) => e.kind);
    expect(kinds).toEqual(['run_start', 'deadline', 'shutdown', 'run_end']);
    const states = query(db(dir), 'SELECT process, state, successes FROM process_state ORDER BY process');
    expect(states).toEqual([
      { process: 'collector', state: 'stopped', successes: 1 },
      { process: 'service', state: 'stopped', successes: 0 },
    ]);
    expect(query(db(dir), 'SELECT status, exit_code, end_reason FROM runs')[0]).toEqual({
      status: 'completed',
      exit_code: 0,
      end_reason: 'deadline reached (1.2s)',
    });
  });

  it('a loop job whose run fails on its own while it is let finish: the failure and its error are recorded', async () => {
    const dir = project(`
runtime: { shutdown_grace_seconds: 10 }
actors:
  - name: collector
    script: ${JOB_PY}
    args: [--sleep, "2.5", --traceback]
    requires_loop: true
  - name: threaded
    module: ${THREAD_JOB}
    env: { JOB_MODE: throw, JOB_SLEEP_MS: "2500" }
    requires_loop: true
`);
    const r = await runCli(['--runtime', '0.02', '--no-echo'], dir); // deadline after 1.2 s, mid-run
    expect(r.code, r.stderr).toBe(0);
    const exits = query(db(dir), "SELECT process, detail FROM events WHERE kind = 'exit' ORDER BY process");
    expect(exits.map((e) => [e.process, String(e.detail).replace(/after [\d.]+m?s/, 'after T')])).toEqual([
      ['collector', 'exited with code 1 after T (its run failed during shutdown)'],
      ['threaded', 'failed with FetchFailed after T (its run failed during shutdown)'],
    ]);
    const errs = query(db(dir), 'SELECT process, error_type, message FROM process_errors ORDER BY process');
    expect(errs).toMatchObject([
      { process: 'collector', error_type: 'ValueError', message: 'boom' },
      { process: 'threaded', error_type: 'FetchFailed', message: 'upstream answered 503' },
    ]);
    const states = query(db(dir), 'SELECT process, state, failures FROM process_state ORDER BY process');
    expect(states).toEqual([
      { process: 'collector', state: 'stopped', failures: 1 },
      { process: 'threaded', state: 'stopped', failures: 1 },
    ]);
  });

  it('SIGKILLs, after the grace, a child that ignores SIGTERM; several are stopped in parallel', async () => {
    const actors = [1, 2, 3, 4]
      .map(
        (i) =>
          `  - name: stubborn${i}\n    script: ${JOB_PY}\n    args: [--ignore-term, --pidfile, pid${i}.txt, --forever]\n`,
      )
      .join('');
    const dir = project(`runtime: { shutdown_grace_seconds: 1 }\nactors:\n${actors}`);
    const run = startRun(dir);
    await waitUntil(() => [1, 2, 3, 4].every((i) => readPids(path.join(dir, `pid${i}.txt`)).length > 0), 30_000);
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    const rows = query(db(dir), "SELECT ts, detail FROM events WHERE kind = 'exit' ORDER BY id");
    expect(rows).toHaveLength(4);
    for (const e of rows) expect(String(e.detail)).toMatch(/^stopped by herder \(shutdown\) \(SIGKILL\) after/);
    const shutdownAt = Number(query(db(dir), "SELECT ts FROM events WHERE kind = 'shutdown'")[0]?.ts);
    // In parallel: the last one is gone within the grace plus a little, not 4 graces.
    for (const e of rows) expect(Number(e.ts) - shutdownAt).toBeLessThan(3.5); // one after another would take 4 s
  });

  it('kills grandchildren with their group, on stop and when a loop run exits leaving them behind', async () => {
    const dir = project(`
runtime: { shutdown_grace_seconds: 2 }
actors:
  - name: parent
    script: ${JOB_PY}
    args: [--grandchild, service-gc.txt, --forever]
  - name: leaky_loop
    script: ${JOB_PY}
    args: [--grandchild, loop-gc.txt]
    requires_loop: true
    loop_interval: 60
`);
    const run = startRun(dir);
    const loopGc = await waitUntil(() => readPids(path.join(dir, 'loop-gc.txt'))[0], 30_000, 'loop grandchild');
    const serviceGc = await waitUntil(() => readPids(path.join(dir, 'service-gc.txt'))[0], 30_000, 'grandchild');
    try {
      await waitUntil(() => !alive(loopGc), 5_000, 'the loop run’s grandchild to be killed');
      expect(alive(serviceGc)).toBe(true);
      await run.stop();
      await waitUntil(() => !alive(serviceGc), 5_000, 'the grandchild to be killed with its group');
    } finally {
      killAll([loopGc, serviceGc]);
    }
  });

  it('a second SIGINT kills every actor at once instead of waiting for the grace', async () => {
    const dir = project(`
runtime: { shutdown_grace_seconds: 60 }
actors:
  - name: stubborn
    script: ${JOB_PY}
    args: [--ignore-term, --pidfile, pid.txt, --forever]
`);
    const run = startCli(['run', '--runtime', '0', '--no-echo'], dir);
    const a = await waitForActor(dir, 'stubborn', (x) => x.state === 'running');
    await waitUntil(() => readPids(path.join(dir, 'pid.txt'))[0], 30_000, 'the child to ignore SIGTERM');
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 1500)); // a second press, well apart from the first
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, `${r.signal} ${r.stderr}`).toBe(0);
    expect(alive(a.pid ?? 0)).toBe(false);
    const kinds = query(db(dir), "SELECT kind FROM events WHERE process = '_herder' ORDER BY id").map((e) => e.kind);
    expect(kinds).toEqual(['run_start', 'signal', 'shutdown', 'kill', 'run_end']);
    expect(query(db(dir), 'SELECT status FROM runs')[0]?.status).toBe('stopped');
  });

  it('one Ctrl-C delivered twice (terminal and launcher) is one graceful stop, not a kill', async () => {
    const dir = project(`
runtime: { shutdown_grace_seconds: 10 }
actors:
  - name: polite
    script: ${JOB_PY}
    args: [--on-term-sleep, "1", --on-term-touch, clean.txt, --pidfile, pid.txt, --forever]
`);
    const run = startCli(['run', '--runtime', '0', '--no-echo'], dir);
    await waitUntil(() => readPids(path.join(dir, 'pid.txt'))[0], 30_000, 'the job to be ready');
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 40)); // as the launcher's copy arrives: after the terminal's
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, `${r.signal} ${r.stderr}`).toBe(0);
    expect(readFileSync(path.join(dir, 'clean.txt'), 'utf8')).toBe('shut down cleanly\n');
    const kinds = query(db(dir), "SELECT kind FROM events WHERE process = '_herder' ORDER BY id").map((e) => e.kind);
    expect(kinds).toEqual(['run_start', 'signal', 'shutdown', 'run_end']);
  });

  it('the grace covers the whole group: a worker behind a wrapper script gets its time to shut down', async () => {
    const dir = project(`
runtime: { shutdown_grace_seconds: 5 }
actors:
  - name: wrapped
    command: [sh, -c, "python3 ${JOB_PY} --on-term-sleep 1 --on-term-touch clean.txt --pidfile pid.txt --forever; echo wrapper done"]
`);
    const run = startRun(dir);
    await waitUntil(() => readPids(path.join(dir, 'pid.txt'))[0], 30_000, 'the worker to be ready');
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'clean.txt'), 'utf8')).toBe('shut down cleanly\n');
  });
});
