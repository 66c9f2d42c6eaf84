// Screenshot of an HTML file in headless Chromium (Debian's chromium, driven
// by playwright-core), for the README: node tools/screenshot.mjs in.html out.png
import path from 'node:path';
import { chromium } from 'playwright-core';

const [input, output] = process.argv.slice(2);
if (input === undefined || output === undefined) {
  console.error('usage: node tools/screenshot.mjs in.html out.png');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
await page.goto(`file://${path.resolve(input)}`);
await page.screenshot({ path: output, fullPage: true });
await browser.close();
