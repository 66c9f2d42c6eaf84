/**
 * actors.yaml -> a frozen RunSpec, or every problem found, one line each:
 *   actors.yaml: <actor>.<key>: <what is wrong> (<how to fix>)
 * YAML syntax errors carry the line and column instead of the actor.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { formatMs } from '../runtime/duration.ts';
import { HerderError } from '../runtime/errors.ts';
import { HERDER } from '../runtime/events.ts';
import type { ChildSpec, RestartType, RunSpec, SupervisorSpec, WorkerSpec } from '../runtime/spec.ts';
import { nestedTooDeeply } from './depth.ts';
import { describeIssue, type Issue } from './issues.ts';
import { resolveLaunch } from './launch.ts';
import {
  type ActorConfig,
  actorSchema,
  knownKeys,
  rootSupervisorSchema,
  runtimeSchema,
  type SupervisorConfig,
  supervisorSchema,
} from './schema.ts';
import { suggest } from './suggest.ts';

export interface Overrides {
  /** The run's length in ms (--runtime); 0 = no limit. */
  readonly runtimeMs?: number | undefined;
  readonly db?: string | undefined;
}

export interface Loaded {
  readonly spec: RunSpec;
  /** Settings accepted that will not do all they seem to (a limit a thread cannot have, an alert going nowhere). */
  readonly notes: readonly string[];
}

export const ROOT_NAME = HERDER;

const DEFAULT_MAX_RUNTIME_MS = 360 * 60_000;

export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** Reads and validates a config file; throws HerderError listing every problem. */
export function loadConfig(configPath: string, overrides: Overrides = {}): Loaded {
  const file = path.resolve(configPath);
  const shown = displayPath(file);
  if (!existsSync(file)) {
    throw new HerderError(
      'HERDER_ERR_CONFIG_NOT_FOUND',
      `${shown}: no such config file (create it, or pass --config PATH)`,
    );
  }
  if (!isFile(file)) {
    throw new HerderError(
      'HERDER_ERR_CONFIG_NOT_FOUND',
      `${shown}: is not a file (pass --config with the path of a YAML file)`,
    );
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new HerderError(
      'HERDER_ERR_CONFIG_NOT_FOUND',
      `${shown}: cannot be read (${(e as Error).message}); check its permissions`,
    );
  }
  const deep = nestedTooDeeply(text);
  if (deep !== null) {
    const line = `${shown}:${deep.line}:${deep.col}: nested too deeply (lists and mappings go more than ${deep.limit} levels down here; flatten this value)`;
    throw new HerderError('HERDER_ERR_CONFIG_YAML', line);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      const where = pos === undefined ? '' : `:${pos.line}:${pos.col}`;
      const first = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
      return `${shown}${where}: ${first} (fix the YAML syntax there)`;
    });
    throw new HerderError('HERDER_ERR_CONFIG_YAML', lines[0] ?? shown, { lines });
  }
  let raw: unknown;
  try {
    raw = doc.toJS() ?? {};
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0] ?? String(e);
    throw new HerderError('HERDER_ERR_CONFIG_YAML', `${shown}: ${msg} (fix the YAML there)`);
  }
  const v = new Validator(shown, path.dirname(file));
  const spec = v.build(raw, file, overrides);
  if (v.problems.length > 0 || spec === null) {
    throw new HerderError('HERDER_ERR_CONFIG', v.problems[0] ?? `${shown}: invalid`, { lines: v.problems });
  }
  return { spec, notes: v.notes };
}

class Validator {
  readonly problems: string[] = [];
  readonly notes: string[] = [];
  private readonly seen = new Map<string, string>();
  /** runtime.alerts has a command or a webhook: an "alert" action reaches someone. */
  private alertsDelivered = false;

  constructor(
    private readonly shown: string,
    private readonly baseDir: string,
  ) {}

  problem(where: string, what: string, fix: string): void {
    this.problems.push(`${this.shown}: ${where}: ${what} (${fix})`);
  }

