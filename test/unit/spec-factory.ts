/**
 * Small builders for the frozen specs the supervision logic works from, with
 * defaults that keep scenarios deterministic: no jitter, no max_restarts and
 * no intensity limit unless a test asks for one.
 */
import type { BackoffSpec, ChildSpec, SupervisorSpec, WorkerSpec } from '../../src/runtime/spec.ts';

export const DEFAULT_BACKOFF: BackoffSpec = { initialMs: 1_000, maxMs: 8_000, jitter: 0 };

type WorkerOverrides = Partial<Omit<WorkerSpec, 'kind' | 'name'>>;
type SupervisorOverrides = Partial<Omit<SupervisorSpec, 'kind' | 'name' | 'children'>>;

/** A continuous (non-loop) process worker. */
export function worker(name: string, overrides: WorkerOverrides = {}): WorkerSpec {
  return {
    kind: 'worker',
    name,
    priority: 10,
    restart: 'permanent',
    maxRestarts: 0,
    backoff: DEFAULT_BACKOFF,
    resetAfterMs: 60_000,
    shutdownGraceMs: 5_000,
    launch: { type: 'process', argv: ['python3', `${name}.py`], cwd: '/srv/jobs', env: {} },
    loop: null,
    runTimeoutMs: null,
    health: {
      healthThreshold: null,
      healthGrace: 3,
      stallTimeoutMs: null,
      resourceLimits: null,
      limitGrace: 3,
      errorPatterns: [],
    },
    ...overrides,
  };
}

/** A loop job: a normal exit means "done, run again after intervalMs". */
export function loopJob(name: string, intervalMs: number, overrides: WorkerOverrides = {}): WorkerSpec {
  return worker(name, { loop: { intervalMs, resume: true }, ...overrides });
}

export function supervisor(
  name: string,
  children: readonly ChildSpec[],
  overrides: SupervisorOverrides = {},
): SupervisorSpec {
  return {
    kind: 'supervisor',
    name,
    priority: 10,
    restart: 'permanent',
    maxRestarts: 0,
    backoff: DEFAULT_BACKOFF,
    resetAfterMs: 60_000,
    shutdownGraceMs: 5_000,
    strategy: 'one_for_one',
    intensity: 0,
    periodMs: 60_000,
    children,
    ...overrides,
  };
}
