// The dashboard's browser script, kept as plain ES2020 source text so it reaches the page
// byte for byte (no bundler, no build step) and tests can evaluate the very same text in
// Node's `vm` to check its metrics parsing against a real /metrics scrape.
// Rules for this text: no template literals (it sits in one), DOM only through textContent.
export const DASHBOARD_SCRIPT = String.raw`
'use strict';

/** Parses Prometheus text into { name: [{ labels, value }] }. */
function parseMetrics(text) {
  var out = {};
  var lines = text.split('\n');
  for (var i = 0; i < lines.length; i++) {
    var line = lines[i];
    if (line === '' || line.charAt(0) === '#') continue;
    var m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    var labels = {};
    var re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    var lm;
    while ((lm = re.exec(m[2] || '')) !== null) {
      labels[lm[1]] = lm[2].replace(/\\(.)/g, function (_, c) { return c === 'n' ? '\n' : c; });
    }
    var v = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    (out[m[1]] = out[m[1]] || []).push({ labels: labels, value: v });
  }
  return out;
}

function metricValue(parsed, name, key, want) {
  var list = parsed[name] || [];
  for (var i = 0; i < list.length; i++) {
    if (key === undefined || list[i].labels[key] === want) return list[i].value;
  }
  return NaN;
}

function metricSum(parsed, name) {
  var list = parsed[name] || [];
  var s = 0;
  for (var i = 0; i < list.length; i++) s += list[i].value;
  return s;
}

function byLabel(parsed, name, key) {
  var out = {};
  var list = parsed[name] || [];
  for (var i = 0; i < list.length; i++) out[list[i].labels[key]] = list[i].value;
  return out;
}

/** Everything the page shows, from two scrapes dt seconds apart (prev may be null). */
function summarize(prev, cur, dt) {
  function rate(name) {
    if (!prev || !(dt > 0)) return NaN;
    return Math.max(0, metricSum(cur, name) - metricSum(prev, name)) / dt;
  }
  var quantiles = {};
  var qs = cur.damper_ingest_to_action_seconds || [];
  for (var i = 0; i < qs.length; i++) {
    if (qs[i].labels.quantile !== undefined) quantiles[qs[i].labels.quantile] = qs[i].value;
  }
  var actions = {};
  var al = cur.damper_actions_total || [];
  for (var j = 0; j < al.length; j++) {
    var r = al[j].labels.rule;
    actions[r] = actions[r] || {};
    actions[r][al[j].labels.state] = al[j].value;
  }
  return {
    eventsPerSec: rate('damper_events_applied_total'),
    framesPerSec: rate('damper_frames_total'),
    rejectedPerSec: rate('damper_events_rejected_total'),
    eventsApplied: metricSum(cur, 'damper_events_applied_total'),
    rejectedTotal: metricSum(cur, 'damper_events_rejected_total'),
    rejectedByCode: byLabel(cur, 'damper_events_rejected_total', 'code'),
    lateEvents: metricSum(cur, 'damper_late_events_total'),
    connections: byLabel(cur, 'damper_connections', 'kind'),
    queueBytes: metricSum(cur, 'damper_shard_queue_bytes'),
    rulesVersion: metricValue(cur, 'damper_rules_version'),
    latency: quantiles,
    loopP99: metricValue(cur, 'damper_event_loop_delay_seconds', 'quantile', '0.99'),
    loopMax: metricValue(cur, 'damper_event_loop_delay_max_seconds'),
    actions: actions,
  };
}

function fmtNum(v, digits) {
  if (typeof v !== 'number' || isNaN(v)) return '–';
  if (!isFinite(v)) return v > 0 ? '∞' : '-∞';
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(1) + 'k';
  // Small fractions (rates, slopes) keep three significant digits instead of showing 0.00.
  if (digits && v !== 0 && Math.abs(v) < 1) return String(Number(v.toPrecision(3)));
  return v.toFixed(digits === undefined ? 0 : digits);
}

function fmtSeconds(s) {
  if (typeof s !== 'number' || isNaN(s)) return '–';
  if (s < 1e-3) return (s * 1e6).toFixed(0) + ' µs';
  if (s < 1) return (s * 1e3).toFixed(s < 0.01 ? 2 : 1) + ' ms';
  return s.toFixed(2) + ' s';
}

function fmtValues(values) {
  var parts = [];
  for (var k in values) parts.push(k + ' = ' + (values[k] === null ? 'null' : fmtNum(values[k], 2)));
  return parts.join(', ');
}

function startDashboard(doc, win) {
  var token = new URLSearchParams(win.location.search).get('token') || '';
  var authQuery = token ? '?token=' + encodeURIComponent(token) : '';
  var history = [];
  var prev = null;
  var prevAt = 0;
  var maxRows = 50;

  function el(id) { return doc.getElementById(id); }
  function set(id, text) { var e = el(id); if (e) e.textContent = text; }

  function renderTable(tbody, rows) {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    for (var i = 0; i < rows.length; i++) {
      var tr = doc.createElement('tr');
      for (var j = 0; j < rows[i].length; j++) {
        var td = doc.createElement('td');
        td.textContent = rows[i][j];
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
  }

  function drawChart() {
    var c = el('rate-chart');
    if (!c || !c.getContext) return;
    var g = c.getContext('2d');
    var w = c.width, h = c.height;
    g.clearRect(0, 0, w, h);
    var max = 1;
    for (var i = 0; i < history.length; i++) if (history[i] > max) max = history[i];
    g.strokeStyle = '#3b82f6';
    g.lineWidth = 2;
    g.beginPath();
    for (var k = 0; k < history.length; k++) {
      var x = (k / 59) * (w - 4) + 2;
      var y = h - 2 - (history[k] / max) * (h - 4);
      if (k === 0) g.moveTo(x, y); else g.lineTo(x, y);
    }
    g.stroke();
  }

  function render(s) {
    set('events-rate', fmtNum(s.eventsPerSec, 1));
    set('frames-rate', fmtNum(s.framesPerSec, 1));
    set('events-total', fmtNum(s.eventsApplied));
    set('rejected-total', fmtNum(s.rejectedTotal));
    set('rejected-rate', fmtNum(s.rejectedPerSec, 1));
    set('late-total', fmtNum(s.lateEvents));
    set('queue-bytes', fmtNum(s.queueBytes));
    set('rules-version', fmtNum(s.rulesVersion));
    set('conn-device', fmtNum(s.connections.device));
    set('conn-gateway', fmtNum(s.connections.gateway));
    set('conn-actions', fmtNum(s.connections.actions));
    set('lat-p50', fmtSeconds(s.latency['0.5']));
    set('lat-p90', fmtSeconds(s.latency['0.9']));
    set('lat-p99', fmtSeconds(s.latency['0.99']));
    set('lat-p999', fmtSeconds(s.latency['0.999']));
    set('loop-p99', fmtSeconds(s.loopP99));
    set('loop-max', 'max ' + fmtSeconds(s.loopMax));
    var codes = [];
    for (var c in s.rejectedByCode) if (s.rejectedByCode[c] > 0) codes.push(c + ': ' + fmtNum(s.rejectedByCode[c]));
    set('rejected-codes', codes.length ? codes.join(' · ') : 'none');
    var rows = [];
    for (var r in s.actions) {
      rows.push([r, fmtNum(s.actions[r].fired || 0), fmtNum(s.actions[r].cleared || 0), fmtNum(s.actions[r].undeliverable || 0)]);
    }
    renderTable(el('rules-body'), rows);
    if (!isNaN(s.eventsPerSec)) {
      history.push(s.eventsPerSec);
      if (history.length > 60) history.shift();
      drawChart();
    }
  }

  function poll() {
    fetch('/metrics', { cache: 'no-store' })
      .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.text(); })
      .then(function (text) {
        var now = Date.now();
        var cur = parseMetrics(text);
        render(summarize(prev, cur, (now - prevAt) / 1000));
        prev = cur;
        prevAt = now;
        set('metrics-status', 'live');
        el('metrics-status').className = 'ok';
      })
      .catch(function (err) {
        set('metrics-status', 'metrics unavailable: ' + err.message);
        el('metrics-status').className = 'bad';
      })
      .then(function () { win.setTimeout(poll, 1000); });
  }

  var recent = [];
  var lastSeen = 0;
  function addRecord(rec) {
    if (rec.seq <= lastSeen) return; // a replay after reconnecting
    lastSeen = rec.seq;
    recent.unshift([
      String(rec.seq), rec.time || '', rec.rule || '', rec.device || '', rec.state || '',
      fmtValues(rec.values || {}), (rec.actions || []).join(', '),
    ]);
    if (recent.length > maxRows) recent.length = maxRows;
    renderTable(el('actions-body'), recent);
  }

  // Resume right after the last record shown, so a reconnect leaves no gap; the first
  // connection starts maxRows records back, so the table is not empty on arrival.
  var backoff = 500;
  var startFrom = 0;
  function connectActions() {
    var proto = win.location.protocol === 'https:' ? 'wss://' : 'ws://';
    var from = lastSeen > 0 ? lastSeen + 1 : startFrom;
    var query = authQuery;
    if (from > 0) query += (query ? '&' : '?') + 'from=' + from;
    var ws = new WebSocket(proto + win.location.host + '/v1/actions' + query);
    var opened = false;
    ws.onopen = function () {
      opened = true;
      backoff = 500;
      set('actions-status', 'live');
      el('actions-status').className = 'ok';
    };
    ws.onmessage = function (ev) {
      if (typeof ev.data !== 'string') return;
      try {
        var msg = JSON.parse(ev.data);
        var list = Array.isArray(msg) ? msg : [msg];
        for (var i = 0; i < list.length; i++) {
          if (list[i] && typeof list[i].seq === 'number') addRecord(list[i]);
        }
      } catch (e) { /* not a record */ }
    };
    ws.onclose = function (ev) {
      if (!opened) startFrom = 0; // e.g. the start point is no longer retained
      set('actions-status', 'disconnected (' + ev.code + '), retrying');
      el('actions-status').className = 'bad';
      win.setTimeout(connectActions, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }

  function startActions() {
    fetch('/v1/actions' + authQuery + (authQuery ? '&' : '?') + 'limit=1', { cache: 'no-store' })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (page) {
        if (page && typeof page.last === 'number') startFrom = Math.max(1, page.last - maxRows + 1);
      })
      .catch(function () { /* start with new records only */ })
      .then(connectActions);
  }

  el('device-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var id = el('device-id').value.trim();
    if (!id) return;
    fetch('/v1/devices/' + encodeURIComponent(id) + authQuery, { cache: 'no-store' })
      .then(function (res) { return res.text().then(function (t) { return { status: res.status, text: t }; }); })
      .then(function (r) {
        var shown = r.text;
        try { shown = JSON.stringify(JSON.parse(r.text), null, 2); } catch (e) { /* keep text */ }
        set('device-out', r.status + '\n' + shown);
      })
      .catch(function (err) { set('device-out', String(err)); });
  });

  poll();
  startActions();
}

if (typeof document !== 'undefined' && typeof window !== 'undefined') {
  startDashboard(document, window);
}
`;
