/**
 * The sampler: every sample interval, one resource_usage row per live actor,
 * one for herder itself ("_herder") and one for the machine ("_system"). A
 * process actor is measured as its whole process group - CPU % (from tick
 * deltas), resident memory, threads, open descriptors summed over the job
 * and everything it forked. A thread
 * actor reports from inside its worker (heap in use, event-loop utilisation,
 * which stands for its CPU share). The machine comes from systeminformation,
 * plus the free space where the database lives.
 */
import { statfsSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import si from 'systeminformation';
import { openFds, type ProcEntry, processGroups, TICKS_PER_SECOND } from '../platform/proctable.ts';
import type { UsageRow } from '../record/records.ts';
import type { Clock, TimerHandle } from '../runtime/clock.ts';
import { HERDER, SYSTEM } from '../runtime/events.ts';
import type { Figures } from './health-monitor.ts';
import type { Logger } from './logger.ts';
import type { LiveActor, LiveView } from './registry.ts';

/** Scores one actor's sample (the health monitor, through the run): the score to store with it. */
export type Judge = (actor: LiveActor, figures: Figures) => number | null;

const EMPTY: Omit<UsageRow, 'process' | 'pid'> = {
  cpuPercent: null,
  rssMb: null,
  numThreads: null,
  numFds: null,
  health: null,
  heapUsedMb: null,
  heapTotalMb: null,
  elu: null,
  memPercent: null,
  availableMb: null,
  load1: null,
  diskFreeMb: null,
};

const round1 = (x: number) => Math.round(x * 10) / 10;

/** The process name of herder's own rows, the root supervisor's name. */
const SELF = HERDER;

/** The main thread's heap in use; after a full collection when node runs with --expose-gc. */
function liveHeapBytes(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

export class Sampler {
  private timer: TimerHandle | null = null;
  private lastTicks = new Map<number, number>();
  private lastAt = 0;
  private lastElu = performance.eventLoopUtilization();
  private stopped = false;
  /** Each actor's newest sample (and herder's and the machine's), for /metrics. */
  private readonly newest = new Map<string, UsageRow>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly view: LiveView,
    private readonly intervalMs: number,
    private readonly dbPath: string,
    private readonly judge: Judge,
    /** The machine's memory and CPU use, in %, for protection. */
    private readonly machine: (memPercent: number, cpuPercent: number) => void,
  ) {}

  start(): void {
    this.lastAt = this.clock.now();
    this.lastElu = performance.eventLoopUtilization();
    void si.currentLoad().catch(() => {}); // primes its CPU delta
    this.lastTicks = this.ticksNow();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** The newest sample of an actor (or of HERDER, or SYSTEM for the machine). */
  latest(name: string): Readonly<UsageRow> | undefined {
    return this.newest.get(name);
  }

  private record(row: UsageRow): void {
    this.newest.set(row.process, row);
    this.logger.usage(row);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.sample().finally(() => this.schedule());
    }, this.intervalMs);
  }

  /**
   * herder's own process: CPU and resident memory of all its threads (the
   * logging thread and thread actors' workers included), its threads and
   * descriptors, and the main thread's V8 heap in use and event-loop
   * utilisation, so that a long run can tell its own growth from its actors'.
   * The heap in use swings by tens of MB with garbage not yet collected; run
   * herder with `node --expose-gc` and it is measured after a full collection,
   * which makes it the live heap, the figure to follow when hunting a leak.
   */
  private sampleSelf(groups: Map<number, ProcEntry[]>, ticks: Map<number, number>, elapsedS: number): void {
    let me: ProcEntry | undefined;
    for (const entries of groups.values()) me ??= entries.find((e) => e.pid === process.pid);
    const elu = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(elu, this.lastElu).utilization;
    this.lastElu = elu;
    let cpuPercent: number | null = null;
    if (me !== undefined) {
      ticks.set(me.pid, me.cpuTicks);
      const before = this.lastTicks.get(me.pid);
      if (before !== undefined)
        cpuPercent = round1((Math.max(0, me.cpuTicks - before) / TICKS_PER_SECOND / elapsedS) * 100);
    }
    this.record({
      ...EMPTY,
      process: SELF,
      pid: process.pid,
      cpuPercent,
      rssMb: me === undefined ? null : round1(me.rssKb / 1024),
      numThreads: me?.threads ?? null,
      numFds: openFds(process.pid),
      heapUsedMb: round1(liveHeapBytes() / 1048576),
      elu: Math.round(busy * 1000) / 1000,
    });
  }

  private ticksNow(): Map<number, number> {
    const ticks = new Map<number, number>();
    for (const entries of processGroups().values()) for (const e of entries) ticks.set(e.pid, e.cpuTicks);
    return ticks;
  }

  /** Sampling rounds so far: anything read from `latest` may have changed since the last value. */
  rounds = 0;

  async sample(): Promise<void> {
    this.rounds++;
    const now = this.clock.now();
    const elapsedS = Math.max(0.001, (now - this.lastAt) / 1000);
    this.lastAt = now;
    const groups = processGroups();
    const ticks = new Map<number, number>();
    const actors = this.view.running();
    for (const a of actors) {
      if (a.kind !== 'process' || a.pid === null) continue;
      const members = groups.get(a.pid) ?? [];
      let cpuTicks = 0;
      let rssKb = 0;
      let threads = 0;
      let fds = 0;
      for (const m of members) {
        ticks.set(m.pid, m.cpuTicks);
        // A process born since the last sample counts from zero.
        cpuTicks += m.cpuTicks - (this.lastTicks.get(m.pid) ?? 0);
        rssKb += m.rssKb;
        threads += m.threads;
        fds += openFds(m.pid);
      }
      if (members.length === 0) continue;
      const cpuPercent = round1((Math.max(0, cpuTicks) / TICKS_PER_SECOND / elapsedS) * 100);
      const rssMb = round1(rssKb / 1024);
      const health = this.judge(a, { rssMb, cpuPercent, numFds: fds });
      this.record({
        ...EMPTY,
        process: a.name,
        pid: a.pid,
        cpuPercent,
        rssMb,
        numThreads: threads,
        numFds: fds,
        health,
      });
    }
    this.sampleSelf(groups, ticks, elapsedS);
    this.lastTicks = ticks;
    for (const a of actors) {
      const u = a.kind === 'thread' ? this.view.usage(a.name) : null;
      if (u === null) continue;
      const health = this.judge(a, { rssMb: u.heapUsedMb, cpuPercent: u.elu * 100, numFds: null });
      this.record({
        ...EMPTY,
        process: a.name,
        pid: process.pid,
        health,
        cpuPercent: round1(u.elu * 100),
        heapUsedMb: round1(u.heapUsedMb),
        heapTotalMb: round1(u.heapTotalMb),
        elu: Math.round(u.elu * 1000) / 1000,
      });
    }
    await this.sampleMachine();
  }

  private async sampleMachine(): Promise<void> {
    try {
      const [load, mem] = await Promise.all([si.currentLoad(), si.mem()]);
      let diskFreeMb: number | null = null;
      try {
        const fs = statfsSync(path.dirname(this.dbPath));
        diskFreeMb = round1((fs.bavail * fs.bsize) / 1048576);
      } catch {
        diskFreeMb = null;
      }
      const memPercent = round1(((mem.total - mem.available) / mem.total) * 100);
      this.machine(memPercent, load.currentLoad);
      this.record({
        ...EMPTY,
        process: SYSTEM,
        pid: null,
        cpuPercent: round1(load.currentLoad),
        memPercent,
        availableMb: round1(mem.available / 1048576),
        load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
        diskFreeMb,
      });
    } catch {
      // the machine's figures are best effort; the actors' rows are written already
    }
  }
}
