import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAIN, project, startRun, THREAD_JOB, TSX, waitForActor, waitUntil } from '../helpers/cli.ts';

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

  it('fits 80 and 120 columns: one line per actor, no line wider than the terminal', { timeout: 120_000 }, async () => {
    const error =
      'GET https://stooq.com/q/d/l/?s=aapl.us&i=d answered 429 Too Many Requests after 3 retries; backing off for 120 s';
    const dir = project('');
    const fetcher = path.join(dir, 'fetcher.sh');
    // The error goes through the health channel (fd 3), as a job reports one it survives.
    writeFileSync(
      fetcher,
      `echo '${JSON.stringify({ type: 'error', error_type: 'FetchFailed', message: error })}' >&3\nexec sleep 600\n`,
    );
    writeFileSync(
      path.join(dir, 'actors.yaml'),
      `
runtime: { sample_interval_seconds: 0.5, protection: { enabled: false } }
actors:
  - name: market-data-collector-eu
    command: [sh, -c, "while true; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 0.2; done"]
  - name: quiet
    command: [sleep, "600"]
  - name: quotes-normaliser-thread
    module: ${THREAD_JOB}
    env: { JOB_MODE: forever }
  - supervisor: feeds-with-a-long-name
    actors:
      - name: stooq-daily-prices-fetcher
        command: [sh, ${fetcher}]
      - name: yahoo-json-quotes
        command: [python3, -c, "import time; hoard = b'x' * (64 << 20); time.sleep(600)"]
`,
    );
    const run = startRun(dir);
    const sessions = [80, 120].map((width) => ({ width, name: `herder-test-${process.pid}-${width}` }));
    try {
      await waitForActor(dir, 'stooq-daily-prices-fetcher', (a) => a.last_error !== null);
      await waitForActor(dir, 'quotes-normaliser-thread', (a) => a.state === 'running');
      for (const { width, name } of sessions) {
        const cmd = `${process.execPath} --import ${TSX} ${MAIN} status --watch`;
        tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', '40', '-c', dir, cmd);
      }
      // -J joins a line the terminal wrapped back into one, so a wrapped line shows as one too wide.
      const screen = (name: string) => tmux('capture-pane', '-p', '-J', '-t', name);
      for (const { width, name } of sessions) {
        // Ready when the table has a history: at 120 columns, a few samples on the collector's CPU sparkline.
        const ready = (s: string) =>
          s.includes('stooq-daily-prices') &&
          s.includes('yahoo-json-quotes') &&
          (width === 80 || /market-data-collector-eu .*[▁▂▃▄▅▆▇█]{4,}/.test(s));
        const s = await waitUntil(() => (ready(screen(name)) ? screen(name) : null), 60_000, `${width} columns`).catch(
          (e: Error) => {
            throw new Error(`${e.message}; the terminal shows:\n${screen(name)}`);
          },
        );
        const lines = s.split('\n');
        expect(lines.filter((l) => [...l].length > width)).toEqual([]);
        // The table is the header and one line per actor, up to the blank line before the events.
        const head = lines.findIndex((l) => l.startsWith('  ACTOR '));
        expect(lines.slice(head + 1).findIndex((l) => l.trim() === '')).toBe(6);
        const row = (re: RegExp) => lines.filter((l) => re.test(l));
        // Every actor on exactly one line, with its state on that line.
        expect(row(/market-data-collector-eu +running +\d+/)).toHaveLength(1);
        expect(row(/^ {2}quiet +running/)).toHaveLength(1);
        expect(row(/quotes-normaliser-thre\S* +running/)).toHaveLength(1);
        expect(row(/^ {2}feeds-with-a-long-name +running/)).toHaveLength(1);
        expect(row(/^ {4}yahoo-json-quotes +running/)).toHaveLength(1);
        // The last error shows its message, not its type alone.
        expect(row(/^ {4}stooq-daily-prices\S* +running .*FetchFailed: GET h/)).toHaveLength(1);
        if (width === 120) {
          // The sparklines carry their scale: all cores for a process, one core for a thread, the machine's memory.
          expect(row(/market-data-collector-eu .*[▁▂▃▄▅▆▇█]{4,} \d+% .*[▁▂▃▄▅▆▇█]{4,} \d+(\.\d)?G/)).toHaveLength(1);
          expect(row(/quotes-normaliser-thread .* 100% /)).toHaveLength(1);
          // An idle process draws low bars, never full blocks.
          expect(row(/^ {2}quiet .* 0% +▁{4,} \d+% /)).toHaveLength(1);
        }
      }
    } finally {
      for (const { name } of sessions) spawnSync('tmux', ['kill-session', '-t', name]);
      await run.stop();
    }
  });
});
