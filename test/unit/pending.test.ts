/** What the live run holds but has not written, laid over what the file says. */
import { describe, expect, it } from 'vitest';
import { pendingEvents, pendingLines, withPending } from '../../src/record/pending.ts';
import { actorStatus, type StatusDoc } from '../../src/record/queries.ts';
import type { LogRecord, OutputRecord, ProcessStateRow } from '../../src/record/records.ts';

const row = (process: string, over: Partial<ProcessStateRow> = {}): ProcessStateRow => ({
  process,
  kind: 'process',
  parent: '_herder',
  state: 'running',
  pid: 10,
  pidStart: null,
  restarts: 0,
  runs: 1,
  successes: 0,
  failures: 0,
  lastExitCode: null,
  lastExitSignal: null,
  lastStart: 100,
  lastExit: null,
  nextRunAt: null,
  detail: '',
  errorPatterns: null,
  ...over,
});

const written: StatusDoc = {
  format: 'herder.status/1',
  generated_at: 110,
  live: true,
  run: {
    id: 1,
    status: 'running',
    started_at: 100,
    ended_at: null,
    config_path: 'actors.yaml',
    max_runtime_s: null,
    deadline_at: null,
    pid: 1,
    exit_code: null,
    end_reason: null,
    http: null,
  },
  actors: [
    {
      ...actorStatus(
        {
          process: 'feed',
          kind: 'process',
          parent: '_herder',
          state: 'running',
          pid: 10,
          runs: 1,
          restarts: 0,
          successes: 0,
          failures: 0,
          last_start: 100,
          detail: '',
        },
        { cpu_percent: 5, rss_mb: 40 },
        null,
        110,
      ),
      limits: { max_memory_mb: 100, max_cpu_percent: null, max_fds: null },
    },
  ],
  system: null,
};

const unwritten = { records: 3, output_lines: 0, failing_since: 105, failure: 'full' };

describe('queued records over the written status', () => {
  it('the latest queued state of an actor wins, keeping its limits; a new actor is added; errors and samples apply', () => {
    const queued: LogRecord[] = [
      { t: 'state', row: row('feed', { state: 'stopping' }) },
      {
        t: 'state',
        row: row('feed', { state: 'restarting', pid: null, runs: 2, failures: 1, lastExit: 108, lastExitCode: 1 }),
      },
      { t: 'error', ts: 108, process: 'feed', errorType: 'exit', message: 'exited with code 1', context: '' },
      { t: 'state', row: row('late', { state: 'running', pid: 11, lastStart: 109 }) },
      {
        t: 'usage',
        ts: 109,
        row: {
          process: 'late',
          pid: 11,
          cpuPercent: 7,
          rssMb: 12,
          numThreads: 1,
          numFds: 4,
          health: 1,
          heapUsedMb: null,
          heapTotalMb: null,
          elu: null,
          memPercent: null,
          availableMb: null,
          load1: null,
          diskFreeMb: null,
        },
      },
    ];
    const doc = withPending(written, queued, unwritten);
    expect(doc.unwritten).toEqual(unwritten);
    expect(doc.actors.map((a) => [a.name, a.state, a.pid, a.runs, a.failures])).toEqual([
      ['feed', 'restarting', null, 2, 1],
      ['late', 'running', 11, 1, 0],
    ]);
    const feed = doc.actors[0];
    expect(feed?.cpu_percent).toBeNull(); // not running: no figures
    expect(feed?.last_error).toEqual({ type: 'exit', message: 'exited with code 1', ts: 108 });
    expect(feed?.limits?.max_memory_mb).toBe(100);
    expect(doc.actors[1]).toMatchObject({ cpu_percent: 7, rss_mb: 12, uptime_s: 1 });
  });

  it('with nothing queued the answer is the written one, counted as such', () => {
    const doc = withPending(written, [], { records: 0, output_lines: 0, failing_since: null, failure: null });
    expect(doc.actors).toEqual(written.actors);
  });

  it('queued events and lines come without a row id, filtered as the query asks', () => {
    const queued: LogRecord[] = [
      { t: 'event', ts: 1, process: 'feed', kind: 'start', detail: 'started', data: '{"pid":null,"run":null}' },
      { t: 'state', row: row('feed') },
    ];
    expect(pendingEvents(queued)).toEqual([
      { id: null, ts: 1, process: 'feed', kind: 'start', detail: 'started', data: { pid: null, run: null } },
    ]);
    const out: OutputRecord[] = [
      { t: 'output', ts: 1, process: 'feed', pid: 10, stream: 'stdout', text: 'a\nb\nc', count: 3 },
      { t: 'output', ts: 2, process: 'other', pid: 11, stream: 'stdout', text: 'x', count: 1 },
      { t: 'output', ts: 3, process: 'feed', pid: 10, stream: 'stderr', text: 'boom', count: 1 },
    ];
    const feedLines = pendingLines(out, { process: 'feed', limit: 3 }, () => true);
    expect(feedLines.map((l) => [l.id, l.line])).toEqual([
      [null, 'b'],
      [null, 'c'],
      [null, 'boom'],
    ]);
    expect(pendingLines(out, { stream: 'stderr', limit: 10 }, () => true).map((l) => l.line)).toEqual(['boom']);
    expect(pendingLines(out, { sinceTs: 2, limit: 10 }, (l) => l !== 'x').map((l) => l.line)).toEqual(['boom']);
  });
});
