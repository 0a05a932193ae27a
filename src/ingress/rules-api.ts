// GET/PUT /v1/rules and POST /v1/rules/validate (SPEC §6). PUT answers once the new
// version is active on every shard.
import type uWS from 'uWebSockets.js';
import { Reply } from '../ops/http.js';
import type { RuleManager } from '../rules/rule-manager.js';

export interface RulesApiDeps {
  rules: RuleManager;
  authorize(req: uWS.HttpRequest): boolean;
  /** After an accepted replacement (e.g. hand the action definitions to the action service). */
  onReplaced(): void;
  maxBytes?: number;
}

export function mountRulesApi(app: uWS.TemplatedApp, deps: RulesApiDeps): void {
  const max = deps.maxBytes ?? 1024 * 1024;

  app.get('/v1/rules', (res, req) => {
    const reply = new Reply(res);
    if (!deps.authorize(req)) return reply.error(401, 'unauthorized', 'admin token required');
    const a = deps.rules.active;
    reply.json(200, { version: a.version, yaml: a.yaml });
  });

  const withBody = (res: uWS.HttpResponse, req: uWS.HttpRequest, then: (reply: Reply, text: string) => void): void => {
    const reply = new Reply(res);
    if (!deps.authorize(req)) return reply.error(401, 'unauthorized', 'admin token required');
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (reply.finished) return;
      size += chunk.byteLength;
      if (size > max) return reply.error(413, 'too_large', `rules above ${max} bytes`);
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) then(reply, Buffer.concat(chunks, size).toString('utf8'));
    });
  };

  app.put('/v1/rules', (res, req) =>
    withBody(res, req, (reply, text) => {
      deps.rules.replace(text).then(
        (r) => {
          if (!r.ok) return reply.json(400, { errors: r.errors });
          deps.onReplaced();
          reply.json(200, { version: r.version });
        },
        (e: Error) => reply.json(500, { error: { code: 'install_failed', message: e.message } }),
      );
    }),
  );

  app.post('/v1/rules/validate', (res, req) =>
    withBody(res, req, (reply, text) => {
      const r = deps.rules.validate(text);
      if (!r.ok) return reply.json(400, { errors: r.errors });
      reply.json(200, { ok: true, version: deps.rules.version + 1 });
    }),
  );
}
