/** @jsxRuntime automatic */
/** @jsxImportSource react */
/**
 * `herder status --watch` (also `dashboard --watch`): a live terminal
 * dashboard, refreshed about once a second. The actor table shows the
 * supervision tree, with CPU and memory sparklines; below it the latest
 * events. Keys: ↑/↓ select, l follows the selected actor's log, r restarts,
 * s stops or starts, p pauses or resumes (each asks for a y to confirm),
 * q quits. Against a finished run the keys that steer are disabled.
 */
import { Box, render, Text, useApp, useInput } from 'ink';
import { useEffect, useRef, useState } from 'react';
import type { ActorStatus, EventRow, LogLine, StatusDoc } from '../record/queries.ts';
import { formatMs } from '../runtime/duration.ts';

export interface DashboardSource {
  status(): Promise<StatusDoc>;
  events(limit: number): Promise<EventRow[]>;
  logs(name: string, afterId: number | undefined): Promise<LogLine[]>;
  /** Sends a ctl command; resolves to the answer line. */
  command(op: 'start' | 'stop' | 'restart' | 'pause' | 'resume', name: string): Promise<string>;
}

const BARS = '▁▂▃▄▅▆▇█';
const HISTORY = 24;

/** A unicode sparkline of the last values (scaled to their own maximum). */
export function sparkline(values: readonly number[]): string {
  if (values.length === 0) return '';
  const max = Math.max(...values, 1e-9);
  return values.map((v) => BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1)))] ?? ' ').join('');
}

type Pending = { readonly op: 'start' | 'stop' | 'restart' | 'pause' | 'resume'; readonly name: string } | null;

function depthOf(a: ActorStatus, byName: ReadonlyMap<string, ActorStatus>): number {
  let d = 0;
  for (let p = byName.get(a.parent); p !== undefined && d < 10; p = byName.get(p.parent)) d++;
  return a.parent === '_herder' ? 0 : d + 1;
}

