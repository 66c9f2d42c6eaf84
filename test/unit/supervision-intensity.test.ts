/**
 * Restart intensity (OTP's MaxR within MaxT) and nested supervisors: when a
 * supervisor gives up, it stops its children and escalates to its parent.
 */
import { describe, expect, it } from 'vitest';
import { errors, events, exits, outcome, restartDelays, Sim, starts, stops } from './sim.ts';
import { supervisor, worker } from './spec-factory.ts';

function pipeline(intensity: number, periodMs = 5_000): Sim {
  const sim = new Sim(
    supervisor('pipeline', [worker('source'), worker('parser'), worker('sink')], { intensity, periodMs }),
  );
  sim.start();
  return sim;
}

describe('intensity', () => {
  it('escalates on the second restart within the period (intensity 1)', () => {
    const sim = pipeline(1);
    sim.exit('parser', exits.crash());
    expect(starts(sim.advance(1_000))).toEqual(['parser']);
    sim.runThenExit('parser', 500, exits.crash());
    const fx = sim.advance(2_000);

    expect(starts(fx)).toEqual([]);
    expect(events(fx, 'escalate')).toEqual([
      { process: 'pipeline', detail: 'supervisor gives up: more than 1 restarts within 5s (intensity)' },
    ]);
    expect(stops(fx)).toEqual(['sink:terminate', 'source:terminate']);
    expect(sim.child('parser').status).toEqual({ tag: 'stopped', why: 'supervisor gave up' });
    expect(sim.state.phase).toBe('escalating');
    expect(outcome(fx)).toBeNull();

    expect(outcome(sim.exit('sink', exits.killed('SIGTERM')))).toBeNull();
    const last = sim.exit('source', exits.killed('SIGTERM'));
    expect(last.at(-1)).toEqual({ type: 'escalate', reason: 'more than 1 restarts within 5s (intensity)' });
    expect(errors(sim.log).map((e) => e.process)).toEqual(['parser', 'parser']);
    expect(sim.state.phase).toBe('done');
  });

  it('escalates at once when no other child is running', () => {
    const sim = new Sim(supervisor('solo', [worker('feed')], { intensity: 1, periodMs: 5_000 }));
    sim.start();
    sim.exit('feed', exits.crash());
    sim.advance(1_000);
    sim.exit('feed', exits.crash());
    expect(outcome(sim.advance(2_000))).toBe('escalate');
  });

  it('does not escalate when restarts are spaced beyond the period', () => {
    const sim = new Sim(
      supervisor('pipeline', [worker('parser', { resetAfterMs: 2_000 })], { intensity: 1, periodMs: 5_000 }),
    );
    sim.start();
    for (let i = 0; i < 5; i++) {
      sim.exit('parser', exits.crash());
      sim.advance(1_000);
      sim.advance(5_000);
    }
    expect(sim.child('parser').restarts).toBe(5);
    expect(events(sim.log, 'escalate')).toEqual([]);
    expect(sim.state.restartTimes).toHaveLength(1);
  });

  it('forgets restart times older than the period', () => {
    const sim = pipeline(2, 10_000);
    sim.exit('source', exits.crash());
    sim.advance(1_000);
    sim.exit('sink', exits.crash());
    sim.advance(1_000);
    expect(sim.state.restartTimes).toEqual([1_000, 2_000]);
    sim.advance(8_500);
    sim.exit('parser', exits.crash());
    sim.advance(1_000);
    expect(sim.state.restartTimes).toEqual([2_000, 11_500]);
    expect(sim.state.phase).toBe('running');
  });

  it('0 means no limit', () => {
    const sim = pipeline(0);
    for (let i = 0; i < 20; i++) {
      sim.exit('parser', exits.crash());
      sim.advance(8_000);
    }
    expect(sim.child('parser').restarts).toBe(20);
    expect(sim.state.phase).toBe('running');
  });

  it('ignores a restart timer that fires after giving up', () => {
    const sim = pipeline(1);
    sim.exit('parser', exits.crash());
    sim.advance(1_000);
    sim.exit('source', exits.crash());
    sim.exit('parser', exits.crash());
    // source is due at 2000, parser at 3000: source's restart escalates.
    expect(events(sim.advance(1_000), 'escalate')).toHaveLength(1);
    expect(starts(sim.advance(10_000))).toEqual([]);
    expect(sim.pendingTimers()).toEqual([]);
  });
});

describe('nested supervisor as a child', () => {
  function parentOf(strategy: 'one_for_one' | 'one_for_all' = 'one_for_one'): Sim {
    const inner = supervisor('inner', [worker('w1'), worker('w2')], { intensity: 1 });
    const sim = new Sim(supervisor('root', [worker('feed'), inner, worker('sink')], { strategy }));
    sim.start();
    sim.started('inner', null);
    return sim;
  }

  it('is started with its siblings, in order', () => {
    const sim = new Sim(supervisor('root', [worker('feed'), supervisor('inner', [worker('w')])]));
    expect(starts(sim.start())).toEqual(['feed', 'inner']);
  });

  it('a normal exit (its done) stops it for good, whatever its restart type', () => {
    const sim = parentOf();
    const fx = sim.runThenExit('inner', 30_000);
    expect(sim.child('inner').status).toEqual({ tag: 'stopped', why: 'all of its children finished' });
    expect(errors(fx)).toEqual([]);
    expect(starts(sim.advance(60_000))).toEqual([]);
    expect(sim.state.phase).toBe('running');
  });

  it('an escalation is a failure, restarted with backoff', () => {
    const sim = parentOf();
    const fx = sim.runThenExit('inner', 500, exits.escalation());
    expect(errors(fx)).toEqual([{ process: 'inner', errorType: 'escalation' }]);
    expect(restartDelays(fx)).toEqual([1_000]);
    expect(starts(sim.advance(1_000))).toEqual(['inner']);
    sim.runThenExit('inner', 500, exits.escalation());
    expect(restartDelays(sim.log).at(-1)).toBe(2_000);
  });

  it("an escalation is restarted per the parent's strategy", () => {
    const sim = parentOf('one_for_all');
    const fx = sim.exit('inner', exits.escalation());
    expect(stops(fx)).toEqual(['sink:terminate', 'feed:terminate']);
    sim.exit('feed');
    sim.exit('sink');
    expect(starts(sim.advance(1_000))).toEqual(['feed', 'inner', 'sink']);
  });

  it('gets the shutdown mode; a worker is terminated', () => {
    const sim = parentOf();
    expect(stops(sim.shutdown('finish'))).toEqual(['sink:terminate', 'inner:finish', 'feed:terminate']);
  });
});
