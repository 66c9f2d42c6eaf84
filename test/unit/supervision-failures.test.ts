/**
 * What a child's exit means for that child alone: backoff, restart types,
 * max_restarts, reset_after, run_timeout and the "exits 0 quickly" hint.
 */
import { describe, expect, it } from 'vitest';
import type { RestartType } from '../../src/runtime/spec.ts';
import { type Exit, QUICK_EXIT_MS } from '../../src/runtime/supervision.ts';
import { errors, events, exits, restartDelays, Sim, starts, stops, timersCancelled } from './sim.ts';
import { loopJob, supervisor, worker } from './spec-factory.ts';

/** Crashes `name` `n` times in a row (each after 100ms), returning the restart delays. */
function crashRepeatedly(sim: Sim, name: string, n: number, exit: Exit = exits.crash()): number[] {
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const [delay] = restartDelays(sim.runThenExit(name, 100, exit));
    if (delay === undefined) break;
    delays.push(delay);
    sim.advance(delay);
  }
  return delays;
}

describe('loop job crash', () => {
  it('records the error with its type and schedules a restart with backoff', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000)]));
    sim.start();
    const fx = sim.runThenExit('snapshot', 3_000, exits.crash('ValueError', 2));
    expect(errors(fx)).toEqual([{ process: 'snapshot', errorType: 'ValueError' }]);
    expect(events(fx, 'exit')).toEqual([{ process: 'snapshot', detail: 'exited with code 2 after 3s' }]);
    expect(events(fx, 'restart')).toEqual([{ process: 'snapshot', detail: 'restart in 1s (failure 1 in a row)' }]);
    expect(restartDelays(fx)).toEqual([1_000]);
    expect(sim.child('snapshot')).toMatchObject({ status: { tag: 'restarting', dueAt: 4_000 }, failures: 1 });
    expect(starts(sim.advance(1_000))).toEqual(['snapshot']);
    expect(sim.child('snapshot').restarts).toBe(1);
  });

  it('doubles the delay for each failure in a row, up to the cap', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000)]));
    sim.start();
    expect(crashRepeatedly(sim, 'snapshot', 6)).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('starts again from the initial delay after a success', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000)]));
    sim.start();
    expect(crashRepeatedly(sim, 'snapshot', 3)).toEqual([1_000, 2_000, 4_000]);
    sim.runThenExit('snapshot', 100);
    sim.advance(60_000);
    expect(crashRepeatedly(sim, 'snapshot', 2)).toEqual([1_000, 2_000]);
  });

  it('keeps counting failures however long a loop run lasted', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000, { resetAfterMs: 1_000 })]));
    sim.start();
    expect(restartDelays(sim.runThenExit('snapshot', 5_000, exits.crash()))).toEqual([1_000]);
    sim.advance(1_000);
    expect(restartDelays(sim.runThenExit('snapshot', 5_000, exits.crash()))).toEqual([2_000]);
  });

  it('shortens the delay by jitter × random', () => {
    const sim = new Sim(
      supervisor('root', [loopJob('snapshot', 60_000, { backoff: { initialMs: 1_000, maxMs: 8_000, jitter: 0.5 } })]),
    );
    sim.random = 0.5;
    sim.start();
    expect(restartDelays(sim.runThenExit('snapshot', 100, exits.crash()))).toEqual([750]);
  });

  it.each([
    { kind: 'out of memory', exit: exits.oom(), errorType: 'oom', detail: 'ran out of memory after 100ms' },
    {
      kind: 'a failed start',
      exit: exits.startFailed('spawn_error'),
      errorType: 'spawn_error',
      detail: 'could not start: ENOENT',
    },
    { kind: 'a signal', exit: exits.killed('SIGSEGV'), errorType: 'signal', detail: 'killed by SIGSEGV after 100ms' },
  ])('treats $kind as a failure', ({ exit, errorType, detail }) => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000)]));
    sim.start();
    const fx = sim.runThenExit('snapshot', 100, exit);
    expect(errors(fx)).toEqual([{ process: 'snapshot', errorType }]);
    expect(events(fx, 'exit')).toEqual([{ process: 'snapshot', detail }]);
    expect(sim.status('snapshot')).toBe('restarting');
  });
});

