import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAIN, project, query, ROOT, runCli, startRun, TSX, waitForActor } from '../helpers/cli.ts';

const WRITER = path.join(ROOT, 'test', 'fixtures', 'writer.py');

describe('output capture', () => {
  it('loses no line of a child that writes 100,000 lines and exits; long lines split; bad UTF-8 replaced', async () => {
    const dir = project(`
actors:
  - name: flood
    script: ${WRITER}
    args: ["100000"]
    requires_loop: true
    loop_interval: 3600
  - name: service
    command: [sleep, "60"]
`);
    const run = startRun(dir);
    await waitForActor(dir, 'flood', (a) => a.state === 'loop_wait', 60_000);
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    const db = path.join(dir, 'herder.db');
    const n = query(db, "SELECT COUNT(*) AS n FROM process_output WHERE process = 'flood'")[0]?.n;
    // 100,000 lines + the 70 KiB line in two pieces + the bad-bytes line + the unterminated last line
    expect(Number(n)).toBe(100_004);
    const numbered = query(
      db,
      "SELECT COUNT(DISTINCT substr(line, 1, 9)) AS n FROM process_output WHERE process = 'flood' AND line LIKE '0%'",
    )[0]?.n;
    expect(Number(numbered)).toBe(100_000);
    const tail = query(db, "SELECT line FROM process_output WHERE process = 'flood' ORDER BY id DESC LIMIT 4")
      .map((x) => String(x.line))
      .reverse();
    expect(tail[0]?.length).toBe(64 * 1024);
    expect(tail[1]?.length).toBe(70 * 1024 - 64 * 1024);
    expect(tail[2]).toBe('bad \uFFFD\uFFFD bytes');
    expect(tail[3]).toBe('no newline at the end');
    expect(query(db, "SELECT * FROM process_errors WHERE error_type = 'output_dropped'")).toEqual([]);
  });

  it('lines come back exactly as written: quotes, backslashes, tabs, JSON, non-ASCII, empty lines; a NUL replaced', async () => {
    const lines = [
      'plain',
      'say "hi" and \'bye\'',
      'back\\slash \\n not a newline',
      'tab\there',
      '{"type": "json", "n": [1, 2]}',
      '',
      'naïve café – 東京 – 🚀',
      'nul\u0000inside',
      '   leading and trailing spaces   ',
    ];
    const script = `import sys\nsys.stdout.write(${JSON.stringify(`${lines.join('\n')}\n`)})\n`;
    const dir = project(`
actors:
  - name: odd
    command: [python3, -c, ${JSON.stringify(script)}]
    requires_loop: true
    loop_interval: 3600
`);
    const run = startRun(dir);
    await waitForActor(dir, 'odd', (a) => a.state === 'loop_wait');
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    const got = query(path.join(dir, 'herder.db'), "SELECT line FROM process_output WHERE process = 'odd' ORDER BY id");
    // A NUL would end the line in SQLite's C strings: it is replaced, like an invalid byte.
    expect(got.map((x) => x.line)).toEqual(lines.map((l) => l.replace('\u0000', '\uFFFD')));
  });

  it("a job's stdout and stderr are real pipes from a private folder that is gone when the run ends", async () => {
    const dir = project(`
actors:
  - name: kinds
    command: [sh, -c, 'echo "out=$(stat -L -c %F /proc/$$/fd/1) err=$(stat -L -c %F /proc/$$/fd/2)"; echo to-stderr >&2']
    requires_loop: true
    loop_interval: 3600
`);
    const tmp = path.join(dir, 'tmp');
    mkdirSync(tmp);
    const run = startRun(dir, [], { TMPDIR: tmp });
    await waitForActor(dir, 'kinds', (a) => a.state === 'loop_wait');
    const pipeFolders = () => readdirSync(tmp).filter((f) => f.startsWith('herder-pipes-')); // tsx keeps a cache there too
    const folders = pipeFolders();
    expect(folders).toHaveLength(1);
    expect(statSync(path.join(tmp, folders[0] ?? '')).mode & 0o777).toBe(0o700);
    const r = await run.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('output pipes unavailable');
    const lines = query(
      path.join(dir, 'herder.db'),
      "SELECT stream, line FROM process_output WHERE process = 'kinds' ORDER BY id",
    );
    expect(lines).toEqual([
      { stream: 'stdout', line: 'out=fifo err=fifo' },
      { stream: 'stderr', line: 'to-stderr' },
    ]);
    expect(pipeFolders()).toEqual([]);
  });

  it('status answers from the live run over its socket (0600), then from the file after the run', async () => {
    const dir = project(`
runtime: { max_runtime_minutes: 10 }
actors:
  - name: sleeper
    command: [sleep, "60"]
  - name: ticker
    command: [sh, -c, "echo tick; exit 0"]
    requires_loop: true
    loop_interval: 30
`);
    const run = startRun(dir, ['--runtime', '10']);
    await waitForActor(dir, 'ticker', (a) => a.state === 'loop_wait');
    const { statSync } = await import('node:fs');
    expect(statSync(path.join(dir, 'herder.sock')).mode & 0o777).toBe(0o600);
    const live = await runCli(['status'], dir);
    expect(live.code, live.stderr).toBe(0);
    const [header, columns, ...rows] = live.stdout.trim().split('\n');
    expect(header).toMatch(
      /^run 1 · running · started .* UTC · up \S+ · pid \d+ · 9m\d\ds left( · machine: cpu \d+%, memory \d+%, load \S+)? · live$/,
    );
    expect(columns).toMatch(
      /^ACTOR\s+KIND\s+STATE\s+PID\s+UPTIME\s+CPU\s+MEM\s+RUNS\s+OK\s+FAILED\s+RESTARTS\s+EXIT\s+NEXT RUN/,
    );
    expect(rows[0]).toMatch(/^sleeper\s+process\s+running\s+\d+\s+\S+\s+(\d+%|-)\s+(\d+M|-)\s+1\s+0\s+0\s+0\s+-\s+-/);
    expect(rows[1]).toMatch(/^ticker\s+process\s+loop_wait\s+-\s+-\s+-\s+-\s+1\s+1\s+0\s+0\s+0\s+in \d+(\.\d)?s/);
    const json = JSON.parse((await runCli(['status', '--json'], dir)).stdout);
    expect(json).toMatchObject({ format: 'herder.status/1', live: true, run: { id: 1, status: 'running' } });
    await run.stop();
    const after = await runCli(['status'], dir);
    expect(after.stdout.split('\n')[0]).toMatch(/^run 1 · stopped · .* · ran \S+ · SIGTERM received$/);
    expect(after.stdout).not.toContain('live');
  });
});

