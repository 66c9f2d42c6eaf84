/**
 * Runs inside a thread actor's worker (piscina's task function). It imports
 * the actor's module and calls its default export run(ctx). Console output is
 * forwarded to the runtime like a process's stdout and stderr; an error the
 * module throws is reported with its real type before piscina sees it.
 */
import { pathToFileURL } from 'node:url';
import { type Remote, wrap } from 'comlink';
import type { HealthReport, HostApi, ThreadTask, WorkerNote } from './thread-protocol.ts';
import { nodeEndpoint } from './worker-support.ts';

/** What a thread actor's run(ctx) receives. */
export interface ActorContext {
  readonly name: string;
  /** 1 for the first run, then counts up (loop runs and restarts). */
  readonly run: number;
  readonly cwd: string;
  /** Aborted when herder asks the actor to stop; finish promptly. */
  readonly signal: AbortSignal;
  readonly log: {
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
  };
  /** A sign of life (stall_timeout); cheap enough for any loop: at most four a second reach herder. */
  heartbeat(): void;
  reportHealth(report: HealthReport): void;
  /** Records an error (a process_errors row) without failing the run. */
  reportError(errorType: string, message: string, context?: string): void;
}

function patchStream(stream: NodeJS.WriteStream, forward: (text: string) => void): () => void {
  const original = stream.write;
  stream.write = ((chunk: unknown, encoding?: unknown, cb?: unknown) => {
    forward(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as typeof stream.write;
  return () => {
    stream.write = original;
  };
}

type ActorModule = { default?: unknown; run?: unknown };

/**
 * Each worker imports its actor's module once; later runs (loop runs, restarts
 * after a thrown error) reuse it, as the warm worker itself is reused. Keep
 * per-run state inside run(ctx). A worker that died is replaced by a fresh one.
 */
const loaded = new Map<string, Promise<ActorModule>>();

function loadModule(modulePath: string): Promise<ActorModule> {
  let mod = loaded.get(modulePath);
  if (mod === undefined) {
    const url = pathToFileURL(modulePath).href;
    // TypeScript goes through tsx's loader; plain JavaScript needs none.
    mod = (
      /\.m?ts$/.test(modulePath) ? import('tsx/esm/api').then((tsx) => tsx.tsImport(url, import.meta.url)) : import(url)
    ) as Promise<ActorModule>;
    loaded.set(modulePath, mod);
    mod.catch(() => loaded.delete(modulePath)); // a module that failed to load is tried again next run
  }
  return mod;
}

/**
 * The module's run(ctx). A .ts file outside any package with "type": "module"
 * is loaded as CommonJS, and its ES default export then sits one level down
 * (`module.exports.default`), where the author put it.
 */
function actorFunction(mod: ActorModule): ActorModule['default'] | undefined {
  const candidates: unknown[] = [mod.default, mod.run];
  const cjs = mod.default as unknown as { default?: unknown; run?: unknown } | undefined;
  if (cjs !== null && typeof cjs === 'object') candidates.push(cjs.default, cjs.run);
  return candidates.find((c) => typeof c === 'function') as ActorModule['default'] | undefined;
}

/**
 * How often at most a heartbeat goes to herder. A heartbeat is a sign of life
 * and herder keeps only the latest, so a job may call ctx.heartbeat() in a
 * loop: the first goes at once, and any others within this window become one
 * more at its end - late by a quarter of a second at most, which no
 * stall_timeout notices.
 */
const HEARTBEAT_WINDOW_MS = 250;

function heartbeats(send: () => void): { beat(): void; stop(): void } {
  let window: NodeJS.Timeout | null = null;
  let owed = false;
  const open = () => {
    send();
    window = setTimeout(() => {
      window = null;
      if (owed) {
        owed = false;
        open();
      }
    }, HEARTBEAT_WINDOW_MS);
    window.unref();
  };
  return {
    beat: () => {
      if (window === null) open();
      else owed = true;
    },
    stop: () => {
      if (window !== null) clearTimeout(window);
      window = null;
      owed = false;
    },
  };
}

/** Heap and event-loop utilisation of this worker, sent every `ms` while a run lasts. */
function reportUsage(note: (n: WorkerNote) => void, ms: number): NodeJS.Timeout | null {
  if (ms <= 0) return null;
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const elu = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    const heap = process.memoryUsage();
    note({ note: 'usage', heapUsedMb: heap.heapUsed / 1048576, heapTotalMb: heap.heapTotal / 1048576, elu });
  }, ms);
  timer.unref();
  return timer;
}

export default async function runActor(task: ThreadTask): Promise<void> {
  const note = (n: WorkerNote) => {
    try {
      task.host.postMessage(n);
    } catch {
      // a report holding something that cannot be cloned (a function): dropped, as a failed call was
    }
  };
  const host: Remote<HostApi> = wrap<HostApi>(nodeEndpoint(task.host));
  const controller = new AbortController();
  task.control.on('message', (m) => {
    if (m === 'abort') controller.abort(new Error('herder asked this actor to stop'));
  });
  const reporter = reportUsage(note, task.sampleMs);
  const beats = heartbeats(() => note({ note: 'heartbeat' }));
  const restoreOut = patchStream(process.stdout, (text) => note({ note: 'output', stream: 'stdout', text }));
  const restoreErr = patchStream(process.stderr, (text) => note({ note: 'output', stream: 'stderr', text }));
  const ctx: ActorContext = {
    name: task.name,
    run: task.run,
    cwd: task.cwd,
    signal: controller.signal,
    log: {
      info: (...a) => console.log(...a),
      warn: (...a) => console.warn(...a),
      error: (...a) => console.error(...a),
    },
    heartbeat: beats.beat,
    reportHealth: (report) => note({ note: 'health', report }),
    reportError: (errorType, message, context = '') =>
      note({ note: 'error', errorType: String(errorType), message: String(message), context: String(context) }),
  };
  try {
    const mod = await loadModule(task.modulePath);
    const run = actorFunction(mod);
    if (typeof run !== 'function') {
      throw new TypeError(`${task.modulePath} has no default export run(ctx)`);
    }
    await (run as (c: ActorContext) => unknown)(ctx);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    await host.thrown(err.name, err.message, err.stack ?? '');
    throw e;
  } finally {
    if (reporter !== null) clearInterval(reporter);
    beats.stop();
    restoreOut();
    restoreErr();
    await host.sync();
    task.control.close();
    task.host.close();
  }
}
