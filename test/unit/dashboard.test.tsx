import { stripVTControlCharacters } from 'node:util';
import fc from 'fast-check';
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { Dashboard, type DashboardSource } from '../../src/cli/dashboard.tsx';
import {
  cpuTrend,
  fitTable,
  headerLine,
  machineOf,
  memTrend,
  rowCells,
  sparkline,
  tableRow,
} from '../../src/cli/dashboard-table.ts';
import type { ActorStatus, StatusDoc } from '../../src/record/queries.ts';

const actor = (over: Partial<ActorStatus>): ActorStatus => ({
  name: 'a',
  kind: 'process',
  parent: '_herder',
  state: 'running',
  pid: 100,
  uptime_s: 5,
  runs: 1,
  successes: 0,
  failures: 0,
  restarts: 0,
  last_exit_code: null,
  last_exit_signal: null,
  last_start: 0,
  last_exit: null,
  next_run_at: null,
  detail: '',
  cpu_percent: 10,
  rss_mb: 50,
  progress: null,
  self_health: null,
  heartbeat_at: null,
  idle_s: null,
  bad_health_lines: null,
  error_patterns: null,
  paused: false,
  last_error: null,
  ...over,
});

function source(live: boolean): DashboardSource & { command: ReturnType<typeof vi.fn> } {
  let cpu = 0;
  const nextCpu = () => {
    cpu += 10;
    return cpu;
  };
  const doc = (): StatusDoc => ({
    format: 'herder.status/1',
    generated_at: 1000,
    live,
    run: {
      id: 7,
      status: live ? 'running' : 'completed',
      started_at: 0,
      ended_at: live ? null : 900,
      config_path: 'actors.yaml',
      max_runtime_s: 3600,
      deadline_at: 3600,
      pid: 1,
      exit_code: null,
      end_reason: live ? null : 'deadline reached',
      http: null,
    },
    actors: [
      actor({ name: 'collector', cpu_percent: nextCpu() }),
      actor({ name: 'feeds', kind: 'supervisor', pid: null }),
      actor({
        name: 'stooq',
        parent: 'feeds',
        state: 'restarting',
        pid: null,
        failures: 2,
        last_error: { type: 'http.429', message: 'slow down', ts: 990 },
      }),
    ],
    system: null,
  });
  return {
    status: async () => doc(),
    events: async () => [
      {
        id: 1,
        ts: 999,
        process: 'stooq',
        kind: 'restart',
        detail: 'restart in 2s (failure 2 of 10 in a row)',
        data: null,
      },
    ],
    // Like the real source: only lines after the last one already shown.
    logs: async (_name: string, afterId: number | undefined) =>
      (afterId ?? 0) >= 1
        ? []
        : [{ id: 1, ts: 999, process: 'collector', stream: 'stdout', line: 'fetched 12 tickers' }],
    command: vi.fn(async (op: string, name: string) => `${name}: ${op}ing`),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 60));

/**
 * Waits (up to 10 s) until the latest frame contains `text` (or matches it),
 * then a moment more: ink installs the new key handler just after drawing.
 */
