/**
 * Benchmark 7 (a design choice, not a goal): what compiling node-sqlite3-wasm
 * with V8's baseline compiler only (--liftoff-only, which herder sets for its
 * process) costs in insert speed and saves in memory. The same script inserts
 * output-like rows in batches of 5,000, with and without the flag, rounds
 * alternating; the figures are medians.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { type BenchResult, FIXTURES, fmt, QUICK, round, runBench, stats, tempDir } from './lib.ts';

const ROWS = QUICK ? 100_000 : 300_000;
const ROUNDS = QUICK ? 2 : 3;
const SCRIPT = path.join(FIXTURES, 'sqlite-insert.mjs');

function once(flags: string[], file: string): { ms: number; rssMb: number } {
  const out = execFileSync(process.execPath, [...flags, SCRIPT, file, String(ROWS)], { encoding: 'utf8' });
  return JSON.parse(out.trim()) as { ms: number; rssMb: number };
}

runBench('sqlite-tier', 300_000, async (): Promise<BenchResult> => {
  const dir = tempDir('sqlite-tier');
  const file = path.join(dir, 'bench.db');
  const full: { ms: number; rssMb: number }[] = [];
  const liftoff: { ms: number; rssMb: number }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    full.push(once([], file));
    liftoff.push(once(['--liftoff-only'], file));
  }
  const f = { ms: stats(full.map((x) => x.ms)).median, rss: stats(full.map((x) => x.rssMb)).median };
  const l = { ms: stats(liftoff.map((x) => x.ms)).median, rss: stats(liftoff.map((x) => x.rssMb)).median };
  const rowsPerS = (ms: number) => Math.round(ROWS / (ms / 1000));
  return {
    name: 'sqlite-tier',
    title: `7. SQLite (WebAssembly) compiled with --liftoff-only, ${ROWS.toLocaleString('en')} inserts`,
    herder: `${rowsPerS(l.ms).toLocaleString('en')} rows/s, ${fmt(l.rss)} MiB RSS (--liftoff-only)`,
    baseline: `${rowsPerS(f.ms).toLocaleString('en')} rows/s, ${fmt(f.rss)} MiB RSS (V8 default tiers)`,
    figure: `${fmt((l.ms / f.ms - 1) * 100, 0)} % slower, ${fmt(f.rss - l.rss, 0)} MiB less`,
    goal: 'a trade-off, no goal',
    met: true,
    details: { rows: ROWS, full, liftoff, medians: { full: f, liftoff: l }, ratio: round(l.ms / f.ms) },
    notes: [],
  };
});
