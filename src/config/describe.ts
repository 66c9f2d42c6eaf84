/**
 * An actor's spec told back in actors.yaml's own words, with every default
 * filled in and every duration in human form: what `status NAME` shows as
 * "the config as herder understood it", and what the record keeps of it.
 *
 * Environment values are not kept, only their names: they are where jobs'
 * tokens and passwords live.
 */
import { formatMs } from '../runtime/duration.ts';
import type { WorkerSpec } from '../runtime/spec.ts';

export type ActorConfigView = Readonly<Record<string, unknown>>;

const envNames = (env: Readonly<Record<string, string>>) => {
  const names = Object.keys(env).sort();
  return names.length === 0 ? undefined : names;
};

export function describeWorker(w: WorkerSpec): ActorConfigView {
  const l = w.launch;
  const h = w.health;
  const view: Record<string, unknown> = {
    name: w.name,
    kind: l.type,
    ...(l.type === 'process'
      ? { command: [...l.argv] }
      : { module: l.module, ...(l.maxHeapMb === null ? {} : { max_heap_mb: l.maxHeapMb }) }),
    cwd: l.cwd,
    env_names: envNames(l.env),
    requires_loop: w.loop !== null,
    ...(w.loop === null ? {} : { loop_interval: formatMs(w.loop.intervalMs), resume: w.loop.resume }),
    run_timeout: w.runTimeoutMs === null ? undefined : formatMs(w.runTimeoutMs),
    restart: w.restart,
    priority: w.priority,
    max_restarts: w.maxRestarts === 0 ? '0 (no limit)' : w.maxRestarts,
    restart_delay: formatMs(w.backoff.initialMs),
    max_restart_delay: formatMs(w.backoff.maxMs),
    restart_jitter: w.backoff.jitter,
    reset_after: formatMs(w.resetAfterMs),
    shutdown_grace: formatMs(w.shutdownGraceMs),
    health_threshold: h.healthThreshold ?? undefined,
    health_grace: h.healthThreshold === null ? undefined : h.healthGrace,
    stall_timeout: h.stallTimeoutMs === null ? undefined : formatMs(h.stallTimeoutMs),
    resource_limits:
      h.resourceLimits === null
        ? undefined
        : {
            max_memory_mb: h.resourceLimits.maxMemoryMb ?? undefined,
            max_cpu_percent: h.resourceLimits.maxCpuPercent ?? undefined,
            max_fds: h.resourceLimits.maxFds ?? undefined,
            action: h.resourceLimits.action,
            limit_grace: h.limitGrace,
          },
    error_patterns:
      h.errorPatterns.length === 0
        ? undefined
        : h.errorPatterns.map((p) => ({
            pattern: p.source,
            ...(p.name === p.source ? {} : { name: p.name }),
            action: p.action,
            stream: p.stream,
          })),
  };
  return Object.fromEntries(Object.entries(view).filter(([, v]) => v !== undefined));
}
