/**
 * /metrics: the run in Prometheus's text format (prom-client), read from the
 * live state at each scrape - the supervisors' states, the newest samples
 * and the record's running totals in memory - never from the database file.
 * Names follow what Prometheus users know from supervisord and PM2 exporters
 * and node_exporter's systemd collector: base units, `_total` counters, and
 * bounded label sets (an actor, its kind, one of eight states, a stream, at
 * most ten error types per actor plus "other").
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { UsageRow } from '../../record/records.ts';
import { SYSTEM } from '../../runtime/events.ts';
import type { ChildState } from '../../runtime/supervision.ts';
import type { LiveView } from '../registry.ts';
import type { Tally } from '../tally.ts';

/** What a scrape reads, all of it in memory. */
export interface MetricsSource {
  readonly view: LiveView;
  readonly latest: (name: string) => Readonly<UsageRow> | undefined;
  readonly tally: () => Tally;
  /** Epoch ms of the run's deadline; null: no limit. */
  readonly deadlineWall: number | null;
  /**
   * Changes whenever anything above may have: `state` with an event, a line
   * or an error recorded, `samples` with an event or a sampling round. While
   * one stays the same, the last scrape's text of its series is served again.
   */
  readonly version: () => { readonly state: string; readonly samples: string };
}

/** Every state an actor can be in, each a series of herder_actor_state (1 for the current one). */
export const STATES = ['idle', 'running', 'paused', 'stopping', 'restarting', 'loop_wait', 'stopped', 'fatal'] as const;

const stateOf = (c: ChildState): (typeof STATES)[number] =>
  c.status.tag === 'running' && c.status.paused !== null ? 'paused' : c.status.tag;

const kindOf = (c: ChildState): string => (c.spec.kind === 'supervisor' ? 'supervisor' : c.spec.launch.type);

/** herder's own process figures (prom-client's) are read at most this often; a faster scrape gets the last ones. */
const OWN_EVERY_MS = 5_000;

type Labels = Record<string, string>;
type Put = (labels: Labels, value: number) => void;

/** A label value as the text format wants it: backslash, quote and newline escaped. */
const esc = (v: string) =>
  /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;

function line(name: string, labels: Labels, value: number): string {
  const keys = Object.keys(labels);
  const l = keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${esc(labels[k] ?? '')}"`).join(',')}}`;
  return `${name}${l} ${Number.isFinite(value) ? value : Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf'}`;
}

/**
 * What /metrics answers: herder's own families, written straight from the live
 * state (thousands of series per scrape for a hundred actors: prom-client's
 * Gauge and Counter objects, with their label hashing, cost several times
 * more), then prom-client's default metrics of herder's process.
 */
export interface Metrics {
  readonly contentType: string;
  /** The exposition, as bytes to send. */
  text(): Promise<Uint8Array>;
}

