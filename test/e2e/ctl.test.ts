import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_PY, project, query, runCli, startRun, waitForActor } from '../helpers/cli.ts';

const procState = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];

describe('ctl: steering a live run', () => {
  // Many CLI processes in a row: minutes on a loaded machine.
  it('stop, start, restart, pause and resume an actor; never counted as failures; each an event with who sent it', {
    timeout: 180_000,
  }, async () => {
    const dir = project(`
runtime: { protection: { enabled: false } }
actors:
  - name: sleeper
    command: [sleep, "600"]
  - name: other
    command: [sleep, "600"]
`);
    const run = startRun(dir);
    try {
      const first = await waitForActor(dir, 'sleeper', (a) => a.state === 'running' && a.pid !== null);

      let r = await runCli(['ctl', 'stop', 'sleeper'], dir);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('sleeper: stopping\n');
      await waitForActor(dir, 'sleeper', (a) => a.state === 'stopped');

      r = await runCli(['ctl', 'start', 'sleeper'], dir);
      expect(r.stdout).toBe('sleeper: starting\n');
      const second = await waitForActor(
        dir,
        'sleeper',
        (a) => a.state === 'running' && a.pid !== null && a.pid !== first.pid,
      );

      r = await runCli(['ctl', 'restart', 'sleeper'], dir);
      expect(r.stdout).toBe('sleeper: restarting\n');
      const third = await waitForActor(
        dir,
        'sleeper',
        (a) => a.pid !== null && a.pid !== second.pid && a.state === 'running',
      );
      expect(third.restarts).toBe(1);

      r = await runCli(['ctl', 'pause', 'sleeper'], dir);
      expect(r.stdout).toBe('sleeper: paused\n');
      expect(procState(third.pid ?? 0)).toBe('T');
      const status = await runCli(['ctl', 'status'], dir);
      expect(status.stdout).toMatch(/\nsleeper\s+process\s+paused\s+/);
      r = await runCli(['ctl', 'resume', 'sleeper'], dir);
      expect(r.stdout).toBe('sleeper: resumed\n');
      expect(procState(third.pid ?? 0)).toBe('S');

      r = await runCli(['ctl', 'restart', 'all'], dir);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('sleeper: restarting\nother: restarting\n');

      r = await runCli(['ctl', 'stop', 'nobody'], dir);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        'herder: the live run refused stop: no actor named "nobody" (actors: sleeper, other)',
      );
    } finally {
      const done = await run.stop();
      expect(done.code, done.stderr).toBe(0);
    }
    const db = path.join(dir, 'herder.db');
    expect(query(db, "SELECT * FROM process_errors WHERE process = 'sleeper'")).toEqual([]);
    const cmds = query(
      db,
      "SELECT kind, detail FROM events WHERE process = 'sleeper' AND kind IN ('command', 'pause', 'resume') ORDER BY id",
    );
    expect(cmds.map((c) => c.kind)).toEqual(['command', 'command', 'command', 'pause', 'resume', 'command']);
    expect(String(cmds[0]?.detail)).toMatch(/^stop \(by \S+ \(uid \d+, pid \d+\)\)$/);
    // The run went on while sleeper was stopped by hand.
    expect(query(db, 'SELECT status FROM runs')[0]?.status).toBe('stopped');
  });

  it('shutdown stops the whole run gracefully, as its deadline would', async () => {
    const dir = project(`actors:\n  - name: sleeper\n    script: ${JOB_PY}\n    args: [--forever]\n`);
    const run = startRun(dir);
    await waitForActor(dir, 'sleeper', (a) => a.state === 'running');
    const live = await runCli(['status'], dir);
    expect(live.stdout).toMatch(/^run 1 · running · started .* · up [\d.]+m?s · pid \d+ · (15m00s|14m5\ds) left/);
    const r = await runCli(['ctl', 'shutdown'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^run 1: stopping \(running jobs get their grace\); herder pid \d+\n$/);
    const done = await run.done;
    expect(done.code, done.stderr).toBe(0);
    const runs = query(path.join(dir, 'herder.db'), 'SELECT status, end_reason FROM runs');
    expect(runs[0]).toMatchObject({
      status: 'stopped',
      end_reason: expect.stringMatching(/^shutdown asked by \S+ \(uid \d+/),
    });
  });

  it('shutdown after every actor was stopped by hand answers at once and exits 0, though the run ends at once', async () => {
    const dir = project(
      'actors:\n  - name: a\n    command: [sleep, "600"]\n  - name: b\n    command: [sleep, "600"]\n',
    );
    const run = startRun(dir);
    await waitForActor(dir, 'b', (a) => a.state === 'running');
    const stop = await runCli(['ctl', 'stop', 'all'], dir);
    expect(stop.stdout).toBe('a: stopping\nb: stopping\n');
    await waitForActor(dir, 'b', (a) => a.state === 'stopped');
    await waitForActor(dir, 'a', (a) => a.state === 'stopped');
    // Nothing is left to stop: the run ends the moment it is asked, and its answer must still arrive.
    const r = await runCli(['ctl', 'shutdown'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^run 1: stopping \(running jobs get their grace\); herder pid \d+\n$/);
    const done = await run.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toMatch(/run 1 stopped: shutdown asked by/);
  });

  it('against no live run says so in one line and exits 1', async () => {
    const dir = project('actors:\n  - name: a\n    command: [sleep, "1"]\n');
    const r = await runCli(['ctl', 'stop', 'a'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/herder ctl: no live run answers on .*herder\.sock \(start one with `herder run`\)/);
    const extra = await runCli(['ctl', 'reload', 'a'], dir);
    expect([extra.code, extra.stderr]).toEqual([
      2,
      'herder ctl reload: takes no actor name (got "a"); to steer one actor: ctl start|stop|restart|pause|resume NAME\n',
    ]);
    const one = await runCli(['ctl', 'status', 'a'], dir);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/^herder ctl: no live run answers on .*herder\.sock \(start one with `herder run`\)\n$/);
  });
});

describe('ctl reload', () => {
  // Many CLI processes in a row: minutes on a loaded machine.
  it('adds, removes and restarts what changed, leaves the rest alone, and refuses an invalid file', {
    timeout: 180_000,
  }, async () => {
    const head = 'runtime: { protection: { enabled: false } }\nactors:\n';
    const a = '  - name: a\n    command: [sleep, "600"]\n';
    const b = '  - name: b\n    command: [sleep, "600"]\n';
    const c = (interval: number) =>
      `  - name: c\n    command: [sh, -c, "echo tick"]\n    requires_loop: true\n    loop_interval: ${interval}\n`;
    const d = '  - name: d\n    command: [sleep, "600"]\n';
    const dir = project(head + a + b + c(60));
    const file = path.join(dir, 'actors.yaml');
    const run = startRun(dir);
    try {
      const before = await waitForActor(dir, 'a', (x) => x.state === 'running' && x.pid !== null);
      await waitForActor(dir, 'c', (x) => x.state === 'loop_wait');
      writeFileSync(file, head + a + c(30) + d);
      const r = await runCli(['ctl', 'reload'], dir);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`reloaded ${file}: added d; changed c; removed b; 1 unchanged\n`);
      await waitForActor(dir, 'd', (x) => x.state === 'running');
      await waitForActor(dir, 'b', (x) => x.state === 'stopped');
      const revive = await runCli(['ctl', 'start', 'b'], dir);
      expect(revive.code).toBe(1);
      expect(revive.stderr.trim()).toBe(
        'herder: the live run refused start: b was removed from the config by a reload; add it back to the file and run `ctl reload`',
      );
      await waitForActor(dir, 'c', (x) => x.state === 'loop_wait' && x.runs === 2);
      expect((await waitForActor(dir, 'a', (x) => x.state === 'running')).pid).toBe(before.pid);

      writeFileSync(file, `${head}  - name: a\n    comand: [sleep, "1"]\n`);
      const bad = await runCli(['ctl', 'reload'], dir);
      expect(bad.code).toBe(2);
      const check = await runCli(['check'], dir);
      expect(bad.stderr).toBe(`${check.stderr}herder ctl reload: refused; the run goes on unchanged\n`);
      expect((await waitForActor(dir, 'a', (x) => x.state === 'running')).pid).toBe(before.pid);

      // Broken YAML: the clients still find the run (with a warning) and the run refuses it like check.
      writeFileSync(file, `${head}  - name: [a\n`);
      const broken = await runCli(['ctl', 'reload'], dir);
      expect(broken.code).toBe(2);
      const lines = broken.stderr.trim().split('\n');
      expect(lines[0]).toMatch(
        /^herder: actors\.yaml: .*; reading herder\.db beside it \(pass --db F if the run uses another\)$/,
      );
      expect(lines.at(-1)).toBe('herder ctl reload: refused; the run goes on unchanged');
      const status = await runCli(['status'], dir);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain(' · live');
    } finally {
      await run.stop();
    }
    const reload = query(path.join(dir, 'herder.db'), "SELECT detail FROM events WHERE kind = 'reload'");
    expect(String(reload[0]?.detail)).toMatch(/^added d; changed c; removed b; 1 unchanged \(by .*\)$/);
  });
});