describe('continuous actor that exits 0 quickly', () => {
  it('gets exactly one hint to set requires_loop, from the third quick exit on', () => {
    const sim = new Sim(supervisor('root', [worker('report')]));
    sim.start();
    const hints: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const fx = sim.runThenExit('report', 500);
      if (events(fx, 'hint').length > 0) hints.push(i);
      expect(events(fx, 'hint').every((h) => h.detail.includes('requires_loop: true'))).toBe(true);
      sim.advance(10_000);
    }
    expect(hints).toEqual([3]);
    expect(events(sim.log, 'hint')).toHaveLength(1);
  });

  it('is restarted with backoff, as a permanent child that keeps exiting', () => {
    const sim = new Sim(supervisor('root', [worker('report')]));
    sim.start();
    expect(crashRepeatedly(sim, 'report', 3, exits.normal())).toEqual([1_000, 2_000, 4_000]);
    expect(errors(sim.log)).toEqual([]);
    // Counted like failures (flapping), but the events say it was no crash.
    expect(events(sim.log, 'restart').map((e) => e.detail)).toEqual([
      'restart in 1s (failure 1 in a row: exited 0 before staying up 1m00s)',
      'restart in 2s (failure 2 in a row: exited 0 before staying up 1m00s)',
      'restart in 4s (failure 3 in a row: exited 0 before staying up 1m00s)',
    ]);
  });

  it('gets no hint when a long run comes between quick exits', () => {
    const sim = new Sim(supervisor('root', [worker('report')]));
    sim.start();
    for (const ran of [500, 500, QUICK_EXIT_MS, 500, 500]) {
      sim.runThenExit('report', ran);
      sim.advance(10_000);
    }
    expect(events(sim.log, 'hint')).toEqual([]);
  });

  // Suspected bug: the comment on QUICK_EXIT_MS says "exits 0 within this long,
  // three times in a row", but only a long *normal* run resets the count; a
  // crash (even after an hour) in between does not.
  it('gets no hint when a crash comes between quick exits', () => {
    const sim = new Sim(supervisor('root', [worker('report')]));
    sim.start();
    sim.runThenExit('report', 500);
    sim.advance(10_000);
    sim.runThenExit('report', 500);
    sim.advance(10_000);
    sim.runThenExit('report', 3_600_000, exits.crash());
    sim.advance(10_000);
    sim.runThenExit('report', 500);
    expect(events(sim.log, 'hint')).toEqual([]);
  });
});

describe('restart types', () => {
  const table: { restart: RestartType; exit: Exit; restarted: boolean; why?: string }[] = [
    { restart: 'permanent', exit: exits.normal(), restarted: true },
    { restart: 'permanent', exit: exits.crash(), restarted: true },
    { restart: 'transient', exit: exits.normal(), restarted: false, why: 'exited normally (transient: not restarted)' },
    { restart: 'transient', exit: exits.crash(), restarted: true },
    { restart: 'transient', exit: exits.killed('SIGKILL'), restarted: true },
    { restart: 'temporary', exit: exits.normal(), restarted: false, why: 'exited normally (temporary: not restarted)' },
    { restart: 'temporary', exit: exits.crash(), restarted: false, why: 'temporary: not restarted after a failure' },
  ];

  it.each(table)('$restart child, exit $exit.kind: restarted=$restarted', ({ restart, exit, restarted, why }) => {
    const sim = new Sim(supervisor('root', [worker('feed', { restart }), worker('other')]));
    sim.start();
    sim.runThenExit('feed', 100, exit);
    if (restarted) {
      expect(sim.status('feed')).toBe('restarting');
      expect(starts(sim.advance(1_000))).toEqual(['feed']);
    } else {
      expect(sim.child('feed').status).toEqual({ tag: 'stopped', why });
      expect(starts(sim.advance(60_000))).toEqual([]);
    }
    expect(sim.status('other')).toBe('running');
  });
});

