/**
 * Start, loop jobs, shutdown and finishing: the parts of a supervisor's life
 * that involve no failure.
 */
import { describe, expect, it } from 'vitest';
import { timerKeys } from '../../src/runtime/supervision.ts';
import { errors, events, exits, outcome, Sim, starts, stops, timersCancelled, timersSet } from './sim.ts';
import { loopJob, supervisor, worker } from './spec-factory.ts';

describe('start', () => {
  it('starts every child once, in spec (priority) order', () => {
    const sim = new Sim(supervisor('root', [worker('ingest'), loopJob('snapshot', 60_000), worker('publish')]));
    const fx = sim.start();
    expect(starts(fx)).toEqual(['ingest', 'snapshot', 'publish']);
    expect(sim.state.phase).toBe('running');
    for (const name of ['ingest', 'snapshot', 'publish']) {
      expect(sim.child(name)).toMatchObject({ status: { tag: 'running', since: 0 }, runs: 1, restarts: 0 });
    }
  });

  it('arms a run_timeout timer for workers that have one', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000, { runTimeoutMs: 30_000 }), worker('feed')]));
    expect(timersSet(sim.start())).toEqual([`${timerKeys.timeout('snapshot')}=30000`]);
  });

  it('ignores a second start message', () => {
    const sim = new Sim(supervisor('root', [worker('feed')]));
    sim.start();
    expect(sim.start()).toEqual([]);
  });

  it('reports the pid of a started child in a start event', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000)]));
    sim.start();
    expect(events(sim.started('snapshot', 311), 'start')).toEqual([
      { process: 'snapshot', detail: 'started, pid 311 (run 1)' },
    ]);
  });
});

describe('loop jobs', () => {
  it('waits intervalMs after a normal exit, then runs again without counting a restart', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 30_000)]));
    sim.start();
    const fx = sim.runThenExit('snapshot', 2_000);
    expect(timersSet(fx)).toEqual(['loop:snapshot=30000']);
    expect(events(fx, 'loop_wait')).toHaveLength(1);
    expect(events(fx, 'restart')).toEqual([]);
    expect(sim.child('snapshot')).toMatchObject({
      status: { tag: 'loop_wait', dueAt: 32_000 },
      successes: 1,
      failures: 0,
      nextRunWall: sim.clock.wall() + 30_000,
    });

    expect(starts(sim.advance(29_999))).toEqual([]);
    expect(starts(sim.advance(1))).toEqual(['snapshot']);
    expect(sim.child('snapshot')).toMatchObject({ status: { tag: 'running' }, runs: 2, restarts: 0 });
    expect(sim.state.restartTimes).toEqual([]);
  });

  it('resets the failure count on a successful run', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 30_000)]));
    sim.start();
    sim.runThenExit('snapshot', 100, exits.crash());
    sim.advance(1_000);
    sim.runThenExit('snapshot', 100, exits.crash());
    expect(sim.child('snapshot').failures).toBe(2);
    sim.advance(2_000);
    sim.runThenExit('snapshot', 100);
    expect(sim.child('snapshot')).toMatchObject({ failures: 0, successes: 1, failuresTotal: 2 });
  });
});

