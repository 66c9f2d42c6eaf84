/**
 * System-wide protection (runtime.protection) as a pure function:
 * `pressureStep(state, reading, actors) -> [state, actions]`, called once per
 * machine sample. The monitor carries the actions out (SIGSTOP/SIGCONT to a
 * process group, deferring loop starts, not starting thread actors anew).
 *
 * Readings are percents of the whole machine (memory used, CPU of all cores).
 * Memory counts on a single reading; CPU only once it has held for
 * sustainSamples readings in a row, because a CPU spike is harmless while
 * running out of memory is sudden and final.
 *
 *   warn      alert once; again only after returning to normal
 *   critical  alert, defer starts, then pause one actor per step while a
 *             reading is still critical: the least important running one
 *   between   (below critical, not yet below resume) hold: pause and resume nothing
 *   resume    every resource below its resume level: back to normal, starts
 *             no longer deferred, resume one paused actor per step, most
 *             important first
 *
 * One action per step so that the effect of each pause or resume shows in
 * the next reading before the next one. "Importance" is the order (priority,
 * name), lower first; pauses go from the end, resumes from the start, so
 * resumes undo pauses in reverse. The most important actor is never paused
 * for CPU (a slow machine is better than a stopped main job) and for memory
 * only when every other actor is already paused or not running, with an extra
 * alert. The level is hysteretic: normal is reached again only below the
 * resume levels, so a reading hovering around warn does not repeat alerts.
 * A reading that is NaN (unknown) changes nothing but resets the CPU streaks.
 */
import type { ProtectionSettings } from './spec.ts';

export type { ProtectionSettings };

/**
 * Memory 85/95/80: 95 % used is close to swapping and the OOM killer, and 80
 * leaves 15 points of hysteresis so pause and resume do not flap. CPU
 * 90/98/75 over 3 samples: a busy machine only gets slower, so CPU acts later
 * and only when sustained (3 samples rides out a start-up or GC burst), and
 * resumes lower because a resumed actor brings its load straight back.
 */
export const DEFAULT_PROTECTION: ProtectionSettings = {
  memory: { warn: 85, critical: 95, resume: 80 },
  cpu: { warn: 90, critical: 98, resume: 75, sustainSamples: 3 },
};

/**
 * `paused` means paused by this policy. An actor paused for another reason
 * (by the user) should be left out of the list, so protection does not
 * resume it.
 */
export interface PressureActor {
  readonly name: string;
  /** Lower = more important. */
  readonly priority: number;
  readonly running: boolean;
  readonly paused: boolean;
}

export interface PressureState {
  readonly level: 'normal' | 'warn' | 'critical';
  /** Readings in a row with CPU ≥ cpu.warn. */
  readonly cpuHighStreak: number;
  /** Readings in a row with CPU ≥ cpu.critical. */
  readonly cpuCriticalStreak: number;
  /** An alert was raised since the level was last normal. */
  readonly warned: boolean;
}

export const INITIAL_PRESSURE: PressureState = {
  level: 'normal',
  cpuHighStreak: 0,
  cpuCriticalStreak: 0,
  warned: false,
};

export type PressureAction =
  | {
      readonly type: 'alert';
      readonly resource: 'memory' | 'cpu';
      readonly level: 'warn' | 'critical';
      readonly detail: string;
    }
  | { readonly type: 'pause'; readonly actor: string; readonly reason: string }
  | { readonly type: 'resume'; readonly actor: string; readonly reason: string }
  | { readonly type: 'defer_starts'; readonly on: boolean; readonly reason: string };

type Zone = 'critical' | 'warn' | 'between' | 'clear';

/** Floored to one decimal, so a shown value never crosses the threshold it is compared with. */
const pct = (x: number) => `${Math.floor(x * 10) / 10} %`;

