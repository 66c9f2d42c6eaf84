/**
 * The shape of actors.yaml, as zod schemas. Only shape and ranges live here;
 * cross-field rules and file checks are in load.ts, where each problem is
 * turned into one line naming the actor, the key and the fix.
 */
import { z } from 'zod';

const seconds = (what: string) =>
  z
    .number({ error: `expected a number of seconds for ${what}` })
    .finite()
    .nonnegative();

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
  restart_delay: seconds('restart_delay').default(1),
  max_restart_delay: seconds('max_restart_delay').default(300),
  reset_after: seconds('reset_after').default(60),
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
  loop_interval: seconds('loop_interval').optional(),
  run_timeout: z.number().positive().optional(),
  shutdown_grace: seconds('shutdown_grace').optional(),
  ...childKeys,
  health_threshold: z.number().min(0).max(1).optional(),
  health_grace: z.number().int().positive().optional(),
  limit_grace: z.number().int().positive().optional(),
  stall_timeout: z.number().positive().optional(),
  resource_limits: resourceLimitsSchema.optional(),
  error_patterns: z.array(errorPatternSchema).optional(),
});

export type ActorConfig = z.infer<typeof actorSchema>;

export interface SupervisorConfig {
  supervisor: string;
  strategy: 'one_for_one' | 'one_for_all' | 'rest_for_one';
  intensity?: number | undefined;
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
  period_seconds: z.number().positive().optional(),
  ...childKeys,
  actors: z.array(z.unknown()).min(1, { message: 'a supervisor needs at least one actor' }),
});

export const rootSupervisorSchema = z.strictObject({
  strategy: z.enum(['one_for_one', 'one_for_all', 'rest_for_one']).default('one_for_one'),
  intensity: z.number().int().nonnegative().default(0),
  period_seconds: z.number().positive().default(60),
});

export const runtimeSchema = z.strictObject({
  max_runtime_minutes: z.number().nonnegative().default(360),
  db: z.string().min(1).default('herder.db'),
  shutdown_grace_seconds: seconds('shutdown_grace_seconds').default(30),
  output_retention: z.number().int().positive().default(1_000_000),
  output_buffer_mb: z.number().positive().default(128),
  restart_jitter: z.number().min(0).max(1).default(0.1),
  /** Resource sampling period; 0 turns sampling off. */
  sample_interval_seconds: z.number().nonnegative().default(5),
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
      rate_limit_minutes: z.number().nonnegative().default(5),
    })
    .optional(),
  leak: z
    .strictObject({
      window_minutes: z.number().positive().default(30),
      min_samples: z.number().int().min(3).default(20),
    })
    .default({ window_minutes: 30, min_samples: 20 }),
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
