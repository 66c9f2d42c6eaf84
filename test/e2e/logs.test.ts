import { describe, expect, it } from 'vitest';
import { project, runCli, startCli, startRun, waitForActor, waitUntil } from '../helpers/cli.ts';

const TS = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}';

describe('logs', () => {
  // Many CLI processes in a row: minutes on a loaded machine.
  it('shows one actor or all, filtered by stream, grep and -n, from the live run and from the file; -f follows', {
    timeout: 180_000,
  }, async () => {
    const dir = project(`
actors:
  - name: talker
    command: [sh, -c, "for i in 1 2 3 4 5; do echo out $i; done; echo 'warn: disk slow' >&2; sleep 600"]
  - name: ticker
    command: [sh, -c, "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"]
`);
    const run = startRun(dir);
    try {
      await waitForActor(dir, 'talker', (a) => a.state === 'running');
      await waitUntil(async () => (await runCli(['logs', 'talker'], dir)).stdout.includes('warn: disk slow'), 20_000);
      const all = await runCli(['logs', 'talker'], dir);
      expect(all.code, all.stderr).toBe(0);
      const lines = all.stdout.trim().split('\n');
      expect(lines).toHaveLength(6);
      expect(lines[0]).toMatch(new RegExp(`^${TS} talker \\| out 1$`));
      expect(lines[5]).toMatch(new RegExp(`^${TS} talker ! warn: disk slow$`));
      expect((await runCli(['logs', 'talker', '-n', '2', '--stream', 'stdout'], dir)).stdout).toMatch(
        new RegExp(`^${TS} talker \\| out 4\\n${TS} talker \\| out 5\\n$`),
      );
      expect(
        (await runCli(['logs', '--grep', 'disk|out 3', '--since', '10m'], dir)).stdout.trim().split('\n'),
      ).toHaveLength(2);

      const follow = startCli(['logs', 'ticker', '-f', '-n', '1'], dir);
      let seen = '';
      follow.child.stdout?.on('data', (d: Buffer) => {
        seen += d.toString();
      });
      await waitUntil(() => (seen.match(/tick \d+/g) ?? []).length >= 4, 20_000, 'logs -f to print new lines');
      follow.child.kill('SIGINT');
      await follow.done;
      const ticks = (seen.match(/tick (\d+)/g) ?? []).map((t) => Number(t.slice(5)));
      expect(ticks).toEqual(ticks.map((_, i) => (ticks[0] ?? 0) + i)); // consecutive: nothing missed or repeated

      const bad = await runCli(['logs', 'nobody'], dir);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim()).toBe('herder logs: no actor named "nobody" in run 1 (actors: talker, ticker)');
    } finally {
      await run.stop();
    }
    const after = await runCli(['logs', 'talker', '-n', '1'], dir);
    expect(after.stdout).toMatch(new RegExp(`^${TS} talker ! warn: disk slow\\n$`));
    const badRe = await runCli(['logs', '--grep', 'a('], dir);
    expect(badRe.code).toBe(2);
    expect(badRe.stderr).toMatch(/^herder logs --grep: \/a\(\/ is not a valid regular expression/);
    const badSince = await runCli(['logs', '--since', 'yesterday'], dir);
    expect(badSince.stderr.trim()).toBe(
      'herder logs --since: "yesterday" is not a duration (write a number of seconds, or a number with a unit: 500ms, 90s, 2m, 6h, 1d, 1h30m)',
    );
  });
});
