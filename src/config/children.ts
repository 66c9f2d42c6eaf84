/**
 * An `actors:` list (the file's, or a nested supervisor's) -> its ChildSpecs,
 * in start order. Each entry is checked whole: its schema, names used twice,
 * restart delays, error patterns that do not compile, what it runs; an entry
 * with a problem yields none, and the lines say why.
 */
import { formatMs } from '../runtime/duration.ts';
import type { ChildSpec, RestartType, SupervisorSpec, WorkerSpec } from '../runtime/spec.ts';
import { resolveLaunch } from './launch.ts';
import type { Problems } from './problems.ts';
import { type ActorConfig, actorSchema, knownKeys, type SupervisorConfig, supervisorSchema } from './schema.ts';

/** What every child takes from the runtime section. */
export interface Inherited {
  /** runtime.shutdown_grace_seconds, in ms: an actor's own shutdown_grace wins. */
  readonly graceMs: number;
  /** runtime.restart_jitter. */
  readonly jitter: number;
  /** runtime.alerts has a command or a webhook: an "alert" action reaches someone. */
  readonly alertsDelivered: boolean;
}

export class Children {
  /** Every name taken so far, and where. */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly p: Problems,
    private readonly baseDir: string,
    private readonly inherited: Inherited,
  ) {}

  read(entries: readonly unknown[], prefix: string): ChildSpec[] {
    const out: ChildSpec[] = [];
    entries.forEach((entry, i) => {
      const at = `${prefix}actors[${i}]`;
      const isObj = typeof entry === 'object' && entry !== null && !Array.isArray(entry);
      if (!isObj) {
        this.p.problem(at, 'each actor must be a mapping', 'write "- name: ..." with script, command or module');
        return;
      }
      const rec = entry as Record<string, unknown>;
      const label = typeof rec.name === 'string' ? rec.name : typeof rec.supervisor === 'string' ? rec.supervisor : at;
      const child = 'supervisor' in rec ? this.supervisor(rec, label, at) : this.actor(rec, label, at);
      if (child !== null) out.push(child);
    });
    // Start order: priority (lower first), then file order (sort is stable).
    return out.sort((a, b) => a.priority - b.priority);
  }

  private claimName(name: string, at: string): void {
    const prev = this.seen.get(name);
    if (prev !== undefined) {
      this.p.problem(name, `duplicate name (also used at ${prev})`, 'give every actor and supervisor its own name');
    } else {
      this.seen.set(name, at);
    }
  }

  private supervisor(rec: Record<string, unknown>, label: string, at: string): SupervisorSpec | null {
    const parsed = supervisorSchema.safeParse(rec);
    if (!parsed.success) {
      this.p.report(label, parsed.error.issues, knownKeys.nested, rec);
      if (typeof rec.supervisor === 'string') this.claimName(rec.supervisor, at);
      // Still look inside, so one mistake does not hide the others.
      if (Array.isArray(rec.actors)) this.read(rec.actors, `${at}.`);
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
      backoff: { initialMs: c.restart_delay, maxMs: c.max_restart_delay, jitter: this.inherited.jitter },
      resetAfterMs: c.reset_after,
      shutdownGraceMs: this.inherited.graceMs,
      strategy: c.strategy,
      // OTP's defaults for a nested supervisor: intensity 1 within 5 seconds.
      intensity: c.intensity ?? 1,
      periodMs: c.period_seconds ?? 5_000,
      children: this.read(c.actors, `${at}.`),
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
        this.p.problem(
          `${label}.error_patterns[${i}].pattern`,
          `/${source}/ is not a valid regular expression: ${why}`,
          'fix the pattern (escape special characters with \\)',
        );
      }
    });
  }

  private checkDelays(label: string, first: number, cap: number): void {
    if (cap < first) {
      this.p.problem(
        `${label}.max_restart_delay`,
        `${formatMs(cap)} is below restart_delay (${formatMs(first)})`,
        'make max_restart_delay at least restart_delay',
      );
    }
  }

  private actor(rec: Record<string, unknown>, label: string, at: string): WorkerSpec | null {
    const parsed = actorSchema.safeParse(rec);
    if (!parsed.success) {
      this.p.report(label, parsed.error.issues, knownKeys.actor, rec);
      if (typeof rec.name === 'string') this.claimName(rec.name, at);
      // Still check its patterns and what it runs, so one mistake does not hide the others.
      if (Array.isArray(rec.error_patterns)) this.checkPatterns(label, rec.error_patterns);
      const launchKeys = ['script', 'command', 'module', 'args', 'interpreter', 'cwd', 'env'];
      if (!parsed.error.issues.some((i) => launchKeys.includes(String(i.path[0])))) {
        const launchOnly = Object.fromEntries(Object.entries(rec).filter(([k]) => launchKeys.includes(k)));
        resolveLaunch(launchOnly as ActorConfig, this.baseDir, (key, what, fix) =>
          this.p.problem(`${label}.${key}`, what, fix),
        );
      }
      return null;
    }
    const a: ActorConfig = parsed.data;
    this.claimName(a.name, at);
    const before = this.p.problems.length;
    this.checkDelays(a.name, a.restart_delay, a.max_restart_delay);
    if (a.loop_interval !== undefined && !a.requires_loop) {
      this.p.problem(
        `${a.name}.loop_interval`,
        'is set but requires_loop is not true',
        'add "requires_loop: true" for a one-shot job, or remove loop_interval',
      );
    }
    this.checkPatterns(a.name, a.error_patterns ?? []);
    const launch = resolveLaunch(a, this.baseDir, (key, what, fix) => this.p.problem(`${a.name}.${key}`, what, fix));
    if (launch === null || this.p.problems.length > before) return null;
    this.noteDeferred(a);
    this.noteUndelivered(a, rec);
    const restart: RestartType = a.restart ?? (a.requires_loop ? 'transient' : 'permanent');
    return {
      kind: 'worker',
      name: a.name,
      priority: a.priority,
      restart,
      maxRestarts: a.max_restarts,
      backoff: { initialMs: a.restart_delay, maxMs: a.max_restart_delay, jitter: this.inherited.jitter },
      resetAfterMs: a.reset_after,
      shutdownGraceMs: a.shutdown_grace ?? this.inherited.graceMs,
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
      this.p.note(
        `${a.name}.resource_limits: a thread actor has no descriptors of its own and cannot be paused; max_fds and action pause do not apply to it`,
      );
    }
  }

  /** An "alert" action with nowhere to send it: the event is recorded, and nobody hears of it. */
  private noteUndelivered(a: ActorConfig, rec: Record<string, unknown>): void {
    if (this.inherited.alertsDelivered) return;
    const note = (where: string, action: string) =>
      this.p.note(
        `${a.name}.${where}: ${action}, but runtime.alerts sets no command or webhook: the alert is only recorded (add runtime.alerts.command or .webhook)`,
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
