/**
 * The dashboard's actor table, fitted to the terminal: one line per actor,
 * never wrapped. When the line is too narrow the sparklines shrink first
 * (down to MIN_POINTS samples), then columns go or names are cut, in GIVE_WAY
 * order; the actor and its state always stay. The last error takes the rest
 * of the line and is cut with "…" where the line ends.
 */
import type { ActorStatus, StatusDoc } from '../record/queries.ts';
import { formatMs } from '../runtime/duration.ts';
import { assertNever } from '../runtime/errors.ts';

const BARS = '▁▂▃▄▅▆▇█';
/** Samples kept per actor, and the widest a sparkline gets. */
export const HISTORY = 20;
const MIN_POINTS = 8;
/** The last error keeps at least this much of the line, else its column goes. */
const ERROR_MIN = 20;
/** Spare width goes to the names, then to the last error up to this, then to the sparklines, then the error again. */
const ERROR_COMFORT = 48;
const NAME_MIN = 16;
const NAME_MAX = 32;
/** '› ' marks the selected row. */
export const PREFIX = 2;

export type ColumnId =
  | 'actor'
  | 'state'
  | 'pid'
  | 'uptime'
  | 'runs'
  | 'fail'
  | 'rst'
  | 'cpu'
  | 'cpuTrend'
  | 'mem'
  | 'memTrend'
  | 'error';

const ORDER: readonly ColumnId[] = [
  'actor',
  'state',
  'pid',
  'uptime',
  'rst',
  'runs',
  'fail',
  'cpu',
  'cpuTrend',
  'mem',
  'memTrend',
  'error',
];

/**
 * What gives way when a line is too wide, first thing first. What a PM2 or top
 * user looks for stays longest: the current CPU and memory, restarts, then the
 * last error; herder's extras (run and failure counts, the sparklines) go
 * first, then uptime; then names are cut to NAME_MIN, and pid goes.
 */
export const GIVE_WAY = [
  'runs',
  'fail',
  'memTrend',
  'cpuTrend',
  'uptime',
  'names',
  'pid',
  'error',
  'rst',
  'mem',
  'cpu',
] as const;

const HEADERS: Readonly<Record<ColumnId, string>> = {
  actor: 'ACTOR',
  state: 'STATE',
  pid: 'PID',
  uptime: 'UPTIME',
  rst: 'RST',
  runs: 'RUNS',
  fail: 'FAIL',
  cpu: 'CPU',
  cpuTrend: 'CPU HISTORY',
  mem: 'MEM',
  memTrend: 'MEM HISTORY',
  error: 'LAST ERROR',
};

const RIGHT: ReadonlySet<ColumnId> = new Set(['pid', 'uptime', 'rst', 'runs', 'fail', 'cpu', 'mem']);

/**
 * A sparkline of `values` on a fixed scale: the bar for v covers (v / top)
 * in eighths, so 0 (and anything at or under top / 8) is the lowest bar and
 * only a value at the top fills a block; values over the top are clamped.
 */
/** What the MEM column and its sparkline show: resident memory, or a thread actor's heap in use. */
export const memoryOf = (a: ActorStatus): number | null => a.rss_mb ?? a.heap_mb ?? null;

export function sparkline(values: readonly number[], top: number): string {
  const level = (v: number) => (v <= 0 || top <= 0 ? 0 : Math.min(7, Math.max(0, Math.ceil((v / top) * 8) - 1)));
  return values.map((v) => BARS[level(v)] ?? ' ').join('');
}

export function formatMb(mb: number): string {
  if (mb < 1000) return `${Math.round(mb)}M`;
  const gb = mb / 1024;
  return gb < 10 ? `${gb.toFixed(1)}G` : `${Math.round(gb)}G`;
}

export interface Machine {
  readonly cores: number;
  readonly memMb: number;
}

/** The run's machine: its memory from the latest `_system` sample when there is one, else `local`'s. */
export function machineOf(system: StatusDoc['system'], local: Machine): Machine {
  const avail = system?.available_mb ?? null;
  const used = system?.mem_percent ?? null;
  if (avail === null || used === null || used >= 100) return local;
  return { cores: local.cores, memMb: avail / (1 - used / 100) };
}

