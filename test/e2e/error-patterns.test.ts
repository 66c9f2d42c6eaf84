import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatusDoc } from '../../src/record/queries.ts';
import { JOB_PY, project, query, runCli, startRun, waitForActor } from '../helpers/cli.ts';

describe('error patterns', () => {
  it('restart, backoff, alert and ignore act on matching output lines; counts appear in status', async () => {
    const dir = project(`
runtime: { restart_jitter: 0 }
actors:
  - name: collector
    script: ${JOB_PY}
    args: [--stderr, "json.decoder.JSONDecodeError: Expecting value"]
    requires_loop: true
    loop_interval: 0.1
    restart_delay: 0.5
    max_restart_delay: 2
    error_patterns:
      - { pattern: JSONDecodeError, name: yahoo-json, action: backoff }
  - name: service
    command: [sh, -c, "echo starting; echo 'FATAL: lost the database' ; sleep 60"]
    restart_delay: 0.2
    error_patterns:
      - { pattern: "^FATAL", stream: stdout, action: restart }
  - name: chatty
    command: [sh, -c, "echo 'WARN deprecated call' >&2; echo 'quota at 90%' >&2; sleep 60"]
    error_patterns:
      - { pattern: WARN, action: ignore }
      - { pattern: "quota at \\\\d+%", name: quota, action: alert }
`);
    const run = startRun(dir);
    try {
      await waitForActor(dir, 'collector', (a) => a.runs >= 3, 30_000);
      await waitForActor(dir, 'service', (a) => a.restarts >= 1, 30_000);
      const chatty = await waitForActor(dir, 'chatty', (a) => (a.error_patterns?.quota ?? 0) >= 1);
      expect(chatty.error_patterns).toEqual({ WARN: 1, quota: 1 });
      const collector = await waitForActor(dir, 'collector', (a) => a.state === 'loop_wait');
      expect(collector.error_patterns?.['yahoo-json']).toBeGreaterThanOrEqual(2);
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
    const db = path.join(dir, 'herder.db');
    // After the run, status reads the counts from the file as the live run gave them.
    const after = await runCli(['status', '--json'], dir);
    const actors = (JSON.parse(after.stdout) as StatusDoc).actors;
    expect(actors.find((a) => a.name === 'chatty')?.error_patterns).toEqual({ WARN: 1, quota: 1 });
    expect(actors.find((a) => a.name === 'collector')?.error_patterns?.['yahoo-json']).toBeGreaterThanOrEqual(2);
    expect(actors.find((a) => a.name === 'service')?.error_patterns?.['^FATAL']).toBeGreaterThanOrEqual(1);
    // backoff: the loop job's waits grow instead of staying at loop_interval, and its runs are not failures
    const waits = query(
      db,
      "SELECT detail FROM events WHERE process = 'collector' AND kind = 'loop_wait' ORDER BY id",
    ).map((e) => String(e.detail));
    expect(waits[0]).toBe('next run in 500ms (backing off: error pattern yahoo-json, 1 run in a row)');
    expect(waits[1]).toBe('next run in 1s (backing off: error pattern yahoo-json, 2 runs in a row)');
    const collectorErrors = query(db, "SELECT error_type, message FROM process_errors WHERE process = 'collector'");
    expect(collectorErrors[0]).toEqual({
      error_type: 'yahoo-json',
      message: 'json.decoder.JSONDecodeError: Expecting value',
    });
    expect(query(db, "SELECT failures FROM process_state WHERE process = 'collector'")[0]?.failures).toBe(0);
    // restart: a failure named after the pattern (here the pattern itself)
    const serviceErrors = query(db, "SELECT error_type FROM process_errors WHERE process = 'service' ORDER BY id").map(
      (e) => e.error_type,
    );
    expect(serviceErrors.slice(0, 2)).toEqual(['^FATAL', '^FATAL']);
    const stop = query(db, "SELECT detail FROM events WHERE process = 'service' AND kind = 'stop'")[0];
    expect(String(stop?.detail)).toBe('restarting it: error pattern ^FATAL matched: FATAL: lost the database');
    // alert and ignore
    const chattyErrors = query(db, "SELECT error_type FROM process_errors WHERE process = 'chatty'").map(
      (e) => e.error_type,
    );
    expect(chattyErrors).toEqual(['quota']);
    const alert = query(db, "SELECT detail FROM events WHERE process = 'chatty' AND kind = 'alert'");
    expect(alert.map((a) => a.detail)).toEqual(['error pattern quota matched on stderr: quota at 90%']);
  });

  it('a Python traceback is matched once, as one unit: not once for its source line and again for its exception line', async () => {
    const dir = project(`
actors:
  - name: feed
    script: feed.py
    error_patterns:
      - { pattern: ConnectionError, name: conn, action: alert }
`);
    writeFileSync(
      path.join(dir, 'feed.py'),
      `import sys, time, traceback
def fetch():
    raise ConnectionError("feed unreachable")
try:
    fetch()
except ConnectionError:
    traceback.print_exc()
print("carrying on", file=sys.stderr, flush=True)
try:
    try:
        fetch()
    except ConnectionError as e:
        raise RuntimeError("gave up on the feed") from e
except RuntimeError:
    traceback.print_exc()
print("ConnectionError seen twice", file=sys.stderr, flush=True)
sys.stderr.flush()
time.sleep(60)
`,
    );
    const run = startRun(dir);
    try {
      // two tracebacks (the second chained onto a ConnectionError) and one plain line
      await waitForActor(dir, 'feed', (a) => (a.error_patterns?.conn ?? 0) >= 3);
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
    const db = path.join(dir, 'herder.db');
    const rows = query(
      db,
      "SELECT message FROM process_errors WHERE process = 'feed' AND error_type = 'conn' ORDER BY id",
    );
    // the chained unit matches in its first traceback (the cause, printed first): recorded with that exception line
    expect(rows.map((r) => r.message)).toEqual([
      'ConnectionError: feed unreachable',
      'ConnectionError: feed unreachable',
      'ConnectionError seen twice',
    ]);
    const alerts = query(db, "SELECT detail FROM events WHERE process = 'feed' AND kind = 'alert' ORDER BY id");
    expect(alerts).toHaveLength(3);
    const status = JSON.parse((await runCli(['status', '--json'], dir)).stdout) as StatusDoc;
    expect(status.actors[0]?.error_patterns).toEqual({ conn: 3 });
  });
});
