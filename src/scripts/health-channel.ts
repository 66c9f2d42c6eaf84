/**
 * Talk to herder from a TypeScript or JavaScript process actor: the health
 * channel, herder.health/1 (thread actors use ctx instead). Under herder, fd 3
 * is a pipe to herder (HERDER_HEALTH_FD=3); each call writes one JSON line.
 * Outside herder, heartbeat/progress/health do nothing and error() writes to
 * stderr. A failing channel never makes the job fail.
 *
 *   import { heartbeat, progress, health, error } from './health-channel.ts';
 */
import { writeSync } from 'node:fs';

const fd = process.env.HERDER_HEALTH_FD === undefined ? null : Number(process.env.HERDER_HEALTH_FD);
let broken = fd === null || !Number.isInteger(fd);

function send(message: Record<string, unknown>): boolean {
  if (broken || fd === null) return false;
  try {
    writeSync(fd, `${JSON.stringify(message)}\n`);
    return true;
  } catch {
    broken = true;
    return false;
  }
}

const clamp = (x: number) => Math.max(0, Math.min(1, x));

/** True while the channel to herder works (false outside herder). */
export function connected(): boolean {
  return !broken;
}

/** I am alive (resets herder's stall timer). */
export function heartbeat(): void {
  send({ type: 'heartbeat' });
}

/** How far this run has got, 0..1 (also counts as a sign of life). */
export function progress(value: number): void {
  send({ type: 'progress', value: clamp(value) });
}

/** The job's own view of its health, 0..1, with a short reason. */
export function health(score: number, detail = ''): void {
  send({ type: 'health', score: clamp(score), detail });
}

/** An error the job survived: a process_errors row under herder, a stderr line outside it. */
export function error(errorType: string, message: string, context = ''): void {
  if (!send({ type: 'error', error_type: errorType, message, context })) {
    process.stderr.write(`error ${errorType}: ${message}\n`);
  }
}
