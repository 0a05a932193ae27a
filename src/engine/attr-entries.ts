// Device attributes → RK_ATTRS payload (ATTR_ENTRY_BYTES entries). Only names some rule
// has interned matter to the kernel; a string value no rule names gets an id no match uses.
import { AE_ID, AE_KIND, AE_VALUE, ATTR_ENTRY_BYTES, ATTR_NUMBER, ATTR_STRING } from '../../assembly/layout.js';
import type { NameTables } from '../rules/name-tables.js';

export function encodeAttrEntries(attrs: Record<string, string | number>, tables: NameTables): Uint8Array {
  const ids: number[] = [];
  for (const name in attrs) if (tables.lookupAttr(name) >= 0) ids.push(tables.lookupAttr(name));
  const out = new Uint8Array(ids.length * ATTR_ENTRY_BYTES);
  const dv = new DataView(out.buffer);
  let i = 0;
  for (const name in attrs) {
    const id = tables.lookupAttr(name);
    if (id < 0) continue;
    const v = attrs[name];
    const at = i * ATTR_ENTRY_BYTES;
    dv.setUint32(at + AE_ID, id, true);
    if (typeof v === 'number') {
      dv.setUint32(at + AE_KIND, ATTR_NUMBER, true);
      dv.setFloat64(at + AE_VALUE, v, true);
    } else {
      dv.setUint32(at + AE_KIND, ATTR_STRING, true);
      dv.setFloat64(at + AE_VALUE, tables.lookupString(v), true);
    }
    i++;
  }
  return out;
}
