/**
 * What a live run answers on its control socket: the handlers of the typed
 * control API (control-api.ts), over the actors run.ts has composed. Reading
 * methods ask the logging actor (which answers at once, whatever its writer is
 * doing) and add what lives only in memory; commands go to the supervisor that
 * owns the actor, and each is an event naming who sent it. The socket is 0600,
 * so only its owner (or root) can connect at all; `by` is what the caller says.
 */
import { describeWorker } from '../config/describe.ts';
import { loadConfig } from '../config/load.ts';
import type { ActorStatus, StatusDoc } from '../record/queries.ts';
import type { Clock } from '../runtime/clock.ts';
import { HerderError } from '../runtime/errors.ts';
import { allWorkers, type RunSpec, type SupervisorSpec } from '../runtime/spec.ts';
import type { Handlers } from './control.ts';
import type { Logger } from './logger.ts';
import type { LiveView } from './registry.ts';
import type { SupervisorActor } from './supervisor.ts';

export interface ControlDeps {
  readonly spec: RunSpec;
  readonly runId: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The actors running now, derived from the supervisors' states. */
  readonly view: LiveView;
  /** Which supervisor each actor belongs to. */
  readonly owners: ReadonlyMap<string, SupervisorActor>;
  readonly root: () => SupervisorActor | null;
  /** Stops the whole run gracefully; false when it is stopping already. */
  readonly shutdown: (by: string) => boolean;
}

/** What only memory knows about an actor, over its record; `paused`: the actors paused now, from one walk of the tree. */
function signalsOn(a: ActorStatus, view: LiveView, paused: ReadonlySet<string>, now: number): ActorStatus {
  const s = view.signals(a.name);
  if (s === undefined) return a;
  return {
    ...a,
    progress: s.progress,
    self_health: s.selfHealth,
    heartbeat_at: s.lastHeartbeatWall === null ? null : s.lastHeartbeatWall / 1000,
    idle_s: s.lastActivity === null ? null : Math.round((now - s.lastActivity) / 100) / 10,
    bad_health_lines: s.badLines,
    error_patterns: s.patternCounts === null ? null : Object.fromEntries(s.patternCounts),
    paused: paused.has(a.name),
  };
}

const pausedNow = (view: LiveView) => new Set(view.running().flatMap((a) => (a.paused === null ? [] : [a.name])));

/** Every worker's config as herder understood it, into the record (at the start, and after a reload). */
export function recordConfigs(logger: Logger, root: SupervisorSpec): void {
  for (const w of allWorkers(root)) logger.config(w.name, describeWorker(w));
}

/** Settings read once at the start of a run: a reload cannot change them. */
const runtimeKeys = (s: RunSpec) =>
  JSON.stringify([
    s.shutdownGraceMs,
    s.outputRetentionLines,
    s.outputBufferBytes,
    s.sampleIntervalMs,
    s.protection,
    s.alerts,
    s.leak,
  ]);

export function controlHandlers(d: ControlDeps): Handlers {
  const { logger, view, clock, owners } = d;
  const owner = (name: string) => {
    const o = owners.get(name);
    if (o === undefined) {
      throw new HerderError(
        'HERDER_ERR_CONTROL',
        `no actor named "${name}" (actors: ${[...owners.keys()].join(', ')})`,
      );
    }
    return o;
  };
  const lifecycle =
    (op: 'stop' | 'start' | 'restart') =>
    async ({ name, by }: { name: string; by: string }) => ({
      ok: true as const,
      detail: await owner(name).command(op, name, by),
    });
  // Like the lifecycle commands, the owner's logic decides and answers, and records the event.
  const freeze =
    (op: 'pause' | 'resume') =>
    async ({ name, by }: { name: string; by: string }) => ({
      ok: true as const,
      detail: await owner(name).pauseChild(op, name, { by: 'person', reason: by }),
    });
  return {
    status: async (): Promise<StatusDoc> => {
      const doc = await logger.status();
      const now = clock.now();
      const paused = pausedNow(view);
      return { ...doc, actors: doc.actors.map((a) => signalsOn(a, view, paused, now)) };
    },
    actor: async ({ name }) => {
      // The live tree knows every actor at once; the record may not have written a new one's row yet.
      if (!owners.has(name)) {
        const names = view.children().map(({ c }) => c.spec.name);
        throw new HerderError(
          'HERDER_ERR_ARGS',
          `herder: no actor named "${name}" in run ${d.runId} (actors: ${names.join(', ')})`,
        );
      }
      const detail = await logger.actor(name);
      return { ...detail, actor: signalsOn(detail.actor, view, pausedNow(view), clock.now()) };
    },
    events: async ({ limit, unwritten }) => logger.events(limit, unwritten),
    logs: async ({ unwritten, ...q }) => logger.logs(q, unwritten),
    report: async () => logger.report(),
    series: async ({ name }) => {
      owner(name);
      return logger.series(name);
    },
    start: lifecycle('start'),
    stop: lifecycle('stop'),
    restart: lifecycle('restart'),
    pause: freeze('pause'),
    resume: freeze('resume'),
    reload: async ({ by }) => {
      let next: RunSpec;
      try {
        next = loadConfig(d.spec.configPath, { db: d.spec.dbPath }).spec;
      } catch (e) {
        if (e instanceof HerderError && e.isUserError) return { ok: false, lines: e.lines };
        throw e;
      }
      const root = d.root();
      if (root === null) throw new HerderError('HERDER_ERR_CONTROL', 'the run has not started its actors yet');
      // The root's logic diffs the specs once: its answer and its reload event are the same line.
      const changes = await root.reconfigure(next.root, by);
      recordConfigs(logger, next.root);
      const later =
        runtimeKeys(next) === runtimeKeys(d.spec) ? '' : '; runtime settings changed: they take effect at the next run';
      return { ok: true, detail: `reloaded ${d.spec.configPath}: ${changes}${later}` };
    },
    // The whole run, gracefully: as at the deadline or on SIGTERM.
    shutdown: async ({ by }) => {
      if (!d.shutdown(by)) return { ok: true, detail: 'the run is already stopping' };
      return { ok: true, detail: `run ${d.runId}: stopping (running jobs get their grace); herder pid ${process.pid}` };
    },
  };
}
