import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_PY, project, query, runCli, startRun, waitForActor } from '../helpers/cli.ts';

const state = (dir: string) =>
  Object.fromEntries(
    query(path.join(dir, 'herder.db'), 'SELECT process, state, runs, restarts FROM process_state').map((r) => [
      String(r.process),
      r,
    ]),
  );

const threeActors = (strategy: string) => `
runtime: { restart_jitter: 0, shutdown_grace_seconds: 2 }
supervisor: { strategy: ${strategy} }
actors:
  - name: first
    script: ${JOB_PY}
    args: [--forever]
  - name: middle
    script: ${JOB_PY}
    args: [--runs, middle.txt, --fail-until, "2", --forever]
    restart_delay: 0.1
  - name: last
    script: ${JOB_PY}
    args: [--forever]
`;

describe.concurrent('supervision strategies', () => {
  it('one_for_one restarts only the failed child', async () => {
    const dir = project(threeActors('one_for_one'));
    const run = startRun(dir);
    await waitForActor(dir, 'middle', (a) => a.runs === 2 && a.state === 'running');
    await run.stop();
    const s = state(dir);
    expect(s.first).toMatchObject({ runs: 1, restarts: 0 });
    expect(s.middle).toMatchObject({ runs: 2, restarts: 1 });
    expect(s.last).toMatchObject({ runs: 1, restarts: 0 });
  });

  it('one_for_all stops every sibling, then restarts all of them in start order', async () => {
    const dir = project(threeActors('one_for_all'));
    const run = startRun(dir);
    await waitForActor(dir, 'last', (a) => a.runs === 2 && a.state === 'running');
    await run.stop();
    const s = state(dir);
    expect(s.first).toMatchObject({ runs: 2, restarts: 1 });
    expect(s.middle).toMatchObject({ runs: 2, restarts: 1 });
    expect(s.last).toMatchObject({ runs: 2, restarts: 1 });
    const db = path.join(dir, 'herder.db');
    const stops = query(db, "SELECT process, detail FROM events WHERE kind = 'stop' ORDER BY id");
    expect(stops.map((e) => [e.process, e.detail])).toEqual([
      ['last', 'restarting with middle (one_for_all)'],
      ['first', 'restarting with middle (one_for_all)'],
    ]);
    // The sibling stops were not failures.
    expect(query(db, "SELECT process FROM process_errors WHERE process != 'middle'")).toEqual([]);
    const restartStarts = query(db, "SELECT process FROM events WHERE kind = 'start' ORDER BY id").map(
      (e) => e.process,
    );
    expect(restartStarts.slice(3)).toEqual(['first', 'middle', 'last']);
  });

  it('rest_for_one restarts the failed child and those started after it', async () => {
    const dir = project(threeActors('rest_for_one'));
    const run = startRun(dir);
    await waitForActor(dir, 'last', (a) => a.runs === 2 && a.state === 'running');
    await run.stop();
    const s = state(dir);
    expect(s.first).toMatchObject({ runs: 1, restarts: 0 });
    expect(s.middle).toMatchObject({ runs: 2, restarts: 1 });
    expect(s.last).toMatchObject({ runs: 2, restarts: 1 });
  });
});

