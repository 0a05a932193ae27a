// Engine-internal failures carry a stable code so callers and operators can branch on it
// without parsing messages. Wire-protocol error codes (SPEC §3: bad_frame, bad_event, …)
// are a separate vocabulary, see src/shard/wire-errors.ts.
export class DamperError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'DamperError';
    this.code = code;
  }
}

/** A configuration value (file, environment or flag) is invalid. */
export const ERR_CONFIG = 'DAMPER_ERR_CONFIG';
/** uWebSockets.js fell back to its slow `ws` shim and the fallback was not allowed. */
export const ERR_UWS_FALLBACK = 'DAMPER_ERR_UWS_FALLBACK';
/** The listen socket could not be opened. */
export const ERR_LISTEN = 'DAMPER_ERR_LISTEN';
/** The engine was used in a lifecycle state that does not allow it. */
export const ERR_STATE = 'DAMPER_ERR_STATE';
/** A shard ring cannot take a control record even after draining. */
export const ERR_RING = 'DAMPER_ERR_RING';
