/**
 * The supervision logic of one supervisor, as a pure function:
 * `transition(state, message, ctx) -> [state, effects]`. It decides; the
 * runner in src/actors/supervisor.ts carries the effects out. Semantics follow
 * Erlang/OTP (strategies, restart types, intensity within a period); herder's
 * extensions are backoff between restarts, loop jobs, run timeouts, a
 * per-child max_restarts and the "exits 0 quickly" hint.
 */
import { backoffDelay, recordRestart } from './backoff.ts';
import { formatMs } from './duration.ts';
import { assertNever } from './errors.ts';
import type { ChildSpec, SupervisorSpec } from './spec.ts';

/** How a child ended, normalised by its host before any policy looks at it. */
export type Exit =
  | { readonly kind: 'normal' }
  | {
      readonly kind: 'crash';
      readonly code: number | null;
      readonly signal: string | null;
      readonly errorType: string;
      readonly message: string;
      readonly context: string;
      /**
       * It failed by itself while herder was letting it finish (a loop job's
       * run during a shutdown), before any stop signal: a real failure.
       */
      readonly beforeStopSignal?: boolean;
    }
  | { readonly kind: 'oom'; readonly message: string; readonly context: string }
  | { readonly kind: 'start_failed'; readonly errorType: string; readonly message: string };

/**
 * Why herder asked a child to stop: decides what its exit means. 'timeout'
 * and 'fail' count as a failure (fail: an error pattern, a health or limit
 * action, with its own reason); the others never do.
 */
export type StopCause =
  | 'shutdown'
  | 'user'
  | 'user_restart'
  | 'sibling'
  | 'timeout'
  | 'fail'
  | 'escalation'
  /** reload: removed from the config (dropped once it exits) or changed (started again with its new spec). */
  | 'removed'
  | 'reconfigured';

export type ChildStatus =
  | { readonly tag: 'idle' }
  | { readonly tag: 'running'; readonly since: number }
  | {
      readonly tag: 'stopping';
      readonly since: number;
      readonly cause: StopCause;
      /** For cause 'fail': what the failure is recorded as. */
      readonly failure?: { readonly errorType: string; readonly message: string };
    }
  | { readonly tag: 'restarting'; readonly dueAt: number; readonly group: number }
  | { readonly tag: 'loop_wait'; readonly dueAt: number }
  | { readonly tag: 'stopped'; readonly why: string }
  | { readonly tag: 'fatal'; readonly reason: string };

export interface ChildState {
  spec: ChildSpec;
  status: ChildStatus;
  /** Failures in a row; reset by a success. Drives backoff and max_restarts. */
  failures: number;
  failuresTotal: number;
  restarts: number;
  runs: number;
  successes: number;
  quickExits: number;
  /** The restart being scheduled follows an exit 0 that came before reset_after (flapping, not a crash). */
  earlyExit: boolean;
  hinted: boolean;
  pid: number | null;
  lastStartWall: number | null;
  lastExitWall: number | null;
  lastExitCode: number | null;
  lastExitSignal: string | null;
  nextRunWall: number | null;
  /** Loop jobs: runs in a row that matched a backoff error pattern; the next wait backs off. */
  patternStreak: number;
  patternPending: string | null;
}

interface RestartGroup {
  readonly id: number;
  members: string[];
  dueAt: number;
  fired: boolean;
}

export type Phase = 'idle' | 'running' | 'stopping' | 'escalating' | 'done';

export interface SupervisorState {
  spec: SupervisorSpec;
  phase: Phase;
  children: ChildState[];
  restartTimes: number[];
  groups: RestartGroup[];
  nextGroupId: number;
  escalation: string | null;
  /** Machine under pressure: loop runs wait instead of starting. */
  deferStarts: boolean;
}

export type StopMode = 'finish' | 'terminate';

/**
 * Where a loop job's schedule stood when herder last ran on this record: its
 * next run (wall clock, ms) and the run that planned it. Like a systemd timer
 * with Persistent=true, a run still ahead is waited for and one missed while
 * herder was down happens at once, once.
 */
export interface ResumePoint {
  readonly dueWall: number;
  /** Where the time comes from, for the loop_wait event ("run 3's schedule"). */
  readonly from: string;
}

