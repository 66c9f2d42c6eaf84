/**
 * A running actor: a mailbox processed one message at a time through a pure
 * transition, whose effects are handed to an executor. Messages sent while a
 * message is being handled (including from effects) queue behind it, so the
 * logic never sees re-entrant calls.
 *
 * A transition or an effect that throws is the actor's crash, as in OTP: it
 * handles nothing more (what is queued, and what comes later, is dropped) and
 * `onCrash` is told once, so that its owner can stop what it started and tell
 * its parent. It never goes on from a state that was half applied.
 */
export interface ActorLogic<S, M, E> {
  transition(state: S, msg: M): [S, E[]];
}

export interface Ref<M> {
  send(msg: M): void;
}

export class ActorRunner<S, M, E> implements Ref<M> {
  private state: S;
  private readonly queue: M[] = [];
  private draining = false;
  private crashed = false;

  constructor(
    initial: S,
    private readonly logic: ActorLogic<S, M, E>,
    private readonly execute: (effect: E, state: S) => void,
    private readonly onCrash: (error: unknown) => void,
  ) {
    this.state = initial;
  }

  get snapshot(): S {
    return this.state;
  }

  /** True once a transition or an effect threw: the actor handles no more messages. */
  get dead(): boolean {
    return this.crashed;
  }

  send(msg: M): void {
    if (this.crashed) return;
    this.queue.push(msg);
    if (!this.draining) this.drain();
  }

  private drain(): void {
    this.draining = true;
    try {
      for (let msg = this.queue.shift(); msg !== undefined && !this.crashed; msg = this.queue.shift()) {
        try {
          const [next, effects] = this.logic.transition(this.state, msg);
          this.state = next;
          for (const effect of effects) this.execute(effect, next);
        } catch (error) {
          this.crashed = true;
          this.queue.length = 0;
          this.onCrash(error);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
