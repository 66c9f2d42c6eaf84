import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MAIN, project, startRun, TSX, waitForActor, waitUntil } from '../helpers/cli.ts';

const HAVE_TMUX = spawnSync('tmux', ['-V']).status === 0;
if (!HAVE_TMUX) console.warn('dashboard-tmux: skipped, tmux is missing (apt-get install tmux; .ci/run does)');

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });

describe.skipIf(!HAVE_TMUX)('status --watch in a real terminal', () => {
  it('shows the live run, and restarts an actor with r then y', { timeout: 120_000 }, async () => {
    const dir = project(`
runtime: { sample_interval_seconds: 0.5, protection: { enabled: false } }
actors:
  - name: alpha
    command: [sleep, "600"]
  - name: beta
    command: [sh, -c, "while true; do echo beta says hi; sleep 0.5; done"]
`);
    const run = startRun(dir);
    const session = `herder-test-${process.pid}`;
    try {
      const before = await waitForActor(dir, 'alpha', (a) => a.state === 'running' && a.pid !== null);
      tmux(
        'new-session',
        '-d',
        '-s',
        session,
        '-x',
        '150',
        '-y',
        '30',
        '-c',
        dir,
        `${process.execPath} --import ${TSX} ${MAIN} status --watch`,
      );
      const screen = () => tmux('capture-pane', '-p', '-t', session);
      // Generous: under a loaded machine a cold start of node + ink takes a while. A timeout shows the screen.
      await waitUntil(() => screen().includes('herder · run 1 · running'), 60_000, 'the dashboard to draw').catch(
        (e: Error) => {
          throw new Error(`${e.message}; the terminal shows:\n${screen()}`);
        },
      );
      await waitUntil(
        () => /› alpha\s+running/.test(screen()) && /beta\s+running/.test(screen()),
        20_000,
        'both actors',
      );
      tmux('send-keys', '-t', session, 'r');
      await waitUntil(() => screen().includes('restart alpha? y to confirm'), 10_000, 'the confirmation line');
      tmux('send-keys', '-t', session, 'y');
      await waitUntil(() => screen().includes('alpha: restarting'), 10_000, 'the answer');
      const after = await waitForActor(dir, 'alpha', (a) => a.pid !== null && a.pid !== before.pid);
      expect(after.restarts).toBe(1);
      tmux('send-keys', '-t', session, 'q');
      await waitUntil(() => spawnSync('tmux', ['has-session', '-t', session]).status !== 0, 10_000, 'q to quit');
    } finally {
      spawnSync('tmux', ['kill-session', '-t', session]);
      await run.stop();
    }
  });
});
