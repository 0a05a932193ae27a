// Ring flags the runtime adds to layout.ts's RF_* (R_FLAGS is a u8 bit set; the kernel
// never reads it). The worker copies R_FLAGS into ack/error records.
export { RF_ACKED, RF_HTTP } from '../../assembly/layout.js';
/** Frame arrived as a WebSocket text (JSON) message: answer in JSON text. */
export const RF_TEXT = 4;
