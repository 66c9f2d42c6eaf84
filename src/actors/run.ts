/**
 * One run of herder, from opening the record to the last flushed line:
 * cleans up after a run that died, starts the root supervisor, enforces the
 * deadline on the monotonic clock, turns SIGTERM/SIGINT into the same graceful
 * shutdown (a second SIGINT kills at once), and closes everything in order.
 */

import { availableParallelism, totalmem } from 'node:os';
import { ROOT_NAME } from '../config/load.ts';
import { PipePool } from '../platform/pipes.ts';
import { isRunning, isSameProcess, procStartTime, signalGroup } from '../platform/proc.ts';
import { waitForOwnerToGo } from '../record/owner.ts';
import type { PastSchedule, UnfinishedRun } from '../record/runs.ts';
import { type Clock, systemClock } from '../runtime/clock.ts';
import { formatMs } from '../runtime/duration.ts';
import { HerderError } from '../runtime/errors.ts';
import { type EventData, type EventKind, herderEvent } from '../runtime/events.ts';
import { allWorkers, type RunSpec } from '../runtime/spec.ts';
import type { Exit } from '../runtime/supervision.ts';
import { Alerter } from './alerts.ts';
import { ControlServer, socketPathFor } from './control.ts';
import { controlHandlers, recordConfigs } from './control-handlers.ts';
import { EchoWriter } from './echo-writer.ts';
import { EventBus } from './event-bus.ts';
import { HealthMonitor } from './health-monitor.ts';
import { Logger } from './logger.ts';
import { route } from './monitor-routes.ts';
import { Echo } from './output.ts';
import { Reaper } from './reaper.ts';
import { Registry } from './registry.ts';
import { longestStop, resumePoints, runLengthNote } from './run-plan.ts';
import { Sampler } from './sampler.ts';
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

/** FIFOs kept ready for process actors' starts after the first wave (two per start). */
const PIPE_SPARE = 16;

type Phase = 'starting' | 'running' | 'closing';

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
  let bug: unknown = null;
  const reportBug = (e: unknown) => {
    bug = e;
    opts.warn(`herder: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  };
  // Every event goes through the bus once; each sink subscribes here, and nowhere else.
  const bus = new EventBus(reportBug);
  bus.subscribe((e) => logger.event(e.process, e.kind, e.detail, e.data));
  if (echo !== null) bus.subscribe((e) => echo.event(e.process, e.kind, e.detail));
  let givenUp = 0;
  bus.subscribe((e) => {
    if (e.kind === 'giveup') givenUp++;
  });
  const registry = new Registry();
  const owners = new Map<string, SupervisorActor>();
  const alerter =
    spec.alerts === null
      ? null
      : new Alerter(spec.alerts, clock, runId, (message, context) =>
          logger.error(ROOT_NAME, 'alert_failed', message, context),
        );
  if (alerter !== null) bus.subscribe((e) => alerter.notify(e.process, e.kind, e.detail));
  let root: SupervisorActor | null = null;
  const monitor = new HealthMonitor({
    view: registry,
    cores: availableParallelism(),
    machineMemMb: totalmem() / 1048576,
    protection: spec.protection,
    leak: spec.leak,
  });
  // The monitor decides; its actions go to the bus and to the supervisors' state machines.
  const routes = { bus, owners, root: () => root };
  const sampler =
    spec.sampleIntervalMs === null
      ? null
      : new Sampler(
          clock,
          logger,
          registry,
          spec.sampleIntervalMs,
          spec.dbPath,
          (actor, figures) => {
            const { score, actions } = monitor.judge(actor, figures, clock.now());
            route(actions, routes);
            return score;
          },
          (memPercent, cpuPercent) => route(monitor.system(memPercent, cpuPercent), routes),
        );
  let rootExit: Exit | null = null;
  let endReason = 'every actor finished or was given up';
  let status = 'finished';
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });

  const note = <K extends EventKind>(kind: K, data: EventData[K]) => bus.publish(herderEvent(ROOT_NAME, kind, data));

  root = new SupervisorActor(
    spec.root,
    {
      clock,
      logger,
      reaper,
      pipes,
      pools,
      echo,
      bus,
      registry,
      sampleMs: spec.sampleIntervalMs ?? 0,
      onChildGone: (name) => monitor.forget(name),
      owners,
      random: Math.random,
      onBug: reportBug,
    },
    {
      exited: (exit) => {
        rootExit = exit;
        resolveDone();
      },
    },
  );
  registry.attach(root);

  let watchdog: ReturnType<Clock['setTimeout']> | null = null;
  const shutdown = (why: string, newStatus: string) => {
    if (watchdog !== null) return;
    endReason = why;
    status = newStatus;
    root.shutdown('finish', why);
    // Nothing may hang a shutdown: past every grace and kill window, kill outright.
    watchdog = clock.setTimeout(() => {
      note('kill', { reason: 'overran' });
      root.kill();
      clock.setTimeout(resolveDone, 3_000);
    }, longestStop(spec.root) + 5_000);
  };

  // One set of handlers for the control socket and the web API.
  const handlers = controlHandlers({
    spec,
    runId,
    clock,
    logger,
    view: registry,
    owners,
    root: () => root,
    shutdown: (by) => {
      if (watchdog !== null) return false;
      note('shutdown_asked', { by });
      shutdown(`shutdown asked by ${by}`, 'stopped');
      return true;
    },
  });
  const control = new ControlServer(socketPathFor(spec.dbPath), handlers);
  let web: { url: string; close(): Promise<void> } | null = null;
  try {
    await control.listen();
    if (spec.http !== null) {
      const { startWeb } = await import('./http/web.ts');
      const deadlineWall = spec.maxRuntimeMs === null ? null : clock.wall() + spec.maxRuntimeMs;
      const view = registry;
      web = await startWeb({
        settings: spec.http,
        dbPath: spec.dbPath,
        handlers,
        bus,
        view,
        sampler,
        logger,
        deadlineWall,
      });
    }
  } catch (e) {
    if (e instanceof HerderError) {
      // Another live herder, a file in the way, a port taken: the run must not go ahead.
      await control.close();
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
          note('deadline', { max_runtime_ms: spec.maxRuntimeMs ?? 0 });
          shutdown(`deadline reached (${formatMs(spec.maxRuntimeMs ?? 0)})`, 'completed');
        }, spec.maxRuntimeMs);

  const stopOn = (signal: NodeJS.Signals) => {
    if (sig.interrupts() >= 2) {
      note('kill', { reason: 'second_sigint' });
      root.kill();
      return;
    }
    note('signal', { signal });
    shutdown(`${signal} received`, 'stopped');
  };
  sig.onSignal(stopOn);

  const until = runLengthNote(spec.maxRuntimeMs, clock.wall());
  note('run_start', {
    run_id: runId,
    actors: allWorkers(spec.root).length,
    config: spec.configPath,
    until,
    http: web?.url ?? null,
  });
  if (echo === null) {
    // Without echo nothing else is printed until the end: say that the run is up, and how to follow it.
    const page = web === null ? '' : `; dashboard and /metrics at ${web.url}`;
    opts.warn(
      `herder: run ${runId} started (pid ${process.pid}); ${until}${page}; follow it with \`status --watch\` or \`logs -f\``,
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
  } else if (status === 'finished' && givenUp > 0) {
    exitCode = 1;
    endReason = 'every actor finished or was given up; some were given up';
  }
  if (bug !== null) {
    status = 'failed';
    exitCode = 1;
    endReason = `internal error: ${bug instanceof Error ? bug.message : String(bug)}`;
  }
  note('run_end', { status, reason: endReason });

  await web?.close();
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
