import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatusDoc } from '../../src/record/queries.ts';
import { alive, JOB_PY, MAIN, project, query, runCli, startRun, TSX, waitForActor, waitUntil } from '../helpers/cli.ts';
import { childrenOf, cmdline, killAll, readPids } from '../helpers/procs.ts';

const threeForkers = `
runtime: { shutdown_grace_seconds: 2 }
actors:
${[1, 2, 3].map((i) => `  - name: forker${i}\n    script: ${JOB_PY}\n    args: [--grandchild, gc${i}.txt, --pidfile, pid${i}.txt, --forever]\n`).join('')}`;

async function startForkers(dir: string, env: Record<string, string> = {}) {
  const run = startRun(dir, [], env);
  const pids = await waitUntil(
    () => {
      const all = [1, 2, 3].flatMap((i) => [
        ...readPids(path.join(dir, `pid${i}.txt`)),
        ...readPids(path.join(dir, `gc${i}.txt`)),
      ]);
      return all.length === 6 ? all : null;
    },
    30_000,
    'three children and three grandchildren',
  );
  await waitForActor(dir, 'forker3', (a) => a.pid !== null);
  return { run, pids };
}

/**
 * A live herder (`run --runtime 15 --no-echo` in `dir`) started by a Python parent that never waits for its children;
 * `prelude` runs in the parent first. The parent prints herder's pid.
 */
