/**
 * Benchmark 9: `herder report` on a large record. A script-built database
 * holds one 8-hour run of 20 actors with 1,000,000 process_output rows,
 * 100,000 resource_usage rows, 20,000 errors and 20,000 events; the benchmark
 * times the CLI (the build, as `npm start` runs it) producing the text and
 * the HTML report, then `status` and `logs` on it (what the dashboard polls),
 * each a whole CLI process, start-up included. Goal: seconds, not minutes.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import { DDL, SCHEMA_VERSION } from '../src/record/schema.ts';
import { type BenchResult, fmt, MAIN, QUICK, round, runBench, tempDir, wallMs } from './lib.ts';

const OUTPUT_ROWS = QUICK ? 200_000 : 1_000_000;
const USAGE_ROWS = QUICK ? 20_000 : 100_000;
const ACTORS = 20;
const HOURS = 8;

function build(file: string): void {
  const db = new sqlite.Database(file);
  db.exec(`BEGIN; ${DDL}; PRAGMA user_version = ${SCHEMA_VERSION}; COMMIT;`);
  const t0 = Date.UTC(2026, 10, 1) / 1000;
  const span = HOURS * 3600;
  db.run(
    "INSERT INTO runs(id, started_at, ended_at, config_path, status, max_runtime_s, pid, exit_code, end_reason) VALUES (1, ?, ?, 'actors.yaml', 'completed', ?, 1, 0, 'deadline reached (8h00m)')",
    [t0, t0 + span, span],
  );
  const names = Array.from({ length: ACTORS }, (_, i) => `actor${String(i).padStart(2, '0')}`);
  db.exec('BEGIN');
  for (const name of names) {
    db.run(
      "INSERT INTO process_state(run_id, process, kind, parent, state, runs, successes, failures, restarts) VALUES (1, ?, 'process', '_herder', 'stopped', 100, 90, 10, 10)",
      [name],
    );
  }
  const out = db.prepare(
    "INSERT INTO process_output(run_id, ts, process, pid, stream, line) VALUES (1, ?, ?, 42, 'stdout', ?)",
  );
  for (let i = 0; i < OUTPUT_ROWS; i++) {
    if (i % 20_000 === 0) db.exec('COMMIT; BEGIN');
    out.run([t0 + (i / OUTPUT_ROWS) * span, names[i % ACTORS] ?? 'actor00', `line ${i} ${'x'.repeat(60)}`]);
  }
  const use = db.prepare(
    'INSERT INTO resource_usage(run_id, ts, process, pid, cpu_percent, rss_mb, num_threads, num_fds, health) VALUES (1, ?, ?, 42, ?, ?, 1, 5, ?)',
  );
  for (let i = 0; i < USAGE_ROWS; i++) {
    if (i % 20_000 === 0) db.exec('COMMIT; BEGIN');
    use.run([t0 + (i / USAGE_ROWS) * span, names[i % ACTORS] ?? 'actor00', (i * 7) % 100, 50 + (i % 30), 1]);
  }
  const err = db.prepare(
    "INSERT INTO process_errors(run_id, ts, process, error_type, message, context) VALUES (1, ?, ?, ?, ?, '')",
  );
  const ev = db.prepare('INSERT INTO events(run_id, ts, process, kind, detail) VALUES (1, ?, ?, ?, ?)');
  for (let i = 0; i < 20_000; i++) {
    const ts = t0 + (i / 20_000) * span;
    const name = names[i % ACTORS] ?? 'actor00';
    err.run([ts, name, i % 3 === 0 ? 'http.429' : 'yahoo.json', `failure ${i % 50}`]);
    ev.run([ts, name, i % 2 === 0 ? 'start' : 'exit', 'x']);
  }
  db.exec('COMMIT');
  for (const s of [out, use, err, ev]) s.finalize();
  db.close();
}

function timeCli(file: string, args: string[]): number {
  const t = wallMs();
  execFileSync(process.execPath, [MAIN, ...args, '--db', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  return wallMs() - t;
}

runBench('report-large', 600_000, async (): Promise<BenchResult> => {
  execFileSync(process.execPath, [path.join(path.dirname(MAIN), '..', 'tools', 'build.mjs')], { stdio: 'inherit' });
  const file = path.join(tempDir('report-large'), 'big.db');
  const t = wallMs();
  build(file);
  const buildS = (wallMs() - t) / 1000;
  const textMs = timeCli(file, ['report']);
  const htmlMs = timeCli(file, ['report', '--output', path.join(path.dirname(file), 'r.html')]);
  // What the dashboard polls every second, and a tail of one actor's log (whole CLI process, start-up included).
  const statusMs = timeCli(file, ['status', '--json']);
  const logsMs = timeCli(file, ['logs', 'actor07', '-n', '100']);
  return {
    name: 'report-large',
    title: `9. report on ${OUTPUT_ROWS.toLocaleString('en')} output rows and ${USAGE_ROWS.toLocaleString('en')} resource samples`,
    herder: `text ${fmt(textMs / 1000, 2)} s, html ${fmt(htmlMs / 1000, 2)} s; status ${fmt(statusMs / 1000, 2)} s, logs -n 100 ${fmt(logsMs / 1000, 2)} s`,
    baseline: `(building the database took ${fmt(buildS, 0)} s)`,
    figure: `${fmt(Math.max(textMs, htmlMs) / 1000, 2)} s`,
    goal: 'seconds',
    met: Math.max(textMs, htmlMs) < 10_000,
    details: {
      outputRows: OUTPUT_ROWS,
      usageRows: USAGE_ROWS,
      textMs: round(textMs),
      htmlMs: round(htmlMs),
      statusMs: round(statusMs),
      logsMs: round(logsMs),
      buildS: round(buildS),
    },
    notes: [],
  };
});
