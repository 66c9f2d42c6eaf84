/**
 * A person's commands (commands.ts): the answer comes from the same step that
 * acts, so "done" always comes with the action, and "already" or a refusal
 * with none at all.
 */
import { describe, expect, it } from 'vitest';
import type { CommandOp, Effect } from '../../src/runtime/supervision.ts';
import { errors, events, exits, Sim, starts, stops, timersCancelled } from './sim.ts';
import { loopJob, supervisor, worker } from './spec-factory.ts';

/** feed (continuous, given up at its second failure in a row), snap (a loop job, every minute), other. */
function running(): Sim {
  const sim = new Sim(
    supervisor('root', [worker('feed', { maxRestarts: 1 }), loopJob('snap', 60_000), worker('other')]),
  );
  sim.start();
  return sim;
}

/** Effects other than the reply: what the command did. */
const acted = (fx: readonly Effect[]) => fx.filter((e) => e.type !== 'reply');
/** The kinds of what it did to processes and timers (not its events and state rows). */
const actions = (fx: readonly Effect[]) => [
  ...new Set(acted(fx).flatMap((e) => (e.type === 'event' || e.type === 'state' ? [] : [e.type]))),
];

const setups: Record<string, (sim: Sim) => void> = {
  running: () => {},
  'stopping (a person asked)': (sim) => sim.command('stop', 'feed'),
  'stopped by a person': (sim) => {
    sim.command('stop', 'feed');
    sim.exit('feed', exits.killed('SIGTERM'));
  },
  'restarting (backoff)': (sim) => sim.exit('feed', exits.crash()),
  'given up (max_restarts)': (sim) => {
    sim.exit('feed', exits.crash());
    sim.advance(1_000);
    sim.exit('feed', exits.crash());
  },
};

describe.each<{ given: string; op: CommandOp; kind: string; detail: string; leaves: string; effects: string[] }>([
  { given: 'running', op: 'stop', kind: 'done', detail: 'feed: stopping', leaves: 'stopping', effects: ['stop'] },
  { given: 'running', op: 'start', kind: 'already', detail: 'feed is already running', leaves: 'running', effects: [] },
  { given: 'running', op: 'restart', kind: 'done', detail: 'feed: restarting', leaves: 'stopping', effects: ['stop'] },
  {
    given: 'stopping (a person asked)',
    op: 'stop',
    kind: 'done',
    detail: 'feed: stopping',
    leaves: 'stopping',
    effects: [],
  },
  {
    given: 'stopping (a person asked)',
    op: 'start',
    kind: 'already',
    detail: 'feed is already running',
    leaves: 'stopping',
    effects: [],
  },
  {
    given: 'stopped by a person',
    op: 'stop',
    kind: 'already',
    detail: 'feed is already stopped',
    leaves: 'stopped',
    effects: [],
  },
  {
    given: 'stopped by a person',
    op: 'start',
    kind: 'done',
    detail: 'feed: starting',
    leaves: 'running',
    effects: ['start'],
  },
  {
    given: 'stopped by a person',
    op: 'restart',
    kind: 'done',
    detail: 'feed: restarting',
    leaves: 'running',
    effects: ['start'],
  },
  {
    given: 'restarting (backoff)',
    op: 'stop',
    kind: 'done',
    detail: 'feed: stopped',
    leaves: 'stopped',
    effects: ['cancel_timer'],
  },
  {
    given: 'restarting (backoff)',
    op: 'start',
    kind: 'done',
    detail: 'feed: starting',
    leaves: 'running',
    effects: ['cancel_timer', 'start'],
  },
  {
    given: 'given up (max_restarts)',
    op: 'start',
    kind: 'done',
    detail: 'feed: starting',
    leaves: 'running',
    effects: ['start'],
  },
])('$op when $given', ({ given, op, kind, detail, leaves, effects }) => {
  it(`answers ${kind} "${detail}" and leaves it ${leaves}`, () => {
    const sim = running();
    setups[given]?.(sim);
    const { fx, answer } = sim.command(op, 'feed');
    expect(answer).toEqual({ kind, detail });
    expect(sim.status('feed')).toBe(leaves);
    expect(actions(fx)).toEqual(effects);
    if (kind !== 'done') expect(acted(fx)).toEqual([]);
    // Only a command carried out is an event, naming who sent it.
    expect(events(fx, 'command')).toEqual(kind === 'done' ? [{ process: 'feed', detail: `${op} (by uid 0)` }] : []);
  });
});

