import { readFileSync } from 'node:fs';
import path from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import { describe, expect, it } from 'vitest';
import { DDL, SCHEMA_VERSION } from '../../src/record/schema.ts';
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
    // snake_case keys, as in status --json
    expect(json.run.started_at).toBeGreaterThan(0);
    expect(worker).toHaveProperty('uptime_percent');
    expect(worker).toHaveProperty('mem_mb');

    const htmlFile = path.join(dir, 'r.html');
    await runCli(['report', '--output', htmlFile], dir);
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toMatch(
      /<svg class="chart" role="img" aria-label="CPU %"[^>]*>[\s\S]*?<path d="M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+"/,
    );
    expect(html).toContain('aria-label="worker running spans"');
    // A sparse series is drawn as dots too, so a single sample still shows.
    expect(html).toMatch(/aria-label="CPU %"[^>]*>[\s\S]*?<circle cx="[\d.]+" cy="[\d.]+" r="2" class="dot"\/>/);
    expect(html).toMatch(
      /<h2>Errors by type<\/h2>\n<table>[\s\S]*<tr><td>failing<\/td><td>ValueError<\/td><td>2<\/td>/,
    );
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing fetched: viewable offline

    const bad = await runCli(['report', '--format', 'pdf'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('herder report --format: "pdf" is not one of text, markdown, html, json');
  });

  it('counts a paused actor as not up', async () => {
    const dir = project('actors:\n  - name: feed\n    command: [sleep, "1"]\n');
    const file = path.join(dir, 'herder.db');
    const db = new sqlite.Database(file);
    db.exec(`${DDL}; PRAGMA user_version = ${SCHEMA_VERSION};`);
    db.run(
      "INSERT INTO runs(id, started_at, ended_at, config_path, status, pid, exit_code) VALUES (1, 1000, 1040, 'a.yaml', 'completed', 1, 0)",
    );
    db.run(
      "INSERT INTO process_state(run_id, process, kind, parent, state) VALUES (1, 'feed', 'process', '_herder', 'stopped')",
    );
    for (const [ts, kind] of [
      [1000, 'start'],
      [1010, 'pause'],
      [1030, 'resume'],
      [1040, 'exit'],
    ] as const) {
      db.run("INSERT INTO events(run_id, ts, process, kind, detail) VALUES (1, ?, 'feed', ?, '')", [ts, kind]);
    }
    db.close();
    const r = await runCli(['report', '--format', 'json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const feed = (JSON.parse(r.stdout) as { actors: { name: string; uptime_percent: number }[] }).actors[0];
    expect(feed).toMatchObject({ name: 'feed', uptime_percent: 50 });
  });
});
