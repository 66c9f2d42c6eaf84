/**
 * One run of herder, from opening the record to the last flushed line:
 * cleans up after a run that died, starts the root supervisor, enforces the
 * deadline on the monotonic clock, turns SIGTERM/SIGINT into the same graceful
 * shutdown (a second SIGINT kills at once), and closes everything in order.
 */

import { availableParallelism, totalmem } from 'node:os';
import { describeWorker } from '../config/describe.ts';
import { loadConfig, ROOT_NAME } from '../config/load.ts';
import { PipePool } from '../platform/pipes.ts';
import { isRunning, isSameProcess, procStartTime, signalGroup } from '../platform/proc.ts';
import { waitForOwnerToGo } from '../record/owner.ts';
import type { ActorStatus, StatusDoc } from '../record/queries.ts';
import type { PastSchedule, UnfinishedRun } from '../record/runs.ts';
import { type Clock, systemClock } from '../runtime/clock.ts';
import { formatMs } from '../runtime/duration.ts';
import { HerderError } from '../runtime/errors.ts';
import { allWorkers, type RunSpec, type SupervisorSpec } from '../runtime/spec.ts';
import type { Exit, ResumePoint } from '../runtime/supervision.ts';
import { Alerter } from './alerts.ts';
import { ControlServer, type Handlers, socketPathFor } from './control.ts';
import { EchoWriter } from './echo-writer.ts';
import { HealthMonitor } from './health-monitor.ts';
import { killWindowMs } from './host.ts';
import { Logger } from './logger.ts';
import { Echo } from './output.ts';
import { Reaper } from './reaper.ts';
import { LiveActors, Sampler } from './sampler.ts';
import { SupervisorActor } from './supervisor.ts';
import { ThreadPools } from './thread-actor.ts';

export interface RunOptions {
  readonly echo: boolean;
  readonly colour: boolean;
  readonly warn: (line: string) => void;
  readonly clock?: Clock;
  /** Installs SIGINT/SIGTERM/SIGHUP handlers (off in in-process tests). */
  readonly handleSignals?: boolean;
}

export interface RunResult {
  readonly runId: number;
  readonly exitCode: number;
  readonly status: string;
  readonly reason: string;
}

