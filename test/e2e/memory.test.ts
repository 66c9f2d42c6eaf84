/**
 * herder's own memory over thousands of starts and heartbeats, driven fast:
 * crash loops and loop jobs that restart at once, a thread actor calling
 * ctx.heartbeat() fifty times a millisecond, a chatty job, and someone
 * following every actor's output with `logs -f`. The figures are the ones a
 * user can read: herder's own resource_usage rows ("_herder", its live heap
 * when run with --expose-gc) and the thread actor's heap_used_mb, which
 * `status beater --json` shows as its latest sample.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { call, socketPathFor } from '../../src/actors/control.ts';
import type { ActorDetail } from '../../src/record/queries.ts';
import { liveStatus, MAIN, project, query, ROOT, startCli, TSX, waitUntil } from '../helpers/cli.ts';

const BEATER = path.join(ROOT, 'test', 'fixtures', 'beater.mjs');
const WARM_UP_STARTS = 300;
const MEASURED_STARTS = 1_500;
/** How far herder's live heap may rise during the run (it rose 9 MB here when the logger kept every answer). */
const HERDER_BOUND_MB = 3;
/**
 * How far the thread actor's heap in use may rise above its idle level. It is
 * measured without a collection, so young garbage swings it by a few MB; it
 * stood 13-18 MB higher when every heartbeat went through its own proxy.
 */
const BEATER_BOUND_MB = 5;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2;
};

const crashJob = (name: string) =>
  `  - { name: ${name}, command: [sh, -c, "echo about to fail; exit 1"], restart_delay: 0, max_restart_delay: 0, max_restarts: 0 }`;
const loopJob = (name: string) =>
  `  - { name: ${name}, command: [sh, -c, "echo row"], requires_loop: true, loop_interval: 0 }`;
const CHATTY = `import sys, time
line = 'x' * 1000
while True:
    for _ in range(20):
        print(line)
    sys.stdout.flush()
    time.sleep(0.02)
`;

it('herder and a thread actor keep their memory flat through thousands of starts and heartbeats, with logs followed', {
  timeout: 240_000,
}, async () => {
  const dir = project('');
  const go = path.join(dir, 'go');
  writeFileSync(path.join(dir, 'chatty.py'), CHATTY);
  writeFileSync(
    path.join(dir, 'actors.yaml'),
    [
      // A small output buffer: what waits for the writer stays small, so the live heap shows only what is kept.
      'runtime: { sample_interval_seconds: 0.5, output_buffer_mb: 2, shutdown_grace_seconds: 2, protection: { enabled: false } }',
      'actors:',
      `  - { name: beater, module: ${BEATER}, env: { BEAT_GO: ${go} } }`,
      '  - { name: chatty, script: chatty.py }',
      crashJob('crash0'),
      crashJob('crash1'),
      loopJob('loop0'),
      loopJob('loop1'),
      '',
    ].join('\n'),
  );
  const socket = socketPathFor(path.join(dir, 'herder.db'));
  const starts = async () =>
    (await liveStatus(dir))?.actors
      .filter((a) => a.kind === 'process' && a.name !== 'chatty')
      .reduce((n, a) => n + a.runs, 0) ?? 0;
  /** The thread actor's latest samples as `status beater --json` shows them, one at a time: ts -> heap MB. */
  const beaterSamples = new Map<number, number>();
  const noteBeaterSample = async () => {
    const s = ((await call(socket, 'actor', { name: 'beater' }).catch(() => null)) as ActorDetail | null)?.sample;
    if (s?.heap_used_mb !== null && s?.heap_used_mb !== undefined) beaterSamples.set(s.ts, s.heap_used_mb);
  };

  const herder = spawn(
    process.execPath,
    ['--expose-gc', '--import', TSX, MAIN, 'run', '--runtime', '15', '--no-echo'],
    {
      cwd: dir,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  herder.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => herder.on('exit', resolve));
  try {
    // Warm-up: code compiled, the record's first pages written, the thread actor idle and sampled meanwhile.
    await waitUntil(
      async () => {
        await noteBeaterSample();
        return beaterSamples.size >= 4 && (await starts()) >= WARM_UP_STARTS;
      },
      90_000,
      `${WARM_UP_STARTS} starts and 4 samples of the idle thread actor`,
    );
    const idle = [...beaterSamples.values()];
    beaterSamples.clear();
    const goAt = Date.now() / 1000;
    writeFileSync(go, '');
    const from = await starts();
    const follower = startCli(['logs', '-f'], dir);
    // Long enough for a few dozen samples, whatever the pace of the starts.
    await waitUntil(
      async () => {
        await noteBeaterSample();
        return beaterSamples.size >= 20 && (await starts()) >= from + MEASURED_STARTS;
      },
      180_000,
      `${MEASURED_STARTS} more starts and 20 samples of the busy thread actor`,
    );
    const endAt = Date.now() / 1000;
    herder.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    const followed = (await follower.done).stdout.length;

    const db = path.join(dir, 'herder.db');
    const lastBeat = query(db, "SELECT line FROM process_output WHERE process = 'beater' ORDER BY id DESC LIMIT 1");
    const beats = Number(String(lastBeat[0]?.line ?? '').replace('beats ', ''));
    const heap = (name: string, from: number, to: number) =>
      query(db, 'SELECT heap_used_mb AS mb FROM resource_usage WHERE process = ? AND ts >= ? AND ts < ?', [
        name,
        from,
        to,
      ]).map((row) => Number(row.mb));
    // herder's own row, beside its heap: the whole process as /proc has it.
    const self = query(db, "SELECT * FROM resource_usage WHERE process = '_herder' ORDER BY id DESC LIMIT 1")[0];
    expect(self?.pid).toBe(herder.pid);
    expect(Number(self?.rss_mb)).toBeGreaterThan(Number(self?.heap_used_mb));
    expect(Number(self?.num_threads)).toBeGreaterThanOrEqual(3); // main, the logging thread, the thread actor
    expect(Number(self?.num_fds)).toBeGreaterThan(0);
    expect(self?.cpu_percent).not.toBeNull();
    const third = (endAt - goAt) / 3;
    const herderEarly = heap('_herder', goAt, goAt + third);
    const herderLate = heap('_herder', endAt - third, endAt);
    const busy = heap('beater', goAt + 1, endAt);
    const figures = JSON.stringify({ beats, followed, herderEarly, herderLate, idle, busy });

    expect(beats, figures).toBeGreaterThanOrEqual(100_000);
    expect(followed, figures).toBeGreaterThan(3_000_000);
    expect(herderEarly.length, figures).toBeGreaterThanOrEqual(4);
    expect(herderLate.length, figures).toBeGreaterThanOrEqual(4);
    expect(busy.length, figures).toBeGreaterThanOrEqual(8);
    expect(median(herderLate), figures).toBeLessThanOrEqual(median(herderEarly) + HERDER_BOUND_MB);
    expect(median(busy), figures).toBeLessThanOrEqual(median(idle) + BEATER_BOUND_MB);
  } finally {
    herder.kill('SIGKILL');
  }
});
