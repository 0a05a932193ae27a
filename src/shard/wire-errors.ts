// SPEC §3 wire error codes. The numeric ids travel in outbox OK_ERROR records.
export const WIRE_CODES = ['bad_frame', 'bad_event', 'unknown_device', 'unauthorized', 'rate_limited', 'too_large', 'overloaded'] as const;
export type WireCode = (typeof WIRE_CODES)[number];

export const WC_BAD_FRAME = 0;
export const WC_BAD_EVENT = 1;
export const WC_UNKNOWN_DEVICE = 2;
export const WC_UNAUTHORIZED = 3;
export const WC_RATE_LIMITED = 4;
export const WC_TOO_LARGE = 5;
export const WC_OVERLOADED = 6;

/** HTTP status for each code on POST /v1/events. */
export const HTTP_STATUS: Record<WireCode, string> = {
  bad_frame: '400 Bad Request',
  bad_event: '400 Bad Request',
  unknown_device: '400 Bad Request',
  unauthorized: '401 Unauthorized',
  rate_limited: '429 Too Many Requests',
  too_large: '413 Payload Too Large',
  overloaded: '503 Service Unavailable',
};
