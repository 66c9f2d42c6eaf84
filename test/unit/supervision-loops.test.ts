/**
 * loops.ts: a loop job's wait after a run that matched a "backoff" error
 * pattern, runs deferred while the machine is under pressure, and the
 * pattern_backoff message for a continuous actor.
 */
import { describe, expect, it } from 'vitest';
import { DEFER_RETRY_MS, type Effect } from '../../src/runtime/supervision.ts';
import { errors, events, exits, restartDelays, Sim, starts, stops, timersSet } from './sim.ts';
import { loopJob, supervisor, worker } from './spec-factory.ts';

/** The wait a loop job's run ended with. */
function loopWait(fx: readonly Effect[]): number {
  const t = fx.find((e) => e.type === 'set_timer' && e.key.startsWith('loop:'));
  if (t?.type !== 'set_timer') throw new Error('no loop wait');
  return t.ms;
}

describe('pattern_backoff', () => {
  it.each([
    { streak: 1, wait: 60_000, why: '1 run in a row' },
    { streak: 2, wait: 60_000, why: '2 runs in a row' },
    { streak: 3, wait: 120_000, why: '3 runs in a row' },
    { streak: 4, wait: 240_000, why: '4 runs in a row' },
  ])(
    'a loop job whose runs keep matching waits the longer of its interval and the backoff ($why)',
    ({ streak, wait, why }) => {
      // backoff 30 s doubling to 4 min; interval 1 min: the backoff overtakes it from the third run on.
      const sim = new Sim(
        supervisor('root', [loopJob('scrape', 60_000, { backoff: { initialMs: 30_000, maxMs: 240_000, jitter: 0 } })]),
      );
      sim.start();
      let fx: Effect[] = [];
      for (let run = 1; run <= streak; run++) {
        if (run > 1) sim.advance(loopWait(fx)); // its next run starts
        expect(sim.patternBackoff('scrape', 'rate_limited')).toEqual([]); // nothing happens to the run itself
        fx = sim.runThenExit('scrape', 500);
      }
      expect(timersSet(fx)).toEqual([`loop:scrape=${wait}`]);
      expect(events(fx, 'loop_wait')).toEqual([
        { process: 'scrape', detail: expect.stringContaining(`(backing off: error pattern rate_limited, ${why})`) },
      ]);
      expect(sim.child('scrape')).toMatchObject({ failures: 0, successes: streak, patternStreak: streak });
    },
  );

  it('a clean run ends the streak: the next wait is the interval again', () => {
    const sim = new Sim(supervisor('root', [loopJob('scrape', 60_000)]));
    sim.start();
    sim.patternBackoff('scrape');
    sim.runThenExit('scrape', 500);
    sim.advance(60_000);
    const fx = sim.runThenExit('scrape', 500);
    expect(timersSet(fx)).toEqual(['loop:scrape=60000']);
    expect(sim.child('scrape').patternStreak).toBe(0);
  });

  it('a run that fails after matching is a failure like any other, and the match is forgotten', () => {
    const sim = new Sim(supervisor('root', [loopJob('scrape', 60_000)]));
    sim.start();
    sim.patternBackoff('scrape');
    const fx = sim.runThenExit('scrape', 500, exits.crash());
    expect(restartDelays(fx)).toEqual([1_000]);
    expect(sim.child('scrape').patternPending).toBeNull();
  });

  it('a continuous actor has no next run to delay: it is restarted as a failure, with backoff', () => {
    const sim = new Sim(supervisor('root', [worker('feed')]));
    sim.start();
    const fx = sim.patternBackoff('feed', 'rate_limited');
    expect(stops(fx)).toEqual(['feed:terminate']);
    const end = sim.exit('feed', exits.killed('SIGTERM'));
    expect(errors(end)).toEqual([{ process: 'feed', errorType: 'rate_limited' }]);
    expect(restartDelays(end)).toEqual([1_000]);
  });

  it('is ignored for a child that is not running', () => {
    const sim = new Sim(supervisor('root', [loopJob('scrape', 60_000), worker('feed')]));
    sim.start();
    sim.runThenExit('scrape', 500);
    expect(sim.patternBackoff('scrape')).toEqual([]);
    expect(sim.patternBackoff('nobody')).toEqual([]);
    expect(sim.child('scrape').patternPending).toBeNull();
  });
});

describe('defer (machine pressure)', () => {
  it('a loop run that falls due waits, tried again every DEFER_RETRY_MS, and starts once pressure is off', () => {
    const sim = new Sim(supervisor('root', [loopJob('snap', 60_000), worker('feed')]));
    sim.start();
    sim.runThenExit('snap', 1_000);
    expect(sim.defer(true)).toEqual([]);
    let fx = sim.advance(60_000);
    expect(starts(fx)).toEqual([]);
    expect(events(fx, 'deferred')).toEqual([
      { process: 'snap', detail: 'next run deferred: the machine is under pressure; trying again in 5s' },
    ]);
    expect(timersSet(fx)).toEqual([`loop:snap=${DEFER_RETRY_MS}`]);
    fx = sim.advance(DEFER_RETRY_MS);
    expect(events(fx, 'deferred')).toHaveLength(1);
    expect(sim.status('snap')).toBe('loop_wait');
    sim.defer(false);
    expect(starts(sim.advance(DEFER_RETRY_MS))).toEqual(['snap']);
  });

  it('never stops what runs, nor delays a restart after a failure', () => {
    const sim = new Sim(supervisor('root', [worker('feed')]));
    sim.start();
    sim.defer(true);
    expect(sim.status('feed')).toBe('running');
    sim.exit('feed', exits.crash());
    expect(starts(sim.advance(1_000))).toEqual(['feed']);
  });
});
