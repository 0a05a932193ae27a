// Internal errors carry a stable code so callers branch on `code`, never on message text.
// Wire error codes of SPEC §3 (bad_frame, …) are a separate vocabulary sent to clients.
export class DamperError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'DamperError';
    this.code = code;
  }
}