/** Most important first: priority ascending, then name. */
function byImportance(a: PressureActor, b: PressureActor): number {
  return a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export function pressureStep(
  state: PressureState,
  reading: { memPercent: number; cpuPercent: number },
  actors: readonly PressureActor[],
  settings: ProtectionSettings = DEFAULT_PROTECTION,
): [PressureState, PressureAction[]] {
  const { memory: m, cpu: c } = settings;
  const mem = reading.memPercent;
  const cpu = reading.cpuPercent;
  const sustain = Math.max(1, c.sustainSamples);
  const cpuHighStreak = cpu >= c.warn ? state.cpuHighStreak + 1 : 0;
  const cpuCriticalStreak = cpu >= c.critical ? state.cpuCriticalStreak + 1 : 0;

  const memZone: Zone = mem >= m.critical ? 'critical' : mem >= m.warn ? 'warn' : mem < m.resume ? 'clear' : 'between';
  const cpuZone: Zone =
    cpuCriticalStreak >= sustain
      ? 'critical'
      : cpuHighStreak >= sustain
        ? 'warn'
        : cpu < c.resume
          ? 'clear'
          : 'between';

  const memWhy = (zone: 'critical' | 'warn') => `memory ${pct(mem)} ≥ ${zone} ${pct(m[zone])}`;
  const cpuWhy = (zone: 'critical' | 'warn') =>
    `cpu ${pct(cpu)} ≥ ${zone} ${pct(c[zone])} for ${zone === 'critical' ? cpuCriticalStreak : cpuHighStreak} samples`;

  const critical = memZone === 'critical' || cpuZone === 'critical';
  const warn = memZone === 'warn' || cpuZone === 'warn';
  const level: PressureState['level'] = critical
    ? 'critical'
    : memZone === 'clear' && cpuZone === 'clear'
      ? 'normal'
      : warn && state.level === 'normal'
        ? 'warn'
        : state.level;

  const actions: PressureAction[] = [];
  let warned = level === 'normal' ? false : state.warned;

  if (level === 'critical' && state.level !== 'critical') {
    const why = [memZone === 'critical' ? memWhy('critical') : null, cpuZone === 'critical' ? cpuWhy('critical') : null]
      .filter((s) => s !== null)
      .join('; ');
    actions.push({
      type: 'alert',
      resource: memZone === 'critical' ? 'memory' : 'cpu',
      level: 'critical',
      detail: why,
    });
    actions.push({ type: 'defer_starts', on: true, reason: why });
    warned = true;
  } else if (level === 'warn' && !warned) {
    const why = [memZone === 'warn' ? memWhy('warn') : null, cpuZone === 'warn' ? cpuWhy('warn') : null]
      .filter((s) => s !== null)
      .join('; ');
    actions.push({ type: 'alert', resource: memZone === 'warn' ? 'memory' : 'cpu', level: 'warn', detail: why });
    warned = true;
  }

  const ranked = [...actors].sort(byImportance);
  const top = ranked[0];

  if (critical) {
    // Memory first when both are critical: it is the one that kills.
    const forMemory = memZone === 'critical';
    const reason = forMemory ? memWhy('critical') : cpuWhy('critical');
    const candidates = ranked.filter((a) => a.running && !a.paused);
    const victim = candidates.filter((a) => a !== top).at(-1);
    if (victim !== undefined) {
      actions.push({ type: 'pause', actor: victim.name, reason });
    } else if (forMemory && top !== undefined && candidates.includes(top)) {
      actions.push({
        type: 'alert',
        resource: 'memory',
        level: 'critical',
        detail: `pausing ${top.name}, the most important actor, as a last resort: ${reason}`,
      });
      actions.push({ type: 'pause', actor: top.name, reason: `${reason} (last resort)` });
    }
  } else if (level === 'normal') {
    const reason = `memory ${pct(mem)} < resume ${pct(m.resume)}, cpu ${pct(cpu)} < resume ${pct(c.resume)}`;
    if (state.level === 'critical') actions.push({ type: 'defer_starts', on: false, reason });
    const next = ranked.find((a) => a.paused);
    if (next !== undefined) actions.push({ type: 'resume', actor: next.name, reason });
  }

  return [{ level, cpuHighStreak, cpuCriticalStreak, warned }, actions];
}
