/**
 * `herder report [--run ID] [--format text|markdown|html|json] [--output F]`:
 * one run summed up. HTML is a single self-contained file (inline CSS and SVG
 * charts, nothing fetched): CPU and memory over time and running spans per actor.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { call, socketPathFor } from '../actors/control.ts';
import { esc, HTML_STYLE, lineChart } from '../actors/http/html.ts';
import { openForRead, reading } from '../record/open.ts';
import { latestRunId } from '../record/queries.ts';
import { type ActorReport, type RunReport, reportData } from '../record/report-data.ts';
import { formatMs } from '../runtime/duration.ts';
import { HerderError } from '../runtime/errors.ts';
import { table } from './render.ts';
import { answers, crashedReason } from './status.ts';

export const REPORT_FORMATS = ['text', 'markdown', 'html', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const byExtension: Record<string, ReportFormat> = {
  '.txt': 'text',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.json': 'json',
};

const when = (ts: number | null) =>
  ts === null ? '-' : new Date(ts * 1000).toISOString().replace('T', ' ').slice(0, 19);
const num = (x: number | null, digits = 1) => (x === null ? '-' : x.toFixed(digits));

function runLines(r: RunReport): string[] {
  const run = r.run;
  const ended =
    run.endedAt !== null
      ? `ended ${when(run.endedAt)} UTC (${formatMs((run.endedAt - run.startedAt) * 1000)})`
      : run.status === 'crashed'
        ? 'end not recorded'
        : 'still running';
  return [
    `run ${run.id}: ${run.status}${run.reason === null ? '' : ` (${run.reason})`}`,
    `started ${when(run.startedAt)} UTC, ${ended}; planned end ${when(run.plannedEnd)}${run.plannedEnd === null ? ' (no limit)' : ' UTC'}`,
    `config ${run.configPath}${run.exitCode === null ? '' : `, exit code ${run.exitCode}`}`,
  ];
}

function actorRows(r: RunReport): string[][] {
  return r.actors.map((a) => [
    a.name,
    a.kind,
    a.state,
    String(a.runs),
    String(a.successes),
    String(a.failures),
    String(a.restarts),
    `${a.uptimePercent.toFixed(0)}%`,
    `${num(a.cpu.mean)} / ${num(a.cpu.max)}`,
    `${num(a.memMb.mean, 0)} / ${num(a.memMb.max, 0)}`,
    `${num(a.health.min, 2)} / ${num(a.health.mean, 2)}`,
  ]);
}

const ACTOR_HEAD = [
  'ACTOR',
  'KIND',
  'STATE',
  'RUNS',
  'OK',
  'FAILED',
  'RESTARTS',
  'UP',
  'CPU % mean/max',
  'MEM MB mean/max',
  'HEALTH min/mean',
];

function errorRows(r: RunReport): string[][] {
  return r.actors.flatMap((a) => a.errors.map((e) => [a.name, e.type, String(e.count), when(e.first), when(e.last)]));
}

export function renderText(r: RunReport): string {
  const out = [...runLines(r), '', table(ACTOR_HEAD, actorRows(r)), ''];
  const errs = errorRows(r);
  if (errs.length > 0) out.push('errors by type:', table(['ACTOR', 'TYPE', 'COUNT', 'FIRST', 'LAST'], errs), '');
  if (r.timeline.length > 0) {
    out.push('notable events:');
    for (const e of r.timeline) out.push(`  ${when(e.ts)}  ${e.process} ${e.kind}: ${e.detail}`);
    out.push('');
  }
  if (r.topErrors.length > 0) {
    out.push('top error messages:');
    for (const e of r.topErrors) out.push(`  ${String(e.count).padStart(6)} × ${e.type}: ${e.message.slice(0, 160)}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

const md = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;

export function renderMarkdown(r: RunReport): string {
  const out = [`# herder run ${r.run.id}`, '', ...runLines(r).map((l) => `- ${l}`), '', '## Actors', ''];
  out.push(md(ACTOR_HEAD), md(ACTOR_HEAD.map(() => '---')), ...actorRows(r).map(md), '');
  const errs = errorRows(r);
  if (errs.length > 0) {
    const head = ['actor', 'type', 'count', 'first', 'last'];
    out.push('## Errors by type', '', md(head), md(head.map(() => '---')), ...errs.map(md), '');
  }
  if (r.timeline.length > 0) {
    out.push('## Notable events', '');
    for (const e of r.timeline) out.push(`- ${when(e.ts)} — **${e.process}** ${e.kind}: ${e.detail}`);
    out.push('');
  }
  if (r.topErrors.length > 0) {
    out.push('## Top error messages', '');
    for (const e of r.topErrors) out.push(`- ${e.count} × \`${e.type}\`: ${e.message.slice(0, 200)}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}

function stateBar(a: ActorReport, x0: number, x1: number): string {
  const w = 740;
  const px = (x: number) => ((x - x0) / Math.max(1e-9, x1 - x0)) * w;
  const spans = a.running
    .map(
      (s) =>
        `<rect x="${px(s.from).toFixed(1)}" y="2" width="${Math.max(1, px(s.to) - px(s.from)).toFixed(1)}" height="14" class="up"/>`,
    )
    .join('');
  return `<svg class="bar" role="img" aria-label="${esc(a.name)} running spans" viewBox="0 0 ${w} 18" width="${w}" height="18"><rect x="0" y="2" width="${w}" height="14" class="down"/>${spans}</svg>`;
}

export function renderHtml(r: RunReport): string {
  const x0 = r.run.startedAt;
  const x1 = r.run.endedAt ?? Math.max(x0 + 1, ...r.actors.flatMap((a) => a.series.map((s) => s.ts)));
  const rows = actorRows(r)
    .map((cells) => `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('\n');
  const charts = r.actors
    .map(
      (
        a,
      ) => `<section class="actor"><h3>${esc(a.name)} <small>${esc(a.kind)}, ${esc(a.state)}, up ${a.uptimePercent.toFixed(0)}%</small></h3>
${stateBar(a, x0, x1)}
<div class="charts">${lineChart(
        a.series.filter((s) => s.cpu !== null).map((s) => ({ x: s.ts, y: s.cpu ?? 0 })),
        x0,
        x1,
        'CPU %',
        '%',
      )}${lineChart(
        a.series.filter((s) => s.mem !== null).map((s) => ({ x: s.ts, y: s.mem ?? 0 })),
        x0,
        x1,
        'memory MB',
        '',
      )}</div></section>`,
    )
    .join('\n');
  const timeline = r.timeline
    .map((e) => `<li><time>${esc(when(e.ts))}</time> <b>${esc(e.process)}</b> ${esc(e.kind)}: ${esc(e.detail)}</li>`)
    .join('\n');
  const top = r.topErrors
    .map((e) => `<li>${e.count} × <code>${esc(e.type)}</code>: ${esc(e.message.slice(0, 200))}</li>`)
    .join('\n');
  const errs = errorRows(r);
  const errTable =
    errs.length === 0
      ? '<p>none</p>'
      : `<table><thead><tr>${['actor', 'type', 'count', 'first', 'last'].map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>
${errs.map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>herder run ${r.run.id}</title>
<style>
${HTML_STYLE}
</style></head><body>
<h1>herder run ${r.run.id}: ${esc(r.run.status)}</h1>
<ul>${runLines(r)
    .map((l) => `<li>${esc(l)}</li>`)
    .join('')}</ul>
<h2>Actors</h2>
<table><thead><tr>${ACTOR_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>
${rows}
</tbody></table>
<h2>Over time</h2>
<p>Green: running. Charts: the run's resource samples, averaged into ${240} points at most.</p>
${charts}
<h2>Errors by type</h2>
${errTable}
<h2>Notable events</h2><ul>${timeline || '<li>none</li>'}</ul>
<h2>Top error messages</h2><ul>${top || '<li>none</li>'}</ul>
</body></html>
`;
}

/** A value with every object key in snake_case (uptimePercent -> uptime_percent). */
export function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeKeys(x)]),
  );
}

