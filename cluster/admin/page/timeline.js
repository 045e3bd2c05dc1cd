// Timeline of the live page: what happened over a window (15 min, 1 h, 24 h),
// drawn from GET /api/history (the cluster event history and connection
// samples). Per VIP a bar of who owned it (epochs labelled, gaps without an
// owner drawn red), per pool a band per backend (up/down), the connections
// of each node over time, and the event list under it. Plain SVG built with
// the DOM API: no build step, no external assets. app.js starts it once the
// page is signed in (window.wshaTimeline.start()).
'use strict';

(function () {
  const NS = 'http://www.w3.org/2000/svg';
  const WINDOWS = { '15m': 15 * 60 * 1000, '1h': 60 * 60 * 1000, '24h': 24 * 60 * 60 * 1000 };
  // Refresh by window: a day's window reads the whole stream, and one minute more of it changes little.
  const REFRESH_MS = { '15m': 5000, '1h': 10000, '24h': 60000 };
  const LABEL_W = 150;
  const ROW_H = 22;
  const CHART_H = 90;
  const PALETTE = ['#2f6db5', '#7b4fb0', '#1f8a8a', '#b0661f', '#5a7d1f', '#a63d6b', '#3d5aa6', '#6b6b2f'];
  const $ = (sel) => document.querySelector(sel);
  // A link may choose the window: #window=15m|1h|24h, or a number of ms (a short one shows a test or a demo readably).
  const asked = new URLSearchParams(location.hash.slice(1)).get('window');
  if (asked && !WINDOWS[asked] && /^\d+$/.test(asked)) WINDOWS[asked] = Math.min(Number(asked), WINDOWS['24h']);
  let windowKey = asked && WINDOWS[asked] ? asked : '1h';
  let timer = null;
  let colors = new Map();

  function colorOf(node) {
    if (!colors.has(node)) colors.set(node, PALETTE[colors.size % PALETTE.length]);
    return colors.get(node);
  }

  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function clock(ms) { return new Date(ms).toLocaleTimeString([], { hour12: false }); }
  function span(ms) { return ms < 1000 ? Math.round(ms) + ' ms' : ms < 60000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms / 60000) + ' min'; }

  // ---- what the events say, per VIP and per backend ---------------------

  /** Owner segments of one VIP: [{start, end, owner|null, epoch}], gaps (owner null) included. */
  function ownerSegments(vip, before, events, since, until) {
    const segs = [];
    let cur = null;
    let start = since;
    const init = before.find((e) => e.kind === 'ownership' && e.vip === vip);
    if (init && init.owner) cur = { owner: init.owner, epoch: init.epoch };
    // Before the first ownership event the history knows of, nothing is known: drawn neutral, not as a gap.
    let known = Boolean(init);
    const close = (at) => {
      if (at > start) segs.push({ start, end: at, owner: cur ? cur.owner : null, epoch: cur ? cur.epoch : null, unknown: !known });
      start = at;
      known = true;
    };
    for (const e of events) {
      if (e.vip !== vip) continue;
      if (e.kind === 'ownership') {
        close(e.at);
        cur = e.owner ? { owner: e.owner, epoch: e.epoch } : null;
      } else if (e.kind === 'step-down' && cur && e.node === cur.owner) {
        close(e.at);
        cur = null;
      } else if (e.kind === 'vip-serving' && typeof e.gapMs === 'number' && e.gapMs > 0) {
        // An unplanned takeover: nobody served from the old owner's last sign of life until now.
        const from = Math.max(since, e.at - e.gapMs);
        const last = segs[segs.length - 1];
        if (cur && cur.owner === e.node && last && last.end > from) last.end = Math.max(last.start, from);
        segs.push({ start: from, end: e.at, owner: null, epoch: null, gap: e.gapMs });
        start = e.at;
      }
    }
    close(until);
    return segs.sort((a, b) => a.start - b.start);
  }

  /** Up/down bands of one backend: [{start, end, state}]. */
  function verdictBands(key, before, events, since, until, current) {
    const bands = [];
    const init = before.find((e) => e.kind === 'verdict' && e.pool + '/' + e.backend === key);
    const changed = events.some((e) => e.kind === 'verdict' && e.pool + '/' + e.backend === key);
    // No change in the window nor before it: the verdict now held all along. A verdict event is a change, so
    // before the first one in the window the backend was the other way.
    const firstChange = events.find((e) => e.kind === 'verdict' && e.pool + '/' + e.backend === key);
    let state = init ? (init.up ? 'up' : 'down') : firstChange ? (firstChange.up ? 'down' : 'up') : !changed && current ? current : 'unknown';
    let start = since;
    for (const e of events) {
      if (e.kind !== 'verdict' || e.pool + '/' + e.backend !== key) continue;
      if (e.at > start) bands.push({ start, end: e.at, state });
      state = e.up ? 'up' : 'down';
      start = e.at;
    }
    bands.push({ start, end: until, state });
    return bands;
  }

  function describe(e) {
    switch (e.kind) {
      case 'ownership': return e.owner ? e.vip + ': ' + (e.previousOwner || 'none') + ' -> ' + e.owner + ' (epoch ' + e.epoch + ', ' + e.reason + ')' : e.vip + ': released by ' + e.previousOwner + ' (' + e.reason + ')';
      case 'vip-serving': return e.vip + ' served at epoch ' + e.epoch + (e.previousOwner ? ' after ' + e.previousOwner : '') + (typeof e.gapMs === 'number' ? '; ' + span(e.gapMs) + ' from its last sign of life' : '');
      case 'handover': return e.vip + ' handover ' + e.from + ' -> ' + e.to + ': ' + e.phase;
      case 'step-down': return e.vip + ' stepped down: ' + e.reason;
      case 'verdict': return e.pool + '/' + e.backend + ' ' + (e.up ? 'up' : 'down') + (e.reason ? ' (' + e.reason + ')' : '');
      case 'pool-change': return e.pool + ': ' + e.op + ' ' + e.backend + ' by ' + e.by.name + '@' + e.by.host;
      case 'config-reload': return e.ok ? 'config reload accepted' : 'config reload rejected: ' + e.errors.join('; ');
      case 'node-drained': case 'node-undrained': return e.kind.slice(5) + ' by ' + e.by.name + '@' + e.by.host;
      case 'admin': return e.action + ' ' + e.target + ' by ' + e.by.name + '@' + e.by.host + (e.ok ? '' : ': failed: ' + e.error);
      case 'redis-regained': return 'Redis back after ' + span(e.downMs);
      case 'redis-lost': return 'lost Redis';
      case 'refusals': return e.total + ' refused: ' + Object.entries(e.counts).map(([k, v]) => k + ' ' + v).join(', ');
      case 'node-not-seen': return 'not seen by ' + e.observer;
      default: return e.kind;
    }
  }

  // ---- drawing -----------------------------------------------------------

  function tip(node, text) {
    node.setAttribute('data-detail', text);
    node.appendChild(el('title', {}, text));
    node.addEventListener('mousemove', (ev) => {
      const t = $('#tl-tip');
      t.textContent = text;
      t.hidden = false;
      t.style.left = (ev.pageX + 12) + 'px';
      t.style.top = (ev.pageY + 12) + 'px';
    });
    node.addEventListener('mouseleave', () => { $('#tl-tip').hidden = true; });
  }

  function draw(doc) {
    const svg = $('#tl-svg');
    const width = Math.max(600, svg.parentElement.clientWidth || 900);
    const since = doc.sinceMs;
    const until = doc.untilMs;
    const x = (t) => LABEL_W + ((Math.min(until, Math.max(since, t)) - since) / (until - since)) * (width - LABEL_W - 10);
    const events = doc.events;
    const vips = [...new Set([...doc.before, ...events].filter((e) => e.kind === 'ownership' || e.kind === 'vip-serving').map((e) => e.vip))].sort();
    const now = new Map((doc.backends || []).map((b) => [b.pool + '/' + b.backend, b.verdict]));
    const backends = [...new Set([...now.keys(), ...[...doc.before, ...events].filter((e) => e.kind === 'verdict').map((e) => e.pool + '/' + e.backend)])].sort();
    const nodes = [...new Set(doc.samples.map((s) => s.node))].sort();
    const parts = [];
    let y = 20;

    // Time axis: six ticks.
    for (let i = 0; i <= 5; i++) {
      const t = since + ((until - since) * i) / 5;
      parts.push(el('line', { x1: x(t), x2: x(t), y1: 14, y2: 10000, class: 'tl-tick' }));
      parts.push(el('text', { x: x(t), y: 10, class: 'tl-axis', 'text-anchor': i === 0 ? 'start' : i === 5 ? 'end' : 'middle' }, clock(t)));
    }
    const label = (text, cls) => parts.push(el('text', { x: 4, y: y + ROW_H / 2 + 4, class: cls || 'tl-label' }, text));

    label('VIP owners', 'tl-heading'); y += ROW_H;
    for (const vip of vips) {
      label(vip);
      for (const s of ownerSegments(vip, doc.before, events, since, until)) {
        // A gap of a few ms stays visible at any window.
        const w = Math.max(s.owner ? 1 : 3, x(s.end) - x(s.start));
        const r = el('rect', { x: x(s.start), y: y + 2, width: w, height: ROW_H - 4, class: s.owner ? 'tl-owner' : s.unknown ? 'tl-none' : 'tl-gap', fill: s.owner ? colorOf(s.owner) : undefined,
          'data-vip': vip, 'data-owner': s.owner || '', 'data-epoch': s.epoch === null ? '' : s.epoch, 'data-start': Math.round(s.start), 'data-end': Math.round(s.end) });
        if (!s.owner) r.removeAttribute('fill');
        tip(r, s.owner
          ? vip + ': ' + s.owner + ' (epoch ' + s.epoch + ') ' + clock(s.start) + ' - ' + clock(s.end) + ', ' + span(s.end - s.start)
          : s.unknown ? vip + ': no history before ' + clock(s.end)
            : vip + ': no owner ' + clock(s.start) + ' - ' + clock(s.end) + ', ' + span(s.end - s.start) + (s.gap ? ' (unplanned takeover)' : ''));
        parts.push(r);
        if (s.owner && w > 70) parts.push(el('text', { x: x(s.start) + 4, y: y + ROW_H / 2 + 4, class: 'tl-in' }, s.owner + ' e' + s.epoch));
      }
      y += ROW_H;
    }

    label('Backends', 'tl-heading'); y += ROW_H;
    for (const key of backends) {
      label(key);
      for (const b of verdictBands(key, doc.before, events, since, until, now.get(key))) {
        const r = el('rect', { x: x(b.start), y: y + 4, width: Math.max(1, x(b.end) - x(b.start)), height: ROW_H - 8, class: 'tl-' + b.state,
          'data-backend': key, 'data-state': b.state, 'data-start': Math.round(b.start), 'data-end': Math.round(b.end) });
        tip(r, key + ' ' + b.state + ' ' + clock(b.start) + ' - ' + clock(b.end) + ', ' + span(b.end - b.start));
        parts.push(r);
      }
      y += ROW_H;
    }

    label('Connections', 'tl-heading'); y += ROW_H;
    const max = Math.max(1, ...doc.samples.map((s) => s.connections));
    const top = y;
    for (const n of nodes) {
      const pts = doc.samples.filter((s) => s.node === n).map((s) => x(s.at).toFixed(1) + ',' + (top + CHART_H - (s.connections / max) * CHART_H).toFixed(1));
      const line = el('polyline', { points: pts.join(' '), class: 'tl-conn', stroke: colorOf(n), 'data-node': n });
      const lastSample = doc.samples.filter((s) => s.node === n).pop();
      tip(line, n + ': ' + (lastSample ? lastSample.connections : 0) + ' connections at ' + (lastSample ? clock(lastSample.at) : '-') + ' (max in window ' + max + ')');
      parts.push(line);
    }
    parts.push(el('text', { x: 4, y: top + 12, class: 'tl-axis' }, 'max ' + max));
    nodes.forEach((n, i) => parts.push(el('text', { x: 4, y: top + 30 + i * 14, style: 'fill:' + colorOf(n) }, n)));
    y += CHART_H + 10;

    // Event marks on the axis.
    for (const e of events) {
      const m = el('circle', { cx: x(e.at), cy: 16, r: 3, class: 'tl-mark tl-' + e.kind, 'data-kind': e.kind });
      tip(m, clock(e.at) + ' ' + e.kind + ': ' + describe(e));
      parts.push(m);
    }

    svg.setAttribute('width', width);
    svg.setAttribute('height', y);
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + y);
    svg.replaceChildren(...parts);
    renderList(events);
  }

  function renderList(events) {
    const rows = events.slice(-200).reverse().map((e) => {
      const tr = document.createElement('tr');
      tr.setAttribute('data-kind', e.kind);
      for (const v of [new Date(e.at).toLocaleString([], { hour12: false }), e.kind, e.node || '-', describe(e)]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.appendChild(td);
      }
      return tr;
    });
    $('#tl-events tbody').replaceChildren(...rows);
    $('#tl-count').textContent = events.length + ' events in the window' + (events.length > 200 ? ' (latest 200 listed)' : '');
  }

  async function refresh() {
    const res = await fetch('api/history?windowMs=' + WINDOWS[windowKey], { credentials: 'same-origin' }).catch(() => null);
    if (!res || !res.ok) { $('#tl-status').textContent = res ? 'history unavailable (' + res.status + ')' : 'admin API unreachable'; return; }
    const doc = await res.json();
    $('#tl-status').textContent = 'updated ' + clock(doc.now) + (doc.truncated ? ' (oldest part of the window left out)' : '');
    draw(doc);
    $('#timeline').setAttribute('data-loaded', String(doc.now));
  }

  function schedule() {
    if (timer) clearInterval(timer);
    timer = setInterval(() => { void refresh(); }, REFRESH_MS[windowKey] || 5000);
  }

  function pick(key) {
    windowKey = key;
    schedule();
    for (const b of document.querySelectorAll('#tl-windows button')) b.classList.toggle('on', b.dataset.window === key);
    void refresh();
  }

  window.wshaTimeline = {
    start() {
      for (const b of document.querySelectorAll('#tl-windows button')) b.addEventListener('click', () => pick(b.dataset.window));
      pick(windowKey);
    },
    refresh,
    ownerSegments,
    verdictBands,
  };
})();