/** Kills what a dead run left behind (checked by start time) and says what it did. */
function cleanUpAfter(run: UnfinishedRun): string {
  let killed = 0;
  for (const g of run.groups) {
    if (isSameProcess(g.pid, g.pidStart) && signalGroup(g.pid, 'SIGKILL')) killed++;
  }
  return `herder (pid ${run.pid}) ended without a shutdown; killed ${killed} leftover process group${killed === 1 ? '' : 's'}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** FIFOs kept ready for process actors' starts after the first wave (two per start). */
const PIPE_SPARE = 16;

function longestStop(spec: SupervisorSpec): number {
  let ms = 0;
  for (const c of spec.children) {
    ms = Math.max(ms, c.kind === 'supervisor' ? longestStop(c) : c.shutdownGraceMs + killWindowMs(c.shutdownGraceMs));
  }
  return ms;
}

type Phase = 'starting' | 'running' | 'closing';

/**
 * The control socket's commands. The caller says who it is ("by"); the socket
 * is 0600, so only its owner (or root) can connect at all. Each command is an
 * event on the actor with that name.
 */
function commandHandlers(
  owners: ReadonlyMap<string, SupervisorActor>,
  live: LiveActors,
  note: (process: string, kind: string, detail: string) => void,
): Handlers {
  const target = (p: Record<string, unknown>) => {
    const name = typeof p.name === 'string' ? p.name : '';
    const by = typeof p.by === 'string' ? p.by.slice(0, 200) : 'unknown';
    const owner = owners.get(name);
    if (owner === undefined) {
      throw new HerderError(
        'HERDER_ERR_CONTROL',
        `no actor named "${name}" (actors: ${[...owners.keys()].join(', ')})`,
      );
    }
    return { name, by, owner };
  };
  const lifecycle = (op: 'stop' | 'start' | 'restart') => async (p: Record<string, unknown>) => {
    const { name, by, owner } = target(p);
    return { ok: true, detail: owner.command(op, name, by) };
  };
  const freeze = (op: 'pause' | 'resume') => async (p: Record<string, unknown>) => {
    const { name, by } = target(p);
    const control = live.controls.get(name);
    if (control === undefined) throw new HerderError('HERDER_ERR_CONTROL', `${name} is not running`);
    if (control.kind === 'thread')
      throw new HerderError('HERDER_ERR_CONTROL', `${name} is a thread actor, which cannot be paused`);
    const done = op === 'pause' ? control.pause() : control.resume();
    if (!done) throw new HerderError('HERDER_ERR_CONTROL', `${name} could not be ${op}d`);
    if (op === 'pause') live.paused.add(name);
    else live.paused.delete(name);
    note(name, op, `by ${by}`);
    return { ok: true, detail: `${name}: ${op}d` };
  };
  return {
    start: lifecycle('start'),
    stop: lifecycle('stop'),
    restart: lifecycle('restart'),
    pause: freeze('pause'),
    resume: freeze('resume'),
  };
}

/** Adds what lives only in memory - the actors' own reports - to a status read from the record. */
function withSignals(doc: StatusDoc, live: LiveActors, clock: Clock): StatusDoc {
  const now = clock.now();
  return { ...doc, actors: doc.actors.map((a) => signalsOn(a, live, now)) };
}

function signalsOn(a: ActorStatus, live: LiveActors, now: number): ActorStatus {
  const s = live.signals.get(a.name);
  if (s === undefined) return a;
  return {
    ...a,
    progress: s.progress,
    self_health: s.selfHealth,
    heartbeat_at: s.lastHeartbeatWall === null ? null : s.lastHeartbeatWall / 1000,
    idle_s: s.lastActivity === null ? null : Math.round((now - s.lastActivity) / 100) / 10,
    bad_health_lines: s.badLines,
    error_patterns: s.patternCounts === null ? null : Object.fromEntries(s.patternCounts),
    paused: live.paused.has(a.name),
  };
}

/** Every worker's config as herder understood it, into the record (at the start, and after a reload). */
function recordConfigs(logger: Logger, root: SupervisorSpec): void {
  for (const w of allWorkers(root)) logger.config(w.name, describeWorker(w));
}

/** What a reload changes, actor by actor (nested supervisors included), in one line. */
export function describeReload(before: SupervisorSpec, after: SupervisorSpec): string {
  const flatten = (s: SupervisorSpec, into = new Map<string, string>()) => {
    for (const c of s.children) {
      if (c.kind === 'supervisor') {
        into.set(c.name, JSON.stringify({ ...c, children: c.children.map((x) => x.name) }));
        flatten(c, into);
      } else into.set(c.name, JSON.stringify(c));
    }
    return into;
  };
  const a = flatten(before);
  const b = flatten(after);
  const added = [...b.keys()].filter((n) => !a.has(n));
  const removed = [...a.keys()].filter((n) => !b.has(n));
  const changed = [...b.keys()].filter((n) => a.has(n) && a.get(n) !== b.get(n));
  const unchanged = b.size - added.length - changed.length;
  const list = (what: string, names: string[]) => (names.length === 0 ? [] : [`${what} ${names.join(', ')}`]);
  return [
    ...list('added', added),
    ...list('changed', changed),
    ...list('removed', removed),
    `${unchanged} unchanged`,
  ].join('; ');
}

/** When the run will end, said at its start: "stops at 14:32 UTC, in 6h00m (--runtime 0 for no limit)". */
export function runLengthNote(maxRuntimeMs: number | null, nowWall: number): string {
  if (maxRuntimeMs === null) return 'no time limit (it runs until stopped)';
  const at = new Date(nowWall + maxRuntimeMs).toISOString();
  const when = maxRuntimeMs >= 86_400_000 ? `${at.slice(0, 16).replace('T', ' ')} UTC` : `${at.slice(11, 16)} UTC`;
  return `stops at ${when}, in ${formatMs(maxRuntimeMs)} (--runtime 0 for no limit)`;
}

/**
 * Where each loop job's schedule stood at the end of the last run that had it:
 * the run it was waiting for, else its last successful run plus its interval.
 * A job with `resume: false`, or whose last run failed or was cut short, starts at once.
 */
function resumePoints(root: SupervisorSpec, past: readonly PastSchedule[]): Map<string, ResumePoint> {
  const byName = new Map(past.map((p) => [p.process, p]));
  const points = new Map<string, ResumePoint>();
  for (const w of allWorkers(root)) {
    const p = byName.get(w.name);
    if (w.loop === null || !w.loop.resume || p === undefined) continue;
    const from = `run ${p.runId}'s schedule`;
    if (p.nextRunAt !== null) points.set(w.name, { dueWall: p.nextRunAt * 1000, from });
    else if (p.lastExit !== null && p.lastExitOk)
      points.set(w.name, { dueWall: p.lastExit * 1000 + w.loop.intervalMs, from });
  }
  return points;
}

