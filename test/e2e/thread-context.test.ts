import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { project, query, startRun, waitForActor } from '../helpers/cli.ts';

it("a thread actor's heartbeat, health, progress, errors and output reach status and the record, in order", async () => {
  const dir = project(`
runtime: { sample_interval_seconds: 0.5, protection: { enabled: false } }
actors:
  - { name: reporter, module: reporter.mjs }
`);
  writeFileSync(
    path.join(dir, 'reporter.mjs'),
    `export default async function run(ctx) {
  console.log('first line');
  for (let i = 0; i < 100000; i++) ctx.heartbeat();
  ctx.reportHealth({ score: 0.4, detail: 'upstream slow', progress: 0.25 });
  ctx.reportError('http.429', 'rate limited', 'GET /quotes');
  ctx.reportError('fetch', new Error('socket hang up'));
  ctx.reportHealth({ score: 0.9, detail: () => 'a function cannot cross to herder' });
  console.error('to stderr');
  console.log('last line');
  await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
}
`,
  );
  const run = startRun(dir);
  try {
    const a = await waitForActor(dir, 'reporter', (x) => x.progress !== null && x.last_error?.type === 'fetch');
    expect(a.self_health).toBe(0.4);
    expect(a.progress).toBe(0.25);
    expect(a.heartbeat_at).not.toBeNull();
    expect(a.state).toBe('running');
  } finally {
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
  }
  const db = path.join(dir, 'herder.db');
  expect(query(db, "SELECT stream, line FROM process_output WHERE process = 'reporter' ORDER BY id")).toEqual([
    { stream: 'stdout', line: 'first line' },
    { stream: 'stderr', line: 'to stderr' },
    { stream: 'stdout', line: 'last line' },
  ]);
  expect(
    query(db, "SELECT error_type, message, context FROM process_errors WHERE process = 'reporter' ORDER BY id"),
  ).toEqual([
    { error_type: 'http.429', message: 'rate limited', context: 'GET /quotes' },
    { error_type: 'fetch', message: 'Error: socket hang up', context: '' },
  ]);
  // The run carried on after the report that could not be sent, until herder stopped it.
  expect(query(db, "SELECT failures FROM process_state WHERE process = 'reporter'")).toEqual([{ failures: 0 }]);
});
