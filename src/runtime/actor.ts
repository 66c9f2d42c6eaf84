/**
 * A running actor: a mailbox processed one message at a time through a pure
 * transition, whose effects are handed to an executor. Messages sent while a
 * message is being handled (including from effects) queue behind it, so the
 * logic never sees re-entrant calls.
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

  constructor(
    initial: S,
    private readonly logic: ActorLogic<S, M, E>,
    private readonly execute: (effect: E, state: S) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.state = initial;
  }

  get snapshot(): S {
    return this.state;
  }

  send(msg: M): void {
    this.queue.push(msg);
    if (!this.draining) this.drain();
  }

  private drain(): void {
    this.draining = true;
    try {
      for (let msg = this.queue.shift(); msg !== undefined; msg = this.queue.shift()) {
        try {
          const [next, effects] = this.logic.transition(this.state, msg);
          this.state = next;
          for (const effect of effects) this.execute(effect, next);
        } catch (error) {
          this.onError(error);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}
