// Live page of the wsha admin API. Asks for the admin token once (kept in
// sessionStorage for this tab), then follows /api/events (server-sent events;
// EventSource cannot set headers, so the page first trades the token for an
// HttpOnly, SameSite=Strict session cookie with POST /api/session).
'use strict';

const TOKEN_KEY = 'wsha-admin-token';
const $ = (sel) => document.querySelector(sel);
let source = null;

function text(v) { return v === null || v === undefined || v === '' ? '-' : String(v); }

function age(ms) {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return Math.round(ms) + ' ms';
  const s = ms / 1000;
  if (s < 60) return s.toFixed(1) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' m ' + Math.floor(s % 60) + ' s';
  return Math.floor(m / 60) + ' h ' + (m % 60) + ' m';
}

function cell(value, cls) {
  const td = document.createElement('td');
  td.textContent = text(value);
  if (cls) td.className = cls;
  return td;
}

function fill(tableSel, rows) {
  const body = $(tableSel + ' tbody');
  body.replaceChildren(...rows);
}

function row(cells, attrs) {
  const tr = document.createElement('tr');
  for (const c of cells) tr.appendChild(c);
  for (const [k, v] of Object.entries(attrs || {})) tr.setAttribute(k, v);
  return tr;
}

function renderNodes(nodes) {
  fill('#nodes', nodes.map((n) => row([
    cell(n.id), cell(n.address), cell(n.role, n.role === 'owner' ? 'owner' : ''),
    cell(n.alive ? (n.drained ? n.state + ' (drained)' : n.state) : 'not seen', n.alive ? '' : 'down'),
    cell(n.priority), cell(age(n.heartbeatAgeMs)), cell(age(n.uptimeMs)), cell(n.connections),
    cell(n.ready === null ? null : n.ready ? 'yes' : 'no'), cell(n.version),
  ], { 'data-node': n.id, class: n.alive ? '' : 'gone' })));
}

function renderVips(vips) {
  fill('#vips', vips.map((v) => row([
    cell(v.name), cell(v.address), cell(v.owner || 'none', v.owner ? 'owner' : 'down'), cell(v.epoch),
    cell(v.since ? new Date(v.since).toLocaleTimeString() : null), cell(v.reason), cell(v.driver),
  ], { 'data-vip': v.name, 'data-owner': v.owner || '' })));
}

function renderBackends(pools) {
  const rows = [];
  for (const p of pools) {
    for (const b of p.backends) {
      const views = b.views.map((w) => w.nodeId + ': ' + (w.up ? 'up' : 'down') + (w.fresh ? '' : ' (stale)')).join(', ');
      rows.push(row([cell(p.name), cell(b.id), cell(b.verdict, b.verdict === 'up' ? 'up' : b.verdict === 'down' ? 'down' : ''), cell(views),
        cell(b.connections), cell(b.lastCheckLatencyMs === null ? null : b.lastCheckLatencyMs + ' ms')], { 'data-backend': p.name + '/' + b.id }));
    }
  }
  fill('#backends', rows);
  $('#sessions').textContent = pools.length ? 'sessions: ' + pools.map((p) => p.name + ' ' + p.sessions).join(', ') : '';
}

function noneRow(columns, what) {
  const td = cell(what, 'none');
  td.colSpan = columns;
  return row([td]);
}

// Refusals of every node (from its heartbeat, as in `wsha status`), most first.
function renderEdgeDenied(nodes) {
  const rows = [];
  for (const n of nodes) {
    for (const [route, reason, count] of n.denied || []) rows.push({ node: n.id, route, reason, count });
  }
  rows.sort((a, b) => b.count - a.count || (a.node + a.route + a.reason < b.node + b.route + b.reason ? -1 : 1));
  fill('#edge-denied', rows.length ? rows.map((r) => row([cell(r.node), cell(r.route), cell(r.reason, 'down'), cell(r.count)],
    { 'data-edge': r.node + '/' + r.route + '/' + r.reason })) : [noneRow(4, 'no refusals since the nodes started')]);
}

// Admission queues are per node: shown for the node serving this page, and only when a pool has one.
function renderAdmission(node) {
  const queues = (node && node.node && node.node.edge && node.node.edge.admission) || [];
  for (const sel of ['#edge-admission', '#edge-admission-title']) $(sel).hidden = queues.length === 0;
  $('#edge-admission-node').textContent = node && node.nodeId ? 'on ' + node.nodeId : '';
  fill('#edge-admission', queues.map((q) => row([cell(q.pool), cell(q.waiting), cell(q.admitted), cell(q.queued), cell(q.refused, q.refused ? 'down' : '')],
    { 'data-admission': q.pool })));
}

function render(snap) {
  const c = snap.cluster;
  if (snap.node && snap.node.nodeId) $('#served-by').textContent = 'served by ' + snap.node.nodeId;
  renderAdmission(snap.node);
  if (!c || c.error) {
    $('#health').textContent = c && c.error ? 'cluster state unavailable' : 'no cluster view';
    $('#health').className = 'badge down';
    return;
  }
  $('#cluster-name').textContent = c.cluster;
  $('#health').textContent = c.health;
  $('#health').className = 'badge ' + c.health;
  $('#updated').textContent = 'updated ' + new Date(c.generatedAt).toLocaleTimeString();
  renderNodes(c.nodes);
  renderVips(c.vips);
  renderBackends(c.pools);
  renderEdgeDenied(c.nodes);
  const items = c.warnings.map((w) => { const li = document.createElement('li'); li.textContent = w.message; return li; });
  if (items.length === 0) { const li = document.createElement('li'); li.className = 'none'; li.textContent = 'none'; items.push(li); }
  $('#warnings').replaceChildren(...items);
}

function follow() {
  if (source) source.close();
  // The session cookie (HttpOnly, SameSite=Strict) authenticates the stream: the token never goes into a URL.
  source = new EventSource('api/events');
  source.addEventListener('status', (e) => render(JSON.parse(e.data)));
  source.addEventListener('problem', (e) => { $('#health').textContent = JSON.parse(e.data).message; $('#health').className = 'badge down'; });
  source.onerror = () => { $('#health').textContent = 'reconnecting'; $('#health').className = 'badge'; };
}

async function open(token) {
  const res = await fetch('api/state', { headers: { authorization: 'Bearer ' + token } }).catch(() => null);
  if (!res || res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    $('#login').hidden = false;
    $('#main').hidden = true;
    $('#login-error').textContent = res ? 'wrong token' : 'admin API unreachable';
    $('#login-error').hidden = false;
    return;
  }
  $('#login-error').hidden = true;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('#login').hidden = true;
  $('#main').hidden = false;
  await fetch('api/session', { method: 'POST', headers: { authorization: 'Bearer ' + token } }).catch(() => null);
  follow();
  if (window.wshaTimeline) window.wshaTimeline.start();
}

$('#login').addEventListener('submit', (e) => {
  e.preventDefault();
  void open($('#token').value.trim());
});

// A link like http://127.0.0.1:9901/#token=... (printed by `wsha demo`) signs in at once: the fragment never
// reaches a server or its log, and it is removed from the address bar before anything else runs.
const fragment = new URLSearchParams(location.hash.slice(1)).get('token');
if (fragment) history.replaceState(null, '', location.pathname + location.search);
const saved = fragment || sessionStorage.getItem(TOKEN_KEY);
if (saved) void open(saved);
else $('#login').hidden = false;
