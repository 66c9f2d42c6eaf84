/**
 * The health monitor: on every resource sample it scores each live actor
 * (src/runtime/health.ts), decides on health_threshold and resource_limits,
 * watches memory for leaks (src/runtime/leak.ts), and protects the machine
 * as a whole (src/runtime/pressure.ts). It only decides: each call returns
 * actions (events, failures, pauses and resumes, deferral), which the run
 * routes to the bus and to the supervisors' state machines; it never touches
 * a process. What it reads about an actor comes from the registry's view.
 */
import { assertNever } from '../runtime/errors.ts';
import { healthWhy, limitWhy } from '../runtime/event-text.ts';
import {
  type EventData,
  type EventKind,
  HERDER,
  type HerderEvent,
  herderEvent,
  type Resource,
} from '../runtime/events.ts';
import { belowThreshold, healthScore } from '../runtime/health.ts';
import { detectLeak, type MemorySample, windowed } from '../runtime/leak.ts';
import { INITIAL_PRESSURE, type PressureState, pressureStep } from '../runtime/pressure.ts';
import type { ProtectionSettings } from '../runtime/spec.ts';
import type { LiveActor, LiveView } from './registry.ts';

/** What the monitor decided; the run carries each out. */
export type MonitorAction =
  | { readonly type: 'event'; readonly event: HerderEvent }
  /** Stop it now, counted as a failure (health, a limit with action restart). */
  | { readonly type: 'fail'; readonly actor: string; readonly errorType: string; readonly message: string }
  | { readonly type: 'pause'; readonly actor: string; readonly by: 'limit' | 'pressure'; readonly reason: string }
  | { readonly type: 'resume'; readonly actor: string; readonly reason: string }
  /** Machine pressure: loop runs that fall due wait (on) or no longer (off). */
  | { readonly type: 'defer'; readonly on: boolean; readonly reason: string };

export interface Figures {
  readonly rssMb: number | null;
  readonly cpuPercent: number | null;
  readonly numFds: number | null;
}

export interface MonitorSettings {
  readonly view: LiveView;
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
}

/** Failures and errors count toward health for this long. */
export const RECENT_MS = 10 * 60_000;

export class HealthMonitor {
  private readonly watches = new Map<string, Watch>();
  private pressure: PressureState = INITIAL_PRESSURE;

  constructor(private readonly settings: MonitorSettings) {}

