/**
 * A process actor: a child process in its own process group, with stdout and
 * stderr captured line by line. Signals go to the whole group; when the main
 * process exits, whatever it left in its group is killed, so a job cannot
 * leak grandchildren from one run to the next.
 */
import { spawn } from 'node:child_process';
import { procStartTime, signalGroup } from '../platform/proc.ts';
import type { Stream } from '../record/records.ts';
import type { Clock, TimerHandle } from '../runtime/clock.ts';
import type { ProcessLaunch } from '../runtime/spec.ts';
import type { Exit, StopMode } from '../runtime/supervision.ts';
import { type ChildEvents, killWindowMs, type RunningChild } from './host.ts';
import { LineSplitter, StderrWatch, type Traceback } from './output.ts';

export interface ProcessDeps {
  readonly clock: Clock;
  readonly output: (pid: number | null, stream: Stream, lines: string[]) => void;
  readonly loggedError: (t: Traceback) => void;
  readonly reaper: { add(pgid: number): void; remove(pgid: number): void };
}

/** How long to wait for the pipes to close once the group is dead. */
const PIPE_CLOSE_WAIT_MS = 2_000;

export function startProcess(
  name: string,
  launch: ProcessLaunch,
  deps: ProcessDeps,
  events: ChildEvents,
): RunningChild {
  const { clock } = deps;
  const [program, ...args] = launch.argv;
  const child = spawn(program ?? '', args, {
    cwd: launch.cwd,
    env: { ...process.env, ...launch.env, HERDER_ACTOR: name },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid ?? null;
  const watch = new StderrWatch(deps.loggedError);
  const timers: TimerHandle[] = [];
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let spawnError: Error | null = null;
  let reported = false;
  let openPipes = 2;

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
  capture('stdout', child.stdout);
  capture('stderr', child.stderr);

  const clearTimers = () => {
    for (const t of timers.splice(0)) clock.clearTimeout(t);
  };

  const report = () => {
    if (reported) return;
    reported = true;
    clearTimers();
    if (pid !== null) deps.reaper.remove(pid);
    events.exited(normalise());
  };

  function maybeReport(): void {
    if ((exitInfo !== null || spawnError !== null) && openPipes <= 0) report();
  }

  function normalise(): Exit {
    if (spawnError !== null) {
      const code = (spawnError as NodeJS.ErrnoException).code ?? 'spawn';
      return { kind: 'start_failed', errorType: 'start', message: `${program}: ${spawnError.message} (${code})` };
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
  child.on('exit', (code, signal) => {
    exitInfo = { code, signal };
    // Anything the job left behind in its group goes with it.
    if (pid !== null) signalGroup(pid, 'SIGKILL');
    timers.push(clock.setTimeout(report, PIPE_CLOSE_WAIT_MS));
    maybeReport();
  });

  const term = (graceMs: number) => {
    if (pid === null || exitInfo !== null) return;
    signalGroup(pid, 'SIGTERM');
    timers.push(clock.setTimeout(() => pid !== null && exitInfo === null && signalGroup(pid, 'SIGKILL'), graceMs));
  };

  return {
    stop(mode: StopMode, graceMs: number) {
      if (mode === 'terminate') term(graceMs);
      else timers.push(clock.setTimeout(() => term(killWindowMs(graceMs)), graceMs));
    },
    kill() {
      if (pid !== null) signalGroup(pid, 'SIGKILL');
    },
  };
}