/** An actor's resource_limits, as far as the dashboard knows them. */
export interface Limits {
  readonly maxCpuPercent: number | null;
  readonly maxMemoryMb: number | null;
}

export interface Trend {
  readonly values: readonly number[];
  /** What a full block stands for, printed after the line. */
  readonly top: number;
  readonly label: string;
}

/** CPU is in percent of one core: a process can reach 100 × cores, a thread one core. */
export function cpuTrend(values: readonly number[], kind: string, limits: Limits, m: Machine): Trend {
  const top = limits.maxCpuPercent ?? (kind === 'thread' ? 100 : 100 * m.cores);
  return { values, top, label: `${Math.round(top)}%` };
}

export function memTrend(values: readonly number[], limits: Limits, m: Machine): Trend {
  const top = limits.maxMemoryMb ?? m.memMb;
  return { values, top, label: formatMb(top) };
}

/** One terminal line of text from anything a job printed: no line breaks, tabs or escape sequences. */
export function oneLine(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
  return s.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
}

export interface TableRow {
  /** The name indented by its depth in the supervision tree. */
  readonly name: string;
  readonly state: string;
  readonly cells: Readonly<Record<'pid' | 'uptime' | 'rst' | 'runs' | 'fail' | 'cpu' | 'mem' | 'error', string>>;
  readonly cpuTrend: Trend | null;
  readonly memTrend: Trend | null;
}

export function tableRow(
  a: ActorStatus,
  depth: number,
  history: { readonly cpu: readonly number[]; readonly mem: readonly number[] },
  limits: Limits,
  m: Machine,
): TableRow {
  const sampled = a.kind !== 'supervisor';
  return {
    name: `${'  '.repeat(depth)}${a.name}`,
    state: a.paused === true ? 'paused' : a.state,
    cells: {
      pid: a.pid === null ? '-' : String(a.pid),
      uptime: a.uptime_s === null ? '-' : formatMs(a.uptime_s * 1000),
      rst: String(a.restarts),
      runs: String(a.runs),
      fail: String(a.failures),
      cpu: a.cpu_percent === null ? '-' : `${a.cpu_percent.toFixed(0)}%`,
      // a thread actor's figure is its worker's heap in use: it has no resident memory of its own
      mem: memoryOf(a) === null ? '-' : formatMb(memoryOf(a) ?? 0),
      error: a.last_error === null ? '' : oneLine(`${a.last_error.type}: ${a.last_error.message}`),
    },
    cpuTrend: sampled ? cpuTrend(history.cpu, a.kind, limits, m) : null,
    memTrend: sampled ? memTrend(history.mem, limits, m) : null,
  };
}

export interface Layout {
  readonly columns: readonly { readonly id: ColumnId; readonly width: number }[];
  /** Samples drawn per sparkline. */
  readonly points: number;
}

const longest = (xs: readonly string[]) => xs.reduce((n, x) => Math.max(n, x.length), 0);

