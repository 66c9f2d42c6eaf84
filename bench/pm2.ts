/**
 * PM2 as a baseline, installed on demand outside the project's package.json:
 * into bench/.baseline/ (gitignored) with `npm install --prefix ... --no-save`.
 * pm2@7 is the newest major whose engines admit Node 20 (">=18.0.0"). Every
 * PM2 run gets its own PM2_HOME in a temp folder, so a user's PM2 is never
 * touched, and is ended with `pm2 kill` plus the suite's tag-based cleanup.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH, benchEnv, sleep } from './lib.ts';

export const PM2_SPEC = 'pm2@7';
const PREFIX = path.join(BENCH, '.baseline');
const PM2_PKG = path.join(PREFIX, 'node_modules', 'pm2', 'package.json');
const PM2_BIN = path.join(PREFIX, 'node_modules', 'pm2', 'bin', 'pm2');

function run(
  argv: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const [program, ...args] = argv;
    const child = spawn(program ?? '', args, { env: benchEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, out: `${out}\n${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** PM2's version once it is installed (installing it the first time), or why it is not available. */
export async function ensurePm2(): Promise<{ version: string } | { error: string }> {
  if (!existsSync(PM2_PKG)) {
    console.log(`  installing ${PM2_SPEC} into bench/.baseline/ for the baseline (once)...`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = await run(
      [npm, 'install', '--prefix', PREFIX, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', PM2_SPEC],
      {},
      180_000,
    );
    if (r.code !== 0 || !existsSync(PM2_PKG)) {
      return {
        error: `npm install ${PM2_SPEC} failed (exit ${r.code}): ${r.out.trim().split('\n').slice(-3).join(' ')}`,
      };
    }
  }
  const pkg = JSON.parse(readFileSync(PM2_PKG, 'utf8')) as { version: string };
  return { version: pkg.version };
}

/** One PM2 daemon with its own home folder. */
export class Pm2 {
  constructor(readonly home: string) {}

  cli(args: readonly string[], timeoutMs = 60_000) {
    return run([process.execPath, PM2_BIN, ...args], { PM2_HOME: this.home }, timeoutMs);
  }

  /** Starts the apps of an ecosystem (written as JSON into the home folder). */
  async startApps(apps: readonly Record<string, unknown>[]): Promise<void> {
    const file = path.join(this.home, 'ecosystem.json');
    writeFileSync(file, JSON.stringify({ apps }));
    const r = await this.cli(['start', file], 120_000);
    if (r.code !== 0) throw new Error(`pm2 start failed (exit ${r.code}): ${r.out.slice(-2000)}`);
  }

  daemonPid(): number | null {
    try {
      const pid = Number(readFileSync(path.join(this.home, 'pm2.pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  async kill(): Promise<void> {
    await this.cli(['kill'], 30_000);
    await sleep(100);
  }
}