async function until(
  frame: () => string | undefined,
  text: string | RegExp | ((frame: string) => boolean),
): Promise<string> {
  const end = Date.now() + 10_000;
  const shows = (f: string) =>
    typeof text === 'string' ? f.includes(text) : typeof text === 'function' ? text(f) : text.test(f);
  for (;;) {
    const f = frame() ?? '';
    if (shows(f)) {
      await tick();
      return f;
    }
    if (Date.now() > end) throw new Error(`no frame showed ${String(text)} within 10 s; the last:\n${f}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const MACHINE = { cores: 2, memMb: 4096 };
const NO_LIMITS = { maxCpuPercent: null, maxMemoryMb: null };
const LONG_ERROR =
  'GET https://stooq.com/q/d/l/?s=aapl.us&i=d answered 429 Too Many Requests after 3 retries; backing off for 120 s';

/** A run as a user meets it: long names, a nested supervisor, a thread, a long error, CPU that moves. */
function busySource(extra: readonly ActorStatus[] = []): DashboardSource & { ticks: () => number } {
  let tick = 0;
  const doc = (): StatusDoc => {
    tick++;
    return {
      format: 'herder.status/1',
      generated_at: 1000,
      live: true,
      run: {
        id: 3,
        status: 'running',
        started_at: 0,
        ended_at: null,
        config_path: 'actors.yaml',
        max_runtime_s: 3600,
        deadline_at: 3600,
        pid: 1,
        exit_code: null,
        end_reason: null,
        http: null,
      },
      actors: [
        actor({ name: 'market-data-collector-eu', pid: 4123456, uptime_s: 7260, cpu_percent: (tick * 37) % 180 }),
        actor({ name: 'quotes-normaliser', kind: 'thread', pid: null, cpu_percent: 0, rss_mb: 0 }),
        actor({ name: 'feeds-with-a-long-name', kind: 'supervisor', pid: null, cpu_percent: null, rss_mb: null }),
        actor({
          name: 'stooq-daily-prices-fetcher',
          parent: 'feeds-with-a-long-name',
          state: 'restarting',
          pid: null,
          uptime_s: null,
          cpu_percent: null,
          rss_mb: null,
          runs: 14,
          failures: 13,
          restarts: 13,
          last_error: { type: 'FetchFailed', message: LONG_ERROR, ts: 990 },
        }),
        actor({ name: 'yahoo-json', parent: 'feeds-with-a-long-name', rss_mb: 1250 + tick, restarts: 2 }),
        ...extra,
      ],
      system: null,
    };
  };
  return {
    status: async () => doc(),
    events: async () => [
      { id: 1, ts: 999, process: 'stooq-daily-prices-fetcher', kind: 'restart', detail: LONG_ERROR, data: null },
    ],
    logs: async () => [],
    command: async () => '',
    ticks: () => tick,
  };
}

/** Renders at a terminal width: the fake terminal takes its width and says it was resized, as a real one does. */
function renderAt(columns: number, tree: ReactElement) {
  const app = render(tree);
  const resize = (to: number) => {
    Object.defineProperty(app.stdout, 'columns', { value: to, configurable: true });
    app.stdout.emit('resize');
  };
  resize(columns);
  return { ...app, resize };
}

/** Terminal cells a line takes: CJK characters take two. */
const cellsOf = (line: string) =>
  [...line].reduce(
    (n, c) => n + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]/.test(c) ? 2 : 1),
    0,
  );

/** The frame's lines (colours off) that would not fit in a terminal `width` cells wide. */
function tooWide(frame: string, width: number): string[] {
  return stripVTControlCharacters(frame)
    .split('\n')
    .filter((l) => cellsOf(l) > width);
}

describe('the sparklines', () => {
  it('are drawn on a fixed scale: a flat 0 (or a flat small value) is the lowest bar, never full blocks', () => {
    expect(sparkline([0, 0, 0], 200)).toBe('▁▁▁');
    expect(sparkline([3, 3, 3], 24_000)).toBe('▁▁▁');
    expect(sparkline([0, 50, 100], 100)).toBe('▁▄█');
    expect(sparkline([12.5, 25, 87.5, 300], 100)).toBe('▁▂▇█'); // over the top: clamped
    expect(sparkline([], 100)).toBe('');
  });

  it('are scaled to the actor’s limit, else to the machine: all its cores (one for a thread), its memory', () => {
    expect(cpuTrend([], 'process', NO_LIMITS, { cores: 4, memMb: 1 }).label).toBe('400%');
    expect(cpuTrend([], 'thread', NO_LIMITS, { cores: 4, memMb: 1 }).label).toBe('100%');
    expect(cpuTrend([], 'process', { maxCpuPercent: 90, maxMemoryMb: null }, MACHINE).label).toBe('90%');
    expect(memTrend([], { maxCpuPercent: null, maxMemoryMb: 512 }, MACHINE).label).toBe('512M');
    expect(memTrend([], NO_LIMITS, { cores: 2, memMb: 24_105 }).label).toBe('24G');
    expect(memTrend([], NO_LIMITS, { cores: 2, memMb: 1536 }).label).toBe('1.5G');
    // The run's own machine sample wins over the machine the dashboard runs on.
    const system = { cpu_percent: 5, mem_percent: 25, available_mb: 12_288, load1: 0.1, disk_free_mb: 1 };
    expect(machineOf(system, MACHINE).memMb).toBe(16_384);
    expect(machineOf(null, MACHINE)).toBe(MACHINE);
  });
});

describe('the actor table', () => {
  const rows = async () => {
    const doc = await busySource().status();
    const history = { cpu: [0, 10, 50, 120, 200], mem: [1200, 1250, 1300] };
    return doc.actors.map((a) => tableRow(a, a.parent === '_herder' ? 0 : 1, history, NO_LIMITS, MACHINE));
  };
  const lines = (rs: Awaited<ReturnType<typeof rows>>, width: number) => {
    const layout = fitTable(rs, width);
    return {
      ids: layout.columns.map((c) => c.id),
      lines: [
        headerLine(layout),
        ...rs.map(
          (r) =>
            `  ${rowCells(r, layout)
              .map((c) => c.text)
              .join('')}`,
        ),
      ],
    };
  };

  it.each([
    [150, ['actor', 'state', 'pid', 'uptime', 'rst', 'runs', 'fail', 'cpu', 'cpuTrend', 'mem', 'memTrend', 'error']],
    [120, ['actor', 'state', 'pid', 'uptime', 'rst', 'cpu', 'cpuTrend', 'mem', 'memTrend', 'error']],
    [100, ['actor', 'state', 'pid', 'uptime', 'rst', 'cpu', 'mem', 'error']],
    [80, ['actor', 'state', 'pid', 'rst', 'cpu', 'mem', 'error']],
    [60, ['actor', 'state', 'rst', 'cpu', 'mem']],
    [30, ['actor', 'state']],
  ])('at %i columns keeps %j', async (width, ids) => {
    const t = lines(await rows(), width);
    expect(t.ids).toEqual(ids);
    for (const l of t.lines) expect([...l].length).toBeLessThanOrEqual(width);
  });

  it('never makes a line wider than the terminal, and gives columns up in one order as it narrows', async () => {
    const rs = await rows();
    fc.assert(
      fc.property(fc.integer({ min: 22, max: 260 }), (width) => {
        const narrow = lines(rs, width);
        const wide = lines(rs, width + 1);
        expect(narrow.lines.every((l) => [...l].length <= width)).toBe(true);
        expect(wide.ids).toEqual(expect.arrayContaining(narrow.ids));
      }),
    );
  });

  it('shows the last error’s message as far as it fits, not its type alone', async () => {
    const rs = await rows();
    const at = (width: number) => lines(rs, width).lines[4] ?? '';
    expect(at(120)).toMatch(/restarting .*FetchFailed: GET h.*…$/);
    expect(at(150)).toMatch(/restarting .*FetchFailed: GET https:\/\/stooq\.com\/.*…$/);
    expect(at(300)).toContain(`FetchFailed: ${LONG_ERROR}`);
  });
});

describe('the dashboard', () => {
  it('shows the run, the supervision tree with sparklines, and the latest events', async () => {
    const { lastFrame, unmount } = render(<Dashboard source={source(true)} intervalMs={20} />);
    const frame = await until(lastFrame, /[▁▂▃▄▅▆▇█]{2,}/);
    expect(frame).toContain('herder · run 7 · running · 43m20s left · live');
    expect(frame).toMatch(/› collector\s+running/);
    expect(frame).toMatch(/\n\s+ {2}stooq\s+restarting/); // indented under its supervisor
    expect(frame).toContain('http.429'); // its last error
    expect(frame).toMatch(/[▁▂▃▄▅▆▇█]{2,}/);
    expect(frame).toContain('stooq restart: restart in 2s (failure 2 of 10 in a row)');
    unmount();
  });

  it('steers with a confirmation: arrows select, r then y restarts; another key cancels; l follows a log', async () => {
    const src = source(true);
    const { lastFrame, stdin, unmount } = render(<Dashboard source={src} intervalMs={20} />);
    await until(lastFrame, 'stooq');
    stdin.write('\u001B[B'); // down: feeds
    stdin.write('\u001B[B'); // down: stooq
    await until(lastFrame, /›\s+stooq/);
    stdin.write('r');
    expect(await until(lastFrame, 'restart stooq?')).toContain('restart stooq? y to confirm, any other key to cancel');
    stdin.write('n');
    expect(await until(lastFrame, 'cancelled')).toContain('cancelled');
    expect(src.command).not.toHaveBeenCalled();
    stdin.write('r');
    await until(lastFrame, 'restart stooq?');
    stdin.write('y');
    expect(await until(lastFrame, 'stooq: restarting')).toContain('stooq: restarting');
    expect(src.command).toHaveBeenCalledWith('restart', 'stooq');
    stdin.write('\u001B[A');
    stdin.write('\u001B[A'); // back to collector
    await until(lastFrame, '› collector');
    stdin.write('l');
    expect(await until(lastFrame, 'fetched 12 tickers')).toContain('log of collector (l to close)');
    unmount();
  });

  it('turns steering off for a finished run', async () => {
    const src = source(false);
    const { lastFrame, stdin, unmount } = render(<Dashboard source={src} intervalMs={20} />);
    expect(await until(lastFrame, 'finished')).toContain('run 7 · completed · deadline reached · finished');
    stdin.write('s');
    expect(await until(lastFrame, 'nothing to steer')).toContain('the run is over: nothing to steer');
    expect(src.command).not.toHaveBeenCalled();
    unmount();
  });

  it.each([80, 120])('at %i columns draws one line per actor, none wider than the terminal', async (width) => {
    const src = busySource();
    const { lastFrame, unmount } = renderAt(width, <Dashboard source={src} intervalMs={20} machine={MACHINE} />);
    // A few samples in, so that the sparklines have a history to draw.
    const frame = await until(lastFrame, (f) => src.ticks() >= 8 && /yahoo-json .*running/.test(f));
    expect(tooWide(frame, width)).toEqual([]);
    const lines = frame.split('\n');
    const head = lines.findIndex((l) => l.startsWith('  ACTOR '));
    expect(lines.slice(head + 1).findIndex((l) => l.trim() === '')).toBe(5); // the header, then a line per actor
    // Each actor on one line with its state (at 80 columns the longest names are cut with "…").
    expect(frame).toMatch(/› market-data-collec\S* +running +4123456/);
    expect(frame).toMatch(/\n {2}quotes-normaliser +running/);
    expect(frame).toMatch(/\n {2}feeds-with-a-long\S* +running/);
    expect(frame).toMatch(/\n {4}stooq-daily-prices\S* +restarting .* 13 .*FetchFailed: GET h/);
    expect(frame).toMatch(/\n {4}yahoo-json +running/);
    if (width === 120) {
      // The sparklines with their scale: all cores for a process, one for a thread, the machine's memory.
      expect(frame).toMatch(/market-data-collector-eu .*[▁▂▃▄▅▆▇█]{6,} 200% +50M +▁{6,} 4\.0G/);
      expect(frame).toMatch(/quotes-normaliser .*0% +▁{6,} 100% +0M +▁{6,} 4\.0G/); // a flat 0 stays low
    }
    unmount();
  });

  it('cuts a last error in wide characters, with line breaks and escapes in it, at the terminal’s edge', async () => {
    const message =
      '接続がタイムアウトしました（東京証券取引所のサーバーが応答しません）\n\tat fetch\u001b[31m 再試行します';
    const jp = actor({ name: 'tse-feed', last_error: { type: 'FetchFailed', message, ts: 990 } });
    const src = busySource([jp]);
    const { lastFrame, unmount } = renderAt(80, <Dashboard source={src} intervalMs={20} machine={MACHINE} />);
    const frame = await until(lastFrame, 'tse-feed');
    expect(tooWide(frame, 80)).toEqual([]);
    expect(frame).toMatch(/\n {2}tse-feed +running .*FetchFailed: 接続が/);
    expect(frame).not.toContain('\u001b[31m');
    unmount();
  });

  it('refits when the terminal is resized', async () => {
    const { lastFrame, resize, unmount } = renderAt(
      120,
      <Dashboard source={busySource()} intervalMs={20} machine={MACHINE} />,
    );
    await until(lastFrame, 'CPU HISTORY');
    resize(70);
    const frame = await until(lastFrame, (f) => !f.includes('CPU HISTORY'));
    expect(tooWide(frame, 70)).toEqual([]);
    expect(frame).toMatch(/yahoo-json +running/);
    unmount();
  });
});