export type SupervisorMsg =
  | { readonly type: 'start'; readonly resume?: ReadonlyMap<string, ResumePoint> }
  | { readonly type: 'started'; readonly child: string; readonly pid: number | null }
  | { readonly type: 'exited'; readonly child: string; readonly exit: Exit }
  | { readonly type: 'timer'; readonly key: string }
  | { readonly type: 'shutdown'; readonly mode: StopMode; readonly reason: string }
  /** Stop a running child now and count it as a failure (an error pattern, a health or limit action). */
  | { readonly type: 'fail'; readonly child: string; readonly errorType: string; readonly message: string }
  /** A loop job's run matched a backoff error pattern: its next wait backs off instead of loop_interval. */
  | { readonly type: 'pattern_backoff'; readonly child: string; readonly pattern: string }
  /** The machine is under pressure (on) or no longer (off): loop runs that fall due wait. */
  | { readonly type: 'defer'; readonly on: boolean }
  /** A person's command (ctl): never counted as a failure. */
  | {
      readonly type: 'command';
      readonly op: 'stop' | 'start' | 'restart';
      readonly child: string;
      readonly by: string;
    }
  /** reload: the supervisor's new spec; children are matched by name. */
  | { readonly type: 'reconfigure'; readonly spec: SupervisorSpec; readonly by: string };

export type EventKind =
  | 'start'
  | 'exit'
  | 'restart'
  | 'loop_wait'
  | 'giveup'
  | 'hint'
  | 'stop'
  | 'timeout'
  | 'shutdown'
  | 'escalate'
  | 'finished'
  | 'deferred'
  | 'command'
  | 'reload';

export type Effect =
  | { readonly type: 'start'; readonly child: string }
  | { readonly type: 'stop'; readonly child: string; readonly mode: StopMode }
  | { readonly type: 'set_timer'; readonly key: string; readonly ms: number }
  | { readonly type: 'cancel_timer'; readonly key: string }
  | { readonly type: 'event'; readonly process: string; readonly kind: EventKind; readonly detail: string }
  | {
      readonly type: 'error';
      readonly process: string;
      readonly errorType: string;
      readonly message: string;
      readonly context: string;
    }
  | { readonly type: 'state'; readonly child: string }
  | { readonly type: 'escalate'; readonly reason: string }
  | { readonly type: 'done'; readonly outcome: 'stopped' | 'finished' };

export interface StepContext {
  readonly now: number;
  readonly wall: number;
  /** In [0, 1): drives backoff jitter. */
  readonly random: number;
}

/** A continuous actor that exits 0 within this long, three times in a row, gets a hint. */
export const QUICK_EXIT_MS = 10_000;
/** While the machine is under pressure, a due loop run is retried this often. */
export const DEFER_RETRY_MS = 5_000;
const REMOVED = 'removed from the config';
export const QUICK_EXITS_FOR_HINT = 3;

export const timerKeys = {
  loop: (name: string) => `loop:${name}`,
  timeout: (name: string) => `timeout:${name}`,
  group: (id: number) => `group:${id}`,
};

export function initialState(spec: SupervisorSpec): SupervisorState {
  return {
    spec,
    phase: 'idle',
    children: spec.children.map((c) => ({
      spec: c,
      status: { tag: 'idle' },
      failures: 0,
      failuresTotal: 0,
      restarts: 0,
      runs: 0,
      successes: 0,
      quickExits: 0,
      earlyExit: false,
      hinted: false,
      pid: null,
      lastStartWall: null,
      lastExitWall: null,
      lastExitCode: null,
      lastExitSignal: null,
      nextRunWall: null,
      patternStreak: 0,
      patternPending: null,
    })),
    restartTimes: [],
    groups: [],
    nextGroupId: 1,
    escalation: null,
    deferStarts: false,
  };
}

/** True for a status from which a child will not run again without a command. */
export function isTerminal(status: ChildStatus): boolean {
  return status.tag === 'stopped' || status.tag === 'fatal';
}

export function transition(state: SupervisorState, msg: SupervisorMsg, ctx: StepContext): [SupervisorState, Effect[]] {
  const step = new Step(state, ctx);
  step.handle(msg);
  step.checkDone();
  return [step.s, step.fx];
}

interface Failure {
  readonly errorType: string;
  readonly message: string;
  readonly context: string;
  readonly summary: string;
}

function failureOf(exit: Exclude<Exit, { kind: 'normal' }>, ran: number): Failure {
  const after = `after ${formatMs(ran)}`;
  switch (exit.kind) {
    case 'crash': {
      const how =
        exit.signal !== null
          ? `killed by ${exit.signal}`
          : exit.code !== null
            ? `exited with code ${exit.code}`
            : `failed with ${exit.errorType}`;
      return { errorType: exit.errorType, message: exit.message, context: exit.context, summary: `${how} ${after}` };
    }
    case 'oom':
      return { errorType: 'oom', message: exit.message, context: exit.context, summary: `ran out of memory ${after}` };
    case 'start_failed':
      return {
        errorType: exit.errorType,
        message: exit.message,
        context: '',
        summary: `could not start: ${exit.message}`,
      };
    default:
      return assertNever(exit, 'exit kind');
  }
}