describe('--echo', () => {
  it('prints each captured line prefixed by its actor, stderr marked, and lifecycle events', async () => {
    const dir = project(`
actors:
  - name: talker
    command: [sh, -c, "echo hello out; echo oops >&2"]
    requires_loop: true
    loop_interval: 60
`);
    const r = await runCli(['--runtime', '0.01', '--echo'], dir);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('talker | hello out');
    expect(lines).toContain('talker ! oops');
    expect(lines).toContain('talker ▸ loop_wait: next run in 1m00s');
    expect(lines.some((l) => /^_herder ▸ deadline: max runtime of 600ms reached; stopping$/.test(l))).toBe(true);
    const quiet = await runCli(['--runtime', '0.01', '--no-echo'], dir);
    expect(quiet.stdout).toBe('');
  });
});

describe('--echo never holds herder back', () => {
  const flood = `
actors:
  - name: flood
    script: ${WRITER}
    args: ["50000"]
    requires_loop: true
    loop_interval: 3600
`;
  const startEcho = (dir: string) =>
    spawn(process.execPath, ['--import', TSX, MAIN, 'run', '--runtime', '0.03', '--echo'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });

  it('a reader that stops reading does not stall the run; the database still gets every line', async () => {
    const dir = project(flood);
    const child = startEcho(dir);
    child.stdout.pause(); // nobody reads herder's output until the run has ended
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    child.stdout.destroy();
    const n = query(path.join(dir, 'herder.db'), "SELECT COUNT(*) AS n FROM process_output WHERE process = 'flood'")[0]
      ?.n;
    expect(Number(n)).toBe(50_004);
  });

  it('a reader that goes away (EPIPE) turns echo off; the run carries on and ends normally', async () => {
    const dir = project(flood);
    const child = startEcho(dir);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/herder: echo turned off: standard output failed \(.*EPIPE.*\)/);
    expect(stderr).toMatch(/herder: run 1 completed/);
  });
});

describe('status under load', () => {
  it('answers quickly during an output flood, from the live run, never by reading the file', async () => {
    const dir = project(`
runtime: { output_buffer_mb: 8 }
actors:
  - name: firehose
    command: [sh, -c, "yes 'a line of output that goes on and on and on and on and on and on and on'"]
`);
    const run = startRun(dir);
    try {
      await waitForActor(dir, 'firehose', (a) => a.state === 'running');
      await new Promise((r) => setTimeout(r, 1500)); // let a backlog build up
      for (let i = 0; i < 3; i++) {
        const s = await runCli(['status', '--json'], dir);
        expect(s.code, s.stderr).toBe(0);
        expect(JSON.parse(s.stdout)).toMatchObject({ live: true, actors: [{ name: 'firehose', state: 'running' }] });
      }
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
  });
});
