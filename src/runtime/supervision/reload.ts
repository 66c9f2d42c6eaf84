/**
 * reload: a supervisor takes a new spec while it runs. The one diff of the
 * two specs is made here, over the whole tree (a nested supervisor's children
 * are actors in their own right), and drives both what is told - the reload
 * event and the answer to `ctl reload`, the same line - and what is done to
 * this supervisor's own children, matched by name:
 * - new, or back after an earlier reload removed it: started;
 * - changed, itself or anything below it: stopped and started again with its
 *   new spec (a nested supervisor restarts its subtree, which starts afresh);
 * - gone: stopped, and kept as "removed from the config" until the next
 *   reload, so that a command for it says why it cannot run;
 * - the rest: left alone, running or waiting as they were.
 */
import { reloadText } from '../event-text.ts';
import type { ChildSpec, SupervisorSpec } from '../spec.ts';
import type { Draft } from './draft.ts';
import type { Answer } from './messages.ts';
import type { ChildState } from './state.ts';
import { freshChild, REMOVED } from './state.ts';

/** Actors across the tree, by name, in the new config's order (removed: the old one's). */
export interface ReloadDiff {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  readonly unchanged: number;
}

/** Every actor below `s` with what identifies its config: a nested supervisor by its own fields and its children's names. */
function flatten(s: SupervisorSpec, into = new Map<string, string>()): Map<string, string> {
  for (const c of s.children) {
    if (c.kind === 'supervisor') {
      into.set(c.name, JSON.stringify({ ...c, children: c.children.map((x) => x.name) }));
      flatten(c, into);
    } else into.set(c.name, JSON.stringify(c));
  }
  return into;
}

export function diffReload(before: SupervisorSpec, after: SupervisorSpec): ReloadDiff {
  const a = flatten(before);
  const b = flatten(after);
  const added = [...b.keys()].filter((n) => !a.has(n));
  const removed = [...a.keys()].filter((n) => !b.has(n));
  const changed = [...b.keys()].filter((n) => a.has(n) && a.get(n) !== b.get(n));
  return { added, changed, removed, unchanged: b.size - added.length - changed.length };
}

/** The diff in one line: "added d; changed c; removed b; 1 unchanged" (the reload event's own renderer). */
export const describeReload: (diff: ReloadDiff) => string = reloadText;

/**
 * Whether a child kept by name must start again: it, or an actor below it,
 * changed; or it is back after a reload removed it (its state was kept to say so).
 */
function touched(spec: ChildSpec, diff: ReloadDiff): boolean {
  if (diff.changed.includes(spec.name) || diff.added.includes(spec.name)) return true;
  return spec.kind === 'supervisor' && spec.children.some((c) => touched(c, diff));
}

export function onReconfigure(d: Draft, spec: SupervisorSpec, by: string): Answer {
  if (d.s.phase !== 'running')
    return { kind: 'refused', why: 'not_running', detail: 'the run is stopping; no reload now' };
  const diff = diffReload(d.s.spec, spec);
  const old = new Map(d.s.children.map((c) => [c.spec.name, c]));
  const added: ChildState[] = [];
  const next: ChildState[] = [];
  for (const childSpec of spec.children) {
    const c = old.get(childSpec.name);
    if (c === undefined) {
      const fresh = freshChild(childSpec);
      next.push(fresh);
      added.push(fresh);
      continue;
    }
    old.delete(childSpec.name);
    next.push(c);
    if (!touched(childSpec, diff)) continue;
    c.spec = childSpec;
    if (c.status.tag === 'running') {
      d.requestStop(c, 'reconfigured', 'terminate');
    } else if (c.status.tag === 'stopping') {
      c.status = { ...c.status, cause: 'reconfigured' };
    } else {
      d.leaveWaiting(c);
      c.failures = 0;
      d.startChild(c);
    }
  }
  // What the new config no longer has here: stopped, and listed as removed (until the next reload drops it).
  for (const c of old.values()) {
    if (c.status.tag === 'stopped' && c.status.why === REMOVED) continue;
    next.push(c);
    if (c.status.tag === 'running') {
      d.requestStop(c, 'removed', 'terminate');
    } else if (c.status.tag === 'stopping') {
      c.status = { ...c.status, cause: 'removed' };
    } else {
      d.leaveWaiting(c);
      c.status = { tag: 'stopped', why: REMOVED };
      d.touch(c);
    }
  }
  d.s.spec = spec;
  d.s.children = next;
  for (const c of added) d.startChild(c);
  const detail = describeReload(diff);
  d.event(d.s.spec.name, 'reload', { ...diff, by });
  return { kind: 'done', detail };
}
