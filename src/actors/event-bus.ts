/**
 * The event bus: every event of a run is published here once, by whoever
 * produced it (a supervisor's logic, the health monitor, the run itself, a
 * command), and every sink subscribes: the logging actor, the echo, the
 * alerter, the run's own bookkeeping, and whatever plugs in later (metrics,
 * a web view, a fleet). Nothing calls a sink by hand.
 *
 * Delivery is synchronous and in order, so a sink sees events in the order
 * they happened; a sink that throws is a bug in that sink, reported once, and
 * never keeps the event from the others.
 */

import { renderEvent } from '../runtime/event-text.ts';
import type { HerderEvent } from '../runtime/events.ts';

/** An event as sinks get it: its kind and fields, and the line people read, rendered once from them. */
export type BusEvent = HerderEvent & { readonly detail: string };

export type Sink = (event: BusEvent) => void;

export class EventBus {
  private readonly sinks = new Set<Sink>();
  private readonly failed = new Set<Sink>();

  constructor(private readonly onSinkError: (error: unknown) => void) {}

  /** Adds a sink; the function returned removes it. */
  subscribe(sink: Sink): () => void {
    this.sinks.add(sink);
    return () => {
      this.sinks.delete(sink);
    };
  }

  publish(e: HerderEvent): void {
    const event: BusEvent = { ...e, detail: renderEvent(e) };
    for (const sink of this.sinks) {
      try {
        sink(event);
      } catch (e) {
        if (!this.failed.has(sink)) {
          this.failed.add(sink);
          this.onSinkError(e);
        }
      }
    }
  }
}
