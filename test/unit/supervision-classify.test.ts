/**
 * classify.ts: what an exit means, from the child's status when it ended,
 * before any policy acts on it. Pure: no draft, no clock.
 */

import { describe, expect, it } from 'vitest';
import { exitText } from '../../src/runtime/event-text.ts';
import {
  type ChildStatus,
  classifyExit,
  type Exit,
  failureOf,
  initialState,
  type StopCause,
} from '../../src/runtime/supervision.ts';
import { exits } from './sim.ts';
import { loopJob, supervisor, worker } from './spec-factory.ts';

const [feed, snap] = initialState(
  supervisor('root', [worker('feed', { runTimeoutMs: 90_000 }), loopJob('snap', 60_000)]),
).children;
if (feed === undefined || snap === undefined) throw new Error('children');

const running: ChildStatus = { tag: 'running', since: 0, paused: null };
const stopping = (cause: StopCause): ChildStatus => ({ tag: 'stopping', since: 0, cause });

describe('failureOf: the error row and the exit event of a failure', () => {
  it.each<{ exit: Exit; errorType: string; fields: object; summary: string }>([
    {
      exit: exits.crash('ValueError', 2),
      errorType: 'ValueError',
      fields: { cause: 'crash', code: 2, signal: null, error_type: 'ValueError' },
      summary: 'exited with code 2 after 1.5s',
    },
    {
      exit: exits.killed('SIGKILL'),
      errorType: 'signal',
      fields: { cause: 'crash', code: null, signal: 'SIGKILL' },
      summary: 'killed by SIGKILL after 1.5s',
    },
    {
      exit: exits.escalation(),
      errorType: 'escalation',
      fields: { cause: 'crash', code: null, signal: null, error_type: 'escalation' },
      summary: 'failed with escalation after 1.5s',
    },
    { exit: exits.oom(), errorType: 'oom', fields: { cause: 'oom' }, summary: 'ran out of memory after 1.5s' },
    {
      exit: exits.startFailed(),
      errorType: 'spawn_error',
      fields: { cause: 'start_failed', message: 'ENOENT' },
      summary: 'could not start: ENOENT',
    },
  ])('$summary', ({ exit, errorType, fields, summary }) => {
    if (exit.kind === 'normal') throw new Error('a normal exit is no failure');
    const f = failureOf(exit, 1_500);
    expect(f).toMatchObject({ errorType, exit: { ran_ms: 1_500, ...fields } });
    expect(exitText(f.exit)).toBe(summary);
  });
});

describe('classifyExit', () => {
  it.each<{ what: string; child: typeof feed; status: ChildStatus; exit: Exit; meaning: object }>([
    { what: 'exit 0 by itself', child: feed, status: running, exit: exits.normal(), meaning: { kind: 'normal' } },
    {
      what: 'a crash by itself',
      child: feed,
      status: running,
      exit: exits.crash(),
      meaning: { kind: 'failure', failure: { errorType: 'RuntimeError' } },
    },
    {
      what: 'stopped by run_timeout, however it ended',
      child: feed,
      status: stopping('timeout'),
      exit: exits.normal(),
      meaning: {
        kind: 'failure',
        failure: { errorType: 'timeout', message: 'run took longer than run_timeout (1m30s)' },
      },
    },
    {
      what: 'stopped for a failure herder found',
      child: feed,
      status: { tag: 'stopping', since: 0, cause: 'fail', failure: { errorType: 'health', message: 'low' } },
      exit: exits.killed('SIGTERM'),
      meaning: {
        kind: 'failure',
        failure: { errorType: 'health', exit: { cause: 'fail', message: 'low', ran_ms: 1_000 } },
      },
    },
    {
      what: 'stopped at a shutdown, by its signal',
      child: feed,
      status: stopping('shutdown'),
      exit: exits.killed('SIGTERM'),
      meaning: { kind: 'stopped', cause: 'shutdown', signal: 'SIGTERM' },
    },
    {
      what: 'a loop job finishing its run at a shutdown',
      child: snap,
      status: stopping('shutdown'),
      exit: exits.normal(),
      meaning: { kind: 'finished_run', cause: 'shutdown' },
    },
    {
      what: "a loop job's run failing by itself at a shutdown",
      child: snap,
      status: stopping('shutdown'),
      exit: exits.crashBeforeStop('ValueError'),
      meaning: {
        kind: 'failure',
        failure: { errorType: 'ValueError', exit: { cause: 'crash', code: 1, during: 'shutdown' } },
      },
    },
    {
      what: 'what a loop job does once signalled at a shutdown',
      child: snap,
      status: stopping('shutdown'),
      exit: exits.crash('KeyboardInterrupt'),
      meaning: { kind: 'stopped', cause: 'shutdown', signal: null },
    },
    ...(['sibling', 'removed', 'reconfigured', 'user_restart', 'user', 'escalation'] as const).map((cause) => ({
      what: `stopped (${cause}), even by a crash`,
      child: feed,
      status: stopping(cause),
      exit: exits.crash(),
      meaning: { kind: 'stopped', cause, signal: null },
    })),
  ])('$what', ({ child, status, exit, meaning }) => {
    expect(classifyExit(child, status, exit, 1_000)).toMatchObject(meaning);
  });
});
