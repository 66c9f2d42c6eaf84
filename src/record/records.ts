/** What the runtime sends the logging actor: typed records, batched. */
export type Stream = 'stdout' | 'stderr';

export interface EventRecord {
  readonly t: 'event';
  readonly ts: number;
  readonly process: string;
  readonly kind: string;
  readonly detail: string;
  /** JSON of the event's fields. */
  readonly data: string | null;
}

export interface ErrorRecord {
  readonly t: 'error';
  readonly ts: number;
  readonly process: string;
  readonly errorType: string;
  readonly message: string;
  readonly context: string;
}

/**
 * Lines read in one go from one stream share a timestamp. They travel joined
 * by "\n" (a line never contains one): one string crosses to the logging
 * thread as a plain copy, where thousands of small ones would be cloned one by one.
 */
export interface OutputRecord {
  readonly t: 'output';
  readonly ts: number;
  readonly process: string;
  readonly pid: number | null;
  readonly stream: Stream;
  readonly text: string;
  readonly count: number;
}

export interface ProcessStateRow {
  readonly process: string;
  readonly kind: 'process' | 'thread' | 'supervisor';
  readonly parent: string;
  readonly state: string;
  readonly pid: number | null;
  readonly pidStart: string | null;
  readonly restarts: number;
  readonly runs: number;
  readonly successes: number;
  readonly failures: number;
  readonly lastExitCode: number | null;
  readonly lastExitSignal: string | null;
  readonly lastStart: number | null;
  readonly lastExit: number | null;
  readonly nextRunAt: number | null;
  readonly detail: string;
  /** Matches per error pattern this run, as JSON; null when the actor has none. */
  readonly errorPatterns: string | null;
}

export interface StateRecord {
  readonly t: 'state';
  readonly row: ProcessStateRow;
}

/** One resource sample of an actor, or of the machine (process "_system"); absent figures are null. */
export interface UsageRow {
  readonly process: string;
  readonly pid: number | null;
  readonly cpuPercent: number | null;
  readonly rssMb: number | null;
  readonly numThreads: number | null;
  readonly numFds: number | null;
  readonly health: number | null;
  readonly heapUsedMb: number | null;
  /** Thread actors: V8's heap size in their worker (they have no RSS of their own). */
  readonly heapTotalMb: number | null;
  readonly elu: number | null;
  readonly memPercent: number | null;
  readonly availableMb: number | null;
  readonly load1: number | null;
  readonly diskFreeMb: number | null;
}

export interface UsageRecord {
  readonly t: 'usage';
  readonly ts: number;
  readonly row: UsageRow;
}

/** An actor's config as herder understood it, as JSON (at the start of a run, and again when a reload changes it). */
export interface ConfigRecord {
  readonly t: 'config';
  readonly process: string;
  readonly config: string;
}

/** The run's HTTP listener is up at this address. */
export interface HttpRecord {
  readonly t: 'http';
  readonly url: string;
}

export type LogRecord =
  | EventRecord
  | ErrorRecord
  | OutputRecord
  | StateRecord
  | UsageRecord
  | ConfigRecord
  | HttpRecord;

/** Seconds since the epoch, as stored. */
export const toTs = (wallMs: number): number => wallMs / 1000;
