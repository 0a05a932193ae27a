import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceRegistry, isValidDeviceId } from '../src/registry/device-registry.js';

describe('DeviceRegistry on a real LMDB store', () => {
  let dir: string;
  let root: RootDatabase;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'damper-registry-'));
    root = open({ path: dir });
  });
  afterEach(async () => {
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts, gets, replaces and removes records', async () => {
    const reg = new DeviceRegistry(root);
    expect(reg.get('th-1')).toBeUndefined();
    await reg.put('th-1', { attrs: { type: 'thermostat', setpoint: 70 }, token: 's3cret' });
    expect(reg.get('th-1')).toEqual({ attrs: { type: 'thermostat', setpoint: 70 }, token: 's3cret' });
    await reg.put('th-1', { attrs: { setpoint: 72 } });
    expect(reg.get('th-1')).toEqual({ attrs: { setpoint: 72 } });
    expect(await reg.remove('th-1')).toBe(true);
    expect(reg.get('th-1')).toBeUndefined();
    expect(reg.has('th-1')).toBe(false);
    expect(await reg.remove('th-1')).toBe(false);
  });

  it('sees its own writes before they commit', async () => {
    const reg = new DeviceRegistry(root);
    const p = reg.put('a', { attrs: { owner: 'ann' } });
    expect(reg.get('a')?.attrs.owner).toBe('ann');
    expect(reg.has('a')).toBe(true);
    await p;
    expect(reg.has('a')).toBe(true); // committed: answered by the store
    const r = reg.remove('a');
    expect(reg.get('a')).toBeUndefined();
    expect(reg.has('a')).toBe(false);
    await r;
    expect(reg.get('a')).toBeUndefined();
    expect([...reg.ids()]).toEqual([]);
  });

  it('ensure auto-registers once and never overwrites an existing record', async () => {
    const reg = new DeviceRegistry(root);
    await reg.put('known', { attrs: { type: 'thermostat' } });
    expect(reg.ensure('known')).toEqual({ attrs: { type: 'thermostat' } });
    const rec = reg.ensure('new-1');
    expect(rec).toEqual({ attrs: {} });
    expect(reg.get('new-1')).toEqual({ attrs: {} });
    // A PUT racing the background auto-registration wins, because writes commit in order.
    const put = reg.put('new-1', { attrs: { setpoint: 68 } });
    expect(reg.ensure('new-1')).toEqual({ attrs: { setpoint: 68 } });
    await put;
    await reg.flush();
    expect(reg.get('new-1')).toEqual({ attrs: { setpoint: 68 } });
    expect(() => reg.ensure('bad id')).toThrow(/bad device id/);
  });

  it('checks tokens', async () => {
    const reg = new DeviceRegistry(root);
    await reg.put('d1', { attrs: {}, token: 'tok-1' });
    await reg.put('d2', { attrs: {} });
    expect(reg.checkToken('d1', 'tok-1')).toBe(true);
    expect(reg.checkToken('d1', 'tok-2')).toBe(false);
    expect(reg.checkToken('d1', 'tok-11')).toBe(false);
    expect(reg.checkToken('d1', undefined)).toBe(false);
    expect(reg.checkToken('d1', '')).toBe(false);
    expect(reg.checkToken('d2', 'anything')).toBe(false);
    expect(reg.checkToken('nobody', 'tok-1')).toBe(false);
  });

  it('rejects bad ids and bad records with coded errors and stores nothing', async () => {
    const reg = new DeviceRegistry(root);
    await expect(reg.put('has space', { attrs: {} })).rejects.toMatchObject({ code: 'DAMPER_ERR_BAD_DEVICE' });
    await expect(reg.put('x'.repeat(129), { attrs: {} })).rejects.toMatchObject({ code: 'DAMPER_ERR_BAD_DEVICE' });
    const bads: unknown[] = [
      { attrs: { a: { nested: 1 } } },
      { attrs: { a: Number.NaN } },
      { attrs: { a: Infinity } },
      { attrs: { 'bad name': 1 } },
      { attrs: [] },
      { attrs: {}, token: 5 },
      { attrs: {}, token: '' },
      null,
    ];
    for (const b of bads) {
      await expect(reg.put('ok', b as never)).rejects.toMatchObject({ code: 'DAMPER_ERR_BAD_DEVICE' });
    }
    expect(reg.get('ok')).toBeUndefined();
    expect(isValidDeviceId('th-1.a:b_c')).toBe(true);
    expect(isValidDeviceId('x'.repeat(128))).toBe(true);
    expect(isValidDeviceId('')).toBe(false);
    expect(isValidDeviceId('é')).toBe(false);
  });

  it('pages ids in order, merging writes not committed yet', async () => {
    const reg = new DeviceRegistry(root);
    for (const id of ['d-03', 'd-01', 'd-05', 'd-07']) await reg.put(id, { attrs: {} });
    const adds = [reg.put('d-04', { attrs: {} }), reg.put('d-00', { attrs: {} }), reg.put('d-09', { attrs: {} })];
    const removal = reg.remove('d-05');
    expect(reg.page('', 100)).toEqual(['d-00', 'd-01', 'd-03', 'd-04', 'd-07', 'd-09']);
    expect(reg.count()).toBe(6);
    expect(reg.page('', 2)).toEqual(['d-00', 'd-01']);
    expect(reg.page('d-01', 2)).toEqual(['d-03', 'd-04']);
    expect(reg.page('d-04', 2)).toEqual(['d-07', 'd-09']);
    expect(reg.page('d-09', 2)).toEqual([]);
    await Promise.all([...adds, removal]);
    expect(reg.page('', 100)).toEqual(['d-00', 'd-01', 'd-03', 'd-04', 'd-07', 'd-09']);
    expect(reg.page('d-035', 1)).toEqual(['d-04']);
    expect(reg.count()).toBe(6);
  });

  it('lists ids and keeps everything across a reopen (restart keeps the registry)', async () => {
    const reg = new DeviceRegistry(root);
    await reg.put('th-2', { attrs: { type: 'thermostat', owner: 'bob', setpoint: 71.5 }, token: 't2' });
    await reg.put('th-1', { attrs: { type: 'thermostat' } });
    reg.ensure('gw-dev-9');
    await reg.put('gone', { attrs: {} });
    await reg.remove('gone');
    expect(new Set(reg.ids())).toEqual(new Set(['th-1', 'th-2', 'gw-dev-9']));
    await reg.flush();
    await root.close();

    root = open({ path: dir });
    const again = new DeviceRegistry(root);
    expect(again.get('th-2')).toEqual({ attrs: { type: 'thermostat', owner: 'bob', setpoint: 71.5 }, token: 't2' });
    expect(again.get('gw-dev-9')).toEqual({ attrs: {} });
    expect(again.get('gone')).toBeUndefined();
    expect([...again.ids()].sort()).toEqual(['gw-dev-9', 'th-1', 'th-2']);
    expect(again.count()).toBe(3);
    expect(again.checkToken('th-2', 't2')).toBe(true);
  });
});
