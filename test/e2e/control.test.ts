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

  it('refuses to start when a file that is not a socket sits at the socket path', async () => {
    const dir = project(sleeper);
    writeFileSync(path.join(dir, 'herder.sock'), 'my notes');
    const r = await runCli(['--runtime', '1', '--no-echo'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/herder\.sock: exists and is not a socket; move it aside or pass --db OTHER\.db$/);
  });
});