describe('refusals, decided by the logic from its own state', () => {
  it.each([
    { why: 'no_such_actor', name: 'nobody', detail: 'no actor named nobody' },
    {
      why: 'removed_by_reload',
      name: 'other',
      detail: 'other was removed from the config by a reload; add it back to the file and run `ctl reload`',
    },
    { why: 'not_running', name: 'feed', detail: 'the run is stopping; no commands now' },
  ] as const)('$why: refused, and nothing is done', ({ why, name, detail }) => {
    const sim = running();
    if (why === 'removed_by_reload') sim.reconfigure(supervisor('root', [worker('feed'), loopJob('snap', 60_000)]));
    if (why === 'not_running') sim.shutdown('finish', 'deadline');
    for (const op of ['stop', 'start', 'restart'] as const) {
      const { fx, answer } = sim.command(op, name);
      expect(answer).toEqual({ kind: 'refused', why, detail });
      expect(acted(fx)).toEqual([]);
    }
  });

  it('before the supervisor starts: refused as not running', () => {
    const sim = new Sim(supervisor('root', [worker('feed')]));
    expect(sim.command('start', 'feed').answer).toMatchObject({ kind: 'refused', why: 'not_running' });
    expect(sim.status('feed')).toBe('idle');
  });
});

describe('what a command does', () => {
  it("restart while a person's stop is under way: it starts again once it exits, as answered", () => {
    const sim = running();
    sim.send({ type: 'command', op: 'stop', child: 'feed', by: 'uid 0' });
    sim.send({ type: 'command', op: 'restart', child: 'feed', by: 'uid 0' });
    const fx = sim.exit('feed', exits.killed('SIGTERM'));
    expect(starts(fx)).toEqual(['feed']);
    expect(errors(fx)).toEqual([]);
    expect(sim.child('feed')).toMatchObject({ status: { tag: 'running' }, restarts: 1, failures: 0 });
  });

  it('stop of a waiting loop job cancels its next run; start runs it now', () => {
    const sim = running();
    sim.runThenExit('snap', 1_000);
    let r = sim.command('stop', 'snap');
    expect(r.answer).toEqual({ kind: 'done', detail: 'snap: stopped' });
    expect(timersCancelled(r.fx)).toEqual(['loop:snap']);
    expect(sim.child('snap').nextRunWall).toBeNull();
    expect(starts(sim.advance(120_000))).toEqual([]);
    r = sim.command('start', 'snap');
    expect(starts(r.fx)).toEqual(['snap']);
  });

  it('a stop is never a failure, and the run goes on while an actor is stopped by hand', () => {
    const sim = new Sim(supervisor('root', [worker('feed')]));
    sim.start();
    const { fx } = sim.command('stop', 'feed');
    expect(stops(fx)).toEqual(['feed:terminate']);
    const end = sim.exit('feed', exits.crash());
    expect(errors(end)).toEqual([]);
    expect(sim.state.phase).toBe('running');
  });

  it('a command without a ref is carried out all the same, its reply naming no one', () => {
    const sim = running();
    const fx = sim.send({ type: 'command', op: 'stop', child: 'feed', by: 'uid 0' });
    expect(fx.filter((e) => e.type === 'reply')).toEqual([
      { type: 'reply', ref: null, answer: { kind: 'done', detail: 'feed: stopping' } },
    ]);
  });
});
