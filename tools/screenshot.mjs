// Screenshot of an HTML file or of a live dashboard in headless Chromium
// (Debian's chromium, driven by playwright-core), for the README:
//   node tools/screenshot.mjs in.html out.png
//   node tools/screenshot.mjs http://127.0.0.1:9464/ out.png [ACTOR]   (ACTOR: the actor to open)
import path from 'node:path';
import { chromium } from 'playwright-core';

const [input, output, actor] = process.argv.slice(2);
if (input === undefined || output === undefined) {
  console.error('usage: node tools/screenshot.mjs in.html|URL out.png [ACTOR]');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
await page.goto(/^https?:/.test(input) ? input : `file://${path.resolve(input)}`);
if (actor !== undefined) {
  await page.locator(`tr[data-name="${actor}"]`).click();
  await page.locator('#charts svg').first().waitFor({ timeout: 10_000 });
  await page.waitForTimeout(2_000); // its events and output tail fill in
}
await page.screenshot({ path: output, fullPage: true });
await browser.close();
