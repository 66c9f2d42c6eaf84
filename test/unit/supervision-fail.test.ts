/**
 * The fail message (restart.ts): herder itself finds a running child failing
 * (an error pattern with action restart, health below its threshold, a limit
 * exceeded). It is stopped at once, and its exit, however it comes, counts as
 * that failure: the same error row, backoff and max_restarts as a crash.
 */
import { describe, expect, it } from 'vitest';
import type { Exit } from '../../src/runtime/supervision.ts';
import { errors, events, exits, outcome, restartDelays, Sim, stops, timersCancelled } from './sim.ts';
import { loopJob, supervisor, worker } from './spec-factory.ts';

describe('fail', () => {
  it.each<{ how: string; exit: Exit }>([
    { how: 'SIGTERM', exit: exits.killed('SIGTERM') },
    { how: 'exit 0', exit: exits.normal() },
    { how: 'a crash', exit: exits.crash('KeyboardInterrupt') },
  ])('stops the child; its exit by $how is the failure asked for, restarted with backoff', ({ exit }) => {
    const sim = new Sim(supervisor('root', [worker('feed'), worker('other')]));
    sim.start();
    const fx = sim.fail('feed', 'health', 'health 20 below health_threshold 50');
    expect(stops(fx)).toEqual(['feed:terminate']);
    expect(events(fx, 'stop')).toEqual([
      { process: 'feed', detail: 'restarting it: health 20 below health_threshold 50' },
    ]);
    const end = sim.runThenExit('feed', 2_000, exit);
    expect(errors(end)).toEqual([{ process: 'feed', errorType: 'health' }]);
    expect(events(end, 'exit')).toEqual([
      { process: 'feed', detail: 'stopped by herder (health 20 below health_threshold 50) after 2s' },
    ]);
    expect(restartDelays(end)).toEqual([1_000]);
    expect(sim.child('feed')).toMatchObject({ failures: 1, failuresTotal: 1 });
    expect(sim.status('other')).toBe('running');
  });

  it('cancels the run_timeout of the run it stops', () => {
    const sim = new Sim(supervisor('root', [loopJob('snap', 60_000, { runTimeoutMs: 30_000 })]));
    sim.start();
    expect(timersCancelled(sim.fail('snap', 'memory_limit', 'over max_memory_mb'))).toEqual(['timeout:snap']);
    sim.exit('snap', exits.killed('SIGTERM'));
    // A loop job that failed is restarted with backoff, not after its interval.
    expect(restartDelays(sim.log)).toEqual([1_000]);
  });

  it('counts towards max_restarts like a crash', () => {
    const sim = new Sim(supervisor('root', [worker('feed', { maxRestarts: 1 }), worker('other')]));
    sim.start();
    sim.fail('feed');
    sim.exit('feed', exits.killed('SIGTERM'));
    sim.advance(1_000);
    sim.fail('feed');
    const fx = sim.exit('feed', exits.killed('SIGTERM'));
    expect(sim.status('feed')).toBe('fatal');
    expect(events(fx, 'giveup')[0]?.detail).toMatch(
      /^gave up after 2 failures in a row \(max_restarts 1\); last failure: health: /,
    );
  });

  it('a temporary child is not restarted', () => {
    const sim = new Sim(supervisor('root', [worker('once', { restart: 'temporary' }), worker('other')]));
    sim.start();
    sim.fail('once');
    sim.exit('once', exits.killed('SIGTERM'));
    expect(sim.child('once').status).toEqual({ tag: 'stopped', why: 'temporary: not restarted after a failure' });
  });

  it('is ignored unless the child runs and the supervisor is running', () => {
    const sim = new Sim(supervisor('root', [worker('feed'), loopJob('snap', 60_000), worker('other')]));
    sim.start();
    sim.runThenExit('snap', 1_000);
    sim.exit('feed', exits.crash());
    expect(sim.fail('feed')).toEqual([]); // restarting
    expect(sim.fail('snap')).toEqual([]); // waiting for its next run
    expect(sim.fail('nobody')).toEqual([]);
    sim.shutdown('finish', 'deadline');
    expect(sim.fail('other')).toEqual([]); // already being stopped
    expect(outcome(sim.exit('other', exits.killed('SIGTERM')))).toBe('stopped');
    expect(errors(sim.log)).toEqual([{ process: 'feed', errorType: 'RuntimeError' }]);
  });
});