  private report(prefix: string, issues: readonly Issue[], keys: readonly string[], input: unknown): void {
    const at = (segments: readonly PropertyKey[]) => {
      const where = [prefix, ...segments.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
        .filter((p) => p !== '')
        .join('.')
        .replace(/\.\[/g, '[');
      return where === '' ? '(top level)' : where;
    };
    for (const issue of issues) {
      if (issue.code === 'unrecognized_keys') {
        const known = keysAt(issue.path, keys);
        for (const key of issue.keys) {
          const s = suggest(key, known);
          this.problem(
            at([...issue.path, key]),
            'unknown key',
            s !== null ? `did you mean "${s}"?` : `remove it; allowed here: ${known.join(', ')}`,
          );
        }
        continue;
      }
      const [what, fix] = describeIssue(issue, input);
      this.problem(at(issue.path), what, fix);
    }
  }

  build(raw: unknown, file: string, overrides: Overrides): RunSpec | null {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      this.problem('(top level)', 'the file must be a mapping', 'start with "actors:" and a list of actors');
      return null;
    }
    const rec = raw as Record<string, unknown>;
    for (const key of Object.keys(rec).filter((k) => !knownKeys.file.includes(k))) {
      const s = suggest(key, knownKeys.file);
      this.problem(
        key,
        'unknown key',
        s !== null ? `did you mean "${s}"?` : `remove it; allowed here: ${knownKeys.file.join(', ')}`,
      );
    }
    const section = <T>(name: string, schema: z.ZodType<T>, keys: readonly string[]): T => {
      const parsed = schema.safeParse(rec[name] ?? {});
      if (parsed.success) return parsed.data;
      this.report(name, parsed.error.issues, keys, rec[name]);
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
        this.problem(
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
      this.problem(
        'runtime.max_runtime',
        'is set, and so is max_runtime_minutes',
        'keep one of them; max_runtime takes a unit, as in 6h or 90m',
      );
    }
    this.alertsDelivered = rt.alerts?.command !== undefined || rt.alerts?.webhook !== undefined;
    if (!Array.isArray(cfg.actors) || cfg.actors.length === 0) {
      this.problem(
        'actors',
        cfg.actors === undefined ? 'is missing' : Array.isArray(cfg.actors) ? 'is empty' : 'must be a list',
        'add an "actors:" list with at least one actor',
      );
      return null;
    }
    // Durations are in ms once parsed (schema.ts), whatever their key is called.
    const runtimeMs = overrides.runtimeMs ?? rt.max_runtime ?? rt.max_runtime_minutes ?? DEFAULT_MAX_RUNTIME_MS;
    const graceMs = rt.shutdown_grace_seconds;
    const children = this.children(cfg.actors, '', graceMs, cfg.runtime.restart_jitter);
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
    const dbPath = overrides.db !== undefined ? path.resolve(overrides.db) : path.resolve(this.baseDir, cfg.runtime.db);
    return deepFreeze({
      configPath: file,
      dbPath,
      maxRuntimeMs: runtimeMs > 0 ? runtimeMs : null,
      shutdownGraceMs: graceMs,
      outputRetentionLines: cfg.runtime.output_retention,
      outputBufferBytes: Math.round(cfg.runtime.output_buffer_mb * 1024 * 1024),
      sampleIntervalMs: cfg.runtime.sample_interval_seconds > 0 ? cfg.runtime.sample_interval_seconds : null,
      protection: cfg.runtime.protection.enabled
        ? {
            memory: cfg.runtime.protection.memory,
            cpu: { ...cfg.runtime.protection.cpu, sustainSamples: cfg.runtime.protection.cpu.sustain_samples },
          }
        : null,
      alerts:
        cfg.runtime.alerts === undefined
          ? null
          : {
              command: cfg.runtime.alerts.command ?? null,
              webhook: cfg.runtime.alerts.webhook ?? null,
              rateLimitMs: cfg.runtime.alerts.rate_limit_minutes,
            },
      leak: { windowMs: cfg.runtime.leak.window_minutes, minSamples: cfg.runtime.leak.min_samples },
      root,
    });
  }

  private children(entries: readonly unknown[], prefix: string, graceMs: number, jitter: number): ChildSpec[] {
    const out: ChildSpec[] = [];
    entries.forEach((entry, i) => {
      const at = `${prefix}actors[${i}]`;
      const isObj = typeof entry === 'object' && entry !== null && !Array.isArray(entry);
      if (!isObj) {
        this.problem(at, 'each actor must be a mapping', 'write "- name: ..." with script, command or module');
        return;
      }
      const rec = entry as Record<string, unknown>;
      const label = typeof rec.name === 'string' ? rec.name : typeof rec.supervisor === 'string' ? rec.supervisor : at;
      const child =
        'supervisor' in rec
          ? this.supervisor(rec, label, at, graceMs, jitter)
          : this.actor(rec, label, at, graceMs, jitter);
      if (child !== null) out.push(child);
    });
    // Start order: priority (lower first), then file order (sort is stable).
    return out.sort((a, b) => a.priority - b.priority);
  }

  private claimName(name: string, at: string): void {
    const prev = this.seen.get(name);
    if (prev !== undefined) {
      this.problem(name, `duplicate name (also used at ${prev})`, 'give every actor and supervisor its own name');
    } else {
      this.seen.set(name, at);
    }
  }

  private supervisor(
    rec: Record<string, unknown>,
    label: string,
    at: string,
    graceMs: number,
    jitter: number,
  ): SupervisorSpec | null {
    const parsed = supervisorSchema.safeParse(rec);
    if (!parsed.success) {
      this.report(label, parsed.error.issues, knownKeys.nested, rec);
      if (typeof rec.supervisor === 'string') this.claimName(rec.supervisor, at);
      // Still look inside, so one mistake does not hide the others.
      if (Array.isArray(rec.actors)) this.children(rec.actors, `${at}.`, graceMs, jitter);
      return null;
    }
    const c = parsed.data as SupervisorConfig;
    this.claimName(c.supervisor, at);
    this.checkDelays(label, c.restart_delay, c.max_restart_delay);
    return {
      kind: 'supervisor',
      name: c.supervisor,
      priority: c.priority,
      restart: c.restart ?? 'permanent',
      maxRestarts: c.max_restarts,
      backoff: { initialMs: c.restart_delay, maxMs: c.max_restart_delay, jitter },
      resetAfterMs: c.reset_after,
      shutdownGraceMs: graceMs,
      strategy: c.strategy,
      // OTP's defaults for a nested supervisor: intensity 1 within 5 seconds.
      intensity: c.intensity ?? 1,
      periodMs: c.period_seconds ?? 5_000,
      children: this.children(c.actors, `${at}.`, graceMs, jitter),
    };
  }

  /** Each error pattern must compile: a bad one is a config error showing the pattern. */
  private checkPatterns(label: string, patterns: readonly unknown[]): void {
    patterns.forEach((p, i) => {
      const source = typeof p === 'object' && p !== null ? (p as { pattern?: unknown }).pattern : undefined;
      if (typeof source !== 'string') return; // the schema reports that
      try {
        new RegExp(source);
      } catch (e) {
        const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
        this.problem(
          `${label}.error_patterns[${i}].pattern`,
          `/${source}/ is not a valid regular expression: ${why}`,
          'fix the pattern (escape special characters with \\)',
        );
      }
    });
  }

  private checkDelays(label: string, first: number, cap: number): void {
    if (cap < first) {
      this.problem(
        `${label}.max_restart_delay`,
        `${formatMs(cap)} is below restart_delay (${formatMs(first)})`,
        'make max_restart_delay at least restart_delay',
      );
    }
  }

  private actor(
    rec: Record<string, unknown>,
    label: string,
    at: string,
    graceMs: number,
    jitter: number,
  ): WorkerSpec | null {
    const parsed = actorSchema.safeParse(rec);
    if (!parsed.success) {
      this.report(label, parsed.error.issues, knownKeys.actor, rec);
      if (typeof rec.name === 'string') this.claimName(rec.name, at);
      // Still check its patterns and what it runs, so one mistake does not hide the others.
      if (Array.isArray(rec.error_patterns)) this.checkPatterns(label, rec.error_patterns);
      const launchKeys = ['script', 'command', 'module', 'args', 'interpreter', 'cwd', 'env'];
      if (!parsed.error.issues.some((i) => launchKeys.includes(String(i.path[0])))) {
        const launchOnly = Object.fromEntries(Object.entries(rec).filter(([k]) => launchKeys.includes(k)));
        resolveLaunch(launchOnly as ActorConfig, this.baseDir, (key, what, fix) =>
          this.problem(`${label}.${key}`, what, fix),
        );
      }
      return null;
    }
    const a: ActorConfig = parsed.data;
    this.claimName(a.name, at);
    const before = this.problems.length;
    this.checkDelays(a.name, a.restart_delay, a.max_restart_delay);
    if (a.loop_interval !== undefined && !a.requires_loop) {
      this.problem(
        `${a.name}.loop_interval`,
        'is set but requires_loop is not true',
        'add "requires_loop: true" for a one-shot job, or remove loop_interval',
      );
    }
    this.checkPatterns(a.name, a.error_patterns ?? []);
    const launch = resolveLaunch(a, this.baseDir, (key, what, fix) => this.problem(`${a.name}.${key}`, what, fix));
    if (launch === null || this.problems.length > before) return null;
    this.noteDeferred(a);
    this.noteUndelivered(a, rec);
    const restart: RestartType = a.restart ?? (a.requires_loop ? 'transient' : 'permanent');
    return {
      kind: 'worker',
      name: a.name,
      priority: a.priority,
      restart,
      maxRestarts: a.max_restarts,
      backoff: { initialMs: a.restart_delay, maxMs: a.max_restart_delay, jitter },
      resetAfterMs: a.reset_after,
      shutdownGraceMs: a.shutdown_grace ?? graceMs,
      launch,
      loop: a.requires_loop ? { intervalMs: a.loop_interval ?? 60_000, resume: a.resume } : null,
      runTimeoutMs: a.run_timeout ?? null,
      health: {
        healthThreshold: a.health_threshold ?? null,
        healthGrace: a.health_grace ?? 3,
        stallTimeoutMs: a.stall_timeout ?? null,
        limitGrace: a.limit_grace ?? 3,
        resourceLimits:
          a.resource_limits === undefined
            ? null
            : {
                maxMemoryMb: a.resource_limits.max_memory_mb ?? null,
                maxCpuPercent: a.resource_limits.max_cpu_percent ?? null,
                maxFds: a.resource_limits.max_fds ?? null,
                action: a.resource_limits.action,
              },
        errorPatterns: (a.error_patterns ?? []).map((p) => ({
          name: p.name ?? p.pattern,
          source: p.pattern,
          action: p.action,
          stream: p.stream,
        })),
      },
    };
  }

  private noteDeferred(a: ActorConfig): void {
    const limits = a.resource_limits;
    if (limits === undefined) return;
    if (a.module !== undefined && (limits.max_fds !== undefined || limits.action === 'pause')) {
      this.notes.push(
        `${this.shown}: ${a.name}.resource_limits: a thread actor has no descriptors of its own and cannot be paused; max_fds and action pause do not apply to it`,
      );
    }
  }

  /** An "alert" action with nowhere to send it: the event is recorded, and nobody hears of it. */
  private noteUndelivered(a: ActorConfig, rec: Record<string, unknown>): void {
    if (this.alertsDelivered) return;
    const note = (where: string, action: string) =>
      this.notes.push(
        `${this.shown}: ${a.name}.${where}: ${action}, but runtime.alerts sets no command or webhook: the alert is only recorded (add runtime.alerts.command or .webhook)`,
      );
    const written = Array.isArray(rec.error_patterns) ? rec.error_patterns : [];
    (a.error_patterns ?? []).forEach((p, i) => {
      if (p.action !== 'alert') return;
      const raw = written[i] as { action?: unknown } | undefined;
      note(`error_patterns[${i}]`, raw?.action === undefined ? 'action alert (the default)' : 'action alert');
    });
    if (a.resource_limits?.action === 'alert') note('resource_limits', 'action alert');
  }
}

/** The key list that applies where an issue was found (nested mappings have their own). */
function keysAt(p: readonly PropertyKey[], fallback: readonly string[]): readonly string[] {
  const names = p.filter((x): x is string => typeof x === 'string');
  if (names.includes('error_patterns')) return knownKeys.error_patterns;
  if (names.at(-1) === 'resource_limits') return knownKeys.resource_limits;
  return fallback;
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
