/**
 * Restart strategies: which siblings a failure takes down and brings back,
 * and how a group restart is counted.
 */
import { describe, expect, it } from 'vitest';
import type { Strategy } from '../../src/runtime/spec.ts';
import { errors, events, exits, restartDelays, Sim, starts, stops } from './sim.ts';
import { loopJob, supervisor, worker } from './spec-factory.ts';

const names = ['source', 'parser', 'sink'];

function threeChildren(strategy: Strategy, intensity = 0): Sim {
  const sim = new Sim(
    supervisor(
      'pipeline',
      names.map((n) => worker(n)),
      { strategy, intensity, periodMs: 5_000 },
    ),
  );
  sim.start();
  return sim;
}

describe.each([
  { strategy: 'one_for_one', failed: 'parser', stopped: [], restarted: ['parser'] },
  { strategy: 'one_for_all', failed: 'parser', stopped: ['sink', 'source'], restarted: ['source', 'parser', 'sink'] },
  { strategy: 'rest_for_one', failed: 'parser', stopped: ['sink'], restarted: ['parser', 'sink'] },
  { strategy: 'rest_for_one', failed: 'source', stopped: ['sink', 'parser'], restarted: ['source', 'parser', 'sink'] },
  { strategy: 'rest_for_one', failed: 'sink', stopped: [], restarted: ['sink'] },
] as const)('$strategy, $failed crashes', ({ strategy, failed, stopped, restarted }) => {
  it(`stops ${stopped.join(', ') || 'no sibling'} (terminate, reverse start order) and restarts ${restarted.join(', ')} in order`, () => {
    const sim = threeChildren(strategy);
    const fx = sim.exit(failed, exits.crash());
    expect(stops(fx)).toEqual(stopped.map((n) => `${n}:terminate`));
    expect(events(fx, 'stop').map((e) => e.process)).toEqual(stopped);
    expect(restartDelays(fx)).toEqual([1_000]);

    for (const n of stopped) sim.exit(n, exits.killed('SIGTERM'));
    expect(starts(sim.advance(1_000))).toEqual(restarted);
    for (const n of names) expect(sim.status(n)).toBe('running');
    for (const n of restarted) expect(sim.child(n).restarts).toBe(1);
    expect(errors(sim.log)).toEqual([{ process: failed, errorType: 'RuntimeError' }]);
  });

  it('counts the group restart as one restart for intensity', () => {
    const sim = threeChildren(strategy, 1);
    sim.exit(failed, exits.crash());
    for (const n of stopped) sim.exit(n);
    sim.advance(1_000);
    expect(sim.state.restartTimes).toEqual([1_000]);
    expect(sim.state.phase).toBe('running');
    expect(events(sim.log, 'escalate')).toEqual([]);
  });
});

