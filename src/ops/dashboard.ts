// GET /: a self-contained live dashboard (no build step, no CDN). It polls /metrics for
// rates and latency and follows ws /v1/actions for recent records; an admin token given
// as `/?token=…` is passed on to the action stream and the device lookup.
import type uWS from 'uWebSockets.js';
import { DASHBOARD_SCRIPT } from './dashboard-script.js';
import { Reply } from './http.js';

const STYLE = `
:root { --bg:#0f172a; --card:#1e293b; --fg:#e2e8f0; --dim:#94a3b8; --ok:#22c55e; --bad:#f97316; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:1.5rem; align-items:baseline; padding:.8rem 1.2rem; background:#020617; }
header h1 { margin:0; font-size:1.2rem; }
main { padding:1rem 1.2rem; display:grid; gap:1rem; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(170px, 1fr)); gap:.8rem; }
.card { background:var(--card); border-radius:8px; padding:.7rem .9rem; }
.card .label { color:var(--dim); font-size:.8rem; }
.card .value { font-size:1.5rem; font-variant-numeric:tabular-nums; }
section { background:var(--card); border-radius:8px; padding:.8rem 1rem; overflow:auto; }
section h2 { margin:0 0 .5rem; font-size:1rem; }
table { border-collapse:collapse; width:100%; font-variant-numeric:tabular-nums; }
th, td { text-align:left; padding:.25rem .6rem; border-bottom:1px solid #334155; white-space:nowrap; }
th { color:var(--dim); font-weight:normal; }
.ok { color:var(--ok); } .bad { color:var(--bad); } .dim { color:var(--dim); }
pre { margin:.5rem 0 0; white-space:pre-wrap; }
input, button { font:inherit; padding:.3rem .5rem; border-radius:4px; border:1px solid #475569; background:#0f172a; color:var(--fg); }
`;

function card(id: string, label: string, extra = ''): string {
  return `<div class="card"><div class="label">${label}</div><div class="value" id="${id}">–</div>${extra}</div>`;
}

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Damper dashboard</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>Damper</h1>
  <span>rules v<b id="rules-version">–</b></span>
  <span class="dim">metrics: <span id="metrics-status">connecting</span></span>
  <span class="dim">actions: <span id="actions-status">connecting</span></span>
</header>
<main>
  <div class="cards">
    ${card('events-rate', 'events applied / s')}
    ${card('frames-rate', 'frames / s')}
    ${card('events-total', 'events applied')}
    ${card('rejected-rate', 'rejected / s', '<div class="dim" id="rejected-codes">none</div>')}
    ${card('rejected-total', 'rejected total')}
    ${card('late-total', 'late events')}
    ${card('queue-bytes', 'shard queue bytes')}
    ${card('conn-device', 'device connections')}
    ${card('conn-gateway', 'gateway connections')}
    ${card('conn-actions', 'action subscribers')}
    ${card('lat-p50', 'ingest→action p50')}
    ${card('lat-p90', 'ingest→action p90')}
    ${card('lat-p99', 'ingest→action p99')}
    ${card('lat-p999', 'ingest→action p99.9')}
    ${card('loop-p99', 'main loop delay p99', '<div class="dim" id="loop-max">max –</div>')}
  </div>
  <section>
    <h2>Events applied per second (last minute)</h2>
    <canvas id="rate-chart" width="600" height="80" style="width:100%;max-width:900px;height:80px"></canvas>
  </section>
  <section>
    <h2>Actions by rule</h2>
    <table><thead><tr><th>rule</th><th>fired</th><th>cleared</th><th>undeliverable</th></tr></thead>
    <tbody id="rules-body"></tbody></table>
  </section>
  <section>
    <h2>Recent action records</h2>
    <table><thead><tr><th>seq</th><th>time</th><th>rule</th><th>device</th><th>state</th><th>values</th><th>actions</th></tr></thead>
    <tbody id="actions-body"></tbody></table>
  </section>
  <section>
    <h2>Device lookup</h2>
    <form id="device-form"><input id="device-id" placeholder="device id, e.g. th-1" autocomplete="off"> <button type="submit">Show</button></form>
    <pre id="device-out" class="dim"></pre>
  </section>
</main>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;

export function mountDashboard(app: uWS.TemplatedApp): void {
  app.get('/', (res) => {
    new Reply(res).send(200, 'text/html; charset=utf-8', DASHBOARD_HTML, {
      // The page needs nothing from elsewhere; say so to the browser too.
      'Content-Security-Policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self' data:",
    });
  });
}
