import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_PY, project, runCli } from '../helpers/cli.ts';

describe('report', () => {
  it('sums up a run in text, markdown, json and self-contained html with charts', async () => {
    const dir = project(`
runtime: { sample_interval_seconds: 0.3, protection: { enabled: false }, restart_jitter: 0 }
actors:
  - name: worker
    command: [python3, -c, "import time\\nwhile True: sum(range(20000)); time.sleep(0.01)"]
  - name: failing
    script: ${JOB_PY}
    args: [--traceback]
    restart_delay: 0.3
    max_restarts: 1
`);
    const run = await runCli(['--runtime', '0.05', '--no-echo'], dir);
    expect(run.code, run.stderr).toBe(0);

    const text = await runCli(['report'], dir);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^run 1: completed \(deadline reached \(3s\)\)\n/);
    expect(text.stdout).toMatch(/\nworker\s+process\s+stopped\s+1\s+0\s+0\s+0\s+\d+%\s+[\d.]+ \/ [\d.]+\s+\d+ \/ \d+/);
    expect(text.stdout).toMatch(/\nfailing\s+ValueError\s+2\s+/);
    expect(text.stdout).toMatch(/failing giveup: gave up after 2 failures in a row/);
    expect(text.stdout).toMatch(/\n\s+2 × ValueError: boom\n/);

    const mdFile = path.join(dir, 'r.md');
    await runCli(['report', '-o', mdFile], dir);
    const markdown = readFileSync(mdFile, 'utf8');
    expect(markdown).toMatch(/^# herder run 1\n/);
    expect(markdown).toContain('| ACTOR | KIND | STATE |');

    const json = JSON.parse((await runCli(['report', '--format', 'json'], dir)).stdout);
    expect(json).toMatchObject({ format: 'herder.report/1', run: { id: 1, status: 'completed' } });
    const worker = json.actors.find((a: { name: string }) => a.name === 'worker');
    expect(worker.series.length).toBeGreaterThanOrEqual(3);
    expect(worker.cpu.max).toBeGreaterThan(0);

    const htmlFile = path.join(dir, 'r.html');
    await runCli(['report', '--output', htmlFile], dir);
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toMatch(
      /<svg class="chart" role="img" aria-label="CPU %"[^>]*>[\s\S]*?<path d="M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+"/,
    );
    expect(html).toContain('aria-label="worker running spans"');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing fetched: viewable offline

    const bad = await runCli(['report', '--format', 'pdf'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('herder report --format: "pdf" is not one of text, markdown, html, json');
  });
});
