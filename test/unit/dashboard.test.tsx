import { render } from 'ink-testing-library';
import { describe, expect, it, vi } from 'vitest';
import { Dashboard, type DashboardSource, sparkline } from '../../src/cli/dashboard.tsx';
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
      { id: 1, ts: 999, process: 'stooq', kind: 'restart', detail: 'restart in 2s (failure 2 of 10 in a row)' },
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
async function until(frame: () => string | undefined, text: string | RegExp): Promise<string> {
  const end = Date.now() + 10_000;
  for (;;) {
    const f = frame() ?? '';
    if (typeof text === 'string' ? f.includes(text) : text.test(f)) {
      await tick();
      return f;
    }
    if (Date.now() > end) throw new Error(`no frame showed ${String(text)} within 10 s; the last:\n${f}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the dashboard', () => {
  it('draws sparklines from values', () => {
    expect(sparkline([0, 5, 10])).toBe('▁▄█');
    expect(sparkline([])).toBe('');
  });

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
});
