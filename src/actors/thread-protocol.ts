/**
 * The boundary between a thread actor's worker and the runtime (version 2).
 * The task is what piscina hands the worker; the control port carries "abort".
 * On the host port the worker posts notes - output, heartbeats, health,
 * errors, usage - one message each, with no answer: as comlink calls each
 * cost a round trip, and the promise waiting for it lived long enough to be
 * promoted, so a chatty or beating worker's heap crept up between full
 * collections. HostApi is the rest, over comlink on the same port, so that a
 * call comes after every note posted before it.
 */
import type { MessagePort } from 'node:worker_threads';

export const THREAD_PROTOCOL = 2;

export interface ThreadTask {
  readonly protocol: typeof THREAD_PROTOCOL;
  readonly name: string;
  readonly modulePath: string;
  readonly cwd: string;
  readonly run: number;
  /** How often to report usage (ms); 0 = never. */
  readonly sampleMs: number;
  /** Notes, and comlink for HostApi. */
  readonly host: MessagePort;
  /** Receives the string "abort" when herder asks the actor to stop. */
  readonly control: MessagePort;
}

export interface HealthReport {
  readonly score?: number;
  readonly detail?: string;
  readonly progress?: number;
}

export type WorkerNote =
  | { readonly note: 'output'; readonly stream: 'stdout' | 'stderr'; readonly text: string }
  | { readonly note: 'heartbeat' }
  | { readonly note: 'health'; readonly report: HealthReport }
  /** An error the job reports and survives (a process_errors row). */
  | { readonly note: 'error'; readonly errorType: string; readonly message: string; readonly context: string }
  /** The worker's own figures, every sample interval. */
  | { readonly note: 'usage'; readonly heapUsedMb: number; readonly heapTotalMb: number; readonly elu: number };

export interface HostApi {
  /** The error that ended run(ctx), with its real type. */
  thrown(errorType: string, message: string, stack: string): void;
  /** A round trip: once it resolves, every earlier note and call has been received. */
  sync(): void;
}

const isString = (x: unknown): x is string => typeof x === 'string';
const isFigure = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * A message on the host port as a note; null for anything else (comlink's own
 * messages, or a note that does not hold what its kind needs).
 */
export function parseNote(m: unknown): WorkerNote | null {
  if (typeof m !== 'object' || m === null || !('note' in m)) return null;
  const o = m as Record<string, unknown>;
  switch (o.note) {
    case 'output':
      return (o.stream === 'stdout' || o.stream === 'stderr') && isString(o.text)
        ? { note: 'output', stream: o.stream, text: o.text }
        : null;
    case 'heartbeat':
      return { note: 'heartbeat' };
    case 'health':
      return typeof o.report === 'object' && o.report !== null
        ? { note: 'health', report: o.report as HealthReport }
        : null;
    case 'error':
      return isString(o.errorType) && isString(o.message) && isString(o.context)
        ? { note: 'error', errorType: o.errorType, message: o.message, context: o.context }
        : null;
    case 'usage':
      return isFigure(o.heapUsedMb) && isFigure(o.heapTotalMb) && isFigure(o.elu)
        ? { note: 'usage', heapUsedMb: o.heapUsedMb, heapTotalMb: o.heapTotalMb, elu: o.elu }
        : null;
    default:
      return null;
  }
}
