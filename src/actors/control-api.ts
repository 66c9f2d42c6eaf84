/**
 * The control API: every method a live run answers, its parameters (validated
 * with zod where a request arrives) and its result. The socket server, its
 * handlers and the CLI's client all take their types from here, so a method,
 * a parameter or a result cannot drift between the two ends (protocol
 * `herder.control/1`, newline-delimited JSON-RPC 2.0).
 *
 * An error carries herder's stable code in `error.data.code`: the client turns
 * it back into the same HerderError, so a user's mistake stays one (exit 2), a
 * refused command stays one (exit 1) and a bug in a handler reads as a bug.
 */
import { z } from 'zod';
import type { ActorDetail, EventRow, LogLine, StatusDoc } from '../record/queries.ts';
import type { RunReport, SeriesPoint } from '../record/report-data.ts';

export const CONTROL_PROTOCOL = 'herder.control/1';

const compiles = (re: string): boolean => {
  try {
    new RegExp(re);
    return true;
  } catch {
    return false;
  }
};

/** Who sent a command, as the caller says: recorded with the command's event. */
const by = z.string().max(200).default('unknown');
const actor = z.object({ name: z.string().min(1).max(200), by });

export const controlParams = {
  ping: z.object({}),
  status: z.object({}),
  /** One actor in detail (`status NAME`). */
  actor: z.object({ name: z.string().min(1).max(200) }),
  /** The newest events; with `unwritten`, those the run holds but has not written yet follow (id null). */
  events: z.object({
    limit: z.number().int().min(1).max(1_000_000).default(100),
    unwritten: z.boolean().default(false),
  }),
  /** Output lines, newest `limit` or (with afterId) the next ones after a row id, to follow. */
  logs: z.object({
    runId: z.number().int().positive().optional(),
    process: z.string().min(1).max(200).optional(),
    stream: z.enum(['stdout', 'stderr']).optional(),
    sinceTs: z.number().optional(),
    grep: z.string().max(2_000).refine(compiles, { message: 'not a valid regular expression' }).optional(),
    afterId: z.number().int().nonnegative().optional(),
    limit: z.number().int().min(1).max(10_000).default(100),
    unwritten: z.boolean().default(false),
  }),
  report: z.object({}),
  /** One actor's CPU and memory over the run so far (its charts), from the record. */
  series: z.object({ name: z.string().min(1).max(200) }),
  start: actor,
  stop: actor,
  restart: actor,
  pause: actor,
  resume: actor,
  /** Re-reads actors.yaml: starts what was added, stops what was removed, restarts what changed. */
  reload: z.object({ by }),
  /** The whole run, gracefully, as at its deadline. */
  shutdown: z.object({ by }),
} as const;

export type ControlMethod = keyof typeof controlParams;

/** What a command on one actor answers. */
export interface CommandResult {
  readonly ok: true;
  readonly detail: string;
}

export interface ControlResults {
  ping: { readonly protocol: string; readonly pid: number };
  status: StatusDoc;
  actor: ActorDetail;
  events: EventRow[];
  logs: LogLine[];
  report: RunReport;
  series: SeriesPoint[];
  start: CommandResult;
  stop: CommandResult;
  restart: CommandResult;
  pause: CommandResult;
  resume: CommandResult;
  /** An invalid file is refused with check's lines; the run goes on unchanged. */
  reload: CommandResult | { readonly ok: false; readonly lines: readonly string[] };
  shutdown: CommandResult;
}

/** What a caller passes (defaults may be left out). */
export type ControlParams<M extends ControlMethod> = z.input<(typeof controlParams)[M]>;

/** What a handler receives: validated, defaults filled in. */
export type ValidParams<M extends ControlMethod> = z.output<(typeof controlParams)[M]>;

export type ControlHandlers = {
  readonly [M in ControlMethod]: (params: ValidParams<M>) => Promise<ControlResults[M]>;
};

export const isControlMethod = (m: string): m is ControlMethod => Object.hasOwn(controlParams, m);
