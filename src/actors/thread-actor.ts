/**
 * A thread actor: the module's run(ctx) in a worker thread from a piscina
 * pool of one, owned by this actor alone, so a crash or a heap limit hits
 * only it, and piscina keeps a fresh worker warm for the next run. Stopping
 * aborts ctx.signal; after the grace, the worker is terminated.
 */

import { createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { expose } from 'comlink';
import type { Piscina } from 'piscina';
import type { Stream } from '../record/records.ts';
import type { Clock, TimerHandle } from '../runtime/clock.ts';
import { assertNever } from '../runtime/errors.ts';
import type { ThreadLaunch } from '../runtime/spec.ts';
import type { Exit, StopMode } from '../runtime/supervision.ts';
import type { HealthMessage } from './health-channel.ts';
import { type ChildEvents, planStop, type RunningChild } from './host.ts';
import { LineSplitter } from './output.ts';
import type { ThreadUsage } from './registry.ts';
import { type HostApi, parseNote, THREAD_PROTOCOL, type ThreadTask, type WorkerNote } from './thread-protocol.ts';
import { nodeEndpoint, WORKER_EXEC_ARGV } from './worker-support.ts';

const WORKER_URL = new URL('./thread-entry.mjs', import.meta.url).href;

/** One pool per thread actor, made on first start, closed when the run ends. */
export class ThreadPools {
  private readonly pools = new Map<string, Piscina>();

  get(name: string, launch: ThreadLaunch): Piscina {
    let pool = this.pools.get(name);
    if (pool === undefined) {
      // Loaded on first use: a run without thread actors never carries piscina.
      const { Piscina: Pool } = createRequire(import.meta.url)('piscina') as typeof import('piscina');
      pool = new Pool({
        filename: WORKER_URL,
        minThreads: 1,
        maxThreads: 1,
        idleTimeout: Number.MAX_SAFE_INTEGER,
        atomics: 'disabled',
        execArgv: WORKER_EXEC_ARGV,
        env: { ...process.env, ...launch.env, HERDER_ACTOR: name },
        ...(launch.maxHeapMb !== null ? { resourceLimits: { maxOldGenerationSizeMb: launch.maxHeapMb } } : {}),
      });
      this.pools.set(name, pool);
    }
    return pool;
  }

  async closeAll(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.destroy()));
  }
}

export interface ThreadDeps {
  readonly clock: Clock;
  readonly pools: ThreadPools;
  readonly output: (pid: number | null, stream: Stream, lines: string[]) => void;
  readonly reportError: (errorType: string, message: string, context: string) => void;
  readonly usage: (u: ThreadUsage) => void;
  readonly health: (m: HealthMessage | null, raw: string) => void;
  readonly sampleMs: number;
}

function unitOrNull(x: unknown, make: (v: number) => HealthMessage): HealthMessage | null {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1 ? make(x) : null;
}

export function startThread(
  name: string,
  launch: ThreadLaunch,
  run: number,
  deps: ThreadDeps,
  events: ChildEvents,
): RunningChild {
  const { clock } = deps;
  const pool = deps.pools.get(name, launch);
  const hostChannel = new MessageChannel();
  const control = new MessageChannel();
  const hardStop = new AbortController();
  const timers: TimerHandle[] = [];
  let thrown: { errorType: string; message: string; stack: string } | null = null;
  let done = false;

  const splitters: Record<Stream, LineSplitter> = {
    stdout: new LineSplitter((lines) => deps.output(null, 'stdout', lines)),
    stderr: new LineSplitter((lines) => deps.output(null, 'stderr', lines)),
  };
  const onNote = (n: WorkerNote): void => {
    switch (n.note) {
      case 'output':
        return splitters[n.stream].pushText(n.text);
      case 'heartbeat':
        return deps.health({ type: 'heartbeat' }, '');
      case 'health': {
        const r = n.report;
        const raw = JSON.stringify(r);
        if (r.progress !== undefined)
          deps.health(
            unitOrNull(r.progress, (value) => ({ type: 'progress', value })),
            raw,
          );
        if (r.score !== undefined) {
          const detail = typeof r.detail === 'string' ? r.detail.slice(0, 1000) : '';
          deps.health(
            unitOrNull(r.score, (score) => ({ type: 'health', score, detail })),
            raw,
          );
        }
        return;
      }
      case 'error':
        return deps.reportError(n.errorType, n.message, n.context);
      case 'usage':
        return deps.usage({ heapUsedMb: n.heapUsedMb, heapTotalMb: n.heapTotalMb, elu: n.elu });
      default:
        return assertNever(n, 'thread note');
    }
  };
  const api: HostApi = {
    thrown: (errorType, message, stack) => {
      thrown = { errorType, message, stack };
    },
    sync: () => {},
  };
  // Both listen on the same port, in the order messages came: comlink's ignores notes, this one anything else.
  hostChannel.port1.on('message', (m: unknown) => {
    const n = parseNote(m);
    if (n !== null) onNote(n);
  });
  expose(api, nodeEndpoint(hostChannel.port1));

  const task: ThreadTask = {
    protocol: THREAD_PROTOCOL,
    name,
    modulePath: launch.module,
    cwd: launch.cwd,
    run,
    sampleMs: deps.sampleMs,
    host: hostChannel.port2,
    control: control.port2,
  };

  let stopping = false;
  /** Whether herder has told the run to stop (aborted ctx.signal, or terminated the worker). */
  let signalled = false;
  const finish = (exit: Exit) => {
    if (done) return;
    done = true;
    for (const t of timers.splice(0)) clock.clearTimeout(t);
    splitters.stdout.end();
    splitters.stderr.end();
    hostChannel.port1.close();
    control.port1.close();
    // Asked to finish (a loop job in a shutdown) and failed before any abort came: its own failure.
    events.exited(exit.kind === 'crash' && stopping && !signalled ? { ...exit, beforeStopSignal: true } : exit);
  };

  const failure = (err: unknown): Exit => {
    const e = err as { name?: string; message?: string; code?: string; stack?: string };
    if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return { kind: 'oom', message: 'the worker reached its heap limit', context: e.message ?? '' };
    }
    if (thrown !== null) {
      return { kind: 'crash', code: null, signal: null, ...thrown, context: thrown.stack };
    }
    if (hardStop.signal.aborted) {
      return {
        kind: 'crash',
        code: null,
        signal: 'terminated',
        errorType: 'terminated',
        message: 'the worker was terminated by herder',
        context: '',
      };
    }
    return {
      kind: 'crash',
      code: null,
      signal: null,
      errorType: e.name ?? 'Error',
      message: e.message ?? String(err),
      context: e.stack ?? '',
    };
  };

  events.started(null, null);
  pool.run(task, { transferList: [hostChannel.port2, control.port2] as never, signal: hardStop.signal }).then(
    () => finish({ kind: 'normal' }),
    (err: unknown) => finish(failure(err)),
  );

  return {
    stop(mode: StopMode, graceMs: number) {
      if (done || stopping) return;
      stopping = true;
      planStop(
        clock,
        timers,
        mode,
        graceMs,
        () => {
          signalled = true;
          if (!done) control.port1.postMessage('abort');
        },
        () => hardStop.abort(),
      );
    },
    kill() {
      signalled = true;
      hardStop.abort();
    },
  };
}