/** How long a new run waits for the herder that holds its database to let go (one being killed, or ending). */
const OWNER_GRACE_MS = 3_000;

/** SIGINTs closer together than this are one Ctrl-C delivered twice. */
const SAME_PRESS_MS = 500;

export async function runHerder(spec: RunSpec, opts: RunOptions): Promise<RunResult> {
  const clock = opts.clock ?? systemClock();

  // Signals are handled from the first moment: one that arrives while the
  // record opens is honoured once the run is up, and one during the final
  // flush gives up the output still queued instead of killing herder.
  let phase: Phase = 'starting';
  let interrupts = 0;
  let lastInterrupt = Number.NEGATIVE_INFINITY;
  let stopAsked: NodeJS.Signals | null = null;
  let onRunningSignal: (signal: NodeJS.Signals) => void = () => {};
  let logger: Logger | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signal === 'SIGINT') {
      // One Ctrl-C under a launcher that forwards it (npx tsx, npm start) arrives twice: from the terminal and
      // from the launcher, a few ms apart. Only a press that comes half a second later is a second one.
      const now = clock.now();
      if (now - lastInterrupt < SAME_PRESS_MS) return;
      lastInterrupt = now;
      interrupts++;
    }
    if (phase === 'starting') stopAsked ??= signal;
    else if (phase === 'running') onRunningSignal(signal);
    else logger?.abandonOutput();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  if (opts.handleSignals !== false) for (const s of signals) process.on(s, onSignal);
  try {
    logger = new Logger(clock, opts.warn, spec.outputBufferBytes);
    return await runWith(spec, opts, clock, logger, {
      interrupts: () => interrupts,
      stopAsked: () => stopAsked,
      setPhase: (p) => {
        phase = p;
      },
      onSignal: (fn) => {
        onRunningSignal = fn;
      },
    });
  } finally {
    // Handlers stay until the record is closed: a late Ctrl-C must not cut the final flush.
    if (opts.handleSignals !== false) for (const s of signals) process.off(s, onSignal);
  }
}

interface SignalState {
  interrupts(): number;
  stopAsked(): NodeJS.Signals | null;
  setPhase(p: Phase): void;
  onSignal(fn: (signal: NodeJS.Signals) => void): void;
}

