/**
 * The health monitor decides and returns actions; it reads the actors from a
 * view and touches nothing. What it is handed here is a plain view, as the
 * registry derives it from the supervisors' states.
 */
import { describe, expect, it } from 'vitest';
import { freshSignals } from '../../src/actors/health-channel.ts';
import { HealthMonitor, type MonitorAction } from '../../src/actors/health-monitor.ts';
import type { LiveActor, LiveView } from '../../src/actors/registry.ts';
import type { HealthSettings } from '../../src/runtime/spec.ts';

const health = (action: 'restart' | 'alert' | 'pause'): HealthSettings => ({
  healthThreshold: null,
  healthGrace: 3,
  stallTimeoutMs: null,
  resourceLimits: { maxMemoryMb: 100, maxCpuPercent: null, maxFds: null, action },
  limitGrace: 2,
  errorPatterns: [],
});

const actor = (name: string, over: Partial<LiveActor> = {}): LiveActor => ({
  name,
  kind: 'process',
  pid: 100,
  priority: 10,
  health: health('pause'),
  paused: null,
  stopping: false,
  ...over,
});

function monitor(actors: LiveActor[], protection = false) {
  const view: LiveView = {
    children: () => [],
    running: () => actors,
    signals: () => freshSignals(),
    usage: () => null,
    recent: () => 0,
    follow: () => () => {},
  };
  return new HealthMonitor({
    view,
    cores: 2,
    machineMemMb: 4096,
    protection: protection
      ? {
          memory: { warn: 80, critical: 90, resume: 70 },
          cpu: { warn: 1000, critical: 1000, resume: 1000, sustainSamples: 3 },
        }
      : null,
    leak: { windowMs: 600_000, minSamples: 10 },
  });
}

const kinds = (actions: readonly MonitorAction[]) =>
  actions.map((a) => (a.type === 'event' ? `event ${a.event.kind}` : a.type));
const over = { rssMb: 150, cpuPercent: 1, numFds: 5 };

describe('the health monitor returns what to do', () => {
  it('a memory limit with action pause: after limit_grace samples, a limit event and a pause by the limit', () => {
    const a = actor('feed');
    const m = monitor([a]);
    expect(m.judge(a, over, 0).actions).toEqual([]);
    const { score, actions } = m.judge(a, over, 1_000);
    expect(score).toBeTypeOf('number');
    expect(kinds(actions)).toEqual(['event limit', 'pause']);
    expect(actions[1]).toEqual({
      type: 'pause',
      actor: 'feed',
      by: 'limit',
      reason: 'memory 150MB over its limit 100MB for 2 samples',
    });
  });

  it('a paused actor is not judged, and once resumed its streak starts over', () => {
    const m = monitor([]);
    const paused = actor('feed', { paused: { by: 'limit', reason: 'memory' } });
    m.judge(actor('feed'), over, 0);
    expect(m.judge(paused, over, 1_000)).toEqual({ score: null, actions: [] });
    const resumed = actor('feed');
    expect(m.judge(resumed, over, 2_000).actions).toEqual([]); // sample 1 of 2 again
    expect(kinds(m.judge(resumed, over, 3_000).actions)).toEqual(['event limit', 'pause']);
  });

  it('a thread actor over its limit is reported, never paused; action restart asks for a failure', () => {
    const t = actor('calc', { kind: 'thread', pid: null });
    const m = monitor([t]);
    m.judge(t, over, 0);
    expect(kinds(m.judge(t, over, 1).actions)).toEqual(['event limit']);
    const r = actor('feed', { health: health('restart') });
    m.judge(r, over, 0);
    const actions = m.judge(r, over, 1).actions;
    expect(kinds(actions)).toEqual(['event limit', 'fail']);
    expect(actions[1]).toMatchObject({ type: 'fail', actor: 'feed', errorType: 'limit' });
  });

  it('protection pauses the least important process actor, never one a person paused, and resumes its own', () => {
    const actors = [
      actor('important', { priority: 1 }),
      actor('mine', { priority: 50, paused: { by: 'person', reason: 'uid 0' } }),
      actor('optional', { priority: 20 }),
    ];
    const m = monitor(actors, true);
    const pauses = m.system(95, 10).filter((a) => a.type === 'pause');
    expect(pauses).toEqual([{ type: 'pause', actor: 'optional', by: 'pressure', reason: expect.any(String) }]);
    actors[2] = actor('optional', { priority: 20, paused: { by: 'pressure', reason: 'memory' } });
    const later = m.system(50, 10);
    expect(later.filter((a) => a.type === 'resume').map((a) => (a.type === 'resume' ? a.actor : ''))).toEqual([
      'optional',
    ]);
  });
});