function herderUnder(prelude: string, dir: string, newSession: boolean) {
  const code = `import ctypes, subprocess, sys, time
${prelude}
p = subprocess.Popen(sys.argv[1:], start_new_session=${newSession ? 'True' : 'False'}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(p.pid, flush=True)
time.sleep(120)`;
  const parent = spawn(
    'python3',
    ['-c', code, process.execPath, '--import', TSX, MAIN, 'run', '--runtime', '15', '--no-echo'],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const pid = new Promise<number>((resolve) =>
    parent.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
  );
  return { parent, pid };
}

describe('no orphans', () => {
  it('kill -9 of herder leaves no child or grandchild running', async () => {
    const dir = project(threeForkers);
    const tmp = path.join(dir, 'tmp');
    mkdirSync(tmp);
    const { run, pids } = await startForkers(dir, { TMPDIR: tmp });
    try {
      expect(pids.every(alive)).toBe(true);
      const pipeFolders = () => readdirSync(tmp).filter((f) => f.startsWith('herder-pipes-')); // tsx caches there too
      expect(pipeFolders()).toHaveLength(1);
      run.child.kill('SIGKILL');
      await run.done;
      await waitUntil(() => pids.every((p) => !alive(p)), 10_000, 'every child and grandchild to be gone');
      await waitUntil(() => pipeFolders().length === 0, 10_000, 'the reaper to remove the pipes folder');
      // status and report agree: the run crashed, and what its actors were doing then is not known.
      const status = await runCli(['status', '--json'], dir);
      expect(status.code, status.stderr).toBe(0);
      const doc = JSON.parse(status.stdout) as StatusDoc;
      expect(doc.run.status).toBe('crashed');
      expect(doc.actors.map((a) => [a.state, a.pid, a.next_run_at])).toEqual(
        doc.actors.map(() => ['unknown', null, null]),
      );
      expect(doc.actors[0]?.detail).toMatch(/^was running \(pid \d+\) when herder ended$/);
      const report = await runCli(['report'], dir);
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout).toMatch(
        /^run 1: crashed \(herder \(pid \d+\) ended without a shutdown; the next run cleans up after it\)\n/,
      );
      expect(report.stdout).toContain('end not recorded');
    } finally {
      killAll(pids);
    }
  });

  it('the next run on the same database kills what a dead run left (checked by start time) and marks it crashed', async () => {
    const dir = project(threeForkers);
    const tmp = path.join(dir, 'tmp');
    mkdirSync(tmp);
    const pipeFolders = () => readdirSync(tmp).filter((f) => f.startsWith('herder-pipes-')); // tsx caches there too
    const { run, pids } = await startForkers(dir, { TMPDIR: tmp });
    const herderPid = run.child.pid ?? 0;
    try {
      // Freeze the reaper so that it cannot clean up, then kill herder: the leftovers stay.
      const reaper = childrenOf(herderPid).find((p) => cmdline(p).startsWith('bash'));
      expect(reaper).toBeDefined();
      process.kill(reaper ?? 0, 'SIGSTOP');
      run.child.kill('SIGKILL');
      await run.done;
      process.kill(reaper ?? 0, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      expect(pids.every(alive)).toBe(true);
      expect(pipeFolders()).toEqual([expect.stringMatching(new RegExp(`^herder-pipes-${herderPid}-`))]);

      const next = await runCli(['--runtime', '0.01', '--no-echo'], dir, { TMPDIR: tmp });
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toContain('run 1: herder (pid');
      expect(next.stderr).toContain('killed 3 leftover process groups; marked crashed');
      await waitUntil(() => pids.every((p) => !alive(p)), 5_000, 'the leftovers to be killed');
      expect(pipeFolders()).toEqual([]); // the dead run's folder was swept, the new run's removed
      const db = path.join(dir, 'herder.db');
      const runs = query(db, 'SELECT id, status, end_reason FROM runs ORDER BY id');
      expect(runs[0]).toMatchObject({ id: 1, status: 'crashed' });
      expect(runs[1]).toMatchObject({ id: 2, status: 'completed' });
      const crashed = query(db, "SELECT run_id, detail FROM events WHERE kind = 'crashed'");
      expect(crashed).toHaveLength(1);
      expect(crashed[0]?.run_id).toBe(1);
      const stale = query(db, "SELECT state FROM process_state WHERE run_id = 1 AND state != 'stopped'");
      expect(stale).toEqual([]);
    } finally {
      killAll(pids);
    }
  });

  it('a run killed with kill -9 is marked crashed by the next one, ending at its last sign of life, not at its first event', async () => {
    const dir = project(`
actors:
  - name: ticker
    command: [sh, -c, 'while true; do echo tick; sleep 0.1; done']
`);
    const run = startRun(dir);
    const db = path.join(dir, 'herder.db');
    await waitForActor(dir, 'ticker', (a) => a.pid !== null);
    await new Promise((r) => setTimeout(r, 1500)); // ticks reach the record; no event after the start
    run.child.kill('SIGKILL');
    await run.done;
    const next = await runCli(['--runtime', '0.01', '--no-echo'], dir);
    expect(next.code, next.stderr).toBe(0);
    const r1 = query(db, 'SELECT started_at, ended_at, status FROM runs WHERE id = 1')[0];
    const lastTick = Number(query(db, 'SELECT MAX(ts) AS t FROM process_output WHERE run_id = 1')[0]?.t);
    const lastEvent = Number(query(db, "SELECT MAX(ts) AS t FROM events WHERE run_id = 1 AND kind != 'crashed'")[0]?.t);
    expect(r1?.status).toBe('crashed');
    expect(lastTick).toBeGreaterThan(lastEvent + 0.5);
    expect(Number(r1?.ended_at)).toBe(lastTick);
  });

  it('a run started right after a kill -9 of herder, whose parent has not reaped it yet, starts and marks the old run crashed', async () => {
    const dir = project(`
actors:
  - name: sleeper
    command: [sleep, "60"]
`);
    // A parent that never waits for its child (as under nohup/setsid, or a wrapper busy elsewhere): the killed
    // herder stays a zombie with its pid and start time unchanged.
    const { parent, pid } = herderUnder('', dir, true);
    try {
      const herderPid = await pid;
      const sleeper = await waitForActor(dir, 'sleeper', (a) => a.pid !== null);
      process.kill(-herderPid, 'SIGKILL'); // herder's whole group, as a cgroup kill or kill -9 -PGID does
      const state = () => readFileSync(`/proc/${herderPid}/stat`, 'utf8').split(') ')[1]?.[0];
      await waitUntil(() => state() === 'Z', 5_000, 'herder to be a zombie');
      const next = await runCli(['--runtime', '0.02', '--no-echo'], dir);
      expect(state()).toBe('Z'); // still unreaped when the next run looked
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toMatch(
        /herder: run 1: herder \(pid \d+\) ended without a shutdown; killed \d leftover process groups?; marked crashed/,
      );
      expect(next.stderr).not.toContain('still live');
      const runs = query(path.join(dir, 'herder.db'), 'SELECT id, status FROM runs ORDER BY id');
      expect(runs).toEqual([
        { id: 1, status: 'crashed' },
        { id: 2, status: 'completed' },
      ]);
      await waitUntil(() => !alive(sleeper.pid ?? 0), 5_000, "the old run's actor to be gone");
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('a stopped job is reported gone once only zombies are left in its group, even when nobody reaps them', async () => {
    const dir = project(`
actors:
  - name: looper
    command: [sh, -c, "while :; do echo tick; sleep 5; done"]
`);
    // herder under a subreaper that never reaps: the job's orphaned children stay zombies in its group
    // (as under an init that reaps late, or with herder itself as PID 1 in a container).
    const { parent } = herderUnder('ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER', dir, false);
    try {
      await waitForActor(dir, 'looper', (a) => a.state === 'running' && a.pid !== null);
      const stop = await runCli(['ctl', 'stop', 'looper'], dir);
      expect(stop.code, stop.stderr).toBe(0);
      await waitForActor(dir, 'looper', (a) => a.state === 'stopped', 20_000);
      const shutdown = await runCli(['ctl', 'shutdown'], dir);
      expect(shutdown.code, shutdown.stderr).toBe(0);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('refuses to start a second run on a database that a live run is using', async () => {
    const dir = project(`
actors:
  - name: sleeper
    command: [sleep, "60"]
`);
    const run = startRun(dir);
    try {
      await waitForActor(dir, 'sleeper', (a) => a.state === 'running');
      const second = await runCli(['--runtime', '1', '--no-echo'], dir);
      expect(second.code).toBe(2);
      expect(second.stderr.trim()).toMatch(
        /herder\.db: herder run 1 \(pid \d+\) is still live on this database; stop it first \(kill -TERM \d+\) or pass --db OTHER\.db$/,
      );
      expect(second.stderr).not.toMatch(/\n\s+at /);
    } finally {
      const r = await run.stop();
      expect(r.code).toBe(0);
    }
  });
});
