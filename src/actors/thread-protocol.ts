/**
 * The boundary between a thread actor's worker and the runtime (version 1).
 * The task is what piscina hands the worker; HostApi is what the worker may
 * call back over comlink; the control port carries "abort".
 */
import type { MessagePort } from 'node:worker_threads';

export const THREAD_PROTOCOL = 1;

export interface ThreadTask {
  readonly protocol: typeof THREAD_PROTOCOL;
  readonly name: string;
  readonly modulePath: string;
  readonly cwd: string;
  readonly run: number;
  /** How often to report usage (ms); 0 = never. */
  readonly sampleMs: number;
  /** comlink endpoint for HostApi. */
  readonly host: MessagePort;
  /** Receives the string "abort" when herder asks the actor to stop. */
  readonly control: MessagePort;
}

export interface HealthReport {
  readonly score?: number;
  readonly detail?: string;
  readonly progress?: number;
}

export interface HostApi {
  output(stream: 'stdout' | 'stderr', text: string): void;
  heartbeat(): void;
  reportHealth(report: HealthReport): void;
  /** An error the job reports and survives (a process_errors row). */
  error(errorType: string, message: string, context: string): void;
  /** The error that ended run(ctx), with its real type. */
  thrown(errorType: string, message: string, stack: string): void;
  /** The worker's own figures, every sample interval. */
  usage(u: { heapUsedMb: number; heapTotalMb: number; elu: number }): void;
  /** A round trip: once it resolves, every earlier call has been received. */
  sync(): void;
}
