import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOB_PY, project, query, ROOT, THREAD_JOB } from '../helpers/cli.ts';

describe('the JavaScript build (npm start)', () => {
  it('builds, and the built herder runs process and thread actors with no TypeScript loader in its process', () => {
    execFileSync(process.execPath, [path.join(ROOT, 'tools', 'build.mjs')], { cwd: ROOT });
    const dir = project(`
actors:
  - name: py
    script: ${JOB_PY}
    args: [--print, "2"]
    requires_loop: true
    loop_interval: 60
  - name: th
    module: ${THREAD_JOB}
    env: { JOB_MODE: ok }
    requires_loop: true
    loop_interval: 60
  - name: mine
    module: job.ts
    requires_loop: true
    loop_interval: 60
`);
    // The user's own .ts module, in a folder without package.json: Node loads it as CommonJS.
    writeFileSync(
      path.join(dir, 'job.ts'),
      'export default async function run(ctx: { heartbeat(): void }): Promise<void> {\n  ctx.heartbeat();\n}\n',
    );
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, 'dist', 'main.mjs'), 'run', '--runtime', '0.03', '--no-echo'],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const db = path.join(dir, 'herder.db');
    const ok = query(db, 'SELECT process, successes FROM process_state ORDER BY process');
    expect(ok).toEqual([
      { process: 'mine', successes: 1 },
      { process: 'py', successes: 1 },
      { process: 'th', successes: 1 },
    ]);
    const status = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'main.mjs'), 'status'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(status.stdout).toMatch(/^run 1 · completed/);
    // Each command is a chunk of its own, loaded when used (a run does not load the dashboard's ink and React).
    const report = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'main.mjs'), 'report', '-o', 'r.html'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(report.status, report.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'r.html'), 'utf8')).toContain('<svg');
  });
});
