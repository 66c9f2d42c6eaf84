/**
 * The shape of actors.yaml, as zod schemas. Only shape and ranges live here;
 * cross-field rules and file checks are in build.ts and children.ts, and
 * problems.ts turns each problem into one line naming the actor, the key and
 * the fix.
 */
import { z } from 'zod';
import { type DurationUnit, parseDuration } from '../runtime/duration.ts';

/**
 * A duration key: a number in the key's own unit (`unit`, as the key's name or the README says) or a
 * string with units ("500ms", "90s", "1h30m"), read into MILLISECONDS: every duration field of a parsed
 * config is in ms, whatever its key is called. `positive`: 0 is refused. Problems are issues that
 * issues.ts words: a value that is not a duration at all is a custom issue carrying its unit.
 */
export const duration = (unit: DurationUnit, bound: 'nonnegative' | 'positive' = 'nonnegative') =>
  z.unknown().transform((value, ctx): number => {
    const ms = typeof value === 'number' || typeof value === 'string' ? parseDuration(value, unit) : null;
    if (typeof value === 'number' && value < 0) {
      ctx.issues.push({ code: 'too_small', origin: 'number', minimum: 0, inclusive: true, input: value, message: '' });
      return z.NEVER;
    }
    if (ms === null) {
      ctx.issues.push({ code: 'custom', input: value, message: 'not a duration', params: { durationUnit: unit } });
      return z.NEVER;
    }
    if (bound === 'positive' && ms === 0) {
      ctx.issues.push({ code: 'too_small', origin: 'number', minimum: 0, inclusive: false, input: value, message: '' });
      return z.NEVER;
    }
    return ms;
  });

const name = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, {
    message: 'use letters, digits, "_", "." or "-", starting with a letter or digit',
  });

/** Text handed to the operating system: no NUL bytes (execve cannot take them). */
const osText = z.string().refine((s) => !s.includes('\0'), { message: 'contains a NUL byte' });

const envValue = z.union([osText, z.number(), z.boolean()]).transform(String);

const percent = (d: number) => z.number().min(0).max(100).default(d);

export const errorPatternSchema = z.strictObject({
  pattern: z.string().min(1),
  name: z.string().min(1).optional(),
  action: z.enum(['restart', 'backoff', 'alert', 'ignore']).default('alert'),
  stream: z.enum(['stderr', 'stdout', 'both']).default('stderr'),
});

export const resourceLimitsSchema = z.strictObject({
  max_memory_mb: z.number().positive().optional(),
  max_cpu_percent: z.number().positive().optional(),
  max_fds: z.number().int().positive().optional(),
  action: z.enum(['restart', 'alert', 'pause']).default('restart'),
  /** Process actors: also a kernel limit (prlimit RLIMIT_DATA per process) on max_memory_mb. */
  hard: z.boolean().default(false),
});

/** Keys shared by actors and nested supervisors (about how their parent treats them). */
const childKeys = {
  priority: z.number().int().default(10),
  restart: z.enum(['permanent', 'transient', 'temporary']).optional(),
  max_restarts: z.number().int().nonnegative().default(10),
  restart_delay: duration('s').prefault(1),
  max_restart_delay: duration('s').prefault(300),
  reset_after: duration('s').prefault(60),
};

export const actorSchema = z.strictObject({
  name,
  script: osText.min(1).optional(),
  args: z.array(osText).optional(),
  interpreter: z.string().min(1).optional(),
  command: z.array(osText.min(1)).min(1).optional(),
  module: z.string().min(1).optional(),
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), envValue).optional(),
  requires_loop: z.boolean().default(false),
  /** A loop job's schedule carries over from the last run on the same database. */
  resume: z.boolean().default(true),
  loop_interval: duration('s').optional(),
  run_timeout: duration('s', 'positive').optional(),
  shutdown_grace: duration('s').optional(),
  ...childKeys,
  health_threshold: z.number().min(0).max(1).optional(),
  health_grace: z.number().int().positive().optional(),
  limit_grace: z.number().int().positive().optional(),
  stall_timeout: duration('s', 'positive').optional(),
  resource_limits: resourceLimitsSchema.optional(),
  error_patterns: z.array(errorPatternSchema).optional(),
});

