/**
 * The value a config file parses to -> a frozen RunSpec: the file's own keys,
 * the runtime and supervisor sections with their cross-field rules, and the
 * root supervisor over the actors (children.ts). Problems go to Problems;
 * null when there is nothing to build on.
 */
import { homedir } from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import { HerderError } from '../runtime/errors.ts';
import { HERDER } from '../runtime/events.ts';
import type { HttpSettings, RunSpec, SupervisorSpec } from '../runtime/spec.ts';
import { Children } from './children.ts';
import { parseListen } from './listen.ts';
import type { Problems } from './problems.ts';
import { knownKeys, rootSupervisorSchema, runtimeSchema } from './schema.ts';

export interface Overrides {
  /** The run's length in ms (--runtime); 0 = no limit. */
  readonly runtimeMs?: number | undefined;
  readonly db?: string | undefined;
  /** run --http HOST:PORT: the listener's address, over runtime.http.listen. */
  readonly http?: string | undefined;
}

export const ROOT_NAME = HERDER;

const DEFAULT_MAX_RUNTIME_MS = 360 * 60_000;

/** `file`: the config's absolute path; relative paths in it are from `baseDir`, its folder. */
export function buildSpec(
  raw: unknown,
  file: string,
  baseDir: string,
  overrides: Overrides,
  p: Problems,
): RunSpec | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    p.problem('(top level)', 'the file must be a mapping', 'start with "actors:" and a list of actors');
    return null;
  }
  const rec = raw as Record<string, unknown>;
  for (const key of Object.keys(rec).filter((k) => !knownKeys.file.includes(k))) p.unknownKey(key, key, knownKeys.file);
  const section = <T>(name: string, schema: z.ZodType<T>, keys: readonly string[]): T => {
    const parsed = schema.safeParse(rec[name] ?? {});
    if (parsed.success) return parsed.data;
    p.report(name, parsed.error.issues, keys, rec[name]);
    return schema.parse({});
  };
  const cfg = {
    runtime: section('runtime', runtimeSchema, knownKeys.runtime),
    supervisor: section('supervisor', rootSupervisorSchema, knownKeys.supervisor),
    actors: rec.actors,
  };
  for (const r of ['memory', 'cpu'] as const) {
    const t = cfg.runtime.protection[r];
    if (!(t.resume <= t.warn && t.warn <= t.critical)) {
      p.problem(
        `runtime.protection.${r}`,
        `resume ${t.resume}, warn ${t.warn}, critical ${t.critical} are out of order`,
        'make resume ≤ warn ≤ critical',
      );
    }
  }
  const rt = cfg.runtime;
  // From what was written, so that another runtime problem does not hide this one.
  const rawRuntime = typeof rec.runtime === 'object' && rec.runtime !== null ? rec.runtime : {};
  if ('max_runtime' in rawRuntime && 'max_runtime_minutes' in rawRuntime) {
    p.problem(
      'runtime.max_runtime',
      'is set, and so is max_runtime_minutes',
      'keep one of them; max_runtime takes a unit, as in 6h or 90m',
    );
  }
  if (!Array.isArray(cfg.actors) || cfg.actors.length === 0) {
    p.problem(
      'actors',
      cfg.actors === undefined ? 'is missing' : Array.isArray(cfg.actors) ? 'is empty' : 'must be a list',
      'add an "actors:" list with at least one actor',
    );
    return null;
  }
  // Durations are in ms once parsed (schema.ts), whatever their key is called.
  const runtimeMs = overrides.runtimeMs ?? rt.max_runtime ?? rt.max_runtime_minutes ?? DEFAULT_MAX_RUNTIME_MS;
  const graceMs = rt.shutdown_grace_seconds;
  const children = new Children(p, baseDir, {
    graceMs,
    jitter: rt.restart_jitter,
    alertsDelivered: rt.alerts?.command !== undefined || rt.alerts?.webhook !== undefined,
  }).read(cfg.actors, '');
  const root: SupervisorSpec = {
    kind: 'supervisor',
    name: ROOT_NAME,
    priority: 0,
    restart: 'permanent',
    maxRestarts: 0,
    backoff: { initialMs: 0, maxMs: 0, jitter: 0 },
    resetAfterMs: 0,
    shutdownGraceMs: graceMs,
    strategy: cfg.supervisor.strategy,
    intensity: cfg.supervisor.intensity,
    periodMs: cfg.supervisor.period_seconds,
    children,
  };
  const http = httpSettings(rt.http, overrides.http, baseDir, p);
  const dbPath = overrides.db !== undefined ? path.resolve(overrides.db) : path.resolve(baseDir, rt.db);
  return deepFreeze({
    configPath: file,
    dbPath,
    maxRuntimeMs: runtimeMs > 0 ? runtimeMs : null,
    shutdownGraceMs: graceMs,
    outputRetentionLines: rt.output_retention,
    outputBufferBytes: Math.round(rt.output_buffer_mb * 1024 * 1024),
    sampleIntervalMs: rt.sample_interval_seconds > 0 ? rt.sample_interval_seconds : null,
    protection: rt.protection.enabled
      ? {
          memory: rt.protection.memory,
          cpu: { ...rt.protection.cpu, sustainSamples: rt.protection.cpu.sustain_samples },
        }
      : null,
    alerts:
      rt.alerts === undefined
        ? null
        : {
            command: rt.alerts.command ?? null,
            webhook: rt.alerts.webhook ?? null,
            rateLimitMs: rt.alerts.rate_limit_minutes,
          },
    leak: { windowMs: rt.leak.window_minutes, minSamples: rt.leak.min_samples },
    http,
    root,
  });
}

/** runtime.http, with run --http over its listen address. */
function httpSettings(
  cfg: { listen: string; token_file?: string | undefined } | undefined,
  flag: string | undefined,
  baseDir: string,
  p: Problems,
): HttpSettings | null {
  const listen = flag ?? cfg?.listen;
  if (listen === undefined) return null;
  const addr = parseListen(listen);
  if (typeof addr === 'string') {
    if (flag !== undefined) throw new HerderError('HERDER_ERR_ARGS', `herder: --http: ${addr}`);
    p.problem('runtime.http.listen', addr, 'write it as 127.0.0.1:9464 (port 0: any free port)');
    return null;
  }
  const t = cfg?.token_file;
  const tokenFile =
    t === undefined ? null : t.startsWith('~/') ? path.join(homedir(), t.slice(2)) : path.resolve(baseDir, t);
  return { host: addr.host, port: addr.port, tokenFile };
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
