/**
 * state.ts: a supervisor's first state, and the counts a restarted subtree
 * carries on from the instance it replaces.
 */
import { describe, expect, it } from 'vitest';
import { type ChildStatus, carryCounts, initialState, isTerminal } from '../../src/runtime/supervision.ts';
import { exits, Sim } from './sim.ts';
import { supervisor, worker } from './spec-factory.ts';

describe('initialState', () => {
  it('has every child idle, in spec order, nothing counted', () => {
    const s = initialState(supervisor('root', [worker('a'), worker('b')]));
    expect(s.phase).toBe('idle');
    expect(s.children.map((c) => [c.spec.name, c.status.tag, c.runs, c.failures])).toEqual([
      ['a', 'idle', 0, 0],
      ['b', 'idle', 0, 0],
    ]);
  });

  it.each<{ status: ChildStatus; terminal: boolean }>([
    { status: { tag: 'stopped', why: 'user' }, terminal: true },
    { status: { tag: 'fatal', reason: 'gave up' }, terminal: true },
    { status: { tag: 'idle' }, terminal: false },
    { status: { tag: 'loop_wait', dueAt: 0 }, terminal: false },
    { status: { tag: 'restarting', dueAt: 0, group: 1 }, terminal: false },
  ])('$status.tag: terminal $terminal', ({ status, terminal }) => {
    expect(isTerminal(status)).toBe(terminal);
  });
});

describe('carryCounts', () => {
  it('a restarted subtree starts afresh but keeps the record counting: runs, successes, failures, restarts', () => {
    const spec = supervisor('feeds', [worker('a'), worker('b')]);
    const before = new Sim(spec);
    before.start();
    before.exit('a', exits.crash());
    before.advance(1_000);
    const fresh = carryCounts(initialState(spec), before.state);
    const a = fresh.children[0];
    expect(a).toMatchObject({ status: { tag: 'idle' }, runs: 2, failuresTotal: 1, restarts: 1, failures: 0 });
    expect(fresh.restartTimes).toEqual([]);
    expect(carryCounts(initialState(spec), undefined)).toEqual(initialState(spec));
  });

  it('a child the old instance did not have starts from nothing', () => {
    const before = new Sim(supervisor('feeds', [worker('a')]));
    before.start();
    const fresh = carryCounts(initialState(supervisor('feeds', [worker('a'), worker('new')])), before.state);
    expect(fresh.children.map((c) => c.runs)).toEqual([1, 0]);
  });
});
