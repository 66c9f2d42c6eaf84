/**
 * Where the health monitor's decisions go: events to the bus, failures,
 * pauses and resumes to the state machine of the supervisor that owns the
 * actor, deferral down the whole tree. A pause or resume the logic refuses
 * (the actor ended meanwhile, a person paused it) needs nothing more: the
 * logic's answer says so, and the monitor judges the next sample afresh.
 */
import type { EventBus } from './event-bus.ts';
import type { MonitorAction } from './health-monitor.ts';
import type { SupervisorActor } from './supervisor.ts';

export interface Routes {
  readonly bus: EventBus;
  readonly owners: ReadonlyMap<string, SupervisorActor>;
  readonly root: () => SupervisorActor | null;
}

export function route(actions: readonly MonitorAction[], r: Routes): void {
  for (const a of actions) {
    switch (a.type) {
      case 'event':
        r.bus.publish(a.event);
        break;
      case 'fail':
        r.owners.get(a.actor)?.fail(a.actor, a.errorType, a.message);
        break;
      case 'pause':
        void r.owners
          .get(a.actor)
          ?.pauseChild('pause', a.actor, { by: a.by, reason: a.reason })
          .catch(() => {});
        break;
      case 'resume':
        void r.owners
          .get(a.actor)
          ?.pauseChild('resume', a.actor, { by: 'pressure', reason: a.reason })
          .catch(() => {});
        break;
      case 'defer':
        r.root()?.defer(a.on);
        break;
    }
  }
}