const pad = (s: string, n: number) => (s.length >= n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

export function Dashboard({ source, intervalMs = 1000 }: { source: DashboardSource; intervalMs?: number }) {
  const { exit } = useApp();
  const [doc, setDoc] = useState<StatusDoc | null>(null);
  const [events, setEvents] = useState<EventRow[]>([]);
  const [selected, setSelected] = useState(0);
  const [pending, setPending] = useState<Pending>(null);
  const [message, setMessage] = useState('');
  const [following, setFollowing] = useState<string | null>(null);
  const [log, setLog] = useState<LogLine[]>([]);
  const history = useRef(new Map<string, { cpu: number[]; mem: number[] }>());
  const lastLogId = useRef<number | undefined>(undefined);

  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try {
        const d = await source.status();
        if (stopped) return;
        for (const a of d.actors) {
          const h = history.current.get(a.name) ?? { cpu: [], mem: [] };
          if (a.cpu_percent !== null) h.cpu = [...h.cpu, a.cpu_percent].slice(-HISTORY);
          if (a.rss_mb !== null) h.mem = [...h.mem, a.rss_mb].slice(-HISTORY);
          history.current.set(a.name, h);
        }
        setDoc(d);
        setEvents(await source.events(6));
        if (following !== null) {
          const more = await source.logs(following, lastLogId.current);
          if (more.length > 0) {
            lastLogId.current = more.at(-1)?.id;
            setLog((l) => [...l, ...more].slice(-15));
          }
        }
      } catch (e) {
        if (!stopped) setMessage(e instanceof Error ? e.message : String(e));
      }
    };
    void tick();
    const t = setInterval(() => void tick(), intervalMs);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [source, intervalMs, following]);

  const actors = doc?.actors ?? [];
  const current = actors[Math.min(selected, Math.max(0, actors.length - 1))];
  const live = doc?.live === true;

  // The key handler reads what was last drawn through a ref: ink installs a new handler only after each
  // redraw, so a key that arrives in between would otherwise meet the state of the frame before.
  const seen = useRef({ pending, current, live, count: actors.length });
  seen.current = { pending, current, live, count: actors.length };

  useInput((input, key) => {
    const { pending, current, live, count } = seen.current;
    if (pending !== null) {
      if (input === 'y') {
        const p = pending;
        setPending(null);
        setMessage(`${p.op} ${p.name}…`);
        source.command(p.op, p.name).then(
          (answer) => setMessage(answer),
          (e: unknown) => setMessage(e instanceof Error ? e.message : String(e)),
        );
      } else {
        setPending(null);
        setMessage('cancelled');
      }
      return;
    }
    if (input === 'q' || key.escape) {
      exit();
      return;
    }
    if (key.upArrow) setSelected((s) => Math.max(0, s - 1));
    if (key.downArrow) setSelected((s) => Math.min(count - 1, s + 1));
    if (current === undefined) return;
    if (input === 'l') {
      setFollowing((f) => (f === current.name ? null : current.name));
      setLog([]);
      lastLogId.current = undefined;
      return;
    }
    const steer = {
      r: 'restart',
      s: current.state === 'running' ? 'stop' : 'start',
      p: current.paused ? 'resume' : 'pause',
    } as const;
    if (input === 'r' || input === 's' || input === 'p') {
      if (!live) {
        setMessage('the run is over: nothing to steer');
        return;
      }
      const op = steer[input];
      setPending({ op, name: current.name });
      setMessage(`${op} ${current.name}? y to confirm, any other key to cancel`);
    }
  });

  if (doc === null) return <Text>{message === '' ? 'connecting…' : message}</Text>;
  const byName = new Map(actors.map((a) => [a.name, a]));
  const r = doc.run;
  const left =
    r.deadline_at === null ? 'no time limit' : `${formatMs(Math.max(0, r.deadline_at - doc.generated_at) * 1000)} left`;
  return (
    <Box flexDirection="column">
      <Text bold>
        herder · run {r.id} · {r.status} · {live ? left : (r.end_reason ?? '')} {live ? '· live' : '· finished'}
      </Text>
      <Text dimColor>
        {
          '  ACTOR                 STATE        PID     CPU%  MEM MB  RUNS FAIL RST  CPU                       MEM                       LAST ERROR'
        }
      </Text>
      {actors.map((a, i) => {
        const h = history.current.get(a.name) ?? { cpu: [], mem: [] };
        const name = `${'  '.repeat(depthOf(a, byName))}${a.name}`;
        const state = a.paused ? 'paused' : a.state;
        const colour =
          state === 'fatal' ? 'red' : state === 'running' ? 'green' : state === 'restarting' ? 'yellow' : undefined;
        return (
          <Text key={a.name} inverse={i === selected}>
            {i === selected ? '›' : ' '} {pad(name, 21)} <Text color={colour}>{pad(state, 12)}</Text>{' '}
            {pad(a.pid === null ? '-' : String(a.pid), 7)}{' '}
            {pad(a.cpu_percent === null ? '-' : a.cpu_percent.toFixed(0), 5)}{' '}
            {pad(a.rss_mb === null ? '-' : a.rss_mb.toFixed(0), 7)} {pad(String(a.runs), 4)}{' '}
            {pad(String(a.failures), 4)} {pad(String(a.restarts), 4)} {pad(sparkline(h.cpu), 25)}{' '}
            {pad(sparkline(h.mem), 25)}{' '}
            <Text color="red">{a.last_error === null ? '' : a.last_error.type.slice(0, 30)}</Text>
          </Text>
        );
      })}
      <Text> </Text>
      {following !== null ? (
        <Box flexDirection="column">
          <Text bold>log of {following} (l to close)</Text>
          {log.map((l) => (
            <Text key={l.id} color={l.stream === 'stderr' ? 'red' : undefined}>
              {new Date(l.ts * 1000).toISOString().slice(11, 19)} {l.line}
            </Text>
          ))}
        </Box>
      ) : (
        <Box flexDirection="column">
          <Text bold>latest events</Text>
          {events.map((e) => (
            <Text key={e.id} dimColor={e.kind === 'start' || e.kind === 'exit'}>
              {new Date(e.ts * 1000).toISOString().slice(11, 19)} {e.process} {e.kind}: {e.detail.slice(0, 90)}
            </Text>
          ))}
        </Box>
      )}
      <Text dimColor>
        ↑/↓ select · l log · r restart · s stop/start · p pause/resume · q quit
        {live ? '' : ' · (the run is over: steering is off)'}
      </Text>
      {message !== '' && <Text color="cyan">{message}</Text>}
    </Box>
  );
}

export async function runDashboard(source: DashboardSource): Promise<void> {
  const app = render(<Dashboard source={source} />);
  await app.waitUntilExit();
}
