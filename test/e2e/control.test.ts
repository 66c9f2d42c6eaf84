import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, runCli, startRun, waitForActor } from '../helpers/cli.ts';

/** Sends raw lines to the socket and collects one reply per line. */
function exchange(socketPath: string, lines: readonly string[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(lines.map((l) => `${l}\n`).join('')));
    socket.on('data', (d: string) => {
      buffer += d;
      const replies = buffer.split('\n').filter((l) => l !== '');
      if (replies.length >= lines.length) {
        socket.end();
        resolve(replies.map((r) => JSON.parse(r)));
      }
    });
    socket.on('error', reject);
  });
}

const sleeper = `
actors:
  - name: sleeper
    command: [sleep, "60"]
`;

describe('control socket', () => {
  it('answers malformed requests with JSON-RPC errors and keeps running', async () => {
    const dir = project(sleeper);
    const run = startRun(dir);
    try {
      await waitForActor(dir, 'sleeper', (a) => a.state === 'running');
      const replies = await exchange(path.join(dir, 'herder.sock'), [
        'null',
        '[1,2]',
        'not json',
        '{"jsonrpc":"2.0","id":7,"method":"__proto__"}',
        '{"jsonrpc":"2.0","id":8,"method":"ping","params":null}',
      ]);
      expect(replies).toEqual([
        { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request' } },
        { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request' } },
        { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } },
        { jsonrpc: '2.0', id: 7, error: { code: -32601, message: 'no method __proto__' } },
        { jsonrpc: '2.0', id: 8, result: { protocol: 'herder.control/1', pid: run.child.pid } },
      ]);
      await waitForActor(dir, 'sleeper', (a) => a.state === 'running');
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('validates the parameters of each method and answers every error with its herder code', async () => {
    const dir = project(sleeper);
    const run = startRun(dir);
    try {
      await waitForActor(dir, 'sleeper', (a) => a.state === 'running');
      const sock = path.join(dir, 'herder.sock');
      const one = async (req: object) => (await exchange(sock, [JSON.stringify({ jsonrpc: '2.0', id: 1, ...req })]))[0];
      expect(await one({ method: 'actor', params: { name: 5 } })).toEqual({
        jsonrpc: '2.0',
        id: 1,
        error: { code: -32602, message: expect.stringMatching(/^actor: name: /), data: { code: 'HERDER_ERR_ARGS' } },
      });
      expect(await one({ method: 'logs', params: { limit: -1 } })).toMatchObject({
        error: { code: -32602, message: expect.stringMatching(/^logs: limit: /), data: { code: 'HERDER_ERR_ARGS' } },
      });
      expect(await one({ method: 'stop', params: {} })).toMatchObject({
        error: { code: -32602, message: expect.stringMatching(/^stop: name: /), data: { code: 'HERDER_ERR_ARGS' } },
      });
      expect(await one({ method: 'actor', params: { name: 'nobody' } })).toMatchObject({
        error: {
          message: 'herder: no actor named "nobody" in run 1 (actors: sleeper)',
          data: { code: 'HERDER_ERR_ARGS' },
        },
      });
      expect(await one({ method: 'stop', params: { name: 'nobody', by: 'test' } })).toMatchObject({
        error: { code: -32000, data: { code: 'HERDER_ERR_CONTROL' } },
      });
      // none of it touched the run
      const status = await runCli(['status', 'sleeper', '--json'], dir);
      expect(JSON.parse(status.stdout)).toMatchObject({ actor: { state: 'running', runs: 1 } });
      // the CLI turns the codes into its exit codes: a refused command 1, a mistake 2
      expect((await runCli(['ctl', 'stop', 'nobody'], dir)).code).toBe(1);
      expect((await runCli(['status', 'nobody'], dir)).code).toBe(2);
    } finally {
      const r = await run.stop();
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('refuses to start when a file that is not a socket sits at the socket path', async () => {
    const dir = project(sleeper);
    writeFileSync(path.join(dir, 'herder.sock'), 'my notes');
    const r = await runCli(['--runtime', '1', '--no-echo'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/herder\.sock: exists and is not a socket; move it aside or pass --db OTHER\.db$/);
  });
});