export type ActorConfig = z.infer<typeof actorSchema>;

export interface SupervisorConfig {
  supervisor: string;
  strategy: 'one_for_one' | 'one_for_all' | 'rest_for_one';
  intensity?: number | undefined;
  /** Milliseconds, like every duration once parsed. */
  period_seconds?: number | undefined;
  priority: number;
  restart?: 'permanent' | 'transient' | 'temporary' | undefined;
  max_restarts: number;
  restart_delay: number;
  max_restart_delay: number;
  reset_after: number;
  actors: unknown[];
}

export const supervisorSchema = z.strictObject({
  supervisor: name,
  strategy: z.enum(['one_for_one', 'one_for_all', 'rest_for_one']).default('one_for_one'),
  intensity: z.number().int().nonnegative().optional(),
  period_seconds: duration('s', 'positive').optional(),
  ...childKeys,
  actors: z.array(z.unknown()).min(1, { message: 'a supervisor needs at least one actor' }),
});

export const rootSupervisorSchema = z.strictObject({
  strategy: z.enum(['one_for_one', 'one_for_all', 'rest_for_one']).default('one_for_one'),
  intensity: z.number().int().nonnegative().default(0),
  period_seconds: duration('s', 'positive').prefault(60),
});

export const runtimeSchema = z.strictObject({
  /** Both optional, so that setting both can be refused; neither = 360 minutes (build.ts). 0 = no limit. */
  max_runtime_minutes: duration('m').optional(),
  max_runtime: duration('m').optional(),
  db: z.string().min(1).default('herder.db'),
  shutdown_grace_seconds: duration('s').prefault(30),
  output_retention: z.number().int().positive().default(1_000_000),
  output_buffer_mb: z.number().positive().default(128),
  restart_jitter: z.number().min(0).max(1).default(0.1),
  /** Resource sampling period; 0 turns sampling off. */
  sample_interval_seconds: duration('s').prefault(5),
  protection: z
    .strictObject({
      memory: z
        .strictObject({ warn: percent(85), critical: percent(95), resume: percent(80) })
        .default({ warn: 85, critical: 95, resume: 80 }),
      cpu: z
        .strictObject({
          warn: percent(90),
          critical: percent(98),
          resume: percent(75),
          sustain_samples: z.number().int().positive().default(6),
        })
        .default({ warn: 90, critical: 98, resume: 75, sustain_samples: 6 }),
      enabled: z.boolean().default(true),
    })
    .default({
      memory: { warn: 85, critical: 95, resume: 80 },
      cpu: { warn: 90, critical: 98, resume: 75, sustain_samples: 6 },
      enabled: true,
    }),
  alerts: z
    .strictObject({
      command: z.array(z.string().min(1)).min(1).optional(),
      webhook: z.url({ protocol: /^https?$/ }).optional(),
      rate_limit_minutes: duration('m').prefault(5),
    })
    .optional(),
  /** The web dashboard and /metrics: off unless listen is given (here or with run --http). */
  http: z
    .strictObject({
      listen: z.string().min(1),
      token_file: z.string().min(1).optional(),
    })
    .optional(),
  leak: z
    .strictObject({
      window_minutes: duration('m', 'positive').prefault(30),
      min_samples: z.number().int().min(3).default(20),
    })
    .prefault({}),
});

export const fileSchema = z.strictObject({
  runtime: runtimeSchema.default(runtimeSchema.parse({})),
  supervisor: rootSupervisorSchema.default(rootSupervisorSchema.parse({})),
  actors: z.array(z.unknown()).min(1, { message: 'list at least one actor' }),
});

/** Every key each level accepts, for "did you mean" suggestions. */
export const knownKeys = {
  file: Object.keys(fileSchema.shape),
  runtime: Object.keys(runtimeSchema.shape),
  supervisor: Object.keys(rootSupervisorSchema.shape),
  actor: Object.keys(actorSchema.shape),
  nested: Object.keys(supervisorSchema.shape),
  resource_limits: Object.keys(resourceLimitsSchema.shape),
  error_patterns: Object.keys(errorPatternSchema.shape),
} as const;
