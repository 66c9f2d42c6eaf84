import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, query, ROOT, startRun, THREAD_JOB, waitForActor, waitUntil } from '../helpers/cli.ts';

const REPORTER = path.join(ROOT, 'test', 'fixtures', 'reporter.py');

describe('the health channel (fd 3)', () => {
  it('a Python job reports heartbeat, progress, health and an error; bad lines are counted and recorded once', async () => {
    const dir = project(`
actors:
  - name: reporter
    script: ${REPORTER}
  - name: threaded
    module: ${THREAD_JOB}
    env: { JOB_MODE: forever }
`);
    const run = startRun(dir);
    try {
      await waitUntil(() => existsSync(path.join(dir, 'ready.txt')), 20_000, 'the job to have reported');
      const a = await waitForActor(dir, 'reporter', (x) => x.bad_health_lines === 2);
      expect(a).toMatchObject({ progress: 0.4, self_health: 0.8, last_error: { type: 'health_channel' } });
      expect(a.heartbeat_at).toBeGreaterThan(Date.now() / 1000 - 60);
      expect(a.idle_s).toBeGreaterThanOrEqual(0);
      // A thread actor's console output counts as activity too.
      await waitForActor(dir, 'threaded', (x) => x.idle_s !== null);
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
    const errs = query(
      path.join(dir, 'herder.db'),
      "SELECT error_type, message, context FROM process_errors WHERE process = 'reporter' ORDER BY id",
    );
    expect(errs).toEqual([
      {
        error_type: 'yahoo.json',
        message: 'Expecting value: line 1 column 1 (char 0)',
        context: '<html>rate limited</html>',
      },
      {
        error_type: 'health_channel',
        message: 'not a health message: this is not json',
        context: expect.stringContaining('herder.health/1'),
      },
    ]);
  });

  it('outside herder the Python helper is harmless: errors go to stderr', () => {
    const r = spawnSync(
      'python3',
      ['-c', 'import health_channel as hc; hc.heartbeat(); hc.progress(2); hc.error("http.429", "slow down")'],
      {
        env: { ...process.env, PYTHONPATH: path.join(ROOT, 'src', 'scripts'), HERDER_HEALTH_FD: '' },
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('error http.429: slow down\n');
  });
});
