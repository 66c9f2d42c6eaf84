/**
 * What the HTML report and the web dashboard share, so that they look like
 * one product: the style sheet, HTML escaping, and the one chart
 * implementation (a small line chart as inline SVG).
 */

/** The style both pages use (the dashboard adds its own few rules). */
export const HTML_STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}
.charts{display:flex;gap:16px;flex-wrap:wrap}.chart .line{fill:none;stroke:#2a6fdb;stroke-width:1.5}.chart .dot{fill:#2a6fdb}
.chart .axis{stroke:#999}.chart .t{font-size:11px;fill:#333}.chart .a{font-size:9px;fill:#666}
.bar .up{fill:#3a3}.bar .down{fill:#eee}small{color:#666;font-weight:normal}time{color:#666}`;

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const SPARSE_POINTS = 60;

/** A small line chart as inline SVG: one series over the run's time span. */
export function lineChart(
  points: readonly { x: number; y: number }[],
  x0: number,
  x1: number,
  label: string,
  unit: string,
): string {
  const w = 360;
  const h = 90;
  const max = Math.max(1, ...points.map((p) => p.y));
  const px = (x: number) => ((x - x0) / Math.max(1e-9, x1 - x0)) * (w - 40) + 35;
  const py = (y: number) => h - 15 - (y / max) * (h - 32);
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
  // Sparse series (a loop job sampled once per short run) are dots too: one sample draws no line.
  const dots =
    points.length > SPARSE_POINTS
      ? ''
      : points.map((p) => `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="2" class="dot"/>`).join('');
  return `<svg class="chart" role="img" aria-label="${esc(label)}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}">
<text x="35" y="10" class="t">${esc(label)}</text><text x="2" y="${py(max) + 4}" class="a">${max.toFixed(0)}${unit}</text>
<text x="2" y="${h - 12}" class="a">0</text><line x1="35" y1="${h - 15}" x2="${w - 5}" y2="${h - 15}" class="axis"/>
${points.length > 0 ? `<path d="${d}" class="line"/>${dots}` : `<text x="40" y="50" class="a">no samples</text>`}</svg>`;
}