describe.concurrent('restart intensity and escalation', () => {
  it('a nested supervisor over its intensity escalates; its parent restarts the subtree with backoff', async () => {
    const dir = project(`
runtime: { restart_jitter: 0, shutdown_grace_seconds: 2 }
actors:
  - name: steady
    script: ${JOB_PY}
    args: [--forever]
  - supervisor: feeds
    strategy: one_for_one
    intensity: 1
    period_seconds: 5
    restart_delay: 0.2
    max_restarts: 1
    actors:
      - name: flapping
        script: ${JOB_PY}
        args: [--exit, "3"]
        restart_delay: 0
`);
    const run = startRun(dir);
    await waitForActor(dir, 'feeds', (a) => a.state === 'fatal');
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    const db = path.join(dir, 'herder.db');
    const esc = query(db, "SELECT detail FROM events WHERE process = 'feeds' AND kind = 'escalate'");
    expect(esc).toHaveLength(2);
    expect(String(esc[0]?.detail)).toBe('supervisor gives up: more than 1 restarts within 5s (intensity)');
    const restart = query(db, "SELECT detail FROM events WHERE process = 'feeds' AND kind = 'restart'");
    expect(restart.map((e) => e.detail)).toEqual(['restart in 200ms (failure 1 of 1 in a row)']);
    const errs = query(db, "SELECT error_type FROM process_errors WHERE process = 'feeds' ORDER BY id");
    expect(errs.map((e) => e.error_type)).toEqual(['escalation', 'escalation', 'giveup']);
    const s = state(dir);
    expect(s.feeds).toMatchObject({ state: 'fatal' });
    expect(s.steady).toMatchObject({ runs: 1, restarts: 0 });
    // The restarted subtree starts afresh, but the record keeps counting its actor's runs and failures.
    const starts = query(db, "SELECT COUNT(*) AS n FROM events WHERE process = 'flapping' AND kind = 'start'")[0]?.n;
    expect(Number(starts)).toBeGreaterThanOrEqual(4);
    expect(s.flapping).toMatchObject({ runs: Number(starts) });
    const failures = query(db, "SELECT failures FROM process_state WHERE process = 'flapping'")[0]?.failures;
    expect(Number(failures)).toBe(Number(starts));
  });

  it('counts its actors as check does: workers at every level, not the root children', async () => {
    const dir = project(`
actors:
  - supervisor: feeds
    actors:
${['a', 'b', 'c'].map((n) => `      - name: ${n}\n        command: [sleep, "60"]\n`).join('')}`);
    const check = await runCli(['check'], dir);
    expect(check.stdout).toContain('OK: 3 actors');
    const r = await runCli(['--runtime', '0.01', '--no-echo'], dir);
    expect(r.code, r.stderr).toBe(0);
    const start = query(path.join(dir, 'herder.db'), "SELECT detail FROM events WHERE kind = 'run_start'");
    expect(String(start[0]?.detail)).toMatch(/^run 1: 3 actors from /);
  });

  it('the root over its intensity ends the run with exit 1 and an escalate event', async () => {
    const dir = project(`
runtime: { restart_jitter: 0, shutdown_grace_seconds: 2 }
supervisor: { strategy: one_for_one, intensity: 2, period_seconds: 30 }
actors:
  - name: steady
    script: ${JOB_PY}
    args: [--forever]
  - name: flapping
    script: ${JOB_PY}
    args: [--exit, "3"]
    restart_delay: 0
`);
    const r = await runCli(['--runtime', '5', '--no-echo'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/herder: run 1 failed: supervisor _herder gave up: more than 2 restarts within 30s/);
    const db = path.join(dir, 'herder.db');
    expect(query(db, 'SELECT status, exit_code FROM runs')[0]).toMatchObject({ status: 'failed', exit_code: 1 });
    const esc = query(db, "SELECT detail FROM events WHERE process = '_herder' AND kind = 'escalate'");
    expect(esc).toHaveLength(1);
    expect(state(dir).steady).toMatchObject({ state: 'stopped' });
  });
});

describe("the run's outcome", () => {
  it('ends by itself with exit 1 when an actor deep in the tree was given up and nothing is left', async () => {
    const dir = project(`
runtime: { restart_jitter: 0 }
actors:
  - supervisor: feeds
    actors:
      - name: bad
        script: ${JOB_PY}
        args: [--exit, "3"]
        restart_delay: 0
        max_restarts: 1
      - name: good
        script: ${JOB_PY}
        restart: transient
`);
    const r = await runCli(['--runtime', '5', '--no-echo'], dir);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('finished: every actor finished or was given up; some were given up');
  });
});
