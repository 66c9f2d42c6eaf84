/**
 * groups.ts, where a restart group meets a person's command or a reload: a
 * member whose stop is taken over leaves the group (the rest do not wait for
 * it), and a child a reload removed is nobody's sibling any more.
 */
import { describe, expect, it } from 'vitest';
import type { ChildSpec } from '../../src/runtime/spec.ts';
import { exits, Sim, starts } from './sim.ts';
import { loopJob, supervisor, worker } from './spec-factory.ts';

const inGroup = (sim: Sim, name: string) => sim.state.groups.some((g) => g.members.includes(name));

describe('a child a reload removed', () => {
  it('is not stopped and restarted with the group of a sibling that fails later (one_for_all)', () => {
    const spec = (children: ChildSpec[]) => supervisor('root', children, { strategy: 'one_for_all' });
    const sim = new Sim(spec([worker('a'), worker('b'), worker('c')]));
    sim.start();
    sim.reconfigure(spec([worker('a'), worker('b')]));
    sim.exit('a', exits.crash());
    sim.exit('c', exits.killed('SIGTERM'));
    sim.exit('b', exits.killed('SIGTERM'));
    expect(starts(sim.advance(1_000))).toEqual(['a', 'b']);
    expect(sim.child('c').status).toEqual({ tag: 'stopped', why: 'removed from the config' });
  });

  it('is not taken along when the group it was stopped for merges into a new one (rest_for_one)', () => {
    const spec = (children: ChildSpec[]) => supervisor('root', children, { strategy: 'rest_for_one' });
    const sim = new Sim(spec([worker('a'), worker('b'), worker('c')]));
    sim.start();
    sim.exit('b', exits.crash()); // stops c for b's restart
    sim.reconfigure(spec([worker('a'), worker('b')]));
    sim.exit('a', exits.crash()); // a's group takes in b's, which still names c
    sim.exit('c', exits.killed('SIGTERM'));
    expect(starts(sim.advance(10_000))).toEqual(['a', 'b']);
    expect(sim.child('c').status).toEqual({ tag: 'stopped', why: 'removed from the config' });
    expect(sim.state.groups).toEqual([]);
  });
});

describe('a member whose stop for its group is taken over', () => {
  /** a crashed; b and c were stopped for the group; c has exited and the group's delay is over: it waits on b. */
  function waitingOnB(b: ChildSpec): Sim {
    const sim = new Sim(supervisor('root', [worker('a'), b, worker('c')], { strategy: 'one_for_all' }));
    sim.start();
    sim.exit('a', exits.crash());
    sim.exit('c', exits.killed('SIGTERM'));
    expect(starts(sim.advance(1_000))).toEqual([]);
    return sim;
  }

  it('changed by a reload: it starts with its new spec, out of the group, and the group goes ahead', () => {
    const sim = waitingOnB(worker('b'));
    sim.reconfigure(supervisor('root', [worker('a'), worker('b', { maxRestarts: 2 }), worker('c')]));
    const fx = sim.exit('b', exits.killed('SIGTERM'));
    expect(starts(fx).sort()).toEqual(['a', 'b', 'c']);
    expect(inGroup(sim, 'b')).toBe(false);
    expect(sim.state.groups).toEqual([]);
  });

  it.each([
    { what: 'a continuous worker', b: worker('b'), exit: exits.killed('SIGTERM') },
    { what: 'a loop job finishing its run', b: loopJob('b', 60_000), exit: exits.normal() },
  ])('stopped by a person ($what): it stays stopped, and the group goes ahead without it', ({ b, exit }) => {
    const sim = waitingOnB(b);
    sim.command('stop', 'b');
    expect(starts(sim.exit('b', exit))).toEqual(['a', 'c']);
    expect(sim.child('b').status).toEqual({ tag: 'stopped', why: 'user' });
    // Started again by hand later, it belongs to no group.
    expect(starts(sim.command('restart', 'b').fx)).toEqual(['b']);
    expect(inGroup(sim, 'b')).toBe(false);
  });
});
