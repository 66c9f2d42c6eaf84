/**
 * The health monitor: on every resource sample it scores each live actor
 * (src/runtime/health.ts), acts on health_threshold and resource_limits,
 * watches memory for leaks (src/runtime/leak.ts), and protects the machine
 * as a whole (src/runtime/pressure.ts). It decides; actors are told through
 * the controls their supervisors registered, and every decision is an event.
 */
import type { Clock } from '../runtime/clock.ts';
import { type EventKind, HERDER } from '../runtime/events.ts';
import { belowThreshold, healthScore } from '../runtime/health.ts';
import { detectLeak, type MemorySample, windowed } from '../runtime/leak.ts';
import { INITIAL_PRESSURE, type PressureState, pressureStep } from '../runtime/pressure.ts';
import type { HealthSettings, ProtectionSettings } from '../runtime/spec.ts';
import type { LiveActors } from './sampler.ts';

/** What a supervisor lets the monitor do to one of its running actors. */
export interface ActorControl {
  readonly priority: number;
  readonly health: HealthSettings;
  readonly kind: 'process' | 'thread';
  fail(errorType: string, message: string): void;
  pause(): boolean;
  resume(): boolean;
}

export interface Figures {
  readonly rssMb: number | null;
  readonly cpuPercent: number | null;
  readonly numFds: number | null;
}

export interface MonitorDeps {
  readonly clock: Clock;
  readonly live: LiveActors;
  readonly event: (process: string, kind: EventKind, detail: string) => void;
  readonly deferStarts: (on: boolean, reason: string) => void;
  readonly cores: number;
  readonly machineMemMb: number;
  readonly protection: ProtectionSettings | null;
  readonly leak: { readonly windowMs: number; readonly minSamples: number };
}

interface Watch {
  below: number;
  readonly limitStreaks: Map<string, number>;
  memory: MemorySample[];
  leakReported: boolean;
  pausedBy: 'limit' | 'pressure' | null;
}

/** Failures and errors count toward health for this long. */
export const RECENT_MS = 10 * 60_000;

export class HealthMonitor {
  private readonly watches = new Map<string, Watch>();
  private pressure: PressureState = INITIAL_PRESSURE;

  constructor(private readonly deps: MonitorDeps) {}

  private watch(name: string): Watch {
    let w = this.watches.get(name);
    if (w === undefined) {
      w = { below: 0, limitStreaks: new Map(), memory: [], leakReported: false, pausedBy: null };
      this.watches.set(name, w);
    }
    return w;
  }

  /** An actor's run ended: what was judged about that run starts over. */
  forget(name: string): void {
    const w = this.watches.get(name);
    if (w === undefined) return;
    w.below = 0;
    w.limitStreaks.clear();
    w.pausedBy = null;
  }

  /** Scores one actor's sample and acts on it; returns the score to store with the sample. */
  judge(name: string, fig: Figures): number | null {
    const control = this.deps.live.controls.get(name);
    if (control === undefined) return null;
    const w = this.watch(name);
    if (w.pausedBy !== null) return null; // a frozen actor is neither stalled nor healthy
    const { clock, live } = this.deps;
    const now = clock.now();
    const s = live.signalsOf(name);
    const h = control.health;
    const score = healthScore({
      rssMb: fig.rssMb,
      memLimitMb: h.resourceLimits?.maxMemoryMb ?? null,
      machineMemMb: this.deps.machineMemMb,
      cpuPercent: fig.cpuPercent,
      cpuLimitPercent: h.resourceLimits?.maxCpuPercent ?? null,
      cores: this.deps.cores,
      recentFailures: live.recent(name, 'failures', now - RECENT_MS),
      recentErrors: live.recent(name, 'errors', now - RECENT_MS),
      sinceActivityMs: s.lastActivity === null ? null : now - s.lastActivity,
      stallTimeoutMs: h.stallTimeoutMs,
      selfReported: s.selfHealth,
    });
    const t = belowThreshold(w.below, score.score, h.healthThreshold, h.healthGrace);
    w.below = t.count;
    if (t.act) {
      const why = `health ${score.score.toFixed(2)} below ${h.healthThreshold} for ${h.healthGrace} samples; weakest: ${score.detail}`;
      this.deps.event(name, 'health', `restarting: ${why}`);
      control.fail('health', why);
      w.below = 0;
    }
    this.checkLimits(name, control, w, fig);
    if (fig.rssMb !== null) this.checkLeak(name, w, now, fig.rssMb, h.resourceLimits?.maxMemoryMb ?? null);
    return Math.round(score.score * 1000) / 1000;
  }

