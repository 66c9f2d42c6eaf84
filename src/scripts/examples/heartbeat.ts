/**
 * A continuous worker-thread actor: counts, logs now and then, sends
 * heartbeats, and returns as soon as herder aborts its signal.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActorContext } from '../../actors/thread-worker.ts';

export default async function run(ctx: ActorContext): Promise<void> {
  let beats = 0;
  ctx.log.info(`${ctx.name}: started (run ${ctx.run})`);
  while (!ctx.signal.aborted) {
    try {
      await sleep(1000, undefined, { signal: ctx.signal });
    } catch {
      break; // aborted: herder asked us to stop
    }
    beats++;
    ctx.heartbeat();
    if (beats % 5 === 0) ctx.log.info(`${ctx.name}: ${beats} beats`);
  }
  ctx.log.info(`${ctx.name}: stopping after ${beats} beats`);
}