export function herderMetrics(src: MetricsSource): Metrics {
  type Group = 'state' | 'samples';
  const families: { name: string; help: string; type: string; group: Group; fill: (put: Put) => void }[] = [];
  const workers = () => src.view.children().filter(({ c }) => c.spec.kind === 'worker');
  const gauge = (name: string, help: string, fill: (put: Put) => void, group: Group = 'state') =>
    families.push({ name, help, type: 'gauge', group, fill });
  const counter = (name: string, help: string, fill: (put: Put) => void) =>
    families.push({ name, help, type: 'counter', group: 'state', fill });

  gauge('herder_actor_up', 'Whether the actor is running (1) or not (0).', (put) => {
    for (const { c } of workers()) {
      put({ actor: c.spec.name, kind: kindOf(c) }, c.status.tag === 'running' || c.status.tag === 'stopping' ? 1 : 0);
    }
  });
  gauge('herder_actor_state', 'The actor is in this state (1), for each state it can be in.', (put) => {
    for (const { c } of workers()) {
      const now = stateOf(c);
      for (const state of STATES) put({ actor: c.spec.name, state }, state === now ? 1 : 0);
    }
  });
  counter('herder_actor_restarts_total', 'Restarts of the actor in this run.', (put) => {
    for (const { c } of workers()) put({ actor: c.spec.name }, c.restarts);
  });
  counter('herder_actor_runs_total', 'Runs of the actor that ended, by result.', (put) => {
    for (const { c } of workers()) {
      put({ actor: c.spec.name, result: 'success' }, c.successes);
      put({ actor: c.spec.name, result: 'failure' }, c.failuresTotal);
    }
  });
  gauge('herder_actor_start_time_seconds', 'When the actor last started (Unix time).', (put) => {
    for (const { c } of workers()) if (c.lastStartWall !== null) put({ actor: c.spec.name }, c.lastStartWall / 1000);
  });
  gauge(
    'herder_actor_next_run_timestamp_seconds',
    "When a loop job's next run (or a restart) is due (Unix time).",
    (put) => {
      for (const { c } of workers()) if (c.nextRunWall !== null) put({ actor: c.spec.name }, c.nextRunWall / 1000);
    },
  );
  const running = () => src.view.running().map((a) => ({ a, s: src.latest(a.name) }));
  gauge(
    'herder_actor_cpu_percent',
    'CPU used by the actor at its last sample, in % of one core.',
    (put) => {
      for (const { a, s } of running()) if (s?.cpuPercent != null) put({ actor: a.name }, s.cpuPercent);
    },
    'samples',
  );
  gauge(
    'herder_actor_resident_memory_bytes',
    "The actor's resident memory at its last sample (a thread actor: its heap in use).",
    (put) => {
      for (const { a, s } of running()) {
        const mb = s?.rssMb ?? s?.heapUsedMb ?? null;
        if (mb !== null) put({ actor: a.name }, Math.round(mb * 1048576));
      }
    },
    'samples',
  );
  gauge(
    'herder_actor_health_score',
    "The actor's health score at its last sample (0 to 1).",
    (put) => {
      for (const { a, s } of running()) if (s?.health != null) put({ actor: a.name }, s.health);
    },
    'samples',
  );
  counter(
    'herder_actor_errors_total',
    'Errors recorded for the actor, by type (beyond ten types per actor, as "other").',
    (put) => {
      for (const [actor, types] of src.tally().errors)
        for (const [error_type, n] of types) put({ actor, error_type }, n);
    },
  );
  counter('herder_output_lines_total', 'Output lines captured from the actor, by stream.', (put) => {
    for (const [actor, t] of src.tally().lines) {
      put({ actor, stream: 'stdout' }, t.stdout);
      put({ actor, stream: 'stderr' }, t.stderr);
    }
  });
  counter('herder_output_dropped_lines_total', 'Output lines dropped because the database writer fell behind.', (put) =>
    put({}, src.tally().dropped),
  );
  gauge('herder_run_deadline_timestamp_seconds', 'When the run stops by its max runtime (Unix time).', (put) => {
    if (src.deadlineWall !== null) put({}, src.deadlineWall / 1000);
  });
  gauge(
    'herder_machine_memory_used_ratio',
    "The machine's memory in use at the last sample (0 to 1).",
    (put) => {
      const m = src.latest(SYSTEM)?.memPercent;
      if (m != null) put({}, m / 100);
    },
    'samples',
  );
  const cached: Record<Group, { version: string; text: string } | null> = { state: null, samples: null };
  const groupText = (group: Group, version: string): string => {
    const c = cached[group];
    if (c !== null && c.version === version) return c.text;
    const out: string[] = [];
    for (const f of families) {
      if (f.group !== group) continue;
      out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
      f.fill((labels, value) => out.push(line(f.name, labels, value)));
      out.push('');
    }
    const text = out.join('\n');
    cached[group] = { version, text };
    return text;
  };
  let own: { at: number; text: string } | null = null;
  let body: { herder: string; own: string; bytes: Uint8Array } | null = null;
  const process = new Registry();
  // The event-loop delay is sampled every 100 ms rather than prom-client's 10 ms: a tenth of the wake-ups.
  collectDefaultMetrics({ register: process, eventLoopMonitoringPrecision: 100 });
  // Gauges that prom-client names like counters, which promtool's lint (rightly) refuses.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    process.removeSingleMetric(name);
  return {
    contentType: process.contentType,
    async text() {
      const v = src.version();
      const herder = groupText('state', v.state) + groupText('samples', v.samples);
      const now = Date.now();
      if (own === null || now - own.at >= OWN_EVERY_MS) own = { at: now, text: await process.metrics() };
      // The same two parts as last time: the same bytes, not a new copy per scrape.
      if (body === null || body.herder !== herder || body.own !== own.text) {
        body = { herder, own: own.text, bytes: Buffer.from(herder + own.text) };
      }
      return body.bytes;
    },
  };
}