describe('stops requested by herder are not failures', () => {
  const cases = [
    { how: 'exit 0', exit: exits.normal() },
    { how: 'SIGTERM', exit: exits.killed('SIGTERM') },
    { how: 'SIGKILL', exit: exits.killed('SIGKILL') },
    { how: 'a crash', exit: exits.crash('KeyboardInterrupt') },
    { how: 'out of memory', exit: exits.oom() },
  ];

  it.each(cases)('shutdown, then the child ends by $how', ({ exit }) => {
    const sim = new Sim(supervisor('root', [worker('feed'), loopJob('snapshot', 60_000)]));
    sim.start();
    sim.shutdown('terminate');
    const fx = [...sim.exit('feed', exit), ...sim.exit('snapshot', exit)];
    expect(fx.filter((e) => e.type === 'error')).toEqual([]);
    expect(sim.child('feed')).toMatchObject({ failures: 0, failuresTotal: 0, status: { tag: 'stopped' } });
    expect(sim.child('snapshot')).toMatchObject({ failures: 0, failuresTotal: 0, status: { tag: 'stopped' } });
    expect(outcome(fx)).toBe('stopped');
  });

  it.each(cases)('stopped for a sibling restart, then the child ends by $how', ({ exit }) => {
    const sim = new Sim(supervisor('root', [worker('feed'), worker('parser')], { strategy: 'one_for_all' }));
    sim.start();
    sim.exit('feed', exits.crash());
    const fx = sim.exit('parser', exit);
    expect(fx.filter((e) => e.type === 'error')).toEqual([]);
    expect(sim.child('parser')).toMatchObject({ failures: 0, failuresTotal: 0, status: { tag: 'restarting' } });
  });

  it('names the signal in the exit event', () => {
    const sim = new Sim(supervisor('root', [worker('feed')]));
    sim.start();
    sim.shutdown();
    const fx = sim.runThenExit('feed', 1_500, exits.killed('SIGTERM'));
    expect(events(fx, 'exit')).toEqual([
      { process: 'feed', detail: 'stopped by herder (shutdown) (SIGTERM) after 1.5s' },
    ]);
  });
});

describe('shutdown', () => {
  it('finish: loop jobs finish their run, continuous actors and the rest are terminated in reverse order', () => {
    const sim = new Sim(
      supervisor('root', [
        loopJob('snapshot', 60_000, { runTimeoutMs: 120_000 }),
        worker('feed'),
        supervisor('inner', [worker('w')]),
      ]),
    );
    sim.start();
    const fx = sim.shutdown('finish', 'max_runtime reached');
    expect(stops(fx)).toEqual(['inner:finish', 'feed:terminate', 'snapshot:finish']);
    expect(timersCancelled(fx)).toEqual(['timeout:snapshot']);
    expect(events(fx, 'shutdown')).toEqual([{ process: 'root', detail: 'max_runtime reached' }]);
    expect(sim.state.phase).toBe('stopping');
    expect(outcome(fx)).toBeNull();
  });

  it('terminate: every running child is terminated', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000), worker('feed')]));
    sim.start();
    expect(stops(sim.shutdown('terminate'))).toEqual(['feed:terminate', 'snapshot:terminate']);
  });

  it('cancels pending loop and restart timers and is done once the running children exit', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000), worker('feed'), worker('parser')]));
    sim.start();
    sim.runThenExit('snapshot', 1_000);
    sim.exit('feed', exits.crash());
    expect(sim.pendingTimers()).toEqual(['group:1', 'loop:snapshot']);

    const fx = sim.shutdown('finish');
    expect(timersCancelled(fx).sort()).toEqual(['group:1', 'loop:snapshot']);
    expect(sim.pendingTimers()).toEqual([]);
    expect(stops(fx)).toEqual(['parser:terminate']);
    expect(sim.status('snapshot')).toBe('stopped');
    expect(sim.status('feed')).toBe('stopped');

    expect(starts(sim.advance(120_000))).toEqual([]);
    const end = sim.exit('parser');
    expect(end.filter((e) => e.type === 'done')).toEqual([{ type: 'done', outcome: 'stopped' }]);
    expect(sim.state.phase).toBe('done');
  });

  it('finish: a loop job that completes its run during the shutdown counts it as a success', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000)]));
    sim.start();
    sim.runThenExit('snapshot', 100, exits.crash());
    sim.advance(1_000);
    sim.shutdown('finish');
    const fx = sim.runThenExit('snapshot', 4_000);
    expect(events(fx, 'exit')).toEqual([
      { process: 'snapshot', detail: 'exited normally after 4s (finished its run during shutdown)' },
    ]);
    expect(sim.child('snapshot')).toMatchObject({ successes: 1, failures: 0, status: { tag: 'stopped' } });
    expect(outcome(fx)).toBe('stopped');
  });

  it('finish: a loop job whose run fails on its own during the shutdown records the failure and is not restarted', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000)]));
    sim.start();
    sim.shutdown('finish');
    const fx = sim.runThenExit('snapshot', 3_000, exits.crashBeforeStop('ValueError'));
    expect(events(fx, 'exit')).toEqual([
      { process: 'snapshot', detail: 'exited with code 1 after 3s (its run failed during shutdown)' },
    ]);
    expect(errors(fx)).toEqual([{ process: 'snapshot', errorType: 'ValueError' }]);
    expect(sim.child('snapshot')).toMatchObject({ successes: 0, failures: 1, status: { tag: 'stopped' } });
    expect(starts(fx)).toEqual([]);
    expect(outcome(fx)).toBe('stopped');
  });

  it('finish: what a loop job does once signalled to stop is not held against it', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000)]));
    sim.start();
    sim.shutdown('finish');
    const fx = sim.runThenExit('snapshot', 3_000, exits.crash('KeyboardInterrupt'));
    expect(events(fx, 'exit')).toEqual([{ process: 'snapshot', detail: 'stopped by herder (shutdown) after 3s' }]);
    expect(errors(fx)).toEqual([]);
    expect(sim.child('snapshot')).toMatchObject({ failures: 0 });
  });

  it('is done at once when nothing runs', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000)]));
    sim.start();
    sim.runThenExit('snapshot', 1_000);
    expect(outcome(sim.shutdown('finish'))).toBe('stopped');
  });

  it('before start: done immediately, nothing is started', () => {
    const sim = new Sim(supervisor('root', [worker('feed')]));
    expect(sim.shutdown('finish')).toEqual([{ type: 'done', outcome: 'stopped' }]);
    expect(sim.start()).toEqual([]);
  });

  it('a second shutdown changes nothing', () => {
    const sim = new Sim(supervisor('root', [worker('feed')]));
    sim.start();
    sim.shutdown('finish');
    expect(sim.shutdown('terminate')).toEqual([]);
  });
});

