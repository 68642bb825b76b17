/**
 * The dashboard: one HTML page with inline script and styles, no build step. It polls
 * `/overview` every 2 s, follows running jobs over `/jobs/:id/events` (fetch streaming, so the
 * bearer token goes in a header, never in a URL), and offers cancel and throttle buttons.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chunkvault</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em}h2{font-size:1.05em;margin-top:1.6em}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left}
.badge{display:inline-block;padding:1px 6px;border-radius:8px;font-size:.8em;margin-left:4px}
.stale{background:#f8d7da;color:#721c24}.ok{background:#d4edda;color:#155724}
.timeline{position:relative;height:18px;width:420px;background:#eee;border-radius:3px}
.dot{position:absolute;top:3px;width:8px;height:12px;background:#3366cc;border-radius:2px}
.bar{height:14px;background:#3366cc}.progress{width:220px;background:#eee}
#auth{display:none}button{margin-right:4px}
</style></head>
<body>
<h1>chunkvault</h1>
<div id="auth"><label>Token <input id="token" type="password" size="40"></label> <button id="save">Use token</button></div>
<div id="error" role="alert"></div>
<h2>Databases</h2><table id="dbs"><thead><tr><th>database</th><th>last backup</th><th>last clean check</th><th>points</th><th>restore-point timeline</th></tr></thead><tbody></tbody></table>
<h2>Running jobs</h2><table id="running"><thead><tr><th>job</th><th>progress</th><th>MB/s</th><th>ETA</th><th>rate limit</th><th></th></tr></thead><tbody></tbody></table>
<h2>MB/s of recent jobs</h2><svg id="chart" width="640" height="160" role="img" aria-label="MB/s of recent jobs"></svg>
<script>
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
let token = sessionStorage.getItem('cvToken') || '';
const headers = () => (token ? { authorization: 'Bearer ' + token } : {});
const followed = new Map();
async function api(path, init = {}) {
  const r = await fetch(path, { ...init, headers: { ...headers(), ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  if (r.status === 401) { $('#auth').style.display = 'block'; throw new Error('a token is needed'); }
  const j = await r.json();
  if (!r.ok) throw new Error(j.error ? j.error.message : r.statusText);
  return j;
}
const rate = (b) => (!b ? '0' : b >= 1e6 ? (b / 1e6).toFixed(1) + ' MB/s' : (b / 1e3).toFixed(1) + ' KB/s');
const ago = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : 'never');
function timeline(points) {
  if (!points.length) return '<div class="timeline"></div>';
  const t = points.map((p) => Date.parse(p.created)); const lo = Math.min(...t), hi = Math.max(...t), span = Math.max(1, hi - lo);
  return '<div class="timeline">' + points.map((p, i) => '<span class="dot" title="' + esc(p.pointId + ' ' + p.created) + '" style="left:' + Math.round(((t[i] - lo) / span) * 410) + 'px"></span>').join('') + '</div>';
}
function renderDbs(dbs) {
  $('#dbs tbody').innerHTML = dbs.map((d) => '<tr data-db="' + esc(d.dbPath) + '"><td>' + esc(d.dbPath) + (d.error ? ' <span class="badge stale">' + esc(d.error) + '</span>' : '') + '</td>' +
    '<td>' + ago(d.lastBackup && d.lastBackup.time) + ' <span class="badge ' + (d.backupStale ? 'stale">older than ' + d.maxAgeHours + ' h' : 'ok">fresh') + '</span></td>' +
    '<td>' + ago(d.lastCleanCheck) + ' <span class="badge ' + (d.checkStale ? 'stale">older than ' + d.maxAgeHours + ' h' : 'ok">fresh') + '</span></td>' +
    '<td>' + d.points.length + '</td><td>' + timeline(d.points) + '</td></tr>').join('');
}
function renderRunning() {
  const rows = [...followed.values()].filter((p) => p.state === 'running' || p.state === 'queued');
  $('#running tbody').innerHTML = rows.map((p) => {
    const pct = p.bytesTotal ? Math.min(100, (100 * p.bytesDone) / p.bytesTotal) : 0;
    return '<tr data-job="' + esc(p.jobId) + '"><td>' + esc(p.jobId) + '<br><small>' + esc(p.type) + '</small></td><td><div class="progress"><div class="bar" style="width:' + pct.toFixed(1) + '%"></div></div>' + pct.toFixed(1) + '%</td>' +
      '<td class="mbps">' + rate(p.bytesPerSec) + '</td><td>' + (p.etaSeconds == null ? '' : p.etaSeconds + ' s') + '</td><td>' + (p.maxRate ? rate(p.maxRate) : 'unlimited') + '</td>' +
      '<td><button class="cancel" data-id="' + esc(p.jobId) + '">Cancel</button><button class="throttle" data-id="' + esc(p.jobId) + '">Throttle 10MB/s</button></td></tr>';
  }).join('') || '<tr><td colspan="6">none</td></tr>';
}
function renderChart(jobs) {
  const done = jobs.filter((j) => j.mbPerSec > 0).slice(0, 20).reverse();
  const max = Math.max(0.1, ...done.map((j) => j.mbPerSec)), w = Math.min(64, 640 / Math.max(1, done.length));
  $('#chart').innerHTML = done.map((j, i) => { const h = Math.round((j.mbPerSec / max) * 130);
    return '<rect x="' + (i * w + 2) + '" y="' + (140 - h) + '" width="' + (w - 4) + '" height="' + h + '" fill="#3366cc"><title>' + esc(j.jobId + ': ' + j.mbPerSec + ' MB/s') + '</title></rect><text x="' + (i * w + 4) + '" y="155" font-size="10">' + j.mbPerSec + '</text>'; }).join('');
}
async function follow(jobId) {
  if (followed.has(jobId)) return;
  followed.set(jobId, { jobId, state: 'queued', bytesDone: 0, bytesTotal: 0, bytesPerSec: 0, mbPerSec: 0, etaSeconds: null, maxRate: 0, type: '' });
  try {
    const r = await fetch('/jobs/' + encodeURIComponent(jobId) + '/events', { headers: headers() });
    const reader = r.body.getReader(); const dec = new TextDecoder(); let buf = '';
    for (;;) { const { value, done } = await reader.read(); if (done) break; buf += dec.decode(value, { stream: true });
      let i; while ((i = buf.indexOf('\\n\\n')) >= 0) { const block = buf.slice(0, i); buf = buf.slice(i + 2);
        const data = block.split('\\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('');
        if (data) { followed.set(jobId, JSON.parse(data)); renderRunning(); } } }
  } catch (e) { $('#error').textContent = String(e.message || e); }
}
async function refresh() {
  try { const o = await api('/overview'); $('#error').textContent = ''; renderDbs(o.databases); renderChart(o.jobs);
    for (const j of o.jobs) if (j.state === 'running' || j.state === 'queued') follow(j.jobId);
    renderRunning();
  } catch (e) { $('#error').textContent = String(e.message || e); }
}
document.addEventListener('click', async (ev) => {
  const b = ev.target; if (!(b instanceof HTMLButtonElement)) return;
  try {
    if (b.id === 'save') { token = $('#token').value.trim(); sessionStorage.setItem('cvToken', token); $('#auth').style.display = 'none'; return refresh(); }
    if (b.classList.contains('cancel')) await api('/jobs/' + encodeURIComponent(b.dataset.id) + '/cancel', { method: 'POST', body: '{}' });
    if (b.classList.contains('throttle')) await api('/jobs/' + encodeURIComponent(b.dataset.id) + '/throttle', { method: 'POST', body: JSON.stringify({ rate: '10MB' }) });
  } catch (e) { $('#error').textContent = String(e.message || e); }
});
refresh(); setInterval(refresh, 2000);
</script></body></html>
`;
