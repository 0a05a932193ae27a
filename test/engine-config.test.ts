import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/config/argv.js';
import { loadConfig } from '../src/config/load-config.js';
import { DEFAULT_CONFIG } from '../src/config/options.js';

describe('configuration', () => {
  it('has a default for every key', () => {
    const c = loadConfig({ env: {}, flags: {} });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 7400 });
    expect(c.engine).toEqual({ workers: 1, shards: 4, tickMs: 1000, buckets: 20 });
    expect(c.limits.maxFrameBytes).toBe(1_048_576);
    expect(c.auth).toEqual({ devices: 'open', adminToken: '' });
    expect(c.demo.fleet).toBe(0);
    expect(c.actions.retention).toEqual(DEFAULT_CONFIG.actions.retention);
  });

  it('applies flag > environment > file > default, key by key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'damper-cfg-'));
    const file = join(dir, 'damper.yaml');
    writeFileSync(
      file,
      [
        'listen: { host: 0.0.0.0, port: 9000 }',
        'data: { dir: ./store }',
        'engine: { workers: 2, shards: 8, tick: 250ms, buckets: 10 }',
        'limits: { maxFrameBytes: 2048 }',
        'auth: { devices: token, adminToken: from-file }',
        'demo: { fleet: 3 }',
        'actions: { retention: { maxAge: 2h, maxRecords: 500 } }',
      ].join('\n'),
    );
    const c = loadConfig({
      file,
      env: { DAMPER_PORT: '9100', DAMPER_SHARDS: '16', DAMPER_ADMIN_TOKEN: 'from-env' },
      flags: { port: '0', 'admin-token': 'from-flag' },
      cwd: '/somewhere',
    });
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 0 });
    expect(c.data.dir).toBe(join(dir, 'store'));
    expect(c.engine).toEqual({ workers: 2, shards: 16, tickMs: 250, buckets: 10 });
    expect(c.limits.maxFrameBytes).toBe(2048);
    expect(c.auth).toEqual({ devices: 'token', adminToken: 'from-flag' });
    expect(c.demo.fleet).toBe(3);
    expect(c.actions.retention).toEqual({ maxAgeMs: 7_200_000, maxRecords: 500 });
  });

  it('rejects bad values with a coded error naming the key', () => {
    expect(() => loadConfig({ env: { DAMPER_PORT: 'http' }, flags: {} })).toThrow(/listen.port/);
    expect(() => loadConfig({ env: {}, flags: { 'auth-devices': 'maybe' } })).toThrow(/auth.devices/);
    expect(() => loadConfig({ env: {}, flags: { tick: 'soon' } })).toThrow(/engine.tick/);
    try {
      loadConfig({ env: {}, flags: { shards: '0' } });
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe('DAMPER_ERR_CONFIG');
    }
  });

  it('parses argv flags in both spellings', () => {
    expect(parseArgs(['start', '--port', '0', '--data=/tmp/x', '--demo', '--allow-uws-fallback'])).toEqual({
      words: ['start'],
      flags: { port: '0', data: '/tmp/x', demo: true, 'allow-uws-fallback': true },
    });
  });
});