export function renderReport(r: RunReport, format: ReportFormat): string {
  switch (format) {
    case 'text':
      return renderText(r);
    case 'markdown':
      return renderMarkdown(r);
    case 'html':
      return renderHtml(r);
    case 'json':
      // snake_case keys, as in `status --json`
      return `${JSON.stringify(snakeKeys(r), null, 2)}\n`;
  }
}

export async function reportCommand(
  dbPath: string,
  o: { run?: number | undefined; format?: string | undefined; output?: string | undefined },
): Promise<string | null> {
  let format: ReportFormat = 'text';
  if (o.format !== undefined) {
    if (!(REPORT_FORMATS as readonly string[]).includes(o.format)) {
      throw new HerderError(
        'HERDER_ERR_ARGS',
        `herder report --format: "${o.format}" is not one of ${REPORT_FORMATS.join(', ')}`,
      );
    }
    format = o.format as ReportFormat;
  } else if (o.output !== undefined) {
    const f = byExtension[path.extname(o.output).toLowerCase()];
    if (f === undefined) {
      throw new HerderError(
        'HERDER_ERR_ARGS',
        `herder report --output: cannot tell the format from "${o.output}" (use .txt, .md, .html or .json, or pass --format)`,
      );
    }
    format = f;
  }
  let data: RunReport | null = null;
  if (o.run === undefined) {
    try {
      data = await call(socketPathFor(dbPath), 'report', {});
    } catch (e) {
      if (!(e instanceof HerderError) || e.code !== 'HERDER_ERR_NOT_LIVE') throw e;
    }
  }
  if (data === null) {
    const db = openForRead(dbPath);
    try {
      data = reading(dbPath, () => reportData(db, o.run ?? latestRunId(db), Date.now() / 1000));
    } finally {
      db.close();
    }
    // Recorded as running, yet nothing answers on its socket: that herder is gone (as status says).
    if (data.run.status === 'running' && !(o.run !== undefined && (await answers(dbPath)))) {
      data = { ...data, run: { ...data.run, status: 'crashed', reason: crashedReason(data.run.pid) } };
    }
  }
  const text = renderReport(data, format);
  if (o.output === undefined) return text;
  try {
    writeFileSync(o.output, text);
  } catch (e) {
    throw new HerderError(
      'HERDER_ERR_ARGS',
      `herder report --output: cannot write ${o.output} (${(e as Error).message})`,
    );
  }
  return null;
}
