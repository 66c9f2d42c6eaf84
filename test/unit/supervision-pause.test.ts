/**
 * Pause and resume (pause.ts): a paused child is part of its supervisor's
 * state, so the answer, the signal, the event and every later rule (a stop
 * thaws it first, an exit ends the pause, protection resumes only its own
 * pauses) come from that one state.
 */
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/runtime/supervision.ts';
import { events, exits, Sim, stops } from './sim.ts';
import { loopJob, supervisor, worker } from './spec-factory.ts';

function running(): Sim {
  const sim = new Sim(
    supervisor('root', [
      worker('feed'),
      loopJob('snap', 60_000),
      worker('calc', { launch: { type: 'thread', module: '/srv/calc.ts', cwd: '/srv', env: {}, maxHeapMb: null } }),
      supervisor('group', [worker('inner')]),
    ]),
  );
  sim.start();
  sim.started('feed', 100);
  sim.started('snap', 101);
  return sim;
}

const signals = (fx: readonly Effect[]) => fx.flatMap((e) => (e.type === 'signal' ? [`${e.signal} ${e.child}`] : []));
const pausedOf = (sim: Sim, name: string) => {
  const st = sim.state.children.find((c) => c.spec.name === name)?.status;
  return st?.tag === 'running' ? st.paused : undefined;
};

describe('pause and resume', () => {
  it('a person pauses a running process actor: it is frozen, the state says who, one event, answered done', () => {
    const sim = running();
    const { fx, answer } = sim.pause('pause', 'feed', 'person', 'uid 1000');
    expect(answer).toEqual({ kind: 'done', detail: 'feed: paused' });
    expect(signals(fx)).toEqual(['freeze feed']);
    expect(events(fx, 'pause')).toEqual([{ process: 'feed', detail: 'by uid 1000' }]);
    expect(pausedOf(sim, 'feed')).toEqual({ by: 'person', reason: 'uid 1000' });

    const again = sim.pause('pause', 'feed');
    expect(again.answer).toEqual({ kind: 'already', detail: 'feed is already paused' });
    expect(signals(again.fx)).toEqual([]);

    const r = sim.pause('resume', 'feed', 'person', 'uid 1000');
    expect(r.answer).toEqual({ kind: 'done', detail: 'feed: resumed' });
    expect(signals(r.fx)).toEqual(['thaw feed']);
    expect(events(r.fx, 'resume')).toEqual([{ process: 'feed', detail: 'by uid 1000' }]);
    expect(pausedOf(sim, 'feed')).toBeNull();
    expect(sim.pause('resume', 'feed').answer).toEqual({ kind: 'already', detail: 'feed is not paused' });
  });

  it('refuses what cannot be paused, and changes nothing', () => {
    const sim = running();
    const refused = (name: string) => {
      const { fx, answer } = sim.pause('pause', name);
      expect(fx.filter((e) => e.type !== 'reply')).toEqual([]);
      return answer.kind === 'refused' ? answer.detail : answer.kind;
    };
    expect(refused('calc')).toBe('calc is a thread actor, which cannot be paused');
    expect(refused('group')).toBe('group is a supervisor; pause its actors one by one');
    expect(refused('nobody')).toBe('no actor named nobody');
    sim.exit('snap', exits.normal()); // waits for its next run
    expect(refused('snap')).toBe('snap is not running');
  });

  it('protection resumes only what it paused; a person may resume anything', () => {
    const sim = running();
    sim.pause('pause', 'feed', 'person', 'uid 0');
    const r = sim.pause('resume', 'feed', 'pressure', 'memory back below resume');
    expect(r.answer).toEqual({ kind: 'already', detail: 'feed stays paused (by uid 0)' });
    expect(signals(r.fx)).toEqual([]);

    sim.pause('pause', 'snap', 'limit', 'memory 300MB over its limit 200MB for 3 samples');
    expect(sim.pause('resume', 'snap', 'pressure', 'over').answer.kind).toBe('already');
    expect(sim.pause('resume', 'snap', 'person', 'uid 0').answer.kind).toBe('done');

    sim.pause('resume', 'feed', 'person', 'uid 0');
    sim.pause('pause', 'feed', 'pressure', 'memory 97% ≥ critical 95%');
    const back = sim.pause('resume', 'feed', 'pressure', 'memory 60% below resume 80%');
    expect(back.answer.kind).toBe('done');
    expect(events(back.fx, 'resume')).toEqual([{ process: 'feed', detail: 'protection: memory 60% below resume 80%' }]);
  });

  it('a paused child that is stopped, restarted or shut down is thawed before its stop', () => {
    for (const stop of [
      (sim: Sim) => sim.command('stop', 'feed').fx,
      (sim: Sim) => sim.command('restart', 'feed').fx,
      (sim: Sim) => sim.fail('feed'),
      (sim: Sim) => sim.shutdown('finish'),
    ]) {
      const sim = running();
      sim.pause('pause', 'feed');
      const fx = stop(sim);
      const order = fx.flatMap((e) =>
        e.type === 'signal' && e.child === 'feed' ? ['thaw'] : e.type === 'stop' && e.child === 'feed' ? ['stop'] : [],
      );
      expect(order).toEqual(['thaw', 'stop']);
      expect(stops(fx)).toContain('feed:terminate');
    }
  });

  it('an exit ends the pause: the next run starts unpaused', () => {
    const sim = running();
    sim.pause('pause', 'feed');
    sim.exit('feed', exits.killed('SIGKILL'));
    sim.advance(1_000);
    sim.started('feed', 200);
    expect(pausedOf(sim, 'feed')).toBeNull();
  });

  it('refuses while the supervisor stops', () => {
    const sim = running();
    sim.shutdown('finish');
    expect(sim.pause('pause', 'feed').answer).toEqual({
      kind: 'refused',
      why: 'not_running',
      detail: 'the run is stopping; no commands now',
    });
  });
});
