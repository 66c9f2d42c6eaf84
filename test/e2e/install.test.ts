import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { query, ROOT } from '../helpers/cli.ts';

const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const tempDir = (what: string) => mkdtempSync(path.join(tmpdir(), `herder-${what}-`));

/** The PATH a user has after `npm install -g`: the prefix's bin first. */
let PATH = '';

/** `herder ARGS` typed in `cwd`: the command found on PATH, as a shell would. */
function herder(args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync('herder', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, PATH, NODE_OPTIONS: '' },
    timeout: 60_000,
  });
}

describe('the herder command, installed with npm install -g', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [path.join(ROOT, 'tools', 'build.mjs')], { cwd: ROOT });
    const prefix = tempDir('prefix');
    // A folder install needs no registry (npm links the folder); --offline makes sure of it.
    execFileSync(
      'npm',
      ['install', '-g', '--prefix', prefix, ROOT, '--offline', '--no-audit', '--no-fund', '--loglevel=error'],
      { cwd: prefix, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } },
    );
    PATH = [path.join(prefix, 'bin'), process.env.PATH].join(path.delimiter);
  }, 60_000);

  it('prints its version, and checks and runs a jobs folder elsewhere (a Python job with health_channel, a .ts thread actor)', () => {
    const jobs = tempDir('jobs');
    expect(herder(['--version'], jobs).stdout).toBe(`${VERSION}\n`);
    writeFileSync(
      path.join(jobs, 'collect.py'),
      'import health_channel as hc\nhc.heartbeat()\nhc.progress(1.0)\nprint("collected", flush=True)\n',
    );
    // No package.json here: Node loads the module as CommonJS, and herder's own tsx compiles it.
    writeFileSync(
      path.join(jobs, 'worker.ts'),
      'export default async function run(ctx: { heartbeat(): void }): Promise<void> {\n  ctx.heartbeat();\n}\n',
    );
    writeFileSync(
      path.join(jobs, 'actors.yaml'),
      [
        'actors:',
        '  - { name: collect, script: collect.py, requires_loop: true, loop_interval: 60 }',
        '  - { name: worker, module: worker.ts, requires_loop: true, loop_interval: 60 }',
        '',
      ].join('\n'),
    );
    const check = herder(['check'], jobs);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^actors\.yaml: OK: 2 actors \(2 loop jobs, 1 thread actor\)/);

    const run = herder(['run', '--runtime', '0.05', '--no-echo'], jobs);
    expect(run.status, run.stderr).toBe(0);
    const db = path.join(jobs, 'herder.db');
    expect(query(db, 'SELECT process, successes, failures FROM process_state ORDER BY process')).toEqual([
      { process: 'collect', successes: 1, failures: 0 },
      { process: 'worker', successes: 1, failures: 0 },
    ]);
    expect(query(db, "SELECT line FROM process_output WHERE process = 'collect'")).toEqual([{ line: 'collected' }]);
  });

  it('herder init writes an actors.yaml that checks and runs as it is, and never overwrites it', () => {
    const jobs = tempDir('init');
    const init = herder(['init'], jobs);
    expect(init.status, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/^wrote actors\.yaml: one loop job \(clock, every 10 s\) and one service \(ticker\)\n/);
    expect(init.stdout).toContain('herder run ');
    expect(init.stdout).toContain('herder status --watch ');
    expect(init.stdout).toContain('herder logs ticker ');
    const written = readFileSync(path.join(jobs, 'actors.yaml'), 'utf8');
    expect(written).toMatch(/^# /);

    const check = herder(['check'], jobs);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^actors\.yaml: OK: 2 actors \(1 loop job, 0 thread actors\)/);

    const run = herder(['run', '--runtime', '0.05', '--no-echo'], jobs);
    expect(run.status, run.stderr).toBe(0);
    const db = path.join(jobs, 'herder.db');
    expect(query(db, 'SELECT process, runs, successes, failures FROM process_state ORDER BY process')).toEqual([
      { process: 'clock', runs: 1, successes: 1, failures: 0 },
      { process: 'ticker', runs: 1, successes: 0, failures: 0 },
    ]);
    const clock = query(db, "SELECT line FROM process_output WHERE process = 'clock'");
    expect(clock).toEqual([{ line: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/) }]);
    expect(query(db, "SELECT line FROM process_output WHERE process = 'ticker'")[0]).toEqual({
      line: expect.stringMatching(/^tick \d\d:\d\d:\d\d$/),
    });

    const again = herder(['init'], jobs);
    expect(again.status).toBe(2);
    expect(again.stdout).toBe('');
    // (A build older than the sources would add a warning line of the launcher's: not this test's concern.)
    const lines = again.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('herder: warning: '));
    expect(lines).toEqual([expect.stringMatching(/^herder init: actors\.yaml exists already, .*--config NEW_PATH\)$/)]);
    expect(readFileSync(path.join(jobs, 'actors.yaml'), 'utf8')).toBe(written);

    const elsewhere = herder(['init', '--config', 'more/jobs.yaml'], jobs);
    expect(elsewhere.status, elsewhere.stderr).toBe(0);
    expect(elsewhere.stdout).toContain('herder run --config more/jobs.yaml ');
    expect(herder(['check', '--config', 'more/jobs.yaml'], jobs).status).toBe(0);
  });

  it('says in one line what to run in a checkout not installed or not built, and warns when the build is older than the sources', () => {
    const checkout = tempDir('checkout');
    mkdirSync(path.join(checkout, 'bin'));
    cpSync(path.join(ROOT, 'bin', 'herder.mjs'), path.join(checkout, 'bin', 'herder.mjs'));
    cpSync(path.join(ROOT, 'package.json'), path.join(checkout, 'package.json'));
    const launch = () =>
      spawnSync(process.execPath, [path.join(checkout, 'bin', 'herder.mjs'), '--version'], {
        cwd: tempDir('elsewhere'),
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      });

    const bare = launch();
    expect(bare.status).toBe(2);
    expect(bare.stderr).toBe(
      `herder: its dependencies are not installed in ${checkout}: run \`npm install\` and \`npm run build\` there\n`,
    );

    symlinkSync(path.join(ROOT, 'node_modules'), path.join(checkout, 'node_modules'));
    const unbuilt = launch();
    expect(unbuilt.status).toBe(2);
    expect(unbuilt.stderr).toBe(`herder: it is not built yet: run \`npm run build\` in ${checkout}\n`);

    cpSync(path.join(ROOT, 'dist'), path.join(checkout, 'dist'), { recursive: true });
    mkdirSync(path.join(checkout, 'src', 'cli'), { recursive: true });
    writeFileSync(path.join(checkout, 'src', 'cli', 'edited.ts'), 'export {};\n');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(path.join(checkout, 'dist', 'main.mjs'), hourAgo, hourAgo);
    const stale = launch();
    expect(stale.status, stale.stderr).toBe(0);
    expect(stale.stdout).toBe(`${VERSION}\n`);
    expect(stale.stderr).toMatch(/^herder: warning: src\/cli\/edited\.ts changed after the build, .*npm run build/);

    // Job-side helpers are used from src/scripts as they are: changing one asks for no build.
    const twoHoursAgo = new Date(Date.now() - 7_200_000);
    utimesSync(path.join(checkout, 'src', 'cli', 'edited.ts'), twoHoursAgo, twoHoursAgo);
    mkdirSync(path.join(checkout, 'src', 'scripts'));
    writeFileSync(path.join(checkout, 'src', 'scripts', 'helper.py'), '\n');
    const fresh = launch();
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(fresh.stderr).toBe('');
  });
});
