import { describe, expect, it } from 'vitest';
import { JOB_PY, project, runCli, startCli, startRun, waitForActor, waitUntil } from '../helpers/cli.ts';

describe('events', () => {
  it('lists what happened, filtered by actor and kind, from the live run and the file; -f follows', async () => {
    const dir = project(`
runtime: { protection: { enabled: false } }
actors:
  - name: looper
    script: ${JOB_PY}
    requires_loop: true
    loop_interval: 0.3
  - name: steady
    script: ${JOB_PY}
    args: [--forever]
`);
    const run = startRun(dir);
    await waitForActor(dir, 'looper', (a) => a.runs >= 1);
    const follow = startCli(['events', 'looper', '-f', '-n', '1'], dir);
    let followed = '';
    follow.child.stdout?.on('data', (d: Buffer) => {
      followed += d.toString();
    });
    try {
      await waitUntil(() => (followed.match(/ looper start: /g) ?? []).length >= 2, 20_000, 'events -f to follow');
      expect(followed).not.toContain(' steady ');
      const starts = await runCli(['events', '--kind', 'start', '-n', '2'], dir);
      expect(starts.code, starts.stderr).toBe(0);
      const lines = starts.stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      for (const l of lines)
        expect(l).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (looper|steady) start: started, pid \d+/);
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
    const ended = await follow.done; // -f ends with the run
    expect(ended.code, ended.stderr).toBe(0);
    const after = await runCli(['events', '_herder'], dir);
    expect(
      after.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[3]),
    ).toEqual(['run_start:', 'signal:', 'shutdown:', 'run_end:']);
    const loopWaits = await runCli(['events', 'looper', '--kind', 'loop_wait', '-n', '1'], dir);
    expect(loopWaits.stdout).toMatch(/^\S+ \S+ looper loop_wait: next run in 300ms\n$/);

    // Mistakes in the command are said, not answered with nothing.
    const noActor = await runCli(['events', 'lopper'], dir);
    expect([noActor.code, noActor.stderr]).toEqual([
      2,
      'herder events: no actor named "lopper" in run 1 (actors: looper, steady, _herder)\n',
    ]);
    for (const cmd of ['events', 'logs', 'report', 'status']) {
      const noRun = await runCli([cmd, '--run', '99'], dir);
      expect([noRun.code, noRun.stderr], cmd).toEqual([
        2,
        'herder: no run with id 99 in this database (it holds run 1)\n',
      ]);
    }
    const notLive = await runCli(['events', '-f', '-n', '1'], dir);
    expect([notLive.code, notLive.stderr]).toEqual([0, 'herder events: run 1 is not live; nothing to follow\n']);
    expect(notLive.stdout).toMatch(/ _herder run_end: /);
    const noKind = await runCli(['events', '--kind', 'giveups'], dir);
    expect(noKind.code).toBe(0);
    expect(noKind.stdout).toBe('');
    expect(noKind.stderr).toMatch(/^herder events: no "giveups" events \(kinds seen: .*loop_wait.*\)\n$/);
  });
});
