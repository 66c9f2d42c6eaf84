/** The mailbox runner: one message at a time, and a throw is the actor's crash, never a half-applied state. */
import { describe, expect, it } from 'vitest';
import { ActorRunner } from '../../src/runtime/actor.ts';

type Msg = { n: number } | { boom: 'transition' | 'effect' };

function counter() {
  const done: string[] = [];
  const crashes: unknown[] = [];
  const runner = new ActorRunner<number, Msg, string>(
    0,
    {
      transition: (s, m) => {
        if ('boom' in m && m.boom === 'transition') throw new Error('logic bug');
        if ('boom' in m) return [s, ['first', 'throw', 'never']];
        return [s + m.n, [`add ${m.n}`]];
      },
    },
    (effect) => {
      if (effect === 'throw') throw new Error('effect bug');
      done.push(effect);
    },
    (e) => crashes.push(e),
  );
  return { runner, done, crashes };
}

describe('ActorRunner', () => {
  it('a throwing transition crashes the actor: its state stays, later messages are dropped, the crash is told once', () => {
    const { runner, done, crashes } = counter();
    runner.send({ n: 2 });
    runner.send({ boom: 'transition' });
    runner.send({ n: 5 });
    expect(runner.snapshot).toBe(2);
    expect(done).toEqual(['add 2']);
    expect(runner.dead).toBe(true);
    expect(crashes).toHaveLength(1);
    expect((crashes[0] as Error).message).toBe('logic bug');
  });

  it('a throwing effect crashes it too: the effects after it are not run, nor any later message', () => {
    const { runner, done, crashes } = counter();
    runner.send({ n: 1 });
    runner.send({ boom: 'effect' });
    runner.send({ n: 3 });
    expect(done).toEqual(['add 1', 'first']);
    expect(crashes.map((e) => (e as Error).message)).toEqual(['effect bug']);
    expect(runner.snapshot).toBe(1);
  });
});
