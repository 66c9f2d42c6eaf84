/**
 * The registry of live actors: what the sampler, the health monitor and the
 * control socket read about the actors running now. It is derived, not kept:
 * which actors run, their pids, kinds, priorities and whether they are paused
 * come from their supervisors' states, walked at each read; what only the
 * actors report (thread figures, heartbeats and progress, recent failures and
 * errors) is kept here. The supervisors are its only writers (`Registry`);
 * everyone else is handed the read-only `LiveView`.
 */

import type { Stream } from '../record/records.ts';
import { HERDER } from '../runtime/events.ts';
import type { HealthSettings, WorkerSpec } from '../runtime/spec.ts';
import type { ChildState, Pause } from '../runtime/supervision.ts';
import { type ActorSignals, freshSignals } from './health-channel.ts';

export interface ThreadUsage {
  readonly heapUsedMb: number;
  /** V8's heap size in the worker: a thread has no resident memory of its own. */
  readonly heapTotalMb: number;
  readonly elu: number;
}

/** One running worker actor, as its supervisor's state has it. */
export interface LiveActor {
  readonly name: string;
  readonly kind: 'process' | 'thread';
  /** A process actor's pid, which is also its process group; null until it started, and for a thread. */
  readonly pid: number | null;
  readonly priority: number;
  readonly health: HealthSettings;
  readonly paused: Pause | null;
  /** Being stopped: no longer judged. */
  readonly stopping: boolean;
}

/** A running worker child as the registry shows it, from its supervisor's state. */
export function liveActor(c: ChildState, spec: WorkerSpec): LiveActor {
  return {
    name: spec.name,
    kind: spec.launch.type,
    pid: spec.launch.type === 'process' ? c.pid : null,
    priority: spec.priority,
    health: spec.health,
    paused: c.status.tag === 'running' ? c.status.paused : null,
    stopping: c.status.tag === 'stopping',
  };
}

/** A child of a supervisor as the tree has it: its state, and below it a nested supervisor's own tree. */
export interface ChildTree {
  readonly c: ChildState;
  readonly below: LiveTree | undefined;
}

/** Whatever holds the supervision tree (the root supervisor). */
export interface LiveTree {
  childTrees(): ChildTree[];
}

/** Every child in the tree, depth first in start order, with the supervisor it belongs to. */
export function everyChild(tree: LiveTree, parent: string): { c: ChildState; parent: string }[] {
  return tree
    .childTrees()
    .flatMap(({ c, below }) => [
      { c, parent },
      ...(below === undefined || c.spec.kind !== 'supervisor' ? [] : everyChild(below, c.spec.name)),
    ]);
}

/** The workers running (or being stopped) in the tree now; a stopped subtree's children are not. */
function workersIn(tree: LiveTree): LiveActor[] {
  return tree.childTrees().flatMap(({ c, below }) => {
    if (c.status.tag !== 'running' && c.status.tag !== 'stopping') return [];
    if (c.spec.kind === 'supervisor') return below === undefined ? [] : workersIn(below);
    return [liveActor(c, c.spec)];
  });
}

export type Happening = 'failures' | 'errors';

export interface LiveView {
  /** Every child in the tree, whatever its state (for /metrics), with its supervisor's name. */
  children(): { c: ChildState; parent: string }[];
  /** Every running worker actor, in tree order. */
  running(): LiveActor[];
  signals(name: string): Readonly<ActorSignals> | undefined;
  /** A thread actor's latest figures from inside its worker. */
  usage(name: string): ThreadUsage | null;
  /** How many failures / errors an actor had since `since` (monotonic ms). */
  recent(name: string, what: Happening, since: number): number;
  /** Follows an actor's output as it is captured (the dashboard's live tail); the function returned stops it. */
  follow(name: string, sink: OutputSink): () => void;
}

export type OutputSink = (stream: Stream, lines: readonly string[]) => void;

const KEEP = 1000;

export class Registry implements LiveView {
  private tree: LiveTree | null = null;
  private readonly signalsByName = new Map<string, ActorSignals>();
  private readonly usages = new Map<string, ThreadUsage>();
  private readonly happenings = new Map<string, Record<Happening, number[]>>();
  private readonly followers = new Map<string, Set<OutputSink>>();

  /** The root of the tree, once it exists. */
  attach(tree: LiveTree): void {
    this.tree = tree;
  }

  children(): { c: ChildState; parent: string }[] {
    return this.tree === null ? [] : everyChild(this.tree, HERDER);
  }

  running(): LiveActor[] {
    return this.tree === null ? [] : workersIn(this.tree);
  }

  signals(name: string): Readonly<ActorSignals> | undefined {
    return this.signalsByName.get(name);
  }

  usage(name: string): ThreadUsage | null {
    return this.usages.get(name) ?? null;
  }

  recent(name: string, what: Happening, since: number): number {
    const list = this.happenings.get(name)?.[what];
    if (list === undefined) return 0;
    while (list.length > 0 && (list[0] ?? 0) < since) list.shift();
    return list.length;
  }

  follow(name: string, sink: OutputSink): () => void {
    let set = this.followers.get(name);
    if (set === undefined) {
      set = new Set();
      this.followers.set(name, set);
    }
    set.add(sink);
    return () => {
      set.delete(sink);
      if (set.size === 0) this.followers.delete(name);
    };
  }

  // The writers: called by supervisors only.

  /** Lines an actor printed, for whoever follows it (nobody, almost always: one lookup). */
  output(name: string, stream: Stream, lines: readonly string[]): void {
    const set = this.followers.get(name);
    if (set !== undefined) for (const sink of set) sink(stream, lines);
  }

  /** An actor's signals, to be updated in place by whoever hosts it. */
  signalsOf(name: string): ActorSignals {
    let s = this.signalsByName.get(name);
    if (s === undefined) {
      s = freshSignals();
      this.signalsByName.set(name, s);
    }
    return s;
  }

  setUsage(name: string, u: ThreadUsage): void {
    this.usages.set(name, u);
  }

  note(name: string, what: Happening, at: number): void {
    let t = this.happenings.get(name);
    if (t === undefined) {
      t = { failures: [], errors: [] };
      this.happenings.set(name, t);
    }
    const list = t[what];
    list.push(at);
    if (list.length > KEEP) list.splice(0, list.length - KEEP);
  }

  /** An actor's run ended: its thread figures go with it. */
  ended(name: string): void {
    this.usages.delete(name);
  }
}
