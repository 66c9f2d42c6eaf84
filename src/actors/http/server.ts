/**
 * The HTTP listener (opt-in: runtime.http or run --http): the dashboard page,
 * its JSON API under /api/ (the control API's own handlers, validated by the
 * same schemas), a Server-Sent Events stream of the event bus, and /metrics.
 *
 * - Reads need no token on loopback; anywhere else they need it too (all but
 *   the page itself, which holds no data and sends the token it is given). Every
 *   action (POST) needs `Authorization: Bearer TOKEN`, and one from another
 *   origin is refused by its Origin and Sec-Fetch-Site headers; each action is
 *   a command sent "by web ADDRESS".
 * - It must never slow supervision: at most MAX_CONNECTIONS sockets, request
 *   bodies capped, slow requests timed out, and an event stream whose client
 *   stops reading is dropped once its bounded queue is full.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { isLoopback, urlHost } from '../../config/listen.ts';
import type { SeriesPoint } from '../../record/report-data.ts';
import { HerderError, isHerderError } from '../../runtime/errors.ts';
import type { HttpSettings } from '../../runtime/spec.ts';
import { dispatch, type Handlers } from '../control.ts';
import type { ControlMethod } from '../control-api.ts';
import type { BusEvent, EventBus } from '../event-bus.ts';
import type { LiveView } from '../registry.ts';
import { lineChart } from './html.ts';
import type { Metrics } from './metrics.ts';

export const MAX_CONNECTIONS = 64;
const MAX_BODY_BYTES = 16 * 1024;
/** Events queued for one stream client before it counts as stuck and is dropped. */
const STREAM_QUEUE = 512;
const KEEPALIVE_MS = 15_000;

export interface HttpDeps {
  readonly settings: HttpSettings;
  readonly token: string;
  readonly handlers: Handlers;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  /** For the live output tail of one actor. */
  readonly view: LiveView;
  /** The dashboard page. */
  readonly page: () => string;
}

export interface HttpListener {
  /** "http://127.0.0.1:9464" */
  readonly url: string;
  close(): Promise<void>;
}

const ACTIONS = ['start', 'stop', 'restart', 'pause', 'resume'] as const;

/** A HerderError as an HTTP answer: the user's mistake 400, a refused command 409, anything else 500. */
function failure(c: Context, e: unknown): Response {
  if (isHerderError(e)) {
    const status =
      e.code === 'HERDER_ERR_ARGS' ? 400 : e.code === 'HERDER_ERR_CONTROL' ? 409 : e.isUserError ? 400 : 500;
    return c.json({ error: { code: e.code, message: e.message } }, status);
  }
  return c.json({ error: { code: 'HERDER_ERR_INTERNAL', message: e instanceof Error ? e.message : String(e) } }, 500);
}

function bearer(c: Context): string | null {
  const h = c.req.header('authorization') ?? '';
  return h.startsWith('Bearer ') ? h.slice(7).trim() : null;
}

