/**
 * Requests to a supervisor's logic that wait for its answer (a command, a
 * reload). The logic answers with a `reply` effect naming the request's ref,
 * from the same step that acts on it; this only matches replies to callers.
 * A refusal becomes a HERDER_ERR_CONTROL carrying the logic's reason.
 */
import { HerderError } from '../runtime/errors.ts';
import type { Answer } from '../runtime/supervision.ts';

export class Replies {
  private readonly waiting = new Map<number, { resolve: (detail: string) => void; reject: (e: Error) => void }>();
  private nextRef = 1;
  /** Set once the supervisor crashed: its mailbox takes nothing more, so nothing is asked of it. */
  private closed: string | null = null;

  /** A fresh ref, and the answer's detail once the reply with that ref is settled. */
  open(): { ref: number; answer: Promise<string> } {
    const ref = this.nextRef++;
    if (this.closed !== null)
      return { ref, answer: Promise.reject(new HerderError('HERDER_ERR_CONTROL', this.closed)) };
    const answer = new Promise<string>((resolve, reject) => this.waiting.set(ref, { resolve, reject }));
    return { ref, answer };
  }

  settle(ref: number | null, answer: Answer): void {
    if (ref === null) return;
    const w = this.waiting.get(ref);
    this.waiting.delete(ref);
    if (answer.kind === 'refused') w?.reject(new HerderError('HERDER_ERR_CONTROL', answer.detail));
    else w?.resolve(answer.detail);
  }

  /** The supervisor crashed: nothing waiting will be answered, and nothing asked later. */
  close(reason: string): void {
    this.closed = reason;
    for (const w of this.waiting.values()) w.reject(new HerderError('HERDER_ERR_CONTROL', reason));
    this.waiting.clear();
  }
}
