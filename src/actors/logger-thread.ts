/**
 * The thread that owns the database, as the logging actor holds it: calls
 * into it that fail rather than hang when it dies, and a restart of a thread
 * that died, reattached to the run it was writing (at most a few times; then
 * records stay in memory and the run says so).
 */
import { Worker } from 'node:worker_threads';
import { type Remote, wrap } from 'comlink';
import { type ErrorCode, HerderError } from '../runtime/errors.ts';
import type { LoggerService, OpenParams, Result } from './logger-worker.ts';
import { nodeEndpoint, WORKER_EXEC_ARGV } from './worker-support.ts';

const MAX_THREAD_RESTARTS = 3;

class LoggerThreadDied extends Error {}

/** How the current logging thread ended (null while it runs), and the calls waiting on it meanwhile. */
interface ThreadEnd {
  error: LoggerThreadDied | null;
  readonly calls: Set<(e: Error) => void>;
}

export function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw new HerderError(r.code as ErrorCode, r.message);
}

export type LoggerApi = Remote<LoggerService>;

export class LoggerThread {
  private worker!: Worker;
  private api!: LoggerApi;
  private died!: ThreadEnd;
  private restarts = 0;
  private ending = false;
  /** The run being written, once it began: a restarted thread reopens it. */
  private run: { readonly params: OpenParams; readonly runId: number } | null = null;

  constructor(
    private readonly warn: (line: string) => void,
    /** A thread that died was restarted and reattached: recorded as an error of the run. */
    private readonly restarted: (code: number) => void,
  ) {
    this.start();
  }

  attach(params: OpenParams, runId: number): void {
    this.run = { params, runId };
  }

  private start(): void {
    const worker = new Worker(new URL('./logger-entry.mjs', import.meta.url), {
      execArgv: WORKER_EXEC_ARGV,
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.worker = worker;
    this.api = wrap<LoggerService>(nodeEndpoint(worker));
    const died: ThreadEnd = { error: null, calls: new Set() };
    this.died = died;
    worker.on('error', (e) => this.warn(`herder: the logging thread failed: ${e.message}`));
    worker.on('exit', (code) => {
      died.error = new LoggerThreadDied(`the logging thread stopped (exit code ${code})`);
      for (const fail of died.calls) fail(died.error);
      died.calls.clear();
      if (!this.ending && this.worker === worker) void this.restart(code);
    });
  }

  private async restart(code: number): Promise<void> {
    const run = this.run;
    if (run === null || this.restarts >= MAX_THREAD_RESTARTS) {
      this.warn(
        `herder: the logging thread stopped (exit code ${code}) and is not restarted again; records are kept in memory`,
      );
      return;
    }
    this.restarts++;
    this.warn(
      `herder: the logging thread stopped (exit code ${code}); restarting it (${this.restarts} of ${MAX_THREAD_RESTARTS})`,
    );
    this.start();
    try {
      await this.ask((api) => api.resume(run.params, run.runId));
      this.restarted(code);
    } catch (e) {
      this.warn(`herder: the logging thread could not reopen the database: ${(e as Error).message}`);
    }
  }

  /**
   * A call into the thread that fails, rather than hangs, if the thread dies. Not a Promise.race with a promise of
   * the thread's end: that one stays pending while the thread lives, and every race left a reaction on it holding
   * the call's promise and answer, so memory grew with every write for as long as the run lasted.
   */
  call<R>(fn: (api: LoggerApi) => Promise<R>): Promise<R> {
    const died = this.died;
    if (died.error !== null) return Promise.reject(died.error);
    return new Promise<R>((resolve, reject) => {
      died.calls.add(reject);
      fn(this.api)
        .then(resolve, reject)
        .finally(() => died.calls.delete(reject));
    });
  }

  /** A call whose failure in the thread becomes the HerderError it reported. */
  async ask<T>(fn: (api: LoggerApi) => Promise<Result<T>>): Promise<T> {
    return unwrap(await this.call(fn));
  }

  /** The run is ending: the thread's exit is no death to restart from. */
  async end(last?: (api: LoggerApi) => Promise<Result<null>>): Promise<void> {
    this.ending = true;
    try {
      if (last !== undefined) await this.ask(last);
    } finally {
      await this.worker.terminate();
    }
  }
}