/** Columns and widths for a line of `width` characters (PREFIX included). */
export function fitTable(rows: readonly TableRow[], width: number): Layout {
  const labelWidth = (id: 'cpuTrend' | 'memTrend') => longest(rows.map((r) => r[id]?.label ?? ''));
  const trendWidth = (id: 'cpuTrend' | 'memTrend', points: number) =>
    Math.max(HEADERS[id].length, points + 1 + labelWidth(id));
  const natural = (id: ColumnId): number => {
    switch (id) {
      case 'actor':
        return Math.min(NAME_MAX, Math.max(HEADERS.actor.length, longest(rows.map((r) => r.name))));
      case 'state':
        return Math.max(HEADERS.state.length, longest(rows.map((r) => r.state)));
      case 'cpuTrend':
      case 'memTrend':
        return trendWidth(id, HISTORY);
      case 'error':
        return longest(rows.map((r) => r.cells.error));
      case 'pid':
      case 'uptime':
      case 'rst':
      case 'runs':
      case 'fail':
      case 'cpu':
      case 'mem':
        return Math.max(HEADERS[id].length, longest(rows.map((r) => r.cells[id])));
      default:
        return assertNever(id, 'column');
    }
  };
  const errorMin = rows.some((r) => r.cells.error !== '') ? ERROR_MIN : HEADERS.error.length;
  let nameMin = natural('actor');

  const shown = new Set(ORDER);
  const widthOf = (id: ColumnId, points: number, name: number, error: number): number =>
    id === 'actor'
      ? name
      : id === 'error'
        ? error
        : id === 'cpuTrend' || id === 'memTrend'
          ? trendWidth(id, points)
          : natural(id);
  const total = (points: number, name: number, error: number) =>
    PREFIX + [...shown].reduce((n, id) => n + widthOf(id, points, name, error), 0) + shown.size - 1;

  for (const step of GIVE_WAY) {
    if (total(MIN_POINTS, nameMin, errorMin) <= width) break;
    if (step === 'names') nameMin = Math.min(NAME_MIN, nameMin);
    else shown.delete(step);
  }
  // The spare, shared in turn: full names, a readable error, longer sparklines, the rest of the error.
  let points = MIN_POINTS;
  let name = nameMin;
  let error = errorMin;
  const spare = () => width - total(points, name, error);
  name = Math.max(1, Math.min(natural('actor'), name + spare()));
  if (shown.has('error')) error = Math.max(errorMin, Math.min(ERROR_COMFORT, error + spare()));
  const trends = (shown.has('cpuTrend') ? 1 : 0) + (shown.has('memTrend') ? 1 : 0);
  if (trends > 0) points = Math.min(HISTORY, points + Math.max(0, Math.floor(spare() / trends)));
  if (shown.has('error')) error += Math.max(0, spare());
  return {
    columns: ORDER.filter((id) => shown.has(id)).map((id) => ({ id, width: widthOf(id, points, name, error) })),
    points,
  };
}

export type CellRole = 'plain' | 'state' | 'error';

export interface Cell {
  readonly text: string;
  readonly role: CellRole;
}

function fitText(s: string, width: number, right: boolean): string {
  if (s.length > width) return width <= 1 ? s.slice(0, width) : `${s.slice(0, width - 1)}…`;
  return right ? s.padStart(width) : s.padEnd(width);
}

function trendCell(t: Trend | null, points: number, width: number): string {
  if (t === null || t.values.length === 0) return ''.padEnd(width);
  const label = t.label.padStart(width - points - 1);
  return `${sparkline(t.values.slice(-points), t.top).padStart(points)} ${label}`;
}

/** A row's cells, each cut or padded to its column and followed by a space, but for the last. */
export function rowCells(r: TableRow, layout: Layout): Cell[] {
  return layout.columns.map(({ id, width }, i): Cell => {
    const gap = i === layout.columns.length - 1 ? '' : ' ';
    switch (id) {
      case 'actor':
        return { text: fitText(r.name, width, false) + gap, role: 'plain' };
      case 'state':
        return { text: fitText(r.state, width, false) + gap, role: 'state' };
      case 'cpuTrend':
        return { text: trendCell(r.cpuTrend, layout.points, width) + gap, role: 'plain' };
      case 'memTrend':
        return { text: trendCell(r.memTrend, layout.points, width) + gap, role: 'plain' };
      case 'error': // always the last column: nothing to pad
        return { text: fitText(r.cells.error, width, false).trimEnd(), role: 'error' };
      case 'pid':
      case 'uptime':
      case 'rst':
      case 'runs':
      case 'fail':
      case 'cpu':
      case 'mem':
        return { text: fitText(r.cells[id], width, RIGHT.has(id)) + gap, role: 'plain' };
      default:
        return assertNever(id, 'column');
    }
  });
}

export function headerLine(layout: Layout): string {
  return `${' '.repeat(PREFIX)}${layout.columns
    .map(({ id, width }) => fitText(HEADERS[id], width, RIGHT.has(id)))
    .join(' ')
    .trimEnd()}`;
}
