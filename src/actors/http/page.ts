/**
 * The dashboard page: one HTML document with its style and script inline,
 * nothing fetched from anywhere but this listener. It reads the JSON API,
 * follows the event stream (each event refreshes the table within a moment,
 * no polling of the record), and shows one actor at a time: its charts (the
 * report's own SVG charts, drawn by the server), its recent events and its
 * output tail with a filter (the same regular expression as `logs --grep`).
 * Actions ask for a confirmation and need the token, which the page takes
 * from `#token=…` in its address (then drops it from the address bar) or
 * from its token field, and keeps for the browser tab only.
 */
import { HTML_STYLE } from './html.ts';

const PAGE_STYLE = `header{display:flex;gap:24px;flex-wrap:wrap;align-items:baseline}header h1{margin:0}
#note{padding:6px 10px;background:#fff6d6;border:1px solid #e6d28a;margin:8px 0}#note:empty{display:none}
tr.sel td{background:#eef4ff}tr[data-name]{cursor:pointer}td.err{max-width:280px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
button{margin:0 2px}pre{background:#f7f7f7;padding:6px;max-height:320px;overflow:auto;font-size:12px}
.stderr{color:#b00}.ended{color:#b00;font-weight:bold}#events li{font-size:12px}`;

const SCRIPT = `
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const dur = (s) => s == null ? '-' : s < 60 ? Math.round(s) + 's' : s < 3600 ? Math.floor(s / 60) + 'm' + String(Math.round(s % 60)).padStart(2, '0') + 's' : Math.floor(s / 3600) + 'h' + String(Math.floor(s % 3600 / 60)).padStart(2, '0') + 'm';
const when = (ts) => ts == null ? '-' : new Date(ts * 1000).toISOString().slice(11, 19);
let token = sessionStorage.getItem('herder-token') || '';
const m = /[#&]token=([^&]+)/.exec(location.hash);
if (m) { token = decodeURIComponent(m[1]); sessionStorage.setItem('herder-token', token); history.replaceState(null, '', location.pathname); }
let doc = null, selected = null, ended = false, logGrep = '';
const headers = () => token ? { authorization: 'Bearer ' + token } : {};
class Refused extends Error {}
async function get(path) {
  const r = await fetch(path, { headers: headers() });
  if (r.status === 401) throw new Refused('this listener needs the token for reading too: paste it above');
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error?.message || r.statusText);
  return r.json();
}
function note(text) { $('#note').textContent = text; }
function canAct() { return !ended && token !== ''; }
function actionsNote() {
  $('#why').textContent = ended ? 'The run is over: actions are off.' : token === '' ? 'Actions need the token (herder.token next to the database): paste it above.' : '';
  for (const b of document.querySelectorAll('button[data-op]')) b.disabled = !canAct();
}
async function act(path, what) {
  if (!canAct() || !confirm(what + '?')) return;
  const r = await fetch(path, { method: 'POST', headers: headers() });
  const body = await r.json().catch(() => ({}));
  note(r.ok ? (body.detail || (body.lines || []).join('; ') || 'done') : (body.error?.message || r.statusText));
  refresh();
}
function row(a) {
  const mem = a.rss_mb != null ? a.rss_mb.toFixed(0) + 'M' : a.heap_mb != null ? a.heap_mb.toFixed(0) + 'M heap' : '-';
  const state = a.paused ? 'paused' : a.state;
  const live = ['running', 'stopping'].includes(a.state);
  const ops = a.kind === 'supervisor' ? '' : [
    ['restart', 'restart'], live ? ['stop', 'stop'] : ['start', 'start'],
    ...(a.kind === 'process' && live ? [a.paused ? ['resume', 'resume'] : ['pause', 'pause']] : []),
  ].map(([op, label]) => '<button data-op="' + op + '" data-name="' + esc(a.name) + '">' + label + '</button>').join('');
  return '<tr data-name="' + esc(a.name) + '"' + (a.name === selected ? ' class="sel"' : '') + '><td>' + (a.parent !== '_herder' ? '&nbsp;&nbsp;' : '') + esc(a.name) + '</td><td>' + esc(a.kind) + '</td><td class="state">' + esc(state) +
    '</td><td class="pid">' + (a.pid ?? '-') + '</td><td>' + dur(a.uptime_s) + '</td><td>' + a.runs + '/' + a.successes + '/' + a.failures + '</td><td>' + a.restarts +
    '</td><td>' + when(a.next_run_at) + '</td><td>' + (a.cpu_percent == null ? '-' : a.cpu_percent.toFixed(0) + '%') + '</td><td>' + mem + '</td><td>' + (a.self_health ?? '-') +
    '</td><td class="err" title="' + esc(a.last_error ? a.last_error.type + ': ' + a.last_error.message : '') + '">' + esc(a.last_error ? a.last_error.type + ': ' + a.last_error.message : '') + '</td><td>' + ops + '</td></tr>';
}
function render() {
  if (doc === null) return;
  const r = doc.run, s = doc.system;
  ended = ended || r.status !== 'running';
  $('#run').textContent = 'herder run ' + r.id + ': ' + r.status;
  $('#facts').innerHTML = 'started ' + esc(new Date(r.started_at * 1000).toISOString().slice(0, 19).replace('T', ' ')) + ' UTC · pid ' + r.pid +
    (r.deadline_at ? ' · ' + (ended ? 'ended' : 'time left ' + dur(r.deadline_at - Date.now() / 1000)) : '') +
    (s ? ' · machine CPU ' + (s.cpu_percent ?? '-') + '%, memory ' + (s.mem_percent ?? '-') + '%' : '') + (ended ? ' · <span class="ended">the run has ended</span>' : '');
  $('#actors').innerHTML = doc.actors.map(row).join('');
  actionsNote();
}
let misses = 0;
async function refresh() {
  try {
    doc = await get('/api/status'); misses = 0; render();
    if (selected !== null && Date.now() - chartsAt > 15000) drawCharts().catch(() => {});
  } catch (e) {
    if (e instanceof Refused) { note(e.message); return; }
    // One failed answer is no end (a busy machine); three in a row, once the page has shown the run, are.
    if (!ended && doc !== null && ++misses >= 3) { ended = true; render(); note('the run has ended (or herder stopped answering): this is its last state'); }
  }
}
// After an event the table is read again within a second, at most once a second however many events come.
let pending = null, lastRefresh = 0;
function soon() {
  if (pending !== null) return;
  const wait = Math.max(100, 1000 - (Date.now() - lastRefresh));
  pending = setTimeout(() => { pending = null; lastRefresh = Date.now(); refresh(); }, wait);
}
function showEvent(e) {
  if (selected !== null && e.process !== selected) return;
  const li = document.createElement('li');
  li.innerHTML = '<time>' + when(e.ts) + '</time> <b>' + esc(e.process) + '</b> ' + esc(e.kind) + ': ' + esc(e.detail);
  $('#events').prepend(li);
  while ($('#events').children.length > 50) $('#events').lastChild.remove();
}
function addLines(stream, lines) {
  const out = $('#log');
  const atEnd = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
  for (const line of lines) {
    const span = document.createElement('span');
    span.className = stream;
    span.textContent = (stream === 'stderr' ? 'err ' : 'out ') + line + '\\n';
    out.append(span);
  }
  while (out.childNodes.length > 500) out.firstChild.remove();
  if (atEnd) out.scrollTop = out.scrollHeight;
}
// Server-Sent Events through fetch rather than EventSource, which cannot send the token.
async function sse(path, on, signal) {
  const r = await fetch(path, { headers: headers(), signal });
  if (!r.ok) throw new Error(r.statusText);
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let at;
    while ((at = buf.indexOf('\\n\\n')) >= 0) {
      const msg = buf.slice(0, at); buf = buf.slice(at + 2);
      const data = msg.split('\\n').find((l) => l.startsWith('data: '));
      if (data !== undefined) on(JSON.parse(data.slice(6)));
    }
  }
}
let tail = null;
// The tail: the newest lines from the record once, then each line as it is captured (pushed, not polled).
async function followOutput() {
  tail?.abort();
  const ctrl = new AbortController();
  tail = ctrl;
  $('#log').textContent = '';
  const q = new URLSearchParams({ process: selected, limit: '200' });
  if (logGrep !== '') q.set('grep', logGrep);
  const g = logGrep === '' ? '' : '?grep=' + encodeURIComponent(logGrep);
  try {
    const live = sse('/api/actors/' + encodeURIComponent(selected) + '/output' + g, (m) => addLines(m.stream, m.lines), ctrl.signal);
    const first = await get('/api/logs?' + q);
    for (const l of first) addLines(l.stream, [l.line]);
    await live;
  } catch (e) { /* switched to another actor, or the run ended: the tail stays as it was */ }
}
let chartsAt = 0;
/** The selected actor's charts, drawn by the server from the record (again at most every 15 s). */
async function drawCharts() {
  if (selected === null) return;
  chartsAt = Date.now();
  const charts = await fetch('/charts/' + encodeURIComponent(selected), { headers: headers() });
  if (charts.ok) $('#charts').innerHTML = await charts.text();
}
async function select(name) {
  selected = name;
  $('#actor').hidden = false;
  $('#name').textContent = name;
  $('#events').textContent = '';
  render();
  followOutput();
  try {
    const evs = await get('/api/events?limit=1000');
    for (const e of evs.filter((x) => x.process === name).slice(-50)) showEvent(e);
    await drawCharts();
  } catch (e) { note(String(e.message || e)); }
}
document.addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-op]');
  if (b) { ev.stopPropagation(); const op = b.dataset.op, n = b.dataset.name;
    return op === 'reload' ? act('/api/reload', 'Reload actors.yaml') : op === 'shutdown' ? act('/api/shutdown', 'Stop the whole run') : act('/api/actors/' + encodeURIComponent(n) + '/' + op, op + ' ' + n); }
  const tr = ev.target.closest('tr[data-name]');
  if (tr) select(tr.dataset.name);
});
$('#token').addEventListener('change', (ev) => { token = ev.target.value.trim(); sessionStorage.setItem('herder-token', token); note(''); actionsNote(); refresh(); });
$('#grep').addEventListener('change', (ev) => { logGrep = ev.target.value; if (selected !== null) followOutput(); });
async function follow() {
  while (!ended) {
    try {
      await sse('/api/stream', (e) => { showEvent(e); if (e.kind === 'run_end') ended = true; soon(); });
    } catch (e) { /* the run ended, or the token is missing: refresh says which */ }
    soon();
    await new Promise((res) => setTimeout(res, 1000));
  }
}
follow();
// Events refresh the table as they come; samples (every 5 s by default) are picked up every 15 s without one.
setInterval(() => { if (!ended && (doc === null || misses > 0 || Date.now() / 1000 - doc.generated_at > 15)) refresh(); }, 1000);
refresh();
`;

export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>herder</title>
<style>
${HTML_STYLE}
${PAGE_STYLE}
</style></head><body>
<header><h1 id="run">herder</h1><span id="facts"></span></header>
<p><label>Token <input id="token" type="password" autocomplete="off" size="32"></label>
<button data-op="reload">reload actors.yaml</button> <button data-op="shutdown">stop the run</button> <small id="why"></small></p>
<div id="note" role="status"></div>
<table><thead><tr><th>actor</th><th>kind</th><th>state</th><th>pid</th><th>uptime</th><th>runs/ok/failed</th><th>restarts</th><th>next run</th><th>CPU</th><th>memory</th><th>health</th><th>last error</th><th></th></tr></thead>
<tbody id="actors"></tbody></table>
<section id="actor" hidden><h2 id="name"></h2><div id="charts" class="charts"></div>
<h3>Recent events</h3><ul id="events"></ul>
<h3>Output <input id="grep" placeholder="filter (regular expression)" size="30"></h3><pre id="log"></pre></section>
<script>${SCRIPT}</script>
</body></html>
`;
}
