/**
 * The HTTP listener end to end: a real run with --http on a free loopback
 * port, driven over real sockets - the JSON API and its token, /metrics
 * checked by promtool and scraped by a real Prometheus, the event stream,
 * and bad input that must not touch the run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, liveStatus, project, query, runCli, startRun, waitForActor, waitUntil } from '../helpers/cli.ts';

const config = (extra = '') => `
runtime: { protection: { enabled: false }, sample_interval_seconds: 0.5, restart_jitter: 0${extra} }
actors:
  - name: sleeper
    command: [sleep, "600"]
  - name: crasher
    command: [sh, -c, "echo hello from crasher; sleep 0.5; exit 3"]
    restart_delay: 0.5
`;

/** The run's dashboard address, from its "run started" line. */
async function urlOf(run: { err: () => string }): Promise<string> {
  return waitUntil(() => /dashboard and \/metrics at (http:\/\/[^;\s]+)/.exec(run.err())?.[1], 20_000, 'the address');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

describe.concurrent('the HTTP listener', () => {
  it('serves the API: reads on loopback without the token, actions only with it and only from its own origin', {
    timeout: 120_000,
  }, async () => {
    const dir = project(config());
    const run = startRun(dir, ['--http', '127.0.0.1:0']);
    try {
      const url = await urlOf(run);
      const first = await waitForActor(dir, 'sleeper', (a) => a.state === 'running' && a.pid !== null);
      const tokenFile = path.join(dir, 'herder.token');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, 'utf8').trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect(run.err()).not.toContain(token);

      const status = (await (await fetch(`${url}/api/status`)).json()) as { run: { http: string }; actors: unknown[] };
      expect(status.run.http).toBe(url);
      expect(status.actors).toHaveLength(2);
      const restart = `${url}/api/actors/sleeper/restart`;
      expect((await fetch(restart, { method: 'POST' })).status).toBe(401);
      expect((await fetch(restart, { method: 'POST', headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const auth = { authorization: `Bearer ${token}` };
      const cross = await fetch(restart, { method: 'POST', headers: { ...auth, origin: 'http://evil.example' } });
      expect(cross.status).toBe(403);
      const site = await fetch(restart, { method: 'POST', headers: { ...auth, 'sec-fetch-site': 'cross-site' } });
      expect(site.status).toBe(403);
      expect(alive(Number(first.pid))).toBe(true); // nothing refused touched it

      const ok = await fetch(restart, { method: 'POST', headers: auth });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ ok: true, detail: 'sleeper: restarting' });
      await waitForActor(dir, 'sleeper', (a) => a.state === 'running' && a.pid !== null && a.pid !== first.pid);
      const missing = await fetch(`${url}/api/actors/nobody/stop`, { method: 'POST', headers: auth });
      expect(missing.status).toBe(409);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('HERDER_ERR_CONTROL');
      expect((await fetch(`${url}/api/events?limit=abc`)).status).toBe(400);
      const badGrep = await fetch(`${url}/api/logs?grep=(`);
      expect(badGrep.status).toBe(400);
      expect(await badGrep.json()).toEqual({
        error: { code: 'HERDER_ERR_ARGS', message: 'logs: grep: not a valid regular expression' },
      });
      expect((await fetch(`${url}/nowhere`)).status).toBe(404);

      const text = await runCli(['status'], dir);
      expect(text.stdout).toContain(`dashboard ${url}`);
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
    const db = path.join(dir, 'herder.db');
    expect(query(db, "SELECT detail FROM events WHERE kind = 'command'").map((e) => e.detail)).toEqual([
      'restart (by web 127.0.0.1)',
    ]);
    expect(String(query(db, 'SELECT http FROM runs')[0]?.http)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const token = readFileSync(path.join(dir, 'herder.token'), 'utf8').trim();
    expect(readFileSync(db).includes(token)).toBe(false);
  });

  it("streams the event bus and an actor's output: a crash and a line reach a client as they happen", {
    timeout: 60_000,
  }, async () => {
    const dir = project(config());
    const run = startRun(dir, ['--http', '127.0.0.1:0']);
    try {
      const url = await urlOf(run);
      const ctrl = new AbortController();
      const res = await fetch(`${url}/api/stream`, { signal: ctrl.signal });
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let seen = '';
      const decoder = new TextDecoder();
      await waitUntil(
        async () => {
          const { value } = await reader.read();
          seen += decoder.decode(value);
          return /"process":"crasher","kind":"exit","detail":"exited with code 3/.test(seen);
        },
        20_000,
        'the crash on the stream',
      );
      const exit = seen.split('\n').find((l) => l.includes('"kind":"exit"')) ?? '';
      expect(JSON.parse(exit.slice('data: '.length))).toMatchObject({
        process: 'crasher',
        kind: 'exit',
        data: { cause: 'crash', code: 3 },
      });
      ctrl.abort();

      // One actor's output, pushed as it is captured and filtered like logs --grep.
      const out = await fetch(`${url}/api/actors/crasher/output?grep=${encodeURIComponent('^hello')}`);
      const lines = (out.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      await waitUntil(
        async () => {
          text += decoder.decode((await lines.read()).value);
          return text.includes('event: output');
        },
        20_000,
        'a line on the output stream',
      );
      const msg = text.split('\n').find((l) => l.startsWith('data: {')) ?? '';
      expect(JSON.parse(msg.slice('data: '.length))).toMatchObject({ stream: 'stdout', lines: ['hello from crasher'] });
      await lines.cancel();
      expect((await fetch(`${url}/api/actors/crasher/output?grep=(`)).status).toBe(400);
      expect((await fetch(`${url}/api/actors/nobody/output`)).status).toBe(404);
    } finally {
      await run.stop();
    }
  });

  it('/metrics passes promtool, and a real Prometheus scrapes the restarts of an actor', {
    timeout: 120_000,
  }, async () => {
    const dir = project(config());
    const run = startRun(dir, ['--http', '127.0.0.1:0']);
    const home = mkdtempSync(path.join(tmpdir(), 'herder-prom-'));
    let prom: ReturnType<typeof spawn> | null = null;
    try {
      const url = await urlOf(run);
      await waitForActor(dir, 'crasher', (a) => a.restarts >= 1);
      const started = Date.now();
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(Date.now() - started).toBeLessThan(5_000); // generous: the bench measures the real figure
      for (const family of [
        'herder_actor_up{actor="sleeper",kind="process"} 1',
        'herder_actor_state{actor="crasher",state=',
        'herder_actor_restarts_total{actor="crasher"}',
        'herder_actor_runs_total{actor="crasher",result="failure"}',
        'herder_actor_start_time_seconds{actor="sleeper"}',
        'herder_actor_resident_memory_bytes{actor="sleeper"}',
        'herder_actor_errors_total{actor="crasher",error_type="exit"}',
        'herder_output_lines_total{actor="crasher",stream="stdout"}',
        'herder_output_dropped_lines_total 0',
        'herder_run_deadline_timestamp_seconds',
        'process_resident_memory_bytes',
      ]) {
        expect(text, family).toContain(family);
      }
      // promtool lints the exposition (names, types, help); it exits 1 with its findings otherwise.
      const lint = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(lint).toBe('');

      const port = await freePort();
      const target = new URL(url).host;
      writeFileSync(
        path.join(home, 'prometheus.yml'),
        `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: herder\n    static_configs: [{ targets: ["${target}"] }]\n`,
      );
      prom = spawn(
        'prometheus',
        [
          `--config.file=${path.join(home, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(home, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: 'ignore' },
      );
      const series = await waitUntil(
        async () => {
          try {
            const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=herder_actor_restarts_total`);
            const body = (await r.json()) as {
              data?: { result?: { metric: Record<string, string>; value: unknown[] }[] };
            };
            return body.data?.result?.find((x) => x.metric.actor === 'crasher');
          } catch {
            return undefined;
          }
        },
        60_000,
        'Prometheus to scrape herder',
      );
      expect(series.metric).toMatchObject({ job: 'herder', actor: 'crasher' });
      expect(Number(series.value[1])).toBeGreaterThanOrEqual(1);
    } finally {
      if (prom?.pid !== undefined) process.kill(prom.pid, 'SIGTERM');
      await run.stop();
    }
  });

  it('bad input never touches the run: a huge body, 200 connections at once, a stream client that never reads', {
    timeout: 120_000,
  }, async () => {
    const dir = project(config());
    const run = startRun(dir, ['--http', '127.0.0.1:0']);
    const sockets: net.Socket[] = [];
    try {
      const url = await urlOf(run);
      const { hostname, port } = new URL(url);
      const sleeper = await waitForActor(dir, 'sleeper', (a) => a.state === 'running' && a.pid !== null);
      const token = readFileSync(path.join(dir, 'herder.token'), 'utf8').trim();
      const huge = await fetch(`${url}/api/reload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: 'x'.repeat(1024 * 1024),
      });
      expect(huge.status).toBe(413);
      const before = rssKb(Number(run.child.pid));
      // 200 sockets at once, half of them sending a broken request, half sending nothing at all.
      for (let i = 0; i < 200; i++) {
        const s = net.connect(Number(port), hostname);
        s.on('error', () => {});
        if (i % 2 === 0) s.write('GET /api/status HTTP/1.1\r\nHost: x\r\nContent-Length: nonsense\r\n\r\n');
        sockets.push(s);
      }
      // A stream client that never reads while the crasher keeps making events.
      const stuck = net.connect(Number(port), hostname);
      stuck.on('error', () => {});
      stuck.write(`GET /api/stream HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
      stuck.pause();
      sockets.push(stuck);
      await new Promise((r) => setTimeout(r, 4_000));
      // The run goes on: the control socket answers, the sleeper was never touched, the crasher still restarts.
      const s = await liveStatus(dir);
      expect(s?.actors.find((a) => a.name === 'sleeper')?.pid).toBe(sleeper.pid);
      const restarts = s?.actors.find((a) => a.name === 'crasher')?.restarts ?? 0;
      await waitForActor(dir, 'crasher', (a) => a.restarts > restarts, 20_000);
      expect(rssKb(Number(run.child.pid)) - before).toBeLessThan(64 * 1024);
      for (const x of sockets) x.destroy();
      // Once they are gone, the listener serves again.
      await waitUntil(
        async () => (await fetch(`${url}/api/status`).catch(() => null))?.status === 200,
        20_000,
        'a page',
      );
    } finally {
      for (const x of sockets) x.destroy();
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('on an address other than loopback, reads need the token too', { timeout: 60_000 }, async () => {
    const dir = project(config());
    const run = startRun(dir, ['--http', '0.0.0.0:0']);
    try {
      const url = (await urlOf(run)).replace('0.0.0.0', '127.0.0.1');
      const token = readFileSync(path.join(dir, 'herder.token'), 'utf8').trim();
      // The page itself holds no data: it loads, and asks for the token for everything else.
      expect((await fetch(`${url}/`)).status).toBe(200);
      for (const page of ['/metrics', '/api/status', '/api/stream', '/charts/sleeper']) {
        expect((await fetch(`${url}${page}`)).status, page).toBe(401);
        expect((await fetch(`${url}${page}`, { headers: { authorization: `Bearer ${token}` } })).status, page).toBe(
          200,
        );
      }
    } finally {
      await run.stop();
    }
  });

  it('refuses, in one line each: a bad address, a port in use, a token file others can read', {
    timeout: 60_000,
  }, async () => {
    let dir = project(config());
    let r = await runCli(['--http', 'localhost:99999', '--runtime', '5s', '--no-echo'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('herder: --http: port 99999 is not between 0 and 65535\n');

    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((res) => blocker.once('listening', res));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      r = await runCli(['--http', `127.0.0.1:${port}`, '--runtime', '5s', '--no-echo'], dir);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `herder: cannot listen on 127.0.0.1:${port} is in use; pick another port in runtime.http.listen or --http (0: any free port)`,
      );
    } finally {
      blocker.close();
    }

    dir = project(config(', http: { listen: "127.0.0.1:0", token_file: secret.txt }'));
    const secret = path.join(dir, 'secret.txt');
    writeFileSync(secret, 'a-token-of-enough-length-1234\n');
    chmodSync(secret, 0o644);
    r = await runCli(['--runtime', '5s', '--no-echo'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      `herder: runtime.http.token_file ${secret} can be read by others (mode 0644); chmod 600 ${secret}`,
    );
    const bad = await runCli(['check'], project(config(', http: { listen: "nowhere" }')));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('runtime.http.listen: "nowhere" is not HOST:PORT');
  });
});
