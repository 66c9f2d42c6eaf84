/**
 * A process actor: a child process in its own process group, with stdout and
 * stderr captured line by line. Signals go to the whole group; when the main
 * process exits, whatever it left in its group is stopped too (SIGTERM, then
 * SIGKILL), and the exit is reported only once the group is gone, so a job
 * cannot leak grandchildren from one run to the next.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Socket } from 'node:net';
import { closePipe, closeQuietly, type PipePair } from '../platform/pipes.ts';
import { groupHasLiving, procStartTime, signalGroup } from '../platform/proc.ts';
import type { Stream } from '../record/records.ts';
import type { Clock, TimerHandle } from '../runtime/clock.ts';
import type { ProcessLaunch } from '../runtime/spec.ts';
import type { Exit, StopMode } from '../runtime/supervision.ts';
import { HEALTH_FD, type HealthMessage, parseHealthLine } from './health-channel.ts';
import { type ChildEvents, planStop, type RunningChild } from './host.ts';
import { LineSplitter, StderrWatch, type Traceback } from './output.ts';

export interface ProcessDeps {
  readonly clock: Clock;
  readonly output: (pid: number | null, stream: Stream, lines: string[]) => void;
  readonly loggedError: (t: Traceback) => void;
  /** Each line of the health channel, parsed (null when it is not a valid message). */
  readonly health: (message: HealthMessage | null, raw: string) => void;
  readonly reaper: { add(pgid: number): void; remove(pgid: number): void };
  /** Real pipes for stdout and stderr (see platform/pipes.ts); null: libuv's socket pairs. */
  readonly pipes?: () => PipePair | null;
}

/** How long to wait for the pipes to close once the group is dead. */
const PIPE_CLOSE_WAIT_MS = 2_000;
/** What a main process leaves in its group gets SIGTERM, then SIGKILL this much later. */
export const LEFTOVER_KILL_MS = 1_000;

