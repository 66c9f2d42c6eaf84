/**
 * Runs inside a thread actor's worker (piscina's task function). It imports
 * the actor's module and calls its default export run(ctx). Console output is
 * forwarded to the runtime like a process's stdout and stderr; an error the
 * module throws is reported with its real type before piscina sees it.
 */
import { pathToFileURL } from 'node:url';
import { type Remote, wrap } from 'comlink';
import { tsImport } from 'tsx/esm/api';
import type { HealthReport, HostApi, ThreadTask } from './thread-protocol.ts';
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

export default async function runActor(task: ThreadTask): Promise<void> {
  const host: Remote<HostApi> = wrap<HostApi>(nodeEndpoint(task.host));
  const controller = new AbortController();
  task.control.on('message', (m) => {
    if (m === 'abort') controller.abort(new Error('herder asked this actor to stop'));
  });
  const restoreOut = patchStream(process.stdout, (t) => void host.output('stdout', t));
  const restoreErr = patchStream(process.stderr, (t) => void host.output('stderr', t));
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
    heartbeat: () => void host.heartbeat(),
    reportHealth: (r) => void host.reportHealth(r),
    reportError: (type, message, context = '') => void host.error(type, message, context),
  };
  try {
    const mod = (await tsImport(pathToFileURL(task.modulePath).href, import.meta.url)) as {
      default?: unknown;
      run?: unknown;
    };
    const run = mod.default ?? mod.run;
    if (typeof run !== 'function') {
      throw new TypeError(`${task.modulePath} has no default export run(ctx)`);
    }
    await (run as (c: ActorContext) => unknown)(ctx);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    await host.thrown(err.name, err.message, err.stack ?? '');
    throw e;
  } finally {
    restoreOut();
    restoreErr();
    await host.sync();
    task.control.close();
    task.host.close();
  }
}
