/**
 * reload (reload.ts): one diff over the whole tree says what changed - the
 * answer to `ctl reload` and the reload event are that one line - and drives
 * what is done to the supervisor's own children.
 */
import { describe, expect, it } from 'vitest';
import type { ChildSpec, SupervisorSpec } from '../../src/runtime/spec.ts';
import { describeReload, diffReload, type Effect } from '../../src/runtime/supervision.ts';
import { errors, events, exits, Sim, starts, stops, timersCancelled } from './sim.ts';
import { loopJob, supervisor, worker } from './spec-factory.ts';

const root = (children: ChildSpec[]) => supervisor('root', children);
const a = worker('a');
const b = worker('b');
const c = loopJob('c', 60_000);
const feeds = (children: ChildSpec[]) => supervisor('feeds', children);

describe('diffReload: what changed, actor by actor across the tree', () => {
  it.each<{ what: string; before: SupervisorSpec; after: SupervisorSpec; line: string }>([
    { what: 'nothing', before: root([a, b, c]), after: root([a, b, c]), line: '3 unchanged' },
    {
      what: 'one of each',
      before: root([a, b, c]),
      after: root([a, loopJob('c', 30_000), worker('d')]),
      line: 'added d; changed c; removed b; 1 unchanged',
    },
    {
      what: 'a worker inside a nested supervisor (only the worker changed)',
      before: root([feeds([a, b])]),
      after: root([feeds([a, worker('b', { maxRestarts: 3 })])]),
      line: 'changed b; 2 unchanged',
    },
    {
      what: 'a worker added to a nested supervisor (its children changed too)',
      before: root([feeds([a])]),
      after: root([feeds([a, b])]),
      line: 'added b; changed feeds; 1 unchanged',
    },
    {
      what: 'a worker moved out of a nested supervisor (same config: not a change of its own)',
      before: root([feeds([a, b])]),
      after: root([feeds([a]), b]),
      line: 'changed feeds; 2 unchanged',
    },
    {
      what: 'a nested supervisor removed with its children',
      before: root([a, feeds([b])]),
      after: root([a]),
      line: 'removed feeds, b; 1 unchanged',
    },
  ])('$what: "$line"', ({ before, after, line }) => {
    expect(describeReload(diffReload(before, after))).toBe(line);
  });
});

/** a, b (continuous) and c (a loop job), started; c has run once and waits. */
function started(): Sim {
  const sim = new Sim(root([a, b, c]));
  sim.start();
  sim.runThenExit('c', 1_000);
  return sim;
}

const reloadEvents = (fx: readonly Effect[]) => events(fx, 'reload').map((e) => e.detail);

describe('reconfigure', () => {
  it('with the same spec changes nothing: no start, stop or timer, the state as it was', () => {
    const sim = started();
    const before = JSON.stringify(sim.state);
    const { fx, answer } = sim.reconfigure(root([a, b, c]));
    expect(answer).toEqual({ kind: 'done', detail: '3 unchanged' });
    expect(fx.map((e) => e.type)).toEqual(['event', 'reply']);
    expect(JSON.stringify(sim.state)).toBe(before);
  });

  it('answers with the very line its reload event records', () => {
    const sim = new Sim(root([feeds([a, b]), c]));
    sim.start();
    const { fx, answer } = sim.reconfigure(root([feeds([a, worker('b', { maxRestarts: 3 })]), worker('d')]));
    expect(answer).toEqual({ kind: 'done', detail: 'added d; changed b; removed c; 2 unchanged' });
    expect(reloadEvents(fx)).toEqual(['added d; changed b; removed c; 2 unchanged (by uid 0)']);
    // A change below a nested supervisor restarts that supervisor, whose subtree starts afresh with its new spec.
    expect(stops(fx)).toEqual(['feeds:terminate', 'c:terminate']);
    expect(starts(sim.exit('feeds'))).toEqual(['feeds']);
  });

  it('starts what is new, restarts what changed with its new spec, leaves the rest alone', () => {
    const sim = started();
    const changedA = worker('a', { maxRestarts: 5 });
    const { fx } = sim.reconfigure(root([changedA, b, loopJob('c', 30_000), worker('d')]));
    expect(starts(fx)).toEqual(['c', 'd']); // c was waiting: its new schedule starts now
    expect(timersCancelled(fx)).toEqual(['loop:c']);
    expect(stops(fx)).toEqual(['a:terminate']);
    const end = sim.exit('a', exits.killed('SIGTERM'));
    expect(starts(end)).toEqual(['a']);
    expect(errors(end)).toEqual([]);
    expect(sim.child('a').spec).toEqual(changedA);
    expect(sim.status('b')).toBe('running');
    expect(sim.child('b').runs).toBe(1);
  });

  it('a changed child waiting for its restart starts now, with a clean slate', () => {
    const sim = started();
    sim.exit('a', exits.crash());
    expect(sim.status('a')).toBe('restarting');
    const { fx } = sim.reconfigure(root([worker('a', { maxRestarts: 5 }), b, c]));
    expect(starts(fx)).toEqual(['a']);
    expect(timersCancelled(fx)).toEqual(['group:1']);
    expect(sim.child('a').failures).toBe(0);
  });

  it('what is removed is stopped, kept as removed, and never started again', () => {
    const sim = started();
    const { fx } = sim.reconfigure(root([a]));
    expect(stops(fx)).toEqual(['b:terminate']);
    expect(timersCancelled(fx)).toEqual(['loop:c']);
    expect(sim.child('c').status).toEqual({ tag: 'stopped', why: 'removed from the config' });
    sim.exit('b', exits.crash());
    expect(sim.child('b').status).toEqual({ tag: 'stopped', why: 'removed from the config' });
    expect(starts(sim.advance(600_000))).toEqual([]);
    expect(sim.state.phase).toBe('running');
  });

  it('the next reload drops what the last one removed', () => {
    const sim = started();
    sim.reconfigure(root([a, b]));
    expect(sim.state.children.map((x) => x.spec.name)).toEqual(['a', 'b', 'c']);
    const { answer } = sim.reconfigure(root([a, b]));
    expect(answer).toEqual({ kind: 'done', detail: '2 unchanged' });
    expect(sim.state.children.map((x) => x.spec.name)).toEqual(['a', 'b']);
  });

  it('an actor added back after a reload removed it starts again, as its "added" says', () => {
    const sim = started();
    sim.reconfigure(root([a, c]));
    sim.exit('b', exits.killed('SIGTERM'));
    const { fx, answer } = sim.reconfigure(root([a, b, c]));
    expect(answer).toEqual({ kind: 'done', detail: 'added b; 2 unchanged' });
    expect(starts(fx)).toEqual(['b']);
    expect(sim.child('b').runs).toBe(2);
  });

  it('is refused while the supervisor stops, and changes nothing', () => {
    const sim = started();
    sim.shutdown('finish', 'deadline');
    const { fx, answer } = sim.reconfigure(root([a, worker('d')]));
    expect(answer).toEqual({ kind: 'refused', why: 'not_running', detail: 'the run is stopping; no reload now' });
    expect(fx.map((e) => e.type)).toEqual(['reply']);
    expect(sim.state.spec.children.map((x) => x.name)).toEqual(['a', 'b', 'c']);
  });
});