function timeoutFailure(c: ChildState, ran: number): Failure {
  const limit = c.spec.kind === 'worker' ? (c.spec.runTimeoutMs ?? 0) : 0;
  return {
    errorType: 'timeout',
    message: `run took longer than run_timeout (${formatMs(limit)})`,
    context: '',
    summary: `stopped by run_timeout after ${formatMs(ran)}`,
  };
}

class Step {
  readonly s: SupervisorState;
  readonly fx: Effect[] = [];
  private readonly ctx: StepContext;

  constructor(state: SupervisorState, ctx: StepContext) {
    this.s = {
      ...state,
      children: state.children.map((c) => ({ ...c })),
      restartTimes: [...state.restartTimes],
      groups: state.groups.map((g) => ({ ...g, members: [...g.members] })),
    };
    this.ctx = ctx;
  }

  handle(msg: SupervisorMsg): void {
    switch (msg.type) {
      case 'start':
        return this.onStart(msg.resume);
      case 'started':
        return this.onStarted(msg.child, msg.pid);
      case 'exited':
        return this.onExited(msg.child, msg.exit);
      case 'timer':
        return this.onTimer(msg.key);
      case 'shutdown':
        return this.onShutdown(msg.mode, msg.reason);
      case 'fail':
        return this.onFail(msg.child, msg.errorType, msg.message);
      case 'pattern_backoff':
        return this.onPatternBackoff(msg.child, msg.pattern);
      case 'defer':
        this.s.deferStarts = msg.on;
        return;
      case 'command':
        return this.onCommand(msg.op, msg.child, msg.by);
      case 'reconfigure':
        return this.onReconfigure(msg.spec, msg.by);
      default:
        return assertNever(msg, 'supervisor message');
    }
  }

  // ---- helpers -------------------------------------------------------------

  private child(name: string): ChildState | undefined {
    return this.s.children.find((c) => c.spec.name === name);
  }

  private event(process: string, kind: EventKind, detail: string): void {
    this.fx.push({ type: 'event', process, kind, detail });
  }

  private touch(c: ChildState): void {
    this.fx.push({ type: 'state', child: c.spec.name });
  }

  private isLoop(c: ChildState): boolean {
    return c.spec.kind === 'worker' && c.spec.loop !== null;
  }

  private startChild(c: ChildState): void {
    c.status = { tag: 'running', since: this.ctx.now };
    c.runs += 1;
    c.pid = null;
    c.lastStartWall = this.ctx.wall;
    c.nextRunWall = null;
    this.fx.push({ type: 'start', child: c.spec.name });
    if (c.spec.kind === 'worker' && c.spec.runTimeoutMs !== null) {
      this.fx.push({ type: 'set_timer', key: timerKeys.timeout(c.spec.name), ms: c.spec.runTimeoutMs });
    }
    this.touch(c);
  }

  private requestStop(c: ChildState, cause: StopCause, mode: StopMode): void {
    if (c.status.tag !== 'running') return;
    c.status = { tag: 'stopping', since: c.status.since, cause };
    this.fx.push({ type: 'stop', child: c.spec.name, mode });
    this.touch(c);
  }

  // ---- messages ------------------------------------------------------------

  private onStart(resume: ReadonlyMap<string, ResumePoint> | undefined): void {
    if (this.s.phase !== 'idle') return;
    this.s.phase = 'running';
    for (const c of this.s.children) {
      const point = this.isLoop(c) ? resume?.get(c.spec.name) : undefined;
      if (point === undefined) this.startChild(c);
      else this.resumeLoop(c, point);
    }
  }