describe('finishing', () => {
  it('is finished when every child is stopped or given up while running', () => {
    const sim = new Sim(
      supervisor('root', [
        worker('once', { restart: 'transient' }),
        worker('scratch', { restart: 'temporary' }),
        worker('flaky', { maxRestarts: 1 }),
      ]),
    );
    sim.start();
    expect(outcome(sim.exit('once'))).toBeNull();
    expect(outcome(sim.exit('scratch', exits.crash()))).toBeNull();
    sim.exit('flaky', exits.crash());
    sim.advance(1_000);
    const fx = sim.exit('flaky', exits.crash());
    expect(sim.status('flaky')).toBe('fatal');
    expect(events(fx, 'finished')).toEqual([{ process: 'root', detail: 'no child is left to run' }]);
    expect(fx.at(-1)).toEqual({ type: 'done', outcome: 'finished' });
    expect(sim.state.phase).toBe('done');
  });

  it('a supervisor without children finishes as soon as it starts', () => {
    expect(outcome(new Sim(supervisor('root', [])).start())).toBe('finished');
  });

  it('ignores exits of children that are not running (stale reports)', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000), worker('feed')]));
    sim.start();
    sim.exit('snapshot');
    expect(sim.exit('snapshot', exits.crash())).toEqual([]);
    expect(sim.exit('nobody', exits.crash())).toEqual([]);
  });
});