describe('one_for_all', () => {
  it('waits for every stopped sibling to exit before starting any', () => {
    const sim = threeChildren('one_for_all');
    sim.exit('parser', exits.crash());
    expect(starts(sim.advance(5_000))).toEqual([]);
    expect(starts(sim.exit('sink'))).toEqual([]);
    expect(sim.child('sink').status).toMatchObject({ tag: 'restarting' });
    expect(starts(sim.exit('source', exits.killed('SIGKILL')))).toEqual(['source', 'parser', 'sink']);
  });

  it('starts all only after the delay, even when the siblings exit at once', () => {
    const sim = threeChildren('one_for_all');
    sim.exit('parser', exits.crash());
    sim.exit('source');
    sim.exit('sink');
    expect(starts(sim.advance(999))).toEqual([]);
    expect(starts(sim.advance(1))).toEqual(['source', 'parser', 'sink']);
  });

  it('does not restart a temporary sibling with the group', () => {
    const sim = new Sim(
      supervisor('pipeline', [worker('source'), worker('scratch', { restart: 'temporary' }), worker('sink')], {
        strategy: 'one_for_all',
      }),
    );
    sim.start();
    const fx = sim.exit('sink', exits.crash());
    expect(stops(fx)).toEqual(['scratch:terminate', 'source:terminate']);
    sim.exit('source');
    sim.exit('scratch');
    expect(sim.child('scratch').status).toEqual({ tag: 'stopped', why: 'temporary: not restarted with its group' });
    expect(starts(sim.advance(1_000))).toEqual(['source', 'sink']);
  });

  it('takes a waiting loop job into the group instead of its next loop run', () => {
    const sim = new Sim(
      supervisor('pipeline', [loopJob('snapshot', 60_000), worker('feed')], { strategy: 'one_for_all' }),
    );
    sim.start();
    sim.runThenExit('snapshot', 1_000);
    const fx = sim.exit('feed', exits.crash());
    expect(fx).toContainEqual({ type: 'cancel_timer', key: 'loop:snapshot' });
    expect(sim.pendingTimers()).toEqual(['group:1']);
    expect(starts(sim.advance(1_000))).toEqual(['snapshot', 'feed']);
  });

  // Suspected bug: scheduleRestart moves a loop_wait sibling to 'restarting'
  // but leaves its nextRunWall at the old loop due time, so `herder status`
  // (which shows next_run_at for restarting children) says "in 30s" for a
  // child that restarts in 1s.
  it('shows the group restart time as the next run of a waiting loop job', () => {
    const sim = new Sim(
      supervisor('pipeline', [loopJob('snapshot', 30_000), worker('feed')], { strategy: 'one_for_all' }),
    );
    sim.start();
    sim.runThenExit('snapshot', 1_000);
    sim.exit('feed', exits.crash());
    expect(sim.child('snapshot').status).toEqual({ tag: 'restarting', dueAt: 2_000, group: 1 });
    expect(sim.child('snapshot').nextRunWall).toBe(sim.clock.wall() + 1_000);
  });

  it('leaves given-up and stopped siblings alone', () => {
    const sim = new Sim(
      supervisor('pipeline', [worker('once', { restart: 'transient' }), worker('feed'), worker('sink')], {
        strategy: 'one_for_all',
      }),
    );
    sim.start();
    sim.exit('once');
    const fx = sim.exit('feed', exits.crash());
    expect(stops(fx)).toEqual(['sink:terminate']);
    sim.exit('sink');
    expect(starts(sim.advance(1_000))).toEqual(['feed', 'sink']);
    expect(sim.status('once')).toBe('stopped');
  });

  it('counts each group restart once', () => {
    const sim = threeChildren('one_for_all');
    sim.exit('parser', exits.crash());
    sim.exit('source');
    sim.exit('sink');
    sim.advance(1_000);
    // All three run again; a crash of source takes the whole group down again.
    sim.runThenExit('source', 100, exits.crash());
    expect(sim.pendingTimers()).toEqual(['group:2']);
    sim.exit('parser');
    sim.exit('sink');
    expect(starts(sim.advance(1_000))).toEqual(['source', 'parser', 'sink']);
    expect(sim.state.restartTimes).toEqual([1_000, 2_100]);
  });
});

describe('rest_for_one', () => {
  it('leaves children before the failed one running', () => {
    const sim = threeChildren('rest_for_one');
    sim.exit('parser', exits.crash());
    sim.exit('sink');
    sim.advance(1_000);
    expect(sim.child('source')).toMatchObject({ runs: 1, restarts: 0, status: { tag: 'running', since: 0 } });
  });

  it('folds a later failure of an earlier child into one group', () => {
    const sim = threeChildren('rest_for_one');
    sim.exit('sink', exits.crash());
    const fx = sim.exit('source', exits.crash());
    expect(fx).toContainEqual({ type: 'cancel_timer', key: 'group:1' });
    expect(stops(fx)).toEqual(['parser:terminate']);
    sim.exit('parser');
    expect(sim.pendingTimers()).toEqual(['group:2']);
    expect(starts(sim.advance(1_000))).toEqual(['source', 'parser', 'sink']);
    expect(sim.state.restartTimes).toHaveLength(1);
  });
});

describe('group restarts: edge cases', () => {
  it('a waiting temporary loop job leaves the group for good instead of being restarted', () => {
    const sim = new Sim(
      supervisor('pipeline', [loopJob('probe', 60_000, { restart: 'temporary' }), worker('feed')], {
        strategy: 'one_for_all',
      }),
    );
    sim.start();
    sim.runThenExit('probe', 1_000);
    const fx = sim.exit('feed', exits.crash());
    expect(fx).toContainEqual({ type: 'cancel_timer', key: 'loop:probe' });
    expect(sim.child('probe').status).toEqual({ tag: 'stopped', why: 'temporary: not restarted with its group' });
    expect(starts(sim.advance(1_000))).toEqual(['feed']);
  });

  it('a run_timeout stop overtaken by a group restart still counts as a timeout failure', () => {
    const sim = new Sim(
      supervisor('pipeline', [loopJob('slow', 60_000, { runTimeoutMs: 5_000 }), worker('feed')], {
        strategy: 'one_for_all',
      }),
    );
    sim.start();
    sim.advance(5_000); // slow's run_timeout fires: it is asked to stop
    expect(sim.status('slow')).toBe('stopping');
    const fx = sim.exit('feed', exits.crash());
    expect(errors(fx)).toEqual([
      { process: 'feed', errorType: 'RuntimeError' },
      { process: 'slow', errorType: 'timeout' },
    ]);
    sim.exit('slow', exits.killed('SIGTERM'));
    expect(sim.child('slow')).toMatchObject({ failures: 1, status: { tag: 'restarting' } });
  });
});
