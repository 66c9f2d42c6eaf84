import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import { describe, expect, it } from 'vitest';
import { DDL } from '../../src/record/schema.ts';
import { JOB_PY, project, query, ROOT, runCli, startRun, waitForActor, waitUntil } from '../helpers/cli.ts';

const WRITER = path.join(ROOT, 'test', 'fixtures', 'writer.py');

/** Takes an exclusive lock on the database as another program would, between two of herder's writes. */
function holdLock(db: InstanceType<typeof sqlite.Database>): Promise<boolean> {
  return waitUntil(
    () => {
      try {
        db.exec('BEGIN EXCLUSIVE');
        return true;
      } catch {
        return false; // herder is mid-write
      }
    },
    10_000,
    'the database lock',
  );
}
const simple = `
actors:
  - name: once
    script: ${JOB_PY}
    args: [--print, "3"]
    requires_loop: true
    loop_interval: 60
`;

describe.concurrent('the record', () => {
  it('when the writer falls behind the output buffer, dropped lines are counted and recorded, never silent', async () => {
    const dir = project(`
runtime: { output_buffer_mb: 0.5 }
actors:
  - name: flood
    script: ${WRITER}
    args: ["200000"]
    requires_loop: true
    loop_interval: 3600
`);
    const r = await runCli(['--runtime', '0.05', '--no-echo'], dir);
    expect(r.code, r.stderr).toBe(0);
    const db = path.join(dir, 'herder.db');
    const kept = Number(query(db, "SELECT COUNT(*) AS n FROM process_output WHERE process = 'flood'")[0]?.n);
    const drops = query(
      db,
      "SELECT message FROM process_errors WHERE process = 'flood' AND error_type = 'output_dropped'",
    );
    const dropped = drops.reduce((n, d) => n + Number(/^(\d+) output lines dropped/.exec(String(d.message))?.[1]), 0);
    expect(dropped).toBeGreaterThan(0);
    expect(kept + dropped).toBe(200_004);
  });

  it('keeps the newest output_retention lines per actor', async () => {
    const dir = project(`
runtime: { output_retention: 1000 }
actors:
  - name: chatty
    script: ${WRITER}
    args: ["30000"]
    requires_loop: true
    loop_interval: 3600
`);
    const r = await runCli(['--runtime', '0.05', '--no-echo'], dir);
    expect(r.code, r.stderr).toBe(0);
    const rows = query(
      path.join(dir, 'herder.db'),
      "SELECT line FROM process_output WHERE process = 'chatty' ORDER BY id",
    );
    expect(rows).toHaveLength(1000);
    expect(rows.at(-1)?.line).toBe('no newline at the end');
  });

  it('a corrupt database file is refused in one line and left untouched', async () => {
    const dir = project(simple);
    const file = path.join(dir, 'herder.db');
    writeFileSync(file, 'this is not sqlite, but somebody’s notes\n'.repeat(200));
    const before = readFileSync(file);
    for (const args of [['--runtime', '1', '--no-echo'], ['status']]) {
      const r = await runCli(args, dir);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(
        /herder\.db: not a herder database or damaged \(.*\); move it aside or pass --db NEW\.db/,
      );
    }
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('another program’s SQLite database is refused, not filled with herder’s tables', async () => {
    const dir = project(simple);
    const file = path.join(dir, 'prices.db');
    const db = new sqlite.Database(file);
    db.exec("CREATE TABLE quotes(symbol TEXT, price REAL); INSERT INTO quotes VALUES ('AAPL', 1);");
    db.close();
    const r = await runCli(['--runtime', '1', '--no-echo', '--db', file], dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`${file}: not a herder database (it holds other tables: quotes); pass --db NEW.db`);
    expect(query(file, "SELECT name FROM sqlite_master WHERE type = 'table'").map((t) => t.name)).toEqual(['quotes']);
  });

  it('a database written by a newer herder is refused', async () => {
    const dir = project(simple);
    const file = path.join(dir, 'herder.db');
    const db = new sqlite.Database(file);
    db.exec('CREATE TABLE runs(id INTEGER PRIMARY KEY); PRAGMA user_version = 99;');
    db.close();
    const r = await runCli(['--runtime', '1', '--no-echo'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /herder\.db: written by a newer herder \(schema 99, this one knows 7\); upgrade herder or pass --db NEW\.db$/,
    );
  });

  it('a database locked by another program is reported, not waited on forever', async () => {
    const dir = project(simple);
    const file = path.join(dir, 'herder.db');
    const first = await runCli(['--runtime', '0.01', '--no-echo'], dir);
    expect(first.code, first.stderr).toBe(0);
    const holder = new sqlite.Database(file);
    await holdLock(holder);
    try {
      const r = await runCli(['--runtime', '1', '--no-echo'], dir);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(
        /herder\.db: the database is locked by another program \(.*\); close that program or pass --db NEW\.db; if nothing uses it any more, the folder .*herder\.db\.lock was left by a program killed mid-write: remove it$/,
      );
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(query(file, 'SELECT COUNT(*) AS n FROM runs')[0]?.n).toBe(1);
  });

  it('recovers a lock left by a herder killed mid-write; leaves a live owner’s lock alone', async () => {
    const dir = project(simple);
    const file = path.join(dir, 'herder.db');
    expect((await runCli(['--runtime', '0.01', '--no-echo'], dir)).code).toBe(0);
    // What kill -9 in the middle of a transaction leaves: the lock folder and the owner file of a dead pid.
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    mkdirSync(`${file}.lock`);
    writeFileSync(`${file}.owner`, `${dead} 12345\n`);
    const status = await runCli(['status'], dir);
    expect(status.code, status.stderr).toBe(0);
    expect(existsSync(`${file}.lock`)).toBe(false);

    mkdirSync(`${file}.lock`);
    writeFileSync(`${file}.owner`, `${dead} 12345\n`);
    const next = await runCli(['--runtime', '0.01', '--no-echo'], dir);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain(`removed the lock left by herder pid ${dead}, which was killed mid-write`);
    expect(query(file, 'SELECT COUNT(*) AS n FROM runs')[0]?.n).toBe(2);
    expect(existsSync(`${file}.owner`)).toBe(false);

    // A live owner (this test process, with its real start time) is never overruled.
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    mkdirSync(`${file}.lock`);
    writeFileSync(`${file}.owner`, `${process.pid} ${start}\n`);
    const refused = await runCli(['--runtime', '0.01', '--no-echo'], dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/the database is locked/);
    expect(existsSync(`${file}.lock`)).toBe(true);
  });

  it('keeps and retries records while another program holds the database; nothing is lost', async () => {
    const dir = project(`
actors:
  - name: ticker
    command: [sh, -c, "i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo line $i; sleep 0.25; done"]
    requires_loop: true
    loop_interval: 3600
`);
    const file = path.join(dir, 'herder.db');
    const run = startRun(dir);
    await waitForActor(dir, 'ticker', (a) => a.state === 'running');
    const holder = new sqlite.Database(file);

    await holdLock(holder);
    await new Promise((r) => setTimeout(r, 7_000)); // longer than herder's 5 s busy timeout
    holder.exec('ROLLBACK');
    holder.close();
    await waitForActor(dir, 'ticker', (a) => a.state === 'loop_wait', 30_000);
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /could not write to the database \(.*locked.*\); records are kept in memory \(\d+ queued, \d+ output lines\) and written when it accepts writes again/,
    );
    expect(r.stderr).toMatch(/the database accepts writes again after [\d.]+m?s; nothing queued was lost/);
    const outage = query(file, "SELECT error_type, message FROM process_errors WHERE process = '_herder'");
    expect(outage).toEqual([
      {
        error_type: 'db_write_failed',
        message: expect.stringMatching(
          /^writes to the database failed for [\d.]+m?s \(.*locked.*\); the records waited/,
        ),
      },
    ]);
    const lines = query(file, "SELECT line FROM process_output WHERE process = 'ticker' ORDER BY id").map(
      (x) => x.line,
    );
    expect(lines).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 1}`));
  });

  it('migrates a database from schema 1 in place (through every step), keeping what it holds', async () => {
    const dir = project(simple);
    const file = path.join(dir, 'herder.db');
    const v1 = DDL.replace(/,\n\s+heap_used_mb[\s\S]*?heap_total_mb REAL[^\n]*\n/, '\n')
      .replace(/\n\s+error_patterns TEXT,[^\n]*/, '')
      .replace(/,\n\s+data {4}TEXT[^\n]*/, '')
      .replace(/,\n\s+http {10}TEXT[^\n]*/, '');
    expect(v1).not.toContain('heap_used_mb');
    expect(v1).not.toContain('error_patterns');
    expect(v1).not.toMatch(/\bdata {4}TEXT/);
    const db = new sqlite.Database(file);
    db.exec(`${v1}; PRAGMA user_version = 1;`);
    db.run("INSERT INTO runs(started_at, config_path, status, pid) VALUES (1, 'old.yaml', 'completed', 1)");
    // Before schema 5 a thread actor's heap size was kept in rss_mb.
    db.exec(`INSERT INTO process_state(run_id, process, kind, parent, state) VALUES
      (1, 't', 'thread', '_herder', 'stopped'), (1, 'p', 'process', '_herder', 'stopped');
      INSERT INTO resource_usage(run_id, ts, process, rss_mb) VALUES (1, 1, 't', 7), (1, 1, 'p', 30);
      INSERT INTO events(run_id, ts, process, kind, detail) VALUES (1, 1, 'p', 'exit', 'exited normally after 2s');`);
    db.close();
    const r = await runCli(['--runtime', '0.01', '--no-echo'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(query(file, 'PRAGMA user_version')[0]?.user_version).toBe(7);
    // Events before schema 6 keep their line and have no fields; the new run's have both.
    expect(query(file, 'SELECT detail, data FROM events WHERE run_id = 1')).toEqual([
      { detail: 'exited normally after 2s', data: null },
    ]);
    const started = query(file, "SELECT data FROM events WHERE run_id = 2 AND kind = 'run_start'");
    expect(JSON.parse(String(started[0]?.data))).toMatchObject({ run_id: 2, actors: 1 });
    expect(query(file, 'SELECT config_path FROM runs ORDER BY id').map((x) => x.config_path)).toEqual([
      'old.yaml',
      path.join(dir, 'actors.yaml'),
    ]);
    const cols = query(file, 'PRAGMA table_info(resource_usage)').map((c) => c.name);
    expect(cols).toContain('disk_free_mb');
    expect(query(file, 'PRAGMA table_info(process_state)').map((c) => c.name)).toContain('error_patterns');
    expect(
      query(file, 'SELECT process, rss_mb, heap_total_mb FROM resource_usage WHERE run_id = 1 ORDER BY process'),
    ).toEqual([
      { process: 'p', rss_mb: 30, heap_total_mb: null },
      { process: 't', rss_mb: null, heap_total_mb: 7 },
    ]);
  });
});