describe('commands from a person (ctl)', () => {
  it('stop, start and restart are never failures; a stopped actor keeps the run going', () => {
    const sim = new Sim(supervisor('root', [worker('feed'), loopJob('snap', 60_000)]));
    sim.start();
    let fx = sim.send({ type: 'command', op: 'stop', child: 'feed', by: 'uid 0' });
    expect(stops(fx)).toEqual(['feed:terminate']);
    fx = sim.exit('feed', exits.killed('SIGTERM'));
    expect(sim.status('feed')).toBe('stopped');
    expect(errors(fx)).toEqual([]);
    expect(outcome(sim.runThenExit('snap', 1_000))).toBeNull();

    fx = sim.send({ type: 'command', op: 'restart', child: 'snap', by: 'uid 0' });
    expect(starts(fx)).toEqual(['snap']);
    expect(timersCancelled(fx)).toContain('loop:snap');

    fx = sim.send({ type: 'command', op: 'start', child: 'feed', by: 'uid 0' });
    expect(starts(fx)).toEqual(['feed']);
    fx = sim.send({ type: 'command', op: 'restart', child: 'feed', by: 'uid 0' });
    expect(stops(fx)).toEqual(['feed:terminate']);
    fx = sim.exit('feed', exits.killed('SIGTERM'));
    expect(starts(fx)).toEqual(['feed']);
    expect(errors(fx)).toEqual([]);
    expect(sim.child('feed')).toMatchObject({ failures: 0, restarts: 1 });
  });

  it('start clears a given-up actor', () => {
    const sim = new Sim(supervisor('root', [worker('flaky', { maxRestarts: 1 }), worker('other')]));
    sim.start();
    sim.exit('flaky', exits.crash());
    sim.advance(1_000);
    sim.exit('flaky', exits.crash());
    expect(sim.status('flaky')).toBe('fatal');
    const fx = sim.send({ type: 'command', op: 'start', child: 'flaky', by: 'uid 0' });
    expect(starts(fx)).toEqual(['flaky']);
    expect(sim.child('flaky').failures).toBe(0);
  });
});

describe('a loop schedule resumed from the record', () => {
  const T0 = Date.UTC(2026, 0, 1); // the ManualClock's wall at 0

  it('waits for a next run still ahead, then runs at interval as usual; other children start at once', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 300_000), worker('feed')]));
    const fx = sim.send({
      type: 'start',
      resume: new Map([['snapshot', { dueWall: T0 + 294_000, from: "run 3's schedule" }]]),
    });
    expect(starts(fx)).toEqual(['feed']);
    expect(events(fx, 'loop_wait')).toEqual([
      {
        process: 'snapshot',
        detail: "next run in 4m54s (resuming run 3's schedule: due at 2026-01-01 00:04:54 UTC)",
      },
    ]);
    expect(sim.child('snapshot')).toMatchObject({ status: { tag: 'loop_wait', dueAt: 294_000 }, runs: 0 });
    expect(sim.child('snapshot')?.nextRunWall).toBe(T0 + 294_000);
    expect(starts(sim.advance(293_999))).toEqual([]);
    expect(starts(sim.advance(1))).toEqual(['snapshot']);
  });

  it('runs at once, once, when the run it was due for was missed while herder was down', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 300_000)]));
    const fx = sim.send({
      type: 'start',
      resume: new Map([['snapshot', { dueWall: T0 - 3_600_000, from: "run 7's schedule" }]]),
    });
    expect(starts(fx)).toEqual(['snapshot']);
    expect(events(fx, 'loop_wait')).toEqual([
      {
        process: 'snapshot',
        detail:
          "next run now (resuming run 7's schedule: its run due at 2025-12-31 23:00:00 UTC was missed while herder was down)",
      },
    ]);
  });

  it('a continuous actor named in the schedule starts at once all the same', () => {
    const sim = new Sim(supervisor('root', [worker('feed')]));
    const fx = sim.send({ type: 'start', resume: new Map([['feed', { dueWall: T0 + 60_000, from: 'x' }]]) });
    expect(starts(fx)).toEqual(['feed']);
  });

  it('a shutdown keeps the next run a waiting loop job was due for, so that the next herder can resume it', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000)]));
    sim.start();
    sim.started('snapshot', 10);
    sim.exit('snapshot');
    expect(sim.child('snapshot')?.nextRunWall).toBe(T0 + 60_000);
    sim.shutdown('finish', 'deadline');
    expect(sim.child('snapshot')).toMatchObject({ status: { tag: 'stopped' }, nextRunWall: T0 + 60_000 });
  });
});