/** Constant-time: a wrong token takes as long to refuse whatever its first differing character. */
function sameToken(a: string | null, b: string): boolean {
  if (a === null || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function app(d: HttpDeps, origin: () => string): Hono {
  const h = new Hono();
  const loopback = isLoopback(d.settings.host);
  const call = async (c: Context, method: ControlMethod, params: object) => {
    try {
      return c.json(await dispatch(d.handlers, method, params));
    } catch (e) {
      return failure(c, e);
    }
  };
  h.use('*', async (c, next) => {
    const post = c.req.method === 'POST';
    // The page itself holds no data: it is served to anyone who may connect, and asks for the token for the rest.
    const page = c.req.method === 'GET' && (c.req.path === '/' || c.req.path === '/favicon.ico');
    if ((post || (!loopback && !page)) && !sameToken(bearer(c), d.token)) {
      return c.json(
        { error: { code: 'HERDER_ERR_ARGS', message: 'this needs the token: Authorization: Bearer TOKEN' } },
        401,
      );
    }
    if (post) {
      const from = c.req.header('origin');
      const site = c.req.header('sec-fetch-site');
      if (
        (from !== undefined && from !== origin()) ||
        (site !== undefined && site !== 'same-origin' && site !== 'none')
      ) {
        return c.json({ error: { code: 'HERDER_ERR_ARGS', message: 'an action from another origin is refused' } }, 403);
      }
    }
    c.header('cache-control', 'no-store');
    c.header('x-content-type-options', 'nosniff');
    await next();
  });
  h.use(
    '*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        c.json({ error: { code: 'HERDER_ERR_ARGS', message: `the body is over ${MAX_BODY_BYTES} bytes` } }, 413),
    }),
  );

  h.get('/', (c) => c.html(d.page()));
  h.get('/favicon.ico', (c) => c.body(null, 204));
  h.get('/metrics', async (c) =>
    c.body((await d.metrics.text()) as Uint8Array<ArrayBuffer>, 200, { 'content-type': d.metrics.contentType }),
  );
  h.get('/api/status', (c) => call(c, 'status', {}));
  h.get('/api/actors/:name', (c) => call(c, 'actor', { name: c.req.param('name') }));
  h.get('/api/events', (c) => call(c, 'events', { limit: Number(c.req.query('limit') ?? 100), unwritten: true }));
  h.get('/api/logs', (c) => {
    const q = c.req.query();
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    return call(c, 'logs', {
      process: q.process,
      stream: q.stream,
      grep: q.grep,
      afterId: num(q.afterId),
      limit: num(q.limit),
      unwritten: q.afterId === undefined,
    });
  });
  h.get('/api/stream', () =>
    stream((send) =>
      d.bus.subscribe((e: BusEvent) => {
        const { process, kind, detail, data } = e;
        send('herder', { ts: Date.now() / 1000, process, kind, detail, data });
      }),
    ),
  );
  // One actor's output as it is captured, filtered like logs --grep: pushed, never read back from the record.
  h.get('/api/actors/:name/output', (c) => {
    const name = c.req.param('name');
    if (!d.view.children().some(({ c: x }) => x.spec.name === name)) {
      return c.json({ error: { code: 'HERDER_ERR_ARGS', message: `no actor named "${name}"` } }, 404);
    }
    const grep = c.req.query('grep');
    let re: RegExp | null = null;
    try {
      re = grep === undefined || grep === '' ? null : new RegExp(grep);
    } catch (e) {
      return c.json({ error: { code: 'HERDER_ERR_ARGS', message: `grep: ${(e as Error).message}` } }, 400);
    }
    return stream((send) =>
      d.view.follow(name, (s, lines) => {
        const kept = re === null ? lines : lines.filter((l) => re.test(l));
        if (kept.length > 0) send('output', { ts: Date.now() / 1000, stream: s, lines: kept });
      }),
    );
  });
  // The actor's CPU and memory over the run, drawn by the report's own chart code.
  h.get('/charts/:name', async (c) => {
    try {
      const pts = (await dispatch(d.handlers, 'series', { name: c.req.param('name') })) as SeriesPoint[];
      const x0 = pts[0]?.ts ?? 0;
      const x1 = Math.max(x0 + 1, pts.at(-1)?.ts ?? 0);
      const line = (pick: (p: SeriesPoint) => number | null) =>
        pts.flatMap((p) => (pick(p) === null ? [] : [{ x: p.ts, y: pick(p) ?? 0 }]));
      return c.html(
        lineChart(
          line((p) => p.cpu),
          x0,
          x1,
          'CPU %',
          '%',
        ) +
          lineChart(
            line((p) => p.mem),
            x0,
            x1,
            'memory MB',
            '',
          ),
      );
    } catch (e) {
      return failure(c, e);
    }
  });
  const by = (c: Context) => `web ${getConnInfo(c).remote.address ?? 'unknown'}`;
  for (const op of ACTIONS)
    h.post(`/api/actors/:name/${op}`, (c) => call(c, op, { name: c.req.param('name'), by: by(c) }));
  h.post('/api/reload', (c) => call(c, 'reload', { by: by(c) }));
  h.post('/api/shutdown', (c) => call(c, 'shutdown', { by: by(c) }));
  h.notFound((c) =>
    c.json({ error: { code: 'HERDER_ERR_ARGS', message: `no such page: ${c.req.method} ${c.req.path}` } }, 404),
  );
  h.onError((e, c) => failure(c, e));
  return h;
}

/**
 * Server-Sent Events from a subscription (the event bus, an actor's output).
 * A client that stops reading fills its bounded queue and is dropped: it never
 * holds the source or herder's memory.
 */
function stream(subscribe: (send: (event: string, data: unknown) => void) => () => void): Response {
  let stop = () => {};
  const body = new ReadableStream<string>(
    {
      start(ctrl) {
        const send = (text: string) => {
          if ((ctrl.desiredSize ?? 0) <= 0) {
            stop();
            ctrl.error(new Error('the client stopped reading'));
            return;
          }
          ctrl.enqueue(text);
        };
        const unsubscribe = subscribe((event, data) => send(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
        const alive = setInterval(() => send(': alive\n\n'), KEEPALIVE_MS);
        stop = () => {
          unsubscribe();
          clearInterval(alive);
        };
        send(': herder\n\n');
      },
      cancel() {
        stop();
      },
    },
    new CountQueuingStrategy({ highWaterMark: STREAM_QUEUE }),
  );
  return new Response(body.pipeThrough(new TextEncoderStream()), {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' },
  });
}

export function startHttp(d: HttpDeps): Promise<HttpListener> {
  let url = '';
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app(d, () => url).fetch, hostname: d.settings.host, port: d.settings.port },
      (info: AddressInfo) => {
        url = `http://${urlHost(info.address)}:${info.port}`;
        resolve({
          url,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              server.closeAllConnections();
            }),
        });
      },
    ) as Server;
    server.maxConnections = MAX_CONNECTIONS;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.keepAliveTimeout = 5_000;
    server.once('error', (e: NodeJS.ErrnoException) => {
      const where = `${urlHost(d.settings.host)}:${d.settings.port}`;
      const why =
        e.code === 'EADDRINUSE'
          ? `${where} is in use; pick another port in runtime.http.listen or --http (0: any free port)`
          : e.code === 'EADDRNOTAVAIL'
            ? `${d.settings.host} is not an address of this machine; use 127.0.0.1 or one of its own`
            : `${where}: ${e.message}`;
      reject(new HerderError('HERDER_ERR_HTTP', `herder: cannot listen on ${why}`));
    });
  });
}
