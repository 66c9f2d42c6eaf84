import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { project, runCli } from '../helpers/cli.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`report-browser: skipped, ${CHROMIUM} is missing (apt-get install chromium; .ci/run does)`);

describe.skipIf(!HAVE_CHROMIUM)('the html report in a real browser', () => {
  it('renders its charts offline: CPU and memory lines and running spans for every actor', async () => {
    const dir = project(`
runtime: { sample_interval_seconds: 0.3, protection: { enabled: false } }
actors:
  - name: busy
    command: [python3, -c, "import time\\nwhile True: sum(range(30000)); time.sleep(0.005)"]
  - name: idle
    command: [sleep, "60"]
`);
    expect((await runCli(['--runtime', '0.05', '--no-echo'], dir)).code).toBe(0);
    const file = path.join(dir, 'report.html');
    expect((await runCli(['report', '-o', file], dir)).code).toBe(0);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const requests: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url());
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${file}`);
      expect(await page.title()).toBe('herder run 1');
      for (const actor of ['busy', 'idle']) {
        const section = page.locator('section.actor', { hasText: actor }).first();
        for (const label of ['CPU %', 'memory MB']) {
          const line = section.locator(`svg[aria-label="${label}"] path.line`);
          expect(await line.count()).toBe(1); // a static page: drawn once it has loaded
          const box = await line.boundingBox();
          expect(box?.width ?? 0).toBeGreaterThan(100); // a drawn line across the run, not an empty chart
        }
        const spans = section.locator('svg.bar rect.up');
        expect(await spans.count()).toBeGreaterThanOrEqual(1);
        expect((await spans.first().boundingBox())?.width ?? 0).toBeGreaterThan(300);
      }
      expect(requests).toEqual([]);
      expect(errors).toEqual([]);
      if (process.env.HERDER_SCREENSHOT) await page.screenshot({ path: process.env.HERDER_SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
