// Action records (SPEC §5.1): the contract between the dispatcher (src/shard), which turns
// kernel transitions into records, and the action service (src/actions), which numbers,
// stores, streams and delivers them.

export type ActionState = 'fired' | 'cleared' | 'undeliverable';

/** What the dispatcher hands over; the action service adds `seq` and `time`. */
export interface ActionRecordInput {
  /** Event time that caused the change, epoch ms. */
  ts: number;
  rule: string;
  /** Rules version the transition was evaluated under. */
  version: number;
  device: string;
  state: ActionState;
  /** Each feature (canonical text) and `device.NAME` the rule reads, at that moment. NaN/±Inf allowed. */
  values: Record<string, number>;
  /** The rule's action names. */
  actions: string[];
  attrs: Record<string, string | number>;
  /** For `undeliverable`: the action that could not be delivered. */
  action?: string;
  /** For `undeliverable`: the seq of the record that could not be delivered. */
  ref?: number;
  /** Server receive time (epoch ms) of the frame that caused it, for latency metrics; not serialised. */
  receivedAt?: number;
}

export interface ActionRecord extends ActionRecordInput {
  seq: number;
  /** ISO-8601 time the record was created. */
  time: string;
}

/** Action definitions from the rules file (SPEC §4 `actions:`). */
export type ActionDefinition =
  | { kind: 'stream' }
  | { kind: 'webhook'; url: string; maxAttempts: number; timeoutMs?: number };
