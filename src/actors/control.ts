/**
 * The control actor: newline-delimited JSON-RPC 2.0 on a Unix socket next to
 * the database (mode 0600), serving the typed control API (control-api.ts).
 * During a live run it is how the CLI reads the record, so nothing but the
 * logging actor ever opens the file. Also the client side used by the CLI.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type ErrorCode, ErrorCodes, HerderError, isHerderError } from '../runtime/errors.ts';
import {
  CONTROL_PROTOCOL,
  type ControlHandlers,
  type ControlMethod,
  type ControlParams,
  type ControlResults,
  controlParams,
  isControlMethod,
} from './control-api.ts';

export { CONTROL_PROTOCOL } from './control-api.ts';

export function socketPathFor(dbPath: string): string {
  const dir = path.dirname(dbPath);
  const base = path.basename(dbPath).replace(/\.db$/, '');
  return path.join(dir, `${base}.sock`);
}

/** Every method but ping, which the server answers itself. */
export type Handlers = Omit<ControlHandlers, 'ping'>;

interface Request {
  jsonrpc: '2.0';
  id?: number | string | null;
  method: string;
  params?: Record<string, unknown>;
}

/** How long closing the socket waits for answers still being computed (a shutdown's own answer among them). */
const CLOSE_WAIT_MS = 2_000;

/**
 * One request to the control API, from the socket or from HTTP: its params
 * validated against the method's schema (a mismatch is HERDER_ERR_ARGS), then
 * its handler.
 */
export async function dispatch(handlers: Handlers, method: ControlMethod, raw: unknown): Promise<unknown> {
  const parsed = controlParams[method].safeParse(raw ?? {});
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    const where = i === undefined || i.path.length === 0 ? 'params' : i.path.join('.');
    throw new HerderError('HERDER_ERR_ARGS', `${method}: ${where}: ${i?.message ?? 'invalid'}`);
  }
  if (method === 'ping') return { protocol: CONTROL_PROTOCOL, pid: process.pid };
  // The cast joins the method to its own handler: TypeScript cannot follow the correlation through a union.
  const handler = handlers[method] as (p: unknown) => Promise<unknown>;
  return handler(parsed.data);
}

