// Liveness and readiness (SPEC §6). /healthz answers while the process serves HTTP at all;
// /readyz only while the engine accepts work, so a load balancer stops sending traffic
// before a drain and until start-up has finished.
import type uWS from 'uWebSockets.js';
import { Reply } from './http.js';

export interface HealthDeps {
  isReady(): boolean;
}

export function mountHealth(app: uWS.TemplatedApp, deps: HealthDeps): void {
  app.get('/healthz', (res) => {
    new Reply(res).json(200, { status: 'ok' });
  });
  app.get('/readyz', (res) => {
    const reply = new Reply(res);
    let ready = false;
    try {
      ready = deps.isReady();
    } catch {
      ready = false; // a failing probe means not ready, never a crashed handler
    }
    if (ready) reply.json(200, { status: 'ready' });
    else reply.json(503, { status: 'not ready' });
  });
}
