/** @jsxRuntime automatic */
/** @jsxImportSource react */
/**
 * `herder status --watch` (also `dashboard --watch`): a live terminal
 * dashboard, refreshed about once a second. The actor table shows the
 * supervision tree, with CPU and memory sparklines; below it the latest
 * events. Every line fits the terminal's width (see dashboard-table.ts for
 * which columns give way first). Keys: ↑/↓ select, l follows the selected
 * actor's log, r restarts, s stops or starts, p pauses or resumes (each asks
 * for a y to confirm), q quits. Against a finished run the keys that steer are
 * disabled.
 */
import { availableParallelism, totalmem } from 'node:os';
import { Box, render, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useRef, useState } from 'react';
import type { ActorStatus, EventRow, LogLine, StatusDoc } from '../record/queries.ts';
import { formatMs } from '../runtime/duration.ts';
import {
  fitTable,
  HISTORY,
  headerLine,
  type Limits,
  type Machine,
  machineOf,
  memoryOf,
  oneLine,
  rowCells,
  tableRow,
} from './dashboard-table.ts';

export interface DashboardSource {
  status(): Promise<StatusDoc>;
  events(limit: number): Promise<EventRow[]>;
  logs(name: string, afterId: number | undefined): Promise<LogLine[]>;
  /** Sends a ctl command; resolves to the answer line. */
  command(op: 'start' | 'stop' | 'restart' | 'pause' | 'resume', name: string): Promise<string>;
}

const THIS_MACHINE: Machine = { cores: availableParallelism(), memMb: totalmem() / 1048576 };
/** An actor's resource_limits from the status document: its sparklines are scaled to them, else to the machine. */
const limitsOf = (a: ActorStatus): Limits => ({
  maxCpuPercent: a.limits?.max_cpu_percent ?? null,
  maxMemoryMb: a.limits?.max_memory_mb ?? null,
});

type Pending = { readonly op: 'start' | 'stop' | 'restart' | 'pause' | 'resume'; readonly name: string } | null;

function depthOf(a: ActorStatus, byName: ReadonlyMap<string, ActorStatus>): number {
  let d = 0;
  for (let p = byName.get(a.parent); p !== undefined && d < 10; p = byName.get(p.parent)) d++;
  return d;
}

/** The terminal's width, following resizes (80 when stdout is not a terminal). */
function useColumns(): number {
  const { stdout } = useStdout();
  const [columns, setColumns] = useState(stdout.columns || 80);
  useEffect(() => {
    const resized = () => setColumns(stdout.columns || 80);
    stdout.on('resize', resized);
    return () => {
      stdout.off('resize', resized);
    };
  }, [stdout]);
  return columns;
}

export function Dashboard({
  source,
  intervalMs = 1000,
  machine = THIS_MACHINE,
}: {
  source: DashboardSource;
  intervalMs?: number;
  /** Where the run's own `_system` sample says nothing: this machine. */
  machine?: Machine;
}) {
  const { exit } = useApp();
  const columns = useColumns();
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
          const mem = memoryOf(a);
          if (mem !== null) h.mem = [...h.mem, mem].slice(-HISTORY);
          history.current.set(a.name, h);
        }
        setDoc(d);
        setEvents(await source.events(6));
        if (following !== null) {
          const more = await source.logs(following, lastLogId.current);
          if (more.length > 0) {
            lastLogId.current = more.at(-1)?.id ?? undefined;
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

  if (doc === null) return <Text wrap="truncate-end">{message === '' ? 'connecting…' : message}</Text>;
  const byName = new Map(actors.map((a) => [a.name, a]));
  const m = machineOf(doc.system, machine);
  const rows = actors.map((a) =>
    tableRow(a, depthOf(a, byName), history.current.get(a.name) ?? { cpu: [], mem: [] }, limitsOf(a), m),
  );
  const layout = fitTable(rows, columns);
  const r = doc.run;
  const left =
    r.deadline_at === null ? 'no time limit' : `${formatMs(Math.max(0, r.deadline_at - doc.generated_at) * 1000)} left`;
  // Every line is cut at the terminal's edge (wrap="truncate-end"): a wrapped line would push the table out of
  // place. The table is fitted column by column before that; the cut only ever takes a job's own text.
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        herder · run {r.id} · {r.status} · {live ? left : (r.end_reason ?? '')} {live ? '· live' : '· finished'}
      </Text>
      <Text dimColor wrap="truncate-end">
        {headerLine(layout)}
      </Text>
      {rows.map((row, i) => {
        const colour =
          row.state === 'fatal'
            ? 'red'
            : row.state === 'running'
              ? 'green'
              : row.state === 'restarting'
                ? 'yellow'
                : undefined;
        return (
          <Text key={row.name} inverse={i === selected} wrap="truncate-end">
            {i === selected ? '› ' : '  '}
            {rowCells(row, layout).map((c, j) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the cells of a row are positional
              <Text key={j} color={c.role === 'state' ? colour : c.role === 'error' ? 'red' : undefined}>
                {c.text}
              </Text>
            ))}
          </Text>
        );
      })}
      <Text> </Text>
      {following !== null ? (
        <Box flexDirection="column">
          <Text bold wrap="truncate-end">
            log of {following} (l to close)
          </Text>
          {log.map((l) => (
            <Text key={l.id} color={l.stream === 'stderr' ? 'red' : undefined} wrap="truncate-end">
              {new Date(l.ts * 1000).toISOString().slice(11, 19)} {oneLine(l.line)}
            </Text>
          ))}
        </Box>
      ) : (
        <Box flexDirection="column">
          <Text bold>latest events</Text>
          {events.map((e) => (
            <Text key={e.id} dimColor={e.kind === 'start' || e.kind === 'exit'} wrap="truncate-end">
              {new Date(e.ts * 1000).toISOString().slice(11, 19)} {e.process} {e.kind}: {oneLine(e.detail)}
            </Text>
          ))}
        </Box>
      )}
      <Text dimColor wrap="truncate-end">
        {live
          ? '↑/↓ select · l log · r restart · s stop/start · p pause/resume · q quit'
          : '↑/↓ select · l log · q quit · the run is over: steering is off'}
      </Text>
      {message !== '' && (
        <Text color="cyan" wrap="truncate-end">
          {oneLine(message)}
        </Text>
      )}
    </Box>
  );
}

export async function runDashboard(source: DashboardSource): Promise<void> {
  const app = render(<Dashboard source={source} />);
  await app.waitUntilExit();
}
