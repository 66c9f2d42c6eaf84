/**
 * The health channel (protocol herder.health/1): how a job in any language
 * talks to herder about itself. A process actor gets an extra pipe on fd 3
 * (HERDER_HEALTH_FD=3 in its environment) and writes one JSON object per line:
 *
 *   {"type": "heartbeat"}
 *   {"type": "progress", "value": 0.4}                      (0..1)
 *   {"type": "health", "score": 0.8, "detail": "..."}       (0..1)
 *   {"type": "error", "error_type": "yahoo.json", "message": "...", "context": "..."}
 *
 * An error becomes a process_errors row; the others feed the actor's live
 * signals (last activity, progress, its own health score). A line that is not
 * one of these is counted, and recorded once as a "health_channel" error with
 * the first such line; it is never fatal. Thread actors send the same through
 * ctx.heartbeat(), ctx.reportHealth() and ctx.reportError().
 */
import type { Clock } from '../runtime/clock.ts';
import { assertNever } from '../runtime/errors.ts';
export const HEALTH_PROTOCOL = 'herder.health/1';
export const HEALTH_FD = 3;

export type HealthMessage =
  | { readonly type: 'heartbeat' }
  | { readonly type: 'progress'; readonly value: number }
  | { readonly type: 'health'; readonly score: number; readonly detail: string }
  | { readonly type: 'error'; readonly errorType: string; readonly message: string; readonly context: string };

const unit = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1;
const text = (x: unknown, max = 64 * 1024): string => (typeof x === 'string' ? x.slice(0, max) : '');

/** One line of the channel, or null when it is not a valid message. */
export function parseHealthLine(line: string): HealthMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return null;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'heartbeat':
      return { type: 'heartbeat' };
    case 'progress':
      return unit(o.value) ? { type: 'progress', value: o.value } : null;
    case 'health':
      return unit(o.score) ? { type: 'health', score: o.score, detail: text(o.detail, 1000) } : null;
    case 'error': {
      const errorType = text(o.error_type, 200);
      if (errorType === '') return null;
      return { type: 'error', errorType, message: text(o.message), context: text(o.context) };
    }
    default:
      return null;
  }
}

/** What herder knows about an actor from its own reports and its output, kept in memory. */
export interface ActorSignals {
  /** Monotonic ms of the last output line, heartbeat or progress report. */
  lastActivity: number | null;
  lastHeartbeatWall: number | null;
  progress: number | null;
  selfHealth: number | null;
  selfHealthDetail: string;
  badLines: number;
  /** Matches per error pattern (the watch's own counter). */
  patternCounts: ReadonlyMap<string, number> | null;
}

export function freshSignals(): ActorSignals {
  return {
    lastActivity: null,
    lastHeartbeatWall: null,
    progress: null,
    selfHealth: null,
    selfHealthDetail: '',
    badLines: 0,
    patternCounts: null,
  };
}

/**
 * What a host does with each line of an actor's health channel: heartbeats
 * and progress are signs of life, a self-reported score is kept, an error is
 * recorded; a line that is no health message is reported once (`bad`), then
 * only counted.
 */
export function healthHandler(
  signals: ActorSignals,
  clock: Clock,
  reportError: (errorType: string, message: string, context: string) => void,
  bad: (raw: string) => void,
): (m: HealthMessage | null, raw: string) => void {
  return (m, raw) => {
    if (m === null) {
      signals.badLines++;
      if (signals.badLines === 1) bad(raw);
      return;
    }
    switch (m.type) {
      case 'heartbeat':
        signals.lastActivity = clock.now();
        signals.lastHeartbeatWall = clock.wall();
        return;
      case 'progress':
        signals.lastActivity = clock.now();
        signals.progress = m.value;
        return;
      case 'health':
        signals.selfHealth = m.score;
        signals.selfHealthDetail = m.detail;
        return;
      case 'error':
        reportError(m.errorType, m.message, m.context);
        return;
      default:
        assertNever(m, 'health message');
    }
  };
}