  private watch(name: string): Watch {
    let w = this.watches.get(name);
    if (w === undefined) {
      w = { below: 0, limitStreaks: new Map(), memory: [], leakReported: false };
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
  }

  /**
   * Scores one running actor's sample at monotonic time `now`: the score to
   * store with the sample (null for a paused one, which is neither stalled
   * nor healthy) and what to do about it.
   */
  judge(a: LiveActor, fig: Figures, now: number): { score: number | null; actions: MonitorAction[] } {
    const w = this.watch(a.name);
    if (a.paused !== null) {
      // Judged afresh once it is resumed: a pause is no streak.
      w.below = 0;
      w.limitStreaks.clear();
      return { score: null, actions: [] };
    }
    const { view } = this.settings;
    const actions: MonitorAction[] = [];
    const event = <K extends EventKind>(kind: K, data: EventData[K]) =>
      actions.push({ type: 'event', event: herderEvent(a.name, kind, data) });
    const s = view.signals(a.name);
    const h = a.health;
    const score = healthScore({
      rssMb: fig.rssMb,
      memLimitMb: h.resourceLimits?.maxMemoryMb ?? null,
      machineMemMb: this.settings.machineMemMb,
      cpuPercent: fig.cpuPercent,
      cpuLimitPercent: h.resourceLimits?.maxCpuPercent ?? null,
      cores: this.settings.cores,
      recentFailures: view.recent(a.name, 'failures', now - RECENT_MS),
      recentErrors: view.recent(a.name, 'errors', now - RECENT_MS),
      sinceActivityMs: s?.lastActivity == null ? null : now - s.lastActivity,
      stallTimeoutMs: h.stallTimeoutMs,
      selfReported: s?.selfHealth ?? null,
    });
    const t = belowThreshold(w.below, score.score, h.healthThreshold, h.healthGrace);
    w.below = t.count;
    if (t.act) {
      const data = {
        score: score.score,
        threshold: h.healthThreshold ?? 0,
        grace: h.healthGrace,
        weakest: score.detail,
      };
      event('health', data);
      actions.push({ type: 'fail', actor: a.name, errorType: 'health', message: healthWhy(data) });
      w.below = 0;
    }
    this.checkLimits(a, w, fig, actions);
    if (fig.rssMb !== null) {
      const leak = this.checkLeak(w, now, fig.rssMb, h.resourceLimits?.maxMemoryMb ?? null);
      if (leak !== null) event('leak', leak);
    }
    return { score: Math.round(score.score * 1000) / 1000, actions };
  }

  private checkLimits(a: LiveActor, w: Watch, fig: Figures, actions: MonitorAction[]): void {
    const limits = a.health.resourceLimits;
    if (limits === null) return;
    const checks: [Resource, number | null, number | null][] = [
      ['memory', fig.rssMb, limits.maxMemoryMb],
      ['cpu', fig.cpuPercent, limits.maxCpuPercent],
      ['fds', fig.numFds, limits.maxFds],
    ];
    for (const [what, value, limit] of checks) {
      if (value === null || limit === null) continue;
      const streak = value > limit ? (w.limitStreaks.get(what) ?? 0) + 1 : 0;
      w.limitStreaks.set(what, streak);
      if (streak !== a.health.limitGrace) continue;
      const action = limits.action === 'pause' && a.kind === 'thread' ? 'none' : limits.action;
      const data: EventData['limit'] = { resource: what, value, limit, samples: streak, action };
      actions.push({ type: 'event', event: herderEvent(a.name, 'limit', data) });
      const why = limitWhy(data);
      if (action === 'restart') actions.push({ type: 'fail', actor: a.name, errorType: 'limit', message: why });
      if (action === 'pause') actions.push({ type: 'pause', actor: a.name, by: 'limit', reason: why });
    }
  }

  /** The leak's fields when one is newly seen, else null. */
  private checkLeak(w: Watch, now: number, rssMb: number, limitMb: number | null): EventData['leak'] | null {
    w.memory.push({ t: now, mb: rssMb });
    w.memory = windowed(w.memory, this.settings.leak.windowMs);
    const v = detectLeak(w.memory, limitMb, {
      windowMs: this.settings.leak.windowMs,
      minSamples: this.settings.leak.minSamples,
      minR2: 0.8,
      minMbPerHour: 10,
      minGrowthPercent: 10,
    });
    const fresh = v.leak && !w.leakReported;
    w.leakReported = v.leak;
    if (!fresh) return null;
    return {
      mb_per_hour: Math.round(v.slopeMbPerHour * 10) / 10,
      r2: Math.round(v.r2 * 1000) / 1000,
      samples: v.samples,
      ms_to_limit: v.msToLimit,
      summary: v.summary,
    };
  }

  /**
   * The machine's sample: protection pauses the least important process
   * actors, one per step, and resumes them when it is over (only those it
   * paused; one a person or a limit paused is no candidate either way).
   */
  system(memPercent: number, cpuPercent: number): MonitorAction[] {
    const protection = this.settings.protection;
    if (protection === null) return [];
    const actors = this.settings.view.running().map((a) => ({
      name: a.name,
      priority: a.priority,
      running: a.kind === 'process' && !a.stopping && (a.paused === null || a.paused.by === 'pressure'),
      paused: a.paused?.by === 'pressure',
    }));
    const [next, steps] = pressureStep(this.pressure, { memPercent, cpuPercent }, actors, protection);
    this.pressure = next;
    return steps.map((a): MonitorAction => {
      switch (a.type) {
        case 'alert':
          return {
            type: 'event',
            event: herderEvent(HERDER, 'pressure', { resource: a.resource, level: a.level, detail: a.detail }),
          };
        case 'pause':
          return { type: 'pause', actor: a.actor, by: 'pressure', reason: a.reason };
        case 'resume':
          return { type: 'resume', actor: a.actor, reason: a.reason };
        case 'defer_starts':
          return { type: 'defer', on: a.on, reason: a.reason };
        default:
          return assertNever(a, 'pressure action');
      }
    });
  }
}
