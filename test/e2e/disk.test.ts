/**
 * The record on a filesystem that fills up, and on one that is read-only: a
 * real tmpfs, mounted by the test (root), filled with a real file.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { call, socketPathFor } from '../../src/actors/control.ts';
import type { StatusDoc } from '../../src/record/queries.ts';
import { project, query, runCli, startRun, waitUntil } from '../helpers/cli.ts';

const mounted: string[] = [];

function mountTmpfs(sizeKb: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'herder-fs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0755`, 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

/** Writes zeros until the filesystem refuses: afterwards nothing more fits. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  // The last pages: smaller writes until not even one byte fits.
  const fd2 = openSync(file, 'a');
  try {
    for (let n = 4096; n >= 1; ) {
      try {
        writeSync(fd2, Buffer.alloc(n));
      } catch {
        n = Math.floor(n / 2);
      }
    }
  } finally {
    closeSync(fd2);
  }
}

let canMount = true;
try {
  const probe = mountTmpfs(64);
  execFileSync('umount', [probe]);
  mounted.pop();
} catch {
  canMount = false; // not root: these need a filesystem of their own
}

afterEach(() => {
  for (const dir of mounted.splice(0)) {
    try {
      execFileSync('umount', ['-l', dir]);
    } catch {
      // already gone
    }
  }
});

describe.skipIf(!canMount)('the record on a full or read-only filesystem', () => {
  it('a full filesystem: named as such, the live run answers at once throughout, nothing lost or doubled once space returns', {
    timeout: 120_000,
  }, async () => {
    const fs = mountTmpfs(8 * 1024);
    const db = path.join(fs, 'herder.db');
    const dir = project(`
runtime: { db: ${db}, sample_interval_seconds: 0.5 }
actors:
  - name: chatty
    command: [python3, -u, -c, "import time\\ni = 0\\nwhile True:\\n    i += 1\\n    print(f'line {i}', flush=True)\\n    time.sleep(0.01)"]
  - name: ticker
    command: [sh, -c, "echo tick"]
    requires_loop: true
    loop_interval: 0.2
`);
    const run = startRun(dir);
    let stderr = '';
    run.child.stderr?.on('data', (d: Buffer) => {
      stderr += String(d);
    });
    try {
      const socket = socketPathFor(db);
      const live = async () => {
        try {
          return (await call(socket, 'status', {}, 3_000)) as StatusDoc;
        } catch {
          return null;
        }
      };
      await waitUntil(async () => ((await live())?.actors.find((a) => a.name === 'ticker')?.runs ?? 0) >= 2);
      fill(path.join(fs, 'filler'));
      await waitUntil(() => stderr.includes('is full'), 30_000, 'herder to notice the full filesystem');
      expect(stderr).toMatch(
        /herder: the filesystem holding herder\.db is full: 0 MB free; records are kept in memory \(\d+ queued, \d+ output lines\) and written when space returns\n/,
      );
      expect(stderr).not.toContain('disk I/O error');
      // Throughout the outage the live run answers from what it holds, at once, and says what is not written.
      let firstRuns = -1;
      for (let i = 0; i < 6; i++) {
        const doc = (await call(socket, 'status', {}, 3_000)) as StatusDoc;
        expect(doc.unwritten?.failing_since).not.toBeNull();
        expect(doc.unwritten?.failure).toBe('the filesystem holding herder.db is full: 0 MB free');
        expect(doc.unwritten?.records).toBeGreaterThan(0);
        const runs = doc.actors.find((a) => a.name === 'ticker')?.runs ?? 0;
        if (firstRuns < 0) firstRuns = runs;
        await new Promise((r) => setTimeout(r, 300));
      }
      const later = (await call(socket, 'status', {}, 3_000)) as StatusDoc;
      expect(later.actors.find((a) => a.name === 'ticker')?.runs).toBeGreaterThan(firstRuns); // live, not frozen
      const text = await runCli(['status'], dir);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(
        /\nnot yet in the database: \d+ records \(\d+ output lines\), held in memory since \d\d:\d\d:\d\d UTC: the filesystem holding herder\.db is full: 0 MB free; they are written when it recovers\n$/,
      );
      const events = await runCli(['events', 'ticker', '-n', '5'], dir);
      expect(events.code, events.stderr).toBe(0);
      expect(events.stdout).toContain('  [not yet written]\n');
      const logs = await runCli(['logs', 'chatty', '-n', '3'], dir);
      expect(logs.code, logs.stderr).toBe(0);
      expect(logs.stdout.trim().split('\n')).toHaveLength(3);
      expect(logs.stdout).toMatch(/chatty \| line \d+ {2}\[not yet written\]\n$/);
      const stop = await runCli(['ctl', 'stop', 'ticker'], dir);
      expect(stop.code, stop.stderr).toBe(0);

      rmSync(path.join(fs, 'filler'));
      await waitUntil(() => stderr.includes('accepts writes again'), 60_000, 'writes to resume');
      expect(stderr).toMatch(/herder: the database accepts writes again after [\d.]+m?s; nothing queued was lost\n/);
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
    const recorded = query(db, "SELECT error_type, message FROM process_errors WHERE process = '_herder'");
    expect(recorded).toEqual([
      {
        error_type: 'disk_full',
        message: expect.stringMatching(
          /^writes to the database failed for [\d.]+m?s \(the filesystem holding herder\.db is full: 0 MB free\); the records waited in memory and were written when it recovered$/,
        ),
      },
    ]);
    // Every line the job printed is there once, in order: nothing lost, nothing doubled.
    const numbers = query(db, "SELECT line FROM process_output WHERE process = 'chatty' ORDER BY id").map((r) =>
      Number(String(r.line).slice(5)),
    );
    expect(numbers.length).toBeGreaterThan(100);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    const drops = query(db, "SELECT COUNT(*) AS n FROM process_errors WHERE error_type = 'output_dropped'");
    expect(drops[0]?.n).toBe(0);
    // The ticker's runs in the record match its start events: each state change written once.
    const ticker = query(db, "SELECT runs FROM process_state WHERE process = 'ticker'")[0];
    const starts = query(db, "SELECT COUNT(*) AS n FROM events WHERE process = 'ticker' AND kind = 'start'")[0];
    expect(Number(ticker?.runs)).toBe(Number(starts?.n));
  });

  it('a finished record on a read-only filesystem is read as it is, and said so: status, report, logs, events', async () => {
    const fs = mountTmpfs(8 * 1024);
    const db = path.join(fs, 'herder.db');
    const dir = project(`
runtime: { db: ${db} }
actors:
  - name: hello
    command: [sh, -c, "echo hello from the archive; exit 3"]
    restart: transient
    max_restarts: 1
    restart_delay: 0.1
`);
    const r = await runCli(['--runtime', '0.2', '--no-echo'], dir);
    expect(r.code, r.stderr).toBe(1); // the actor was given up
    execFileSync('mount', ['-o', 'remount,ro', fs]);
    const note = `herder: ${db} is on a read-only filesystem (or in a folder you cannot write): reading it as it is\n`;
    const status = await runCli(['status'], dir);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toBe(note);
    expect(status.stdout).toMatch(/^run 1 · finished · .* some were given up\n/);
    expect(status.stdout).toMatch(/\nhello\s+process\s+fatal\s/);
    const report = await runCli(['report'], dir);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain('hello');
    const logs = await runCli(['logs', 'hello'], dir);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/hello \| hello from the archive\n$/);
    const events = await runCli(['events', '--kind', 'giveup'], dir);
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout).toMatch(/hello giveup: /);
    expect(events.stderr).toBe(note);
  });
});