export function startProcess(
  name: string,
  launch: ProcessLaunch,
  deps: ProcessDeps,
  events: ChildEvents,
): RunningChild {
  const { clock } = deps;
  const [program, ...args] = launch.argv;
  let child: ChildProcess;
  const pipes = deps.pipes?.() ?? null;
  try {
    child = spawn(program ?? '', args, {
      cwd: launch.cwd,
      env: { ...process.env, ...launch.env, HERDER_ACTOR: name, HERDER_HEALTH_FD: String(HEALTH_FD) },
      detached: true,
      // fd 3: the health channel (see health-channel.ts)
      stdio: ['ignore', pipes?.stdout.writeFd ?? 'pipe', pipes?.stderr.writeFd ?? 'pipe', 'pipe'],
    });
  } catch (e) {
    if (pipes !== null) {
      closePipe(pipes.stdout);
      closePipe(pipes.stderr);
    }
    // spawn() throws at once for some bad input (a NUL byte in an argument): still just a failed start.
    const message = `${program}: ${e instanceof Error ? e.message : String(e)}`;
    queueMicrotask(() => events.exited({ kind: 'start_failed', errorType: 'start', message }));
    return { stop() {}, kill() {} };
  }
  if (pipes !== null) {
    // The child has its own copies now: herder's must go, or the pipes would never end.
    closeQuietly(pipes.stdout.writeFd);
    closeQuietly(pipes.stderr.writeFd);
  }
  const pid = child.pid ?? null;
  const watch = new StderrWatch(deps.loggedError);
  const timers: TimerHandle[] = [];
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  let reported = false;
  /** Whether herder has sent the job a stop signal (SIGTERM or SIGKILL). */
  let signalled = false;
  let stopping = false;
  let openPipes = 3;

  if (pid !== null) {
    deps.reaper.add(pid);
    events.started(pid, procStartTime(pid));
  }

  const capture = (stream: Stream, readable: NodeJS.ReadableStream | null) => {
    if (readable === null) {
      openPipes--;
      return;
    }
    const splitter = new LineSplitter((lines) => {
      if (stream === 'stderr') watch.lines(lines);
      deps.output(pid, stream, lines);
    });
    readable.on('data', (chunk: Buffer) => splitter.push(chunk));
    readable.on('close', () => {
      splitter.end();
      openPipes--;
      maybeReport();
    });
    readable.on('error', () => {
      // a read error ends the stream; 'close' follows
    });
  };
  const reader = (fd: number) => new Socket({ fd, readable: true, writable: false });
  capture('stdout', pipes === null ? child.stdout : reader(pipes.stdout.readFd));
  capture('stderr', pipes === null ? child.stderr : reader(pipes.stderr.readFd));
  const channel = child.stdio[HEALTH_FD] as NodeJS.ReadableStream | null | undefined;
  if (channel === null || channel === undefined) {
    openPipes--;
  } else {
    const splitter = new LineSplitter((lines) => {
      for (const l of lines) if (l.trim() !== '') deps.health(parseHealthLine(l), l);
    });
    channel.on('data', (chunk: Buffer) => splitter.push(chunk));
    channel.on('error', () => {});
    channel.on('close', () => {
      splitter.end();
      openPipes--;
      maybeReport();
    });
  }

  const clearTimers = () => {
    for (const t of timers.splice(0)) clock.clearTimeout(t);
  };

  const report = () => {
    if (reported) return;
    reported = true;
    clearTimers();
    if (pid !== null) deps.reaper.remove(pid);
    const exit = normalise();
    // Asked to finish (a loop job in a shutdown) and failed before any signal came: its own failure.
    events.exited(exit.kind === 'crash' && stopping && !signalled ? { ...exit, beforeStopSignal: true } : exit);
  };

  function normalise(): Exit {
    if (spawnError !== null) {
      const code = (spawnError as NodeJS.ErrnoException).code ?? 'spawn';
      // ENOENT also comes from a missing working folder: name the real culprit.
      const message = !existsSync(launch.cwd)
        ? `its cwd ${launch.cwd} does not exist`
        : `${program}: ${spawnError.message} (${code})`;
      return { kind: 'start_failed', errorType: 'start', message };
    }
    const { code, signal } = exitInfo ?? { code: null, signal: null };
    if (code === 0 && signal === null) return { kind: 'normal' };
    const tb = watch.takeTraceback();
    if (tb !== null)
      return { kind: 'crash', code, signal, errorType: tb.errorType, message: tb.message, context: tb.context };
    const last = watch.lastLine;
    const how = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
    return {
      kind: 'crash',
      code,
      signal,
      errorType: signal !== null ? 'signal' : 'exit',
      message: last === '' ? how : `${how}: ${last}`,
      context: watch.lastLines,
    };
  }

  child.on('error', (e) => {
    if (exitInfo !== null) return;
    spawnError = e;
    openPipes = 0;
    report();
  });

  const groupAlive = () => pid !== null && groupHasLiving(pid);
  let pipesDeadline: number | null = null;
  /** The exit is reported once the main process, its group and its pipes are all gone. */
  function maybeReport(): void {
    if (reported || exitInfo === null) return;
    if (groupAlive()) return; // leftovers are being stopped; polled below
    if (openPipes <= 0) return report();
    // Pipes held by something that escaped the group: wait a little, then report anyway.
    pipesDeadline ??= clock.now() + PIPE_CLOSE_WAIT_MS;
    if (clock.now() >= pipesDeadline) report();
  }
  const poll = () => {
    maybeReport();
    if (!reported) timers.push(clock.setTimeout(poll, 25));
  };

  child.on('exit', (code, signal) => {
    exitInfo = { code, signal };
    // What the job left running in its group goes with it: SIGTERM, then SIGKILL
    // after the grace of a stop already under way, or after LEFTOVER_KILL_MS.
    if (pid !== null && groupAlive() && !stopping) {
      signalGroup(pid, 'SIGTERM');
      timers.push(clock.setTimeout(() => signalGroup(pid, 'SIGKILL'), LEFTOVER_KILL_MS));
    }
    poll();
  });

  return {
    stop(mode: StopMode, graceMs: number) {
      if (pid === null || stopping) return;
      stopping = true;
      planStop(
        clock,
        timers,
        mode,
        graceMs,
        () => {
          signalled = true;
          signalGroup(pid, 'SIGTERM');
          signalGroup(pid, 'SIGCONT'); // a paused job must wake up to hear SIGTERM
        },
        () => signalGroup(pid, 'SIGKILL'),
      );
    },
    kill() {
      signalled = true;
      if (pid !== null) signalGroup(pid, 'SIGKILL');
    },
    pause() {
      return pid !== null && exitInfo === null && signalGroup(pid, 'SIGSTOP');
    },
    resume() {
      return pid !== null && signalGroup(pid, 'SIGCONT');
    },
  };
}