describe('max_restarts', () => {
  it.each([1, 2, 5])('max_restarts %i: the next failure in a row gives up; siblings keep running', (max) => {
    const sim = new Sim(supervisor('root', [worker('flaky', { maxRestarts: max }), worker('steady')]));
    sim.start();
    expect(crashRepeatedly(sim, 'flaky', max + 1)).toHaveLength(max);
    expect(events(sim.log, 'giveup')).toEqual([
      { process: 'flaky', detail: expect.stringContaining(`gave up after ${max + 1} failures in a row`) },
    ]);
    expect(errors(sim.log).at(-1)).toEqual({ process: 'flaky', errorType: 'giveup' });
    expect(sim.status('flaky')).toBe('fatal');
    expect(sim.status('steady')).toBe('running');
    expect(sim.state.phase).toBe('running');
    expect(stops(sim.log)).toEqual([]);
  });

  it('0 means no limit', () => {
    const sim = new Sim(supervisor('root', [worker('flaky', { maxRestarts: 0 })]));
    sim.start();
    expect(crashRepeatedly(sim, 'flaky', 50)).toHaveLength(50);
    expect(events(sim.log, 'giveup')).toEqual([]);
  });

  it('counts quick normal exits of a permanent child too', () => {
    const sim = new Sim(supervisor('root', [worker('report', { maxRestarts: 2 })]));
    sim.start();
    expect(crashRepeatedly(sim, 'report', 3, exits.normal())).toEqual([1_000, 2_000]);
    expect(sim.status('report')).toBe('fatal');
  });
});

describe('reset_after', () => {
  it.each([
    { ran: 60_000, delay: 1_000, failures: 1 },
    { ran: 59_999, delay: 4_000, failures: 3 },
  ])('a continuous child that ran $ran ms before crashing restarts after $delay ms', ({ ran, delay, failures }) => {
    const sim = new Sim(supervisor('root', [worker('feed', { resetAfterMs: 60_000 })]));
    sim.start();
    crashRepeatedly(sim, 'feed', 2);
    expect(restartDelays(sim.runThenExit('feed', ran, exits.crash()))).toEqual([delay]);
    expect(sim.child('feed').failures).toBe(failures);
  });

  it('a long normal run counts as a success', () => {
    const sim = new Sim(supervisor('root', [worker('feed', { resetAfterMs: 60_000 })]));
    sim.start();
    crashRepeatedly(sim, 'feed', 2);
    expect(restartDelays(sim.runThenExit('feed', 60_000))).toEqual([1_000]);
    expect(sim.child('feed')).toMatchObject({ failures: 0, successes: 1 });
  });
});

describe('run_timeout', () => {
  it('stops an overlong run and counts it as a timeout failure', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000, { runTimeoutMs: 30_000 })]));
    sim.start();
    expect(sim.advance(29_999)).toEqual([]);
    const fx = sim.advance(1);
    expect(stops(fx)).toEqual(['snapshot:terminate']);
    expect(events(fx, 'timeout')).toEqual([{ process: 'snapshot', detail: 'run_timeout of 30s reached; stopping' }]);
    expect(sim.status('snapshot')).toBe('stopping');

    const after = sim.runThenExit('snapshot', 2_000, exits.killed('SIGTERM'));
    expect(errors(after)).toEqual([{ process: 'snapshot', errorType: 'timeout' }]);
    expect(events(after, 'exit')).toEqual([{ process: 'snapshot', detail: 'stopped by run_timeout after 32s' }]);
    expect(sim.child('snapshot')).toMatchObject({ failures: 1, status: { tag: 'restarting' } });
    expect(restartDelays(after)).toEqual([1_000]);
  });

  it('is cancelled when the run ends in time', () => {
    const sim = new Sim(supervisor('root', [loopJob('snapshot', 60_000, { runTimeoutMs: 30_000 })]));
    sim.start();
    expect(timersCancelled(sim.runThenExit('snapshot', 10_000))).toEqual(['timeout:snapshot']);
    expect(events(sim.advance(50_000), 'timeout')).toEqual([]);
  });
});
