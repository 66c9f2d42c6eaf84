import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderEvent } from '../../src/runtime/event-text.ts';
import { type EventKind, herderEvent } from '../../src/runtime/events.ts';
import { JOB_PY, project, query, runCli, startCli, startRun, waitForActor, waitUntil } from '../helpers/cli.ts';

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

  it('keeps the fields of every event: events --json and the data column, and the line rendered from them', async () => {
    const dir = project(`
runtime: { protection: { enabled: false }, restart_jitter: 0 }
actors:
  - name: crasher
    script: ${JOB_PY}
    args: [--exit, "3"]
    restart_delay: 0.2
    max_restarts: 2
  - name: looper
    script: ${JOB_PY}
    requires_loop: true
    loop_interval: 30
`);
    const run = startRun(dir);
    await waitForActor(dir, 'crasher', (a) => a.state === 'fatal', 30_000);
    await waitForActor(dir, 'looper', (a) => a.state === 'loop_wait');
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    const out = await runCli(['events', '--json', '-n', '200'], dir);
    expect(out.code, out.stderr).toBe(0);
    const rows = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { format: string; process: string; kind: EventKind; detail: string; data: never });
    // Every line people read is the renderer's, from the fields kept beside it.
    for (const e of rows) {
      expect(e.format).toBe('herder.event/1');
      expect(renderEvent(herderEvent(e.process, e.kind, e.data)), `${e.kind}: ${e.detail}`).toBe(e.detail);
    }
    const of = (process: string, kind: string) =>
      rows.filter((e) => e.process === process && e.kind === kind).map((e) => e.data as Record<string, unknown>);
    expect(of('crasher', 'exit')).toHaveLength(3);
    expect(of('crasher', 'exit')[0]).toMatchObject({ cause: 'crash', code: 3, signal: null, error_type: 'exit' });
    expect(of('crasher', 'exit')[0]?.ran_ms).toBeTypeOf('number');
    expect(of('crasher', 'restart')).toEqual([
      expect.objectContaining({ delay_ms: 200, failures_in_row: 1, max_restarts: 2, reason: 'failure', with: [] }),
      expect.objectContaining({ delay_ms: 400, failures_in_row: 2, max_restarts: 2, reason: 'failure' }),
    ]);
    expect(of('crasher', 'giveup')).toEqual([
      { failures_in_row: 3, max_restarts: 2, reason: expect.stringMatching(/^last failure: exit/) },
    ]);
    const start = of('looper', 'start')[0];
    expect(start).toEqual({ pid: expect.any(Number), run: 1 });
    const wait = of('looper', 'loop_wait')[0];
    expect(wait).toMatchObject({ next_in_ms: 30_000, reason: 'interval', pattern: null });
    expect(Math.abs(Number(wait?.next_at) - Date.now() - 30_000)).toBeLessThan(60_000);
    expect(of('_herder', 'run_start')[0]).toMatchObject({ actors: 2, config: path.join(dir, 'actors.yaml') });
    expect(of('_herder', 'signal')).toEqual([{ signal: 'SIGTERM' }]);
    expect(of('_herder', 'run_end')[0]).toMatchObject({ status: 'stopped' });
    // The record holds the same fields.
    const kept = query(
      path.join(dir, 'herder.db'),
      "SELECT data FROM events WHERE process = 'crasher' AND kind = 'giveup'",
    );
    expect(JSON.parse(String(kept[0]?.data))).toMatchObject({ failures_in_row: 3, max_restarts: 2 });
  });
});
