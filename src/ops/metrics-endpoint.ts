// GET /metrics. Left open even with an admin token: scrapers rarely carry one and the
// figures name rules and error codes, never devices or tokens.
import type uWS from 'uWebSockets.js';
import { Reply } from './http.js';
import { PROMETHEUS_CONTENT_TYPE, type EngineMetrics } from './metrics.js';

export function mountMetrics(app: uWS.TemplatedApp, metrics: EngineMetrics): void {
  app.get('/metrics', (res) => {
    const reply = new Reply(res);
    let text: string;
    try {
      text = metrics.render();
    } catch (err) {
      return reply.error(500, 'internal', err instanceof Error ? err.message : String(err));
    }
    reply.send(200, PROMETHEUS_CONTENT_TYPE, text);
  });
}
