/**
 * The control actor: newline-delimited JSON-RPC 2.0 on a Unix socket next to
 * the database (mode 0600). During a live run it is how the CLI reads the
 * record, so nothing but the logging actor ever opens the file. Also the
 * client side used by the CLI.
 */
import { existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HerderError } from '../runtime/errors.ts';

export const CONTROL_PROTOCOL = 'herder.control/1';

export function socketPathFor(dbPath: string): string {
  const dir = path.dirname(dbPath);
  const base = path.basename(dbPath).replace(/\.db$/, '');
  return path.join(dir, `${base}.sock`);
}

export type Handlers = Record<string, (params: Record<string, unknown>) => Promise<unknown>>;

interface Request {
  jsonrpc: '2.0';
  id?: number | string | null;
  method: string;
  params?: Record<string, unknown>;
}

export class ControlServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly path: string,
    private readonly handlers: { status: () => Promise<unknown>; events: (limit: number) => Promise<unknown> },
  ) {
    this.server = net.createServer((socket) => this.serve(socket));
  }

  private methods(): Handlers {
    return {
      ping: async () => ({ protocol: CONTROL_PROTOCOL, pid: process.pid }),
      status: async () => this.handlers.status(),
      events: async (p) => this.handlers.events(typeof p.limit === 'number' ? p.limit : 100),
    };
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() !== '') void this.answer(socket, line);
      }
      if (buffer.length > 1024 * 1024) socket.destroy();
    });
  }

  private async answer(socket: net.Socket, line: string): Promise<void> {
    let req: Request;
    try {
      req = JSON.parse(line) as Request;
    } catch {
      socket.write(
        `${JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } })}\n`,
      );
      return;
    }
    const id = req.id ?? null;
    const method = this.methods()[req.method];
    if (method === undefined) {
      socket.write(
        `${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32601, message: `no method ${req.method}` } })}\n`,
      );
      return;
    }
    try {
      const result = await method(req.params ?? {});
      socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32000, message } })}\n`);
    }
  }

  async listen(): Promise<void> {
    if (existsSync(this.path)) {
      if (await ping(this.path)) {
        throw new HerderError('HERDER_ERR_ALREADY_RUNNING', `${this.path}: another herder answers on this socket`);
      }
      unlinkSync(this.path); // left by a run that died
    }
    const old = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.path, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(old);
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

async function ping(socketPath: string): Promise<boolean> {
  try {
    await call(socketPath, 'ping', {}, 1000);
    return true;
  } catch {
    return false;
  }
}

/** One JSON-RPC call; rejects with HERDER_ERR_NOT_LIVE when nobody answers. */
export function call(
  socketPath: string,
  method: string,
  params: Record<string, unknown>,
  timeoutMs = 5000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new HerderError('HERDER_ERR_NOT_LIVE', `${socketPath}: the live run did not answer within ${timeoutMs} ms`),
      );
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })}\n`));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(new HerderError('HERDER_ERR_NOT_LIVE', `${socketPath}: no live run answers (${e.message})`));
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      socket.end();
      const res = JSON.parse(buffer.slice(0, nl)) as { result?: unknown; error?: { message: string } };
      if (res.error !== undefined)
        reject(new HerderError('HERDER_ERR_CONTROL', `the live run refused ${method}: ${res.error.message}`));
      else resolve(res.result);
    });
  });
}