export class ControlServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Answers being computed: close() lets them reach their callers. */
  private readonly answering = new Set<Promise<void>>();
  private closing = false;

  constructor(
    readonly path: string,
    private readonly handlers: Handlers,
  ) {
    this.server = net.createServer((socket) => this.serve(socket));
  }

  private dispatch(method: ControlMethod, raw: unknown): Promise<unknown> {
    return dispatch(this.handlers, method, raw);
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
        if (line.trim() !== '') {
          const answer = this.answer(socket, line).catch(() => {
            socket.destroy();
          });
          this.answering.add(answer);
          void answer.finally(() => this.answering.delete(answer));
        }
      }
      if (buffer.length > 1024 * 1024) socket.destroy();
    });
  }

  private reply(socket: net.Socket, message: object): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  }

  private async answer(socket: net.Socket, line: string): Promise<void> {
    let req: Partial<Request> | null;
    try {
      req = JSON.parse(line) as Partial<Request> | null;
    } catch {
      this.reply(socket, { id: null, error: { code: -32700, message: 'parse error' } });
      return;
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req) || typeof req.method !== 'string') {
      this.reply(socket, { id: null, error: { code: -32600, message: 'invalid request' } });
      return;
    }
    const id = typeof req.id === 'number' || typeof req.id === 'string' ? req.id : null;
    if (!isControlMethod(req.method)) {
      this.reply(socket, { id, error: { code: -32601, message: `no method ${req.method}` } });
      return;
    }
    if (this.closing) {
      this.reply(socket, { id, error: { code: -32001, message: 'the run is ending; it answers no more requests' } });
      return;
    }
    try {
      this.reply(socket, { id, result: await this.dispatch(req.method, req.params) });
    } catch (e) {
      // Every error keeps its code across the socket: a user's mistake stays one, a bug stays a bug.
      const code: ErrorCode = isHerderError(e) ? e.code : 'HERDER_ERR_INTERNAL';
      const jsonrpc = code === 'HERDER_ERR_ARGS' ? -32602 : -32000;
      this.reply(socket, {
        id,
        error: { code: jsonrpc, message: e instanceof Error ? e.message : String(e), data: { code } },
      });
    }
  }

  async listen(): Promise<void> {
    let existing: ReturnType<typeof lstatSync> | undefined;
    try {
      existing = lstatSync(this.path);
    } catch {
      existing = undefined;
    }
    if (existing !== undefined) {
      if (!existing.isSocket()) {
        throw new HerderError(
          'HERDER_ERR_ALREADY_RUNNING',
          `${this.path}: exists and is not a socket; move it aside or pass --db OTHER.db`,
        );
      }
      if (await ping(this.path)) {
        throw new HerderError(
          'HERDER_ERR_ALREADY_RUNNING',
          `${this.path}: another herder answers on this socket; stop it first or pass --db OTHER.db`,
        );
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

  /**
   * Stops listening once the answers under way have gone out: the answer to
   * a shutdown is written before the run ends, not lost with it.
   */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.answering]),
      new Promise((r) => {
        timer = setTimeout(r, CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    // end() lets a written answer reach its reader; whoever does not hang up is cut off shortly after.
    for (const s of this.sockets) s.end();
    const cut = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, 500);
    await closed;
    clearTimeout(cut);
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

/** A JSON-RPC error as the client sees it, back into the HerderError it was on the server. */
function remoteError(method: string, error: { message?: unknown; data?: { code?: unknown } }): HerderError {
  const message = String(error.message);
  const code = error.data?.code;
  if (typeof code !== 'string' || !Object.hasOwn(ErrorCodes, code) || code === 'HERDER_ERR_CONTROL') {
    return new HerderError('HERDER_ERR_CONTROL', `herder: the live run refused ${method}: ${message}`);
  }
  if (code === 'HERDER_ERR_INTERNAL') {
    return new HerderError('HERDER_ERR_INTERNAL', `the live run failed to answer ${method}: ${message}`);
  }
  return new HerderError(code as ErrorCode, message.startsWith('herder') ? message : `herder: ${message}`);
}

/** One call of the control API; rejects with HERDER_ERR_NOT_LIVE when nobody answers. */
export function call<M extends ControlMethod>(
  socketPath: string,
  method: M,
  params: ControlParams<M>,
  timeoutMs = 5000,
): Promise<ControlResults[M]> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let buffer = '';
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      socket.destroy();
      // It is there but busy: never fall back to reading the file under a live writer.
      reject(
        new HerderError(
          'HERDER_ERR_CONTROL',
          `${socketPath}: the live run did not answer within ${timeoutMs / 1000} s; it may be very busy, try again`,
        ),
      );
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })}\n`));
    socket.on('error', (e) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      reject(new HerderError('HERDER_ERR_NOT_LIVE', `${socketPath}: no live run answers (${e.message})`));
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      // It was there and hung up without an answer: a run that is ending, not one that is missing.
      reject(
        new HerderError(
          'HERDER_ERR_CONTROL',
          `${socketPath}: the live run closed the connection before answering ${method}: it is ending (see herder status)`,
        ),
      );
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0 || settled) return;
      settled = true;
      clearTimeout(timer);
      socket.end();
      let res: unknown;
      try {
        res = JSON.parse(buffer.slice(0, nl));
      } catch {
        reject(
          new HerderError(
            'HERDER_ERR_CONTROL',
            `${socketPath}: the answer to ${method} is not JSON; is this a herder socket?`,
          ),
        );
        return;
      }
      if (typeof res !== 'object' || res === null || !('result' in res || 'error' in res)) {
        reject(new HerderError('HERDER_ERR_CONTROL', `${socketPath}: the answer to ${method} is not a JSON-RPC reply`));
        return;
      }
      const reply = res as { result?: unknown; error?: { message?: unknown; data?: { code?: unknown } } };
      if (reply.error !== undefined && reply.error !== null) reject(remoteError(method, reply.error));
      // The server answers each method with its declared result (control-api.ts).
      else resolve(reply.result as ControlResults[M]);
    });
  });
}
