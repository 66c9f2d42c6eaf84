/**
 * The web dashboard in a real browser (Debian's chromium through
 * playwright-core), against a real run: every actor on the page, a crash
 * shown as it happens without a reload, the output tail streaming, actions
 * with the token only, nothing from another origin, and no request anywhere
 * but the run's own listener.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { liveStatus, project, query, startRun, waitForActor, waitUntil } from '../helpers/cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`dashboard-browser: skipped, ${CHROMIUM} is missing (apt-get install chromium; .ci/run does)`);

describe.skipIf(!HAVE_CHROMIUM)('the web dashboard in a real browser', () => {
  it('shows every actor live, streams output, and acts only with the token and only from its own page', {
    timeout: 120_000,
  }, async () => {
    const dir = project(`
runtime: { protection: { enabled: false }, sample_interval_seconds: 0.5, restart_jitter: 0 }
actors:
  - name: sleeper
    command: [sleep, "600"]
  - name: crasher
    command: [sh, -c, "sleep 2; exit 3"]
    restart_delay: 1
  - name: talker
    command: [sh, -c, "i=0; while :; do i=$((i+1)); echo tick $i; echo oops $i >&2; sleep 0.3; done"]
`);
    const run = startRun(dir, ['--http', '127.0.0.1:0']);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const url = await waitUntil(() => /dashboard and \/metrics at (http:\/\/[^;\s]+)/.exec(run.err())?.[1], 20_000);
      const first = await waitForActor(dir, 'sleeper', (a) => a.state === 'running' && a.pid !== null);
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      let loads = 0;
      page.on('load', () => loads++);
      await page.goto(`${url}/`);
      for (const name of ['sleeper', 'crasher', 'talker']) {
        await page.locator(`tr[data-name="${name}"]`).waitFor({ timeout: 20_000 });
      }
      // Without the token the actions are off, and say why.
      expect(await page.locator('button[data-op="restart"]').first().isDisabled()).toBe(true);
      expect(await page.locator('#why').textContent()).toContain('need the token');

      // A crash reaches the page by itself: its events and its restart count, with no reload.
      await page.locator('tr[data-name="crasher"]').click();
      await page.locator('#events li', { hasText: 'exited with code 3' }).waitFor({ timeout: 20_000 });
      await waitUntil(
        async () => Number((await page.locator('tr[data-name="crasher"] td').nth(6).textContent()) ?? 0) >= 1,
        20_000,
        'the restart count on the page',
      );
      // The output tail streams, stdout and stderr told apart, and filters like logs --grep.
      await page.locator('tr[data-name="talker"]').click();
      await page
        .locator('#log span.stdout', { hasText: /tick \d+/ })
        .first()
        .waitFor({ timeout: 20_000 });
      await page
        .locator('#log span.stderr', { hasText: /oops \d+/ })
        .first()
        .waitFor({ timeout: 20_000 });
      await page.fill('#grep', 'oops');
      await page.dispatchEvent('#grep', 'change');
      await waitUntil(
        async () =>
          (await page.locator('#log span').count()) > 0 && (await page.locator('#log span.stdout').count()) === 0,
        20_000,
        'the filtered tail',
      );

      // From another origin (a page of its own), an action is refused whatever it tries.
      const other = await browser.newPage();
      await other.goto('data:text/html,<p>elsewhere</p>');
      const token = readFileSync(path.join(dir, 'herder.token'), 'utf8').trim();
      const outcome = await other.evaluate(
        async ([target, t]) => {
          const results: string[] = [];
          for (const init of [
            { method: 'POST', mode: 'no-cors' as const, body: 'x' },
            { method: 'POST', headers: { authorization: `Bearer ${t}` } },
          ]) {
            try {
              const r = await fetch(`${target}/api/actors/sleeper/restart`, init);
              results.push(String(r.status));
            } catch {
              results.push('blocked');
            }
          }
          return results;
        },
        [url, token] as const,
      );
      // The browser blocks the one with the token (no preflight is answered); the other gets no token through.
      // Either way nothing happened: the sleeper keeps its pid, and the record has no command from it (below).
      expect(outcome[1]).toBe('blocked');
      expect(outcome).not.toContain('200');
      expect((await liveStatus(dir))?.actors.find((a) => a.name === 'sleeper')?.pid).toBe(first.pid);

      // With the token, restart works: confirmed, carried out, a new pid.
      page.on('dialog', (d) => void d.accept());
      await page.fill('#token', token);
      await page.dispatchEvent('#token', 'change');
      await page.locator('tr[data-name="sleeper"] button[data-op="restart"]').click();
      await waitForActor(dir, 'sleeper', (a) => a.state === 'running' && a.pid !== null && a.pid !== first.pid);
      await page.locator('#note', { hasText: 'sleeper: restarting' }).waitFor({ timeout: 10_000 });

      expect(loads).toBe(1);
      expect(errors).toEqual([]);
      expect(requests.filter((r) => !r.startsWith(`${url}/`))).toEqual([]);
      if (process.env.HERDER_SCREENSHOT) {
        await page.locator('tr[data-name="crasher"]').click();
        await new Promise((r) => setTimeout(r, 1_500));
        await page.screenshot({ path: process.env.HERDER_SCREENSHOT, fullPage: true });
      }

      // After the run ends the page says so and keeps the last state.
      await run.stop();
      await page.locator('.ended').waitFor({ timeout: 20_000 });
      expect(await page.locator('tr[data-name="talker"]').count()).toBe(1);
      expect(await page.locator('button[data-op="restart"]').first().isDisabled()).toBe(true);
    } finally {
      await browser.close();
      await run.stop();
    }
    const commands = query(path.join(dir, 'herder.db'), "SELECT detail FROM events WHERE kind = 'command'");
    expect(commands.map((e) => e.detail)).toEqual(['restart (by web 127.0.0.1)']);
  });
});
