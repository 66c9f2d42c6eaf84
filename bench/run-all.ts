/**
 * Runs the benchmark suite in sequence, each benchmark in its own process,
 * and prints a summary table in Markdown (also written to
 * bench/results/summary.md and summary.json).
 *
 *   npm run bench                      # the full suite (~5 minutes)
 *   npm run bench -- --quick           # a smaller version (~2 minutes)
 *   npm run bench -- orphans stop-time # only these
 *   npm run bench -- --strict          # exit 1 when a goal is missed, too
 *
 * Exit code: 1 when a benchmark could not run (or, with --strict, missed its
 * goal); a missed goal is otherwise a result, not a failure.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './lib.ts';
import { BENCH, QUICK, RESULTS, ROOT, TSX } from './lib.ts';

const SUITE = [
  'restart-latency',
  'thread-restart',
  'output-flood',
  'idle-cost',
  'stop-time',
  'orphans',
  'sqlite-tier',
  'sampling-cost',
  'report-large',
  'memory-growth',
  'http-cost',
] as const;
/** Outer limit per benchmark; each also has its own, shorter guard. */
const LIMIT_MS = 360_000;

const argv = process.argv.slice(2);
const strict = argv.includes('--strict');
const picked = argv.filter((a) => !a.startsWith('--'));
for (const p of picked) {
  if (!(SUITE as readonly string[]).includes(p)) {
    console.error(`unknown benchmark "${p}"; choose from: ${SUITE.join(', ')}`);
    process.exit(2);
  }
}
const names = picked.length > 0 ? SUITE.filter((n) => picked.includes(n)) : [...SUITE];
const passOn = argv.filter((a) => a === '--quick' || a === '--keep');

function runOne(name: string): Promise<{ code: number | null; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, path.join(BENCH, `${name}.ts`), ...passOn], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const timer = setTimeout(() => {
      console.error(`${name}: no result after ${LIMIT_MS / 1000} s; stopping it`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, LIMIT_MS);
    const done = (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, seconds: (performance.now() - started) / 1000 });
    };
    child.on('error', () => done(null));
    child.on('exit', (code) => done(code));
  });
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

const rows: { name: string; result: BenchResult | null; seconds: number; code: number | null }[] = [];
const suiteStart = performance.now();
mkdirSync(RESULTS, { recursive: true });
for (const name of names) {
  const file = path.join(RESULTS, `${name}.json`);
  rmSync(file, { force: true });
  console.log(`\n=== ${name} ===`);
  const { code, seconds } = await runOne(name);
  const result = code === 0 && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as BenchResult) : null;
  rows.push({ name, result, seconds, code });
}
const totalS = (performance.now() - suiteStart) / 1000;

const cpus = readFileSync('/proc/cpuinfo', 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('processor')).length;
const command = `npm run bench${passOn.length > 0 ? ` -- ${passOn.join(' ')}` : ''}`;
const lines = [
  `Benchmarks (\`${command}\`; ${QUICK ? 'quick' : 'full'} suite, Node ${process.version}, ${cpus} CPUs, ` +
    `${new Date().toISOString().slice(0, 10)}; herder and its baseline measured in the same run):`,
  '',
  '| Benchmark | herder | baseline | result | goal | met |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map(({ name, result, code }) =>
    result === null
      ? `| ${name} | (did not run: exit ${code}) | | | | ✗ |`
      : `| ${cell(result.title)} | ${cell(result.herder)} | ${cell(result.baseline)} | ${cell(result.figure)} | ${cell(result.goal)} | ${result.met ? '✓' : '✗'} |`,
  ),
];
const notes = rows.flatMap(({ name, result }) => (result?.notes ?? []).map((n) => `- ${name}: ${n}`));
if (notes.length > 0) lines.push('', 'Notes:', '', ...notes);
const md = `${lines.join('\n')}\n`;

console.log(`\n=== summary (${totalS.toFixed(0)} s) ===\n`);
console.log(md);
writeFileSync(path.join(RESULTS, 'summary.md'), md);
writeFileSync(
  path.join(RESULTS, 'summary.json'),
  `${JSON.stringify(
    {
      command,
      quick: QUICK,
      totalSeconds: Math.round(totalS),
      benchmarks: rows.map(({ name, result, seconds, code }) => ({
        name,
        exitCode: code,
        seconds: Math.round(seconds),
        met: result?.met ?? null,
        figure: result?.figure ?? null,
      })),
    },
    null,
    2,
  )}\n`,
);
const failed = rows.filter((r) => r.result === null).length;
const missed = rows.filter((r) => r.result !== null && !r.result.met).length;
process.exit(failed > 0 || (strict && missed > 0) ? 1 : 0);
