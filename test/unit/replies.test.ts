/**
 * Replies (src/actors/replies.ts): a supervisor's answers matched to the
 * requests that wait for them; a refusal is a HERDER_ERR_CONTROL.
 */
import { describe, expect, it } from 'vitest';
import { Replies } from '../../src/actors/replies.ts';

describe('Replies', () => {
  it('hands each caller the answer with its own ref', async () => {
    const r = new Replies();
    const first = r.open();
    const second = r.open();
    r.settle(second.ref, { kind: 'already', detail: 'b is already running' });
    r.settle(first.ref, { kind: 'done', detail: 'a: stopping' });
    await expect(first.answer).resolves.toBe('a: stopping');
    await expect(second.answer).resolves.toBe('b is already running');
  });

  it('a refusal rejects with HERDER_ERR_CONTROL and the reason', async () => {
    const r = new Replies();
    const { ref, answer } = r.open();
    r.settle(ref, { kind: 'refused', why: 'no_such_actor', detail: 'no actor named x' });
    await expect(answer).rejects.toMatchObject({ code: 'HERDER_ERR_CONTROL', message: 'no actor named x' });
  });

  it('a reply naming no one, or one already settled, is dropped', async () => {
    const r = new Replies();
    const { ref, answer } = r.open();
    r.settle(null, { kind: 'done', detail: 'nobody waits' });
    r.settle(ref, { kind: 'done', detail: 'first' });
    r.settle(ref, { kind: 'done', detail: 'second' });
    await expect(answer).resolves.toBe('first');
  });

  it('once closed (the supervisor crashed), what waits and what is asked later are refused', async () => {
    const r = new Replies();
    const waiting = r.open();
    r.close('supervisor root crashed (a bug in herder): boom');
    await expect(waiting.answer).rejects.toMatchObject({ code: 'HERDER_ERR_CONTROL' });
    await expect(r.open().answer).rejects.toThrow('supervisor root crashed (a bug in herder): boom');
  });
});