  private checkLimits(name: string, control: ActorControl, w: Watch, fig: Figures): void {
    const limits = control.health.resourceLimits;
    if (limits === null) return;
    const checks: [string, number | null, number | null, string][] = [
      ['memory', fig.rssMb, limits.maxMemoryMb, 'MB'],
      ['cpu', fig.cpuPercent, limits.maxCpuPercent, '%'],
      ['fds', fig.numFds, limits.maxFds, ' descriptors'],
    ];
    for (const [what, value, limit, unit] of checks) {
      if (value === null || limit === null) continue;
      const streak = value > limit ? (w.limitStreaks.get(what) ?? 0) + 1 : 0;
      w.limitStreaks.set(what, streak);
      if (streak !== control.health.limitGrace) continue;
      const why = `${what} ${value}${unit} over its limit ${limit}${unit} for ${streak} samples`;
      switch (limits.action) {
        case 'restart':
          this.deps.event(name, 'limit', `restarting: ${why}`);
          control.fail('limit', why);
          break;
        case 'alert':
          this.deps.event(name, 'limit', why);
          break;
        case 'pause':
          if (control.pause()) {
            w.pausedBy = 'limit';
            this.deps.live.paused.add(name);
            this.deps.event(name, 'limit', `paused: ${why}; resume it with SIGCONT or restart it`);
          } else {
            this.deps.event(name, 'limit', `${why} (a thread actor cannot be paused)`);
          }
          break;
      }
    }
  }

  private checkLeak(name: string, w: Watch, now: number, rssMb: number, limitMb: number | null): void {
    w.memory.push({ t: now, mb: rssMb });
    w.memory = windowed(w.memory, this.deps.leak.windowMs);
    const v = detectLeak(w.memory, limitMb, {
      windowMs: this.deps.leak.windowMs,
      minSamples: this.deps.leak.minSamples,
      minR2: 0.8,
      minMbPerHour: 10,
      minGrowthPercent: 10,
    });
    if (v.leak && !w.leakReported) this.deps.event(name, 'leak', v.summary);
    w.leakReported = v.leak;
  }

  /** The machine's sample: protection by pausing the least important actors. */
  system(memPercent: number, cpuPercent: number): void {
    const protection = this.deps.protection;
    if (protection === null) return;
    const actors = [...this.deps.live.controls.entries()].map(([name, c]) => ({
      name,
      priority: c.priority,
      running: c.kind === 'process',
      paused: this.watches.get(name)?.pausedBy === 'pressure',
    }));
    const [next, actions] = pressureStep(this.pressure, { memPercent, cpuPercent }, actors, protection);
    this.pressure = next;
    for (const a of actions) {
      switch (a.type) {
        case 'alert':
          this.deps.event(HERDER, 'pressure', `${a.resource} ${a.level}: ${a.detail}`);
          break;
        case 'pause': {
          const c = this.deps.live.controls.get(a.actor);
          if (c?.pause() === true) {
            this.watch(a.actor).pausedBy = 'pressure';
            this.deps.live.paused.add(a.actor);
            this.deps.event(a.actor, 'pause', a.reason);
          }
          break;
        }
        case 'resume': {
          const c = this.deps.live.controls.get(a.actor);
          c?.resume();
          this.watch(a.actor).pausedBy = null;
          this.deps.live.paused.delete(a.actor);
          this.deps.event(a.actor, 'resume', a.reason);
          break;
        }
        case 'defer_starts':
          this.deps.deferStarts(a.on, a.reason);
          break;
      }
    }
  }
}
