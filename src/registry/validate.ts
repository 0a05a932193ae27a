// Validation of device ids and attribute maps (SPEC §1), shared by the registry and the
// device API so both reject exactly the same input.
import { DamperError } from '../errors.js';

const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
/** Attribute names follow the metric charset: they appear in rules as `device.NAME`. */
const ATTR_NAME_RE = /^[A-Za-z0-9._:-]{1,64}$/;
/** Bounds that keep one device record small; the kernel copies attributes per device. */
export const MAX_ATTRS = 64;
export const MAX_ATTR_STRING_BYTES = 256;
export const MAX_TOKEN_BYTES = 256;

export interface DeviceRecord {
  attrs: Record<string, string | number>;
  token?: string;
}

export function isValidDeviceId(id: unknown): id is string {
  // The charset is ASCII, so string length equals byte length.
  return typeof id === 'string' && ID_RE.test(id);
}

/** Returns a clean copy of `input` as a DeviceRecord or throws DAMPER_ERR_BAD_DEVICE. */
export function toDeviceRecord(input: unknown): DeviceRecord {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw bad('device record must be an object');
  }
  const { attrs, token } = input as { attrs?: unknown; token?: unknown };
  const out: DeviceRecord = { attrs: toAttrs(attrs ?? {}) };
  if (token !== undefined && token !== null) {
    if (typeof token !== 'string' || token.length === 0 || Buffer.byteLength(token) > MAX_TOKEN_BYTES) {
      throw bad(`token must be a non-empty string of at most ${MAX_TOKEN_BYTES} bytes`);
    }
    out.token = token;
  }
  return out;
}

function toAttrs(attrs: unknown): Record<string, string | number> {
  if (attrs === null || typeof attrs !== 'object' || Array.isArray(attrs)) {
    throw bad('attrs must be an object of strings and numbers');
  }
  const entries = Object.entries(attrs as Record<string, unknown>);
  if (entries.length > MAX_ATTRS) throw bad(`at most ${MAX_ATTRS} attributes`);
  const out: Record<string, string | number> = {};
  for (const [name, value] of entries) {
    if (!ATTR_NAME_RE.test(name)) throw bad(`bad attribute name '${name.slice(0, 80)}'`);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw bad(`attribute '${name}' must be a finite number`);
    } else if (typeof value === 'string') {
      if (Buffer.byteLength(value) > MAX_ATTR_STRING_BYTES) {
        throw bad(`attribute '${name}' is longer than ${MAX_ATTR_STRING_BYTES} bytes`);
      }
    } else {
      throw bad(`attribute '${name}' must be a string or a number`);
    }
    out[name] = value;
  }
  return out;
}

function bad(message: string): DamperError {
  return new DamperError('DAMPER_ERR_BAD_DEVICE', message);
}
