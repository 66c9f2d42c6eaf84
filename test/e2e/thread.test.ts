import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, query, runCli, startRun, THREAD_JOB, waitForActor, waitUntil } from '../helpers/cli.ts';
import { readPids } from '../helpers/procs.ts';

const db = (dir: string) => path.join(dir, 'herder.db');

describe.concurrent('thread actors', () => {
  it('a loop job in a worker thread: console output captured, re-run after loop_interval in the same warm worker', async () => {
    const dir = project(`
actors:
  - name: tloop
    module: ${THREAD_JOB}
    env: { JOB_MODE: ok }
    requires_loop: true
    loop_interval: 0.2
`);
    const run = startRun(dir);
    await waitForActor(dir, 'tloop', (a) => a.successes >= 3);
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    const out = query(db(dir), "SELECT stream, line FROM process_output WHERE process = 'tloop' ORDER BY id");
    expect(out.slice(0, 4)).toEqual([
      { stream: 'stdout', line: 'thread-job tloop run 1 mode ok call 1' },
      { stream: 'stderr', line: 'thread-job stderr line' },
      { stream: 'stdout', line: 'thread-job tloop run 2 mode ok call 2' },
      { stream: 'stderr', line: 'thread-job stderr line' },
    ]);
    const s = query(db(dir), "SELECT kind, failures FROM process_state WHERE process = 'tloop'")[0];
    expect(s).toEqual({ kind: 'thread', failures: 0 });
  });

  it("a .ts module in the user's own folder, with no package.json, runs and passes check", async () => {
    const dir = project(`
actors:
  - name: mine
    module: job.ts
    requires_loop: true
    loop_interval: 3600
`);
    writeFileSync(
      path.join(dir, 'job.ts'),
      `interface Ctx { signal: AbortSignal; heartbeat(): void }
export default async function run(ctx: Ctx): Promise<void> {
  ctx.heartbeat();
  const n: number = 6 * 7;
  console.log(\`answer \${n}\`);
}
`,
    );
    const check = await runCli(['check'], dir);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const run = startRun(dir);
    await waitForActor(dir, 'mine', (a) => a.successes >= 1 || a.failures >= 1);
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(query(db(dir), "SELECT successes, failures FROM process_state WHERE process = 'mine'")).toEqual([
      { successes: 1, failures: 0 },
    ]);
    expect(query(db(dir), "SELECT line FROM process_output WHERE process = 'mine'")).toEqual([{ line: 'answer 42' }]);
  });

  it('a thrown error is a failure recorded with its real type, message and stack, then backed off', async () => {
    const dir = project(`
runtime: { restart_jitter: 0 }
actors:
  - name: thrower
    module: ${THREAD_JOB}
    env: { JOB_MODE: throw }
    requires_loop: true
    restart_delay: 0.1
    max_restarts: 1
`);
    // Its only actor given up, the run ends by itself, with exit 1.
    const r = await runCli(['--runtime', '5', '--no-echo'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('finished: every actor finished or was given up; some were given up');
    const errs = query(
      db(dir),
      "SELECT error_type, message, context FROM process_errors WHERE process = 'thrower' ORDER BY id",
    );
    expect(errs.map((e) => e.error_type)).toEqual(['FetchFailed', 'FetchFailed', 'giveup']);
    expect(errs[0]?.message).toBe('upstream answered 503');
    expect(String(errs[0]?.context)).toContain('thread-job.ts');
    const restarts = query(db(dir), "SELECT detail FROM events WHERE process = 'thrower' AND kind = 'restart'");
    expect(restarts.map((e) => e.detail)).toEqual(['restart in 100ms (failure 1 of 1 in a row)']);
  });

  it('a worker that exhausts its heap limit fails alone (oom) and herder carries on', async () => {
    const dir = project(`
runtime: { restart_jitter: 0 }
actors:
  - name: hog
    module: ${THREAD_JOB}
    env: { JOB_MODE: heap }
    resource_limits: { max_memory_mb: 48 }
    restart: transient
    restart_delay: 0.1
    max_restarts: 1
  - name: neighbour
    module: ${THREAD_JOB}
    env: { JOB_MODE: forever }
`);
    const run = startRun(dir);
    await waitForActor(dir, 'hog', (a) => a.state === 'fatal', 60_000);
    const neighbour = await waitForActor(dir, 'neighbour', (a) => a.state === 'running');
    expect(neighbour.runs).toBe(1);
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    const errs = query(db(dir), "SELECT error_type FROM process_errors WHERE process = 'hog' ORDER BY id");
    expect(errs.map((e) => e.error_type)).toEqual(['oom', 'oom', 'giveup']);
    const exit = query(db(dir), "SELECT detail FROM events WHERE process = 'hog' AND kind = 'exit'")[0];
    expect(String(exit?.detail)).toMatch(/^ran out of memory after/);
    const out = query(db(dir), "SELECT line FROM process_output WHERE process = 'neighbour' ORDER BY id");
    expect(out.map((o) => o.line)).toContain('thread-job aborted cleanly');
  });

  it('stopping aborts ctx.signal; a worker that ignores it is terminated after the grace', async () => {
    const dir = project(`
runtime: { shutdown_grace_seconds: 1 }
actors:
  - name: polite
    module: ${THREAD_JOB}
    env: { JOB_MODE: forever, JOB_READY: ready.txt }
  - name: deaf
    module: ${THREAD_JOB}
    env: { JOB_MODE: ignore-abort, JOB_READY: ready.txt }
`);
    const run = startRun(dir);
    await waitUntil(() => readPids(path.join(dir, 'ready.txt')).length === 2, 30_000, 'both threads to be under way');
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    const exits = query(db(dir), "SELECT process, detail FROM events WHERE kind = 'exit' ORDER BY process");
    expect(String(exits.find((e) => e.process === 'polite')?.detail)).toMatch(/^stopped by herder \(shutdown\) after/);
    expect(String(exits.find((e) => e.process === 'deaf')?.detail)).toMatch(
      /^stopped by herder \(shutdown\) \(terminated\) after/,
    );
    expect(query(db(dir), 'SELECT error_type FROM process_errors')).toEqual([]);
  });
});