async function runWith(
  spec: RunSpec,
  opts: RunOptions,
  clock: Clock,
  logger: Logger,
  sig: SignalState,
): Promise<RunResult> {
  const params = {
    dbPath: spec.dbPath,
    configPath: spec.configPath,
    maxRuntimeS: spec.maxRuntimeMs === null ? null : spec.maxRuntimeMs / 1000,
    startedAt: clock.wall() / 1000,
    pid: process.pid,
    pidStart: procStartTime(process.pid),
    retentionLines: spec.outputRetentionLines,
  };
  let runId: number;
  let schedules: PastSchedule[];
  try {
    await waitForOwnerToGo(spec.dbPath, OWNER_GRACE_MS);
    const { unfinished, staleLockOf } = await logger.open(params);
    if (staleLockOf !== null) {
      opts.warn(
        `herder: ${spec.dbPath}: removed the lock left by herder pid ${staleLockOf}, which was killed mid-write`,
      );
    }
    // A zombie is not live: a herder killed a moment ago stays one until its parent reaps it.
    const live = unfinished.find((r) => r.pid !== process.pid && isRunning(r.pid, r.pidStart));
    if (live !== undefined) {
      throw new HerderError(
        'HERDER_ERR_ALREADY_RUNNING',
        `${spec.dbPath}: herder run ${live.id} (pid ${live.pid}) is still live on this database; stop it first (kill -TERM ${live.pid}) or pass --db OTHER.db`,
      );
    }
    const crashed = unfinished.map((r) => ({ id: r.id, reason: cleanUpAfter(r) }));
    for (const c of crashed) opts.warn(`herder: run ${c.id}: ${c.reason}; marked crashed`);
    schedules = await logger.begin(params, crashed);
    runId = logger.run;
  } catch (e) {
    await logger.terminate();
    throw e;
  }

  const reaper = new Reaper(opts.warn);
  const pipes = new PipePool(PIPE_SPARE, (dir) => reaper.removeOnExit(dir), opts.warn);
  await pipes.fill(2 * allWorkers(spec.root).filter((w) => w.launch.type === 'process').length);
  const pools = new ThreadPools();
  const echo = opts.echo ? new Echo(new EchoWriter(opts.warn), opts.colour) : null;
  const stats = { givenUp: 0 };
  const live = new LiveActors();
  const owners = new Map<string, SupervisorActor>();
  const alerter =
    spec.alerts === null
      ? null
      : new Alerter(spec.alerts, clock, runId, (message, context) =>
          logger.error(ROOT_NAME, 'alert_failed', message, context),
        );
  const onEvent = (process: string, kind: string, detail: string) => alerter?.notify(process, kind, detail);
  let root: SupervisorActor | null = null;
  /** The actors as the last reload left them: what the next reload is compared with. */
  let current: SupervisorSpec = spec.root;
  const monitor = new HealthMonitor({
    clock,
    live,
    cores: availableParallelism(),
    machineMemMb: totalmem() / 1048576,
    protection: spec.protection,
    leak: spec.leak,
    event: (process, kind, detail) => {
      logger.event(process, kind, detail);
      echo?.event(process, kind, detail);
      onEvent(process, kind, detail);
    },
    deferStarts: (on) => root?.defer(on),
  });
  const sampler =
    spec.sampleIntervalMs === null
      ? null
      : new Sampler(clock, logger, live, spec.sampleIntervalMs, spec.dbPath, monitor);
  let bug: unknown = null;
  let rootExit: Exit | null = null;
  let endReason = 'every actor finished or was given up';
  let status = 'finished';
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });

  const note = (kind: string, detail: string) => {
    logger.event(ROOT_NAME, kind, detail);
    echo?.event(ROOT_NAME, kind, detail);
  };

  root = new SupervisorActor(
    spec.root,
    {
      clock,
      logger,
      reaper,
      pipes,
      pools,
      echo,
      stats,
      live,
      sampleMs: spec.sampleIntervalMs ?? 0,
      onEvent,
      onChildGone: (name) => monitor.forget(name),
      owners,
      random: Math.random,
      onBug: (e) => {
        bug = e;
        opts.warn(`herder: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      },
    },
    {
      exited: (exit) => {
        rootExit = exit;
        resolveDone();
      },
    },
  );

  let watchdog: ReturnType<Clock['setTimeout']> | null = null;
  const shutdown = (why: string, newStatus: string) => {
    if (watchdog !== null) return;
    endReason = why;
    status = newStatus;
    root.shutdown('finish', why);
    // Nothing may hang a shutdown: past every grace and kill window, kill outright.
    watchdog = clock.setTimeout(() => {
      note('kill', 'shutdown overran every grace period; killing what is left');
      root.kill();
      clock.setTimeout(resolveDone, 3_000);
    }, longestStop(spec.root) + 5_000);
  };

  const control = new ControlServer(socketPathFor(spec.dbPath), {
    // The whole run, gracefully: as at the deadline or on SIGTERM.
    shutdown: async (p) => {
      const by = typeof p.by === 'string' ? p.by.slice(0, 200) : 'unknown';
      if (watchdog !== null) return { ok: true, detail: 'the run is already stopping' };
      note('shutdown_asked', `by ${by}`);
      shutdown(`shutdown asked by ${by}`, 'stopped');
      return { ok: true, detail: `run ${runId}: stopping (running jobs get their grace); herder pid ${process.pid}` };
    },
    status: async () => withSignals(await logger.status(), live, clock),
    actor: async (p) => {
      const d = await logger.actor(typeof p.name === 'string' ? p.name : '');
      return { ...d, actor: signalsOn(d.actor, live, clock.now()) };
    },
    events: async (p) => logger.events(typeof p.limit === 'number' ? p.limit : 100, p.unwritten === true),
    report: async () => logger.report(),
    reload: async (p) => {
      const by = typeof p.by === 'string' ? p.by.slice(0, 200) : 'unknown';
      let next: RunSpec;
      try {
        next = loadConfig(spec.configPath, { db: spec.dbPath }).spec;
      } catch (e) {
        if (e instanceof HerderError && e.isUserError) return { ok: false, lines: e.lines };
        throw e;
      }
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
      const changes = describeReload(current, next.root);
      root?.reconfigure(next.root, by);
      recordConfigs(logger, next.root);
      current = next.root;
      const note =
        runtimeKeys(next) === runtimeKeys(spec) ? '' : '; runtime settings changed: they take effect at the next run';
      return { ok: true, detail: `reloaded ${spec.configPath}: ${changes}${note}` };
    },
    logs: async (p) => {
      const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
      const num = (k: string) => (typeof p[k] === 'number' ? (p[k] as number) : undefined);
      const stream = str('stream');
      return logger.logs(
        {
          runId: num('runId'),
          process: str('process'),
          stream: stream === 'stdout' || stream === 'stderr' ? stream : undefined,
          sinceTs: num('sinceTs'),
          grep: str('grep'),
          afterId: num('afterId'),
          limit: Math.min(10_000, Math.max(1, num('limit') ?? 100)),
        },
        p.unwritten === true,
      );
    },
    ...commandHandlers(owners, live, (process, kind, detail) => {
      logger.event(process, kind, detail);
      echo?.event(process, kind, detail);
    }),
  });
  try {
    await control.listen();
  } catch (e) {
    if (e instanceof HerderError) {
      // Another live herder, or a file in the way: the run must not go ahead.
      pipes.close();
      reaper.close();
      await logger.finish({ status: 'failed', exitCode: 2, reason: e.message }).catch(() => {});
      throw e;
    }
    opts.warn(
      `herder: control socket unavailable (${e instanceof Error ? e.message : String(e)}); status will read the database`,
    );
  }

  const deadline =
    spec.maxRuntimeMs === null
      ? null
      : clock.setTimeout(() => {
          note('deadline', `max runtime of ${formatMs(spec.maxRuntimeMs ?? 0)} reached; stopping`);
          shutdown(`deadline reached (${formatMs(spec.maxRuntimeMs ?? 0)})`, 'completed');
        }, spec.maxRuntimeMs);

  const stopOn = (signal: NodeJS.Signals) => {
    if (sig.interrupts() >= 2) {
      note('kill', 'second SIGINT: killing every actor now');
      root.kill();
      return;
    }
    note('signal', `${signal} received; stopping (press Ctrl-C again to kill at once)`);
    shutdown(`${signal} received`, 'stopped');
  };
  sig.onSignal(stopOn);

  const until = runLengthNote(spec.maxRuntimeMs, clock.wall());
  note('run_start', `run ${runId}: ${plural(allWorkers(spec.root).length, 'actor')} from ${spec.configPath}; ${until}`);
  if (echo === null) {
    // Without echo nothing else is printed until the end: say that the run is up, and how to follow it.
    opts.warn(
      `herder: run ${runId} started (pid ${process.pid}); ${until}; follow it with \`status --watch\` or \`logs -f\``,
    );
  }
  recordConfigs(logger, spec.root);
  root.start(resumePoints(spec.root, schedules));
  sampler?.start();
  sig.setPhase('running');
  const early = sig.stopAsked();
  if (early !== null) stopOn(early);
  await done;
  sig.setPhase('closing');
  sampler?.stop();

  if (deadline !== null) clock.clearTimeout(deadline);
  if (watchdog !== null) clock.clearTimeout(watchdog);
  let exitCode = 0;
  const finalExit = rootExit as Exit | null;
  if (finalExit !== null && finalExit.kind !== 'normal') {
    status = 'failed';
    exitCode = 1;
    endReason = finalExit.kind === 'crash' ? finalExit.message : finalExit.kind;
  } else if (status === 'finished' && stats.givenUp > 0) {
    exitCode = 1;
    endReason = 'every actor finished or was given up; some were given up';
  }
  if (bug !== null) {
    status = 'failed';
    exitCode = 1;
    endReason = `internal error: ${bug instanceof Error ? bug.message : String(bug)}`;
  }
  note('run_end', `${status}: ${endReason}`);

  await control.close();
  await alerter?.drain();
  await pools.closeAll();
  pipes.close();
  reaper.close();
  try {
    await logger.finish({ status, exitCode, reason: endReason });
  } catch (e) {
    opts.warn(`herder: could not close the run in the database: ${e instanceof Error ? e.message : String(e)}`);
    exitCode = 1;
  }
  return { runId, exitCode, status, reason: endReason };
}