  /** A loop job's first run of this herder, at the time its schedule says. */
  private resumeLoop(c: ChildState, point: ResumePoint): void {
    const name = c.spec.name;
    const at = `${new Date(point.dueWall).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
    const ms = Math.round(point.dueWall - this.ctx.wall);
    if (ms <= 0) {
      this.event(
        name,
        'loop_wait',
        `next run now (resuming ${point.from}: its run due at ${at} was missed while herder was down)`,
      );
      this.startChild(c);
      return;
    }
    c.status = { tag: 'loop_wait', dueAt: this.ctx.now + ms };
    c.nextRunWall = point.dueWall;
    this.fx.push({ type: 'set_timer', key: timerKeys.loop(name), ms });
    this.event(name, 'loop_wait', `next run in ${formatMs(ms)} (resuming ${point.from}: due at ${at})`);
    this.touch(c);
  }

  private onStarted(name: string, pid: number | null): void {
    const c = this.child(name);
    if (c === undefined || (c.status.tag !== 'running' && c.status.tag !== 'stopping')) return;
    c.pid = pid;
    const what = pid === null ? 'started' : `started, pid ${pid}`;
    this.event(name, 'start', this.isLoop(c) ? `${what} (run ${c.runs})` : what);
    this.touch(c);
  }

  private onExited(name: string, exit: Exit): void {
    const c = this.child(name);
    if (c === undefined) return;
    const st = c.status;
    if (st.tag !== 'running' && st.tag !== 'stopping') return; // stale report
    if (c.spec.kind === 'worker' && c.spec.runTimeoutMs !== null) {
      this.fx.push({ type: 'cancel_timer', key: timerKeys.timeout(name) });
    }
    const ran = this.ctx.now - st.since;
    c.pid = null;
    c.lastExitWall = this.ctx.wall;
    c.lastExitCode = exit.kind === 'normal' ? 0 : exit.kind === 'crash' ? exit.code : null;
    c.lastExitSignal = exit.kind === 'crash' ? exit.signal : null;

    if (st.tag === 'stopping') {
      this.afterRequestedStop(c, st.cause, exit, ran);
    } else if (exit.kind === 'normal') {
      this.afterNormalExit(c, ran);
    } else {
      this.afterFailure(c, failureOf(exit, ran), ran);
    }
    this.touch(c);
  }

  private afterRequestedStop(c: ChildState, cause: StopCause, exit: Exit, ran: number): void {
    const name = c.spec.name;
    switch (cause) {
      case 'timeout':
        this.afterFailure(c, timeoutFailure(c, ran), ran);
        return;
      case 'fail': {
        const f = c.status.tag === 'stopping' ? c.status.failure : undefined;
        const errorType = f?.errorType ?? 'fail';
        const message = f?.message ?? 'stopped by herder';
        this.afterFailure(
          c,
          { errorType, message, context: '', summary: `stopped by herder (${message}) after ${formatMs(ran)}` },
          ran,
        );
        return;
      }
      case 'sibling': {
        const g = this.s.groups.find((x) => x.members.includes(name));
        this.event(name, 'exit', `stopped for a restart of its group after ${formatMs(ran)}`);
        if (g === undefined || c.spec.restart === 'temporary') {
          if (g !== undefined) g.members = g.members.filter((m) => m !== name);
          c.status = { tag: 'stopped', why: 'temporary: not restarted with its group' };
        } else {
          c.status = { tag: 'restarting', dueAt: g.dueAt, group: g.id };
          c.nextRunWall = this.ctx.wall + Math.max(0, g.dueAt - this.ctx.now);
        }
        if (g !== undefined) this.tryGroup(g);
        return;
      }
      case 'removed':
        this.event(name, 'exit', `stopped: removed from the config (after ${formatMs(ran)})`);
        c.status = { tag: 'stopped', why: REMOVED };
        return;
      case 'reconfigured':
        this.event(name, 'exit', `stopped to start with its new config (after ${formatMs(ran)})`);
        c.failures = 0;
        if (this.s.phase === 'running') this.startChild(c);
        else c.status = { tag: 'stopped', why: 'shutdown' };
        return;
      case 'user_restart':
        this.event(name, 'exit', `stopped for a restart asked by a person after ${formatMs(ran)}`);
        c.failures = 0;
        c.restarts += 1;
        if (this.s.phase === 'running') this.startChild(c);
        else c.status = { tag: 'stopped', why: 'shutdown' };
        return;
      case 'shutdown':
      case 'user':
      case 'escalation': {
        if (cause === 'shutdown' && exit.kind === 'crash' && exit.beforeStopSignal === true && this.isLoop(c)) {
          // A loop job allowed to finish its run failed on its own: recorded like any failure (and not restarted).
          const f = failureOf(exit, ran);
          this.afterFailure(c, { ...f, summary: `${f.summary} (its run failed during ${cause})` }, ran);
          return;
        }
        if (exit.kind === 'normal' && this.isLoop(c)) {
          // A loop job allowed to finish its run during a shutdown did just that.
          c.failures = 0;
          c.successes += 1;
          this.event(name, 'exit', `exited normally after ${formatMs(ran)} (finished its run during ${cause})`);
          c.status = { tag: 'stopped', why: cause };
          return;
        }
        const code = exit.kind === 'crash' && exit.signal !== null ? ` (${exit.signal})` : '';
        this.event(name, 'exit', `stopped by herder (${cause})${code} after ${formatMs(ran)}`);
        c.status = { tag: 'stopped', why: cause };
        return;
      }
      default:
        assertNever(cause, 'stop cause');
    }
  }

  private afterNormalExit(c: ChildState, ran: number): void {
    const name = c.spec.name;
    this.event(name, 'exit', `exited normally after ${formatMs(ran)}`);
    if (c.spec.kind === 'supervisor') {
      c.status = { tag: 'stopped', why: 'all of its children finished' };
      return;
    }
    if (c.spec.loop !== null) {
      c.failures = 0;
      c.successes += 1;
      const pattern = c.patternPending;
      c.patternPending = null;
      c.patternStreak = pattern === null ? 0 : c.patternStreak + 1;
      if (this.s.phase !== 'running') {
        c.status = { tag: 'stopped', why: 'shutdown' };
        return;
      }
      // A run that met a "backoff" error pattern: wait longer, doubling while it keeps happening.
      const backoff = pattern === null ? 0 : backoffDelay(c.spec.backoff, c.patternStreak, this.ctx.random);
      const ms = Math.max(c.spec.loop.intervalMs, backoff);
      c.status = { tag: 'loop_wait', dueAt: this.ctx.now + ms };
      c.nextRunWall = this.ctx.wall + ms;
      this.fx.push({ type: 'set_timer', key: timerKeys.loop(name), ms });
      const why =
        pattern === null
          ? ''
          : ` (backing off: error pattern ${pattern}, ${c.patternStreak} run${c.patternStreak === 1 ? '' : 's'} in a row)`;
      this.event(name, 'loop_wait', `next run in ${formatMs(ms)}${why}`);
      return;
    }
    // A continuous actor that exits 0.
    if (ran >= c.spec.resetAfterMs) {
      c.failures = 0;
      c.successes += 1;
    }
    if (ran < QUICK_EXIT_MS) {
      c.quickExits += 1;
      if (c.quickExits >= QUICK_EXITS_FOR_HINT && !c.hinted) {
        c.hinted = true;
        this.event(name, 'hint', 'exits 0 quickly; if it is a one-shot script, set requires_loop: true');
      }
    } else {
      c.quickExits = 0;
    }
    if (c.spec.restart !== 'permanent' || this.s.phase !== 'running') {
      c.status = { tag: 'stopped', why: `exited normally (${c.spec.restart}: not restarted)` };
      return;
    }
    if (ran < c.spec.resetAfterMs) c.failures += 1;
    c.earlyExit = ran < c.spec.resetAfterMs;
    if (!this.giveUpIfExhausted(c, 'exits normally and keeps being restarted')) this.scheduleRestart(c);
    c.earlyExit = false;
  }

  private afterFailure(c: ChildState, f: Failure, ran: number): void {
    const name = c.spec.name;
    this.event(name, 'exit', f.summary);
    this.fx.push({ type: 'error', process: name, errorType: f.errorType, message: f.message, context: f.context });
    c.quickExits = 0; // the hint is for clean exits in a row
    c.patternPending = null;
    if (!this.isLoop(c) && ran >= c.spec.resetAfterMs) c.failures = 0;
    c.failures += 1;
    c.failuresTotal += 1;
    if (this.s.phase !== 'running') {
      c.status = { tag: 'stopped', why: 'failed during shutdown' };
      return;
    }
    if (c.spec.restart === 'temporary') {
      c.status = { tag: 'stopped', why: 'temporary: not restarted after a failure' };
      return;
    }
    if (!this.giveUpIfExhausted(c, `last failure: ${f.errorType}${f.message === '' ? '' : `: ${f.message}`}`))
      this.scheduleRestart(c);
  }

  /** A run_timeout stop overtaken by a group restart still counts as the failure it was. */
  private countTimeout(c: ChildState): void {
    const { errorType, message, context } = timeoutFailure(c, this.ctx.now);
    this.fx.push({ type: 'error', process: c.spec.name, errorType, message, context });
    c.failures += 1;
    c.failuresTotal += 1;
  }

  private giveUpIfExhausted(c: ChildState, why: string): boolean {
    const max = c.spec.maxRestarts;
    if (max <= 0 || c.failures <= max) return false;
    const reason = `gave up after ${c.failures} failures in a row (max_restarts ${max}); ${why}`;
    c.status = { tag: 'fatal', reason };
    c.nextRunWall = null;
    this.event(c.spec.name, 'giveup', reason);
    this.fx.push({ type: 'error', process: c.spec.name, errorType: 'giveup', message: reason, context: '' });
    return true;
  }

  /** Members of the restart group of `c` under this supervisor's strategy, in start order. */
  private strategyMembers(c: ChildState): string[] {
    const names = this.s.children.map((x) => x.spec.name);
    const strategy = this.s.spec.strategy;
    switch (strategy) {
      case 'one_for_one':
        return [c.spec.name];
      case 'one_for_all':
        return names;
      case 'rest_for_one':
        return names.slice(names.indexOf(c.spec.name));
      default:
        return assertNever(strategy, 'strategy');
    }
  }

  private scheduleRestart(c: ChildState): void {
    // At least the first delay, even after a success reset the count (a long run that exited 0).
    const delay = backoffDelay(c.spec.backoff, Math.max(1, c.failures), this.ctx.random);
    const id = this.s.nextGroupId++;
    let members = this.strategyMembers(c);
    let dueAt = this.ctx.now + delay;
    for (const g of this.s.groups.filter((x) => x.members.some((m) => members.includes(m)))) {
      members = [...new Set([...members, ...g.members])];
      dueAt = Math.max(dueAt, g.dueAt);
      this.fx.push({ type: 'cancel_timer', key: timerKeys.group(g.id) });
    }
    this.s.groups = this.s.groups.filter((x) => !x.members.some((m) => members.includes(m)));
    const order = this.s.children.map((x) => x.spec.name);
    members.sort((a, b) => order.indexOf(a) - order.indexOf(b));

    const kept: string[] = [];
    const toStop: ChildState[] = [];
    const nextWall = this.ctx.wall + (dueAt - this.ctx.now);
    for (const name of members) {
      const m = this.child(name);
      if (m === undefined) continue;
      if (m === c) {
        kept.push(name);
        continue;
      }
      switch (m.status.tag) {
        case 'running':
          toStop.push(m);
          // A temporary child is stopped with its group but, as in OTP, never restarted.
          if (m.spec.restart !== 'temporary') kept.push(name);
          break;
        case 'stopping':
          if (m.status.cause === 'timeout') this.countTimeout(m);
          if (m.status.cause !== 'user') {
            m.status = { ...m.status, cause: 'sibling' };
            if (m.spec.restart !== 'temporary') kept.push(name);
          }
          break;
        case 'loop_wait':
          this.fx.push({ type: 'cancel_timer', key: timerKeys.loop(name) });
          if (m.spec.restart === 'temporary') {
            m.status = { tag: 'stopped', why: 'temporary: not restarted with its group' };
            m.nextRunWall = null;
          } else {
            m.status = { tag: 'restarting', dueAt, group: id };
            m.nextRunWall = nextWall;
            kept.push(name);
          }
          this.touch(m);
          break;
        case 'restarting':
          m.status = { tag: 'restarting', dueAt, group: id };
          m.nextRunWall = nextWall;
          this.touch(m);
          kept.push(name);
          break;
        case 'idle':
        case 'stopped':
        case 'fatal':
          break;
        default:
          assertNever(m.status, 'child status');
      }
    }
    // Stop in reverse start order, as OTP does.
    for (const m of toStop.reverse()) {
      this.event(m.spec.name, 'stop', `restarting with ${c.spec.name} (${this.s.spec.strategy})`);
      this.requestStop(m, 'sibling', 'terminate');
    }
    c.status = { tag: 'restarting', dueAt, group: id };
    c.nextRunWall = nextWall;
    const group: RestartGroup = { id, members: kept, dueAt, fired: false };
    this.s.groups.push(group);
    const others = kept.filter((n) => n !== c.spec.name);
    const limit = c.spec.maxRestarts > 0 ? ` of ${c.spec.maxRestarts}` : '';
    const withOthers = others.length > 0 ? `, with ${others.join(', ')} (${this.s.spec.strategy})` : '';
    // An early exit 0 is counted like a failure (flapping), but it is not a crash: say so.
    const early = c.earlyExit ? `: exited 0 before staying up ${formatMs(c.spec.resetAfterMs)}` : '';
    this.event(
      c.spec.name,
      'restart',
      `restart in ${formatMs(dueAt - this.ctx.now)} (failure ${c.failures}${limit} in a row${early}${withOthers})`,
    );
    if (dueAt > this.ctx.now) {
      this.fx.push({ type: 'set_timer', key: timerKeys.group(id), ms: dueAt - this.ctx.now });
    } else {
      group.fired = true; // restart_delay 0: no timer tick in between
      this.tryGroup(group);
    }
  }

  private tryGroup(g: RestartGroup): void {
    if (!g.fired) return;
    const members = g.members.map((n) => this.child(n)).filter((m): m is ChildState => m !== undefined);
    if (members.some((m) => m.status.tag === 'stopping')) return;
    this.s.groups = this.s.groups.filter((x) => x.id !== g.id);
    const due = members.filter((m) => m.status.tag === 'restarting');
    if (due.length === 0) return;
    const spec = this.s.spec;
    const r = recordRestart(this.s.restartTimes, this.ctx.now, spec.periodMs, spec.intensity);
    this.s.restartTimes = r.times;
    if (r.exceeded) {
      for (const m of due) {
        m.status = { tag: 'stopped', why: 'supervisor gave up' };
        this.touch(m);
      }
      this.giveUp(`more than ${spec.intensity} restarts within ${formatMs(spec.periodMs)} (intensity)`);
      return;
    }
    for (const m of due) {
      m.restarts += 1;
      this.startChild(m);
    }
  }

  private onTimer(key: string): void {
    const [kind, rest] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    if (kind === 'loop') {
      const c = this.child(rest);
      if (c === undefined || this.s.phase !== 'running' || c.status.tag !== 'loop_wait') return;
      if (this.s.deferStarts) {
        this.event(
          rest,
          'deferred',
          `next run deferred: the machine is under pressure; trying again in ${formatMs(DEFER_RETRY_MS)}`,
        );
        this.fx.push({ type: 'set_timer', key: timerKeys.loop(rest), ms: DEFER_RETRY_MS });
        return;
      }
      this.startChild(c);
    } else if (kind === 'timeout') {
      const c = this.child(rest);
      if (c !== undefined && c.status.tag === 'running' && c.spec.kind === 'worker') {
        this.event(rest, 'timeout', `run_timeout of ${formatMs(c.spec.runTimeoutMs ?? 0)} reached; stopping`);
        this.requestStop(c, 'timeout', 'terminate');
      }
    } else if (kind === 'group') {
      const g = this.s.groups.find((x) => x.id === Number(rest));
      if (g !== undefined && this.s.phase === 'running') {
        g.fired = true;
        this.tryGroup(g);
      }
    }
  }

  private onReconfigure(spec: SupervisorSpec, by: string): void {
    if (this.s.phase !== 'running') return;
    const same = (a: ChildSpec, b: ChildSpec) => JSON.stringify(a) === JSON.stringify(b);
    const old = new Map(this.s.children.map((c) => [c.spec.name, c]));
    const added: string[] = [];
    const changed: string[] = [];
    const removed: string[] = [];
    const next: ChildState[] = [];
    for (const childSpec of spec.children) {
      const c = old.get(childSpec.name);
      if (c === undefined) {
        const fresh = initialState({ ...spec, children: [childSpec] }).children[0];
        if (fresh !== undefined) {
          next.push(fresh);
          added.push(childSpec.name);
        }
        continue;
      }
      old.delete(childSpec.name);
      next.push(c);
      if (same(c.spec, childSpec)) continue;
      changed.push(childSpec.name);
      c.spec = childSpec;
      if (c.status.tag === 'running') {
        c.status = { tag: 'stopping', since: c.status.since, cause: 'reconfigured' };
        this.fx.push({ type: 'stop', child: c.spec.name, mode: 'terminate' });
        this.touch(c);
      } else if (c.status.tag === 'stopping') {
        c.status = { ...c.status, cause: 'reconfigured' };
      } else {
        this.leaveWaiting(c);
        c.failures = 0;
        this.startChild(c);
      }
    }
    // What the new config no longer has: stopped, and listed as removed (until the next reload).
    for (const c of old.values()) {
      if (c.status.tag === 'stopped' && c.status.why === REMOVED) continue;
      removed.push(c.spec.name);
      if (c.status.tag === 'running') {
        c.status = { tag: 'stopping', since: c.status.since, cause: 'removed' };
        this.fx.push({ type: 'stop', child: c.spec.name, mode: 'terminate' });
        this.touch(c);
        next.push(c);
      } else if (c.status.tag === 'stopping') {
        c.status = { ...c.status, cause: 'removed' };
        next.push(c);
      } else {
        this.leaveWaiting(c);
        c.status = { tag: 'stopped', why: REMOVED };
        this.touch(c);
        next.push(c);
      }
    }
    this.s.spec = spec;
    this.s.children = next;
    for (const name of added) {
      const c = this.child(name);
      if (c !== undefined) this.startChild(c);
    }
    const unchanged = spec.children.length - added.length - changed.length;
    const list = (what: string, names: string[]) => (names.length === 0 ? [] : [`${what} ${names.join(', ')}`]);
    const detail = [
      ...list('added', added),
      ...list('changed', changed),
      ...list('removed', removed),
      `${unchanged} unchanged`,
    ];
    this.event(this.s.spec.name, 'reload', `${detail.join('; ')} (by ${by})`);
  }

  private onCommand(op: 'stop' | 'start' | 'restart', name: string, by: string): void {
    const c = this.child(name);
    if (c === undefined || this.s.phase !== 'running') return;
    this.event(name, 'command', `${op} (by ${by})`);
    const st = c.status;
    if (op === 'stop') {
      if (st.tag === 'running') return this.requestStop(c, 'user', 'terminate');
      if (st.tag === 'stopping') {
        c.status = { ...st, cause: 'user' };
        return;
      }
      this.leaveWaiting(c);
      c.status = { tag: 'stopped', why: 'user' };
      this.touch(c);
      return;
    }
    if (op === 'restart' && st.tag === 'running') {
      c.status = { tag: 'stopping', since: st.since, cause: 'user_restart' };
      this.fx.push({ type: 'stop', child: name, mode: 'terminate' });
      this.touch(c);
      return;
    }
    if (st.tag === 'running' || st.tag === 'stopping') return; // start: already running
    // start, or restart of one that is not running: now, with a clean slate.
    this.leaveWaiting(c);
    c.failures = 0;
    if (op === 'restart') c.restarts += 1;
    this.startChild(c);
  }

  /** Takes a waiting child off its loop timer or restart group. */
  private leaveWaiting(c: ChildState): void {
    const name = c.spec.name;
    if (c.status.tag === 'loop_wait') this.fx.push({ type: 'cancel_timer', key: timerKeys.loop(name) });
    if (c.status.tag === 'restarting') {
      for (const g of this.s.groups) g.members = g.members.filter((m) => m !== name);
      const empty = this.s.groups.filter((g) => g.members.length === 0);
      for (const g of empty) this.fx.push({ type: 'cancel_timer', key: timerKeys.group(g.id) });
      this.s.groups = this.s.groups.filter((g) => g.members.length > 0);
    }
    c.nextRunWall = null;
  }

  private onFail(name: string, errorType: string, message: string): void {
    const c = this.child(name);
    if (c === undefined || c.status.tag !== 'running' || this.s.phase !== 'running') return;
    if (c.spec.kind === 'worker' && c.spec.runTimeoutMs !== null) {
      this.fx.push({ type: 'cancel_timer', key: timerKeys.timeout(name) });
    }
    this.event(name, 'stop', `restarting it: ${message}`);
    c.status = { tag: 'stopping', since: c.status.since, cause: 'fail', failure: { errorType, message } };
    this.fx.push({ type: 'stop', child: name, mode: 'terminate' });
    this.touch(c);
  }

  private onPatternBackoff(name: string, pattern: string): void {
    const c = this.child(name);
    if (c === undefined || c.status.tag !== 'running') return;
    if (this.isLoop(c)) {
      c.patternPending = pattern;
      return;
    }
    // A continuous actor has no next run to delay: it restarts, with backoff.
    this.onFail(name, pattern, `error pattern ${pattern} (action backoff)`);
  }

  private giveUp(reason: string): void {
    this.s.phase = 'escalating';
    this.s.escalation = reason;
    this.event(this.s.spec.name, 'escalate', `supervisor gives up: ${reason}`);
    this.stopAll('terminate', 'escalation');
  }

  private onShutdown(mode: StopMode, reason: string): void {
    if (this.s.phase === 'idle') {
      this.s.phase = 'done';
      this.fx.push({ type: 'done', outcome: 'stopped' });
      return;
    }
    if (this.s.phase !== 'running') return;
    this.s.phase = 'stopping';
    this.event(this.s.spec.name, 'shutdown', reason);
    this.stopAll(mode, 'shutdown');
  }

  private stopAll(mode: StopMode, cause: StopCause): void {
    for (const g of this.s.groups) this.fx.push({ type: 'cancel_timer', key: timerKeys.group(g.id) });
    this.s.groups = [];
    for (const c of [...this.s.children].reverse()) {
      const name = c.spec.name;
      switch (c.status.tag) {
        case 'running': {
          if (c.spec.kind === 'worker' && c.spec.runTimeoutMs !== null) {
            this.fx.push({ type: 'cancel_timer', key: timerKeys.timeout(name) });
          }
          const childMode = this.isLoop(c) || c.spec.kind === 'supervisor' ? mode : 'terminate';
          this.requestStop(c, cause, childMode);
          break;
        }
        case 'stopping':
          c.status = { ...c.status, cause };
          break;
        case 'loop_wait':
          this.fx.push({ type: 'cancel_timer', key: timerKeys.loop(name) });
          c.status = { tag: 'stopped', why: cause };
          // The run it was waiting for stays on record: the next herder on this database resumes from it.
          if (cause !== 'shutdown') c.nextRunWall = null;
          this.touch(c);
          break;
        case 'restarting':
        case 'idle':
          c.status = { tag: 'stopped', why: cause };
          c.nextRunWall = null;
          this.touch(c);
          break;
        case 'stopped':
        case 'fatal':
          break;
        default:
          assertNever(c.status, 'child status');
      }
    }
  }

  checkDone(): void {
    const live = this.s.children.some((c) => !isTerminal(c.status));
    if (live) return;
    // An actor a person stopped may be started again: the run does not end for lack of work.
    const parked = this.s.children.some((c) => c.status.tag === 'stopped' && c.status.why === 'user');
    if (parked && this.s.phase === 'running') return;
    switch (this.s.phase) {
      case 'escalating':
        this.s.phase = 'done';
        this.fx.push({ type: 'escalate', reason: this.s.escalation ?? 'gave up' });
        return;
      case 'stopping':
        this.s.phase = 'done';
        this.fx.push({ type: 'done', outcome: 'stopped' });
        return;
      case 'running':
        this.s.phase = 'done';
        this.event(this.s.spec.name, 'finished', 'no child is left to run');
        this.fx.push({ type: 'done', outcome: 'finished' });
        return;
      case 'idle':
      case 'done':
        return;
      default:
        assertNever(this.s.phase, 'phase');
    }
  }
}
