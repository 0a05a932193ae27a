// Options of `damper simulate` and of the programmatic fleet API, with defaults and
// validation in one place (validate, then assign).
import { DamperError } from '../errors.js';
import type { FrameShape } from './frames.js';

export interface SimulateOptions {
  /** ws://HOST:PORT[/path]; the path defaults to /v1/ingest. */
  url: string;
  /** Devices in the fleet (ids `${prefix}0 … ${prefix}N-1`). */
  devices: number;
  /** Gateway connections; only with `gateway` (device mode opens one connection per device). */
  connections: number;
  /** Target events/s over the whole fleet, open loop; 0 = as fast as the sockets take. */
  rate: number;
  /** Events per frame (readings per frame for the `reading` shape). */
  batch: number;
  shape: FrameShape;
  gateway: boolean;
  /** Send `{seq, events}` frames and count acks/nacks. */
  ack: boolean;
  durationS: number;
  prefix: string;
  /** Send a flush barrier on every connection at the end and wait for its ack. */
  barrier: boolean;
  /** Per-connection cap on bytes queued in the socket before the simulator skips it. */
  highWaterBytes: number;
  /** Device token, sent as `Authorization: Bearer`. */
  token: string;
  connectConcurrency: number;
  /** Seconds to wait for sockets to drain and barriers to be acked. */
  drainTimeoutS: number;
  json: boolean;
  /** Every Nth frame carries one invalid event (0 = never), to exercise rejection counting. */
  badEvery: number;
  /** With `ack`: at most this many unanswered frames per connection (0 = unbounded, open loop). */
  window: number;
}

export const kDefaultSimulateOptions: SimulateOptions = {
  url: 'ws://127.0.0.1:7400/v1/ingest',
  devices: 100,
  connections: 0,
  rate: 100_000,
  batch: 100,
  shape: 'tuple',
  gateway: false,
  ack: false,
  durationS: 10,
  prefix: 'sim-',
  barrier: true,
  highWaterBytes: 64 * 1024,
  token: '',
  connectConcurrency: 256,
  drainTimeoutS: 30,
  json: false,
  badEvery: 0,
  window: 0,
};

export const SIMULATE_USAGE = `usage: damper simulate --url ws://HOST:PORT [options]
  --url URL            ingest endpoint (path defaults to /v1/ingest)
  --devices N          devices in the fleet (default 100); one connection each
  --gateway            send events with "d" over gateway connections instead
  --connections C      gateway connections (default min(devices, 10))
  --rate EVENTS_PER_S  open-loop target over the fleet; 0 = as fast as sockets take (default 100000)
  --batch K            events per frame (readings per frame for --shape reading) (default 100)
  --shape S            tuple | map | reading (default tuple)
  --ack                send {seq, events} and count acks/nacks
  --window W           with acks: at most W unanswered frames per connection (implies --ack)
  --duration S         seconds of sending (default 10)
  --prefix P           device id prefix (default sim-)
  --token T            device token (Authorization: Bearer)
  --no-barrier         do not send a final flush barrier per connection
  --drain-timeout S    seconds to wait for sockets to drain and barriers to be acked (default 30)
  --bad-every N        make every Nth frame invalid (one event with a string value)
  --json               print the report as one JSON line`;

function bad(message: string): DamperError {
  return new DamperError('DAMPER_ERR_SIMULATE_OPTION', message);
}

function num(flag: string, raw: string | undefined, min: number): number {
  const v = Number(raw);
  if (raw === undefined || raw === '' || !Number.isFinite(v) || v < min) {
    throw bad(`${flag} needs a number >= ${min}, got ${raw ?? 'nothing'}`);
  }
  return v;
}

/** Completes and validates options given programmatically. */
export function resolveSimulateOptions(partial: Partial<SimulateOptions>): SimulateOptions {
  const o: SimulateOptions = { ...kDefaultSimulateOptions, ...partial };
  if (!/^wss?:\/\//.test(o.url)) throw bad(`--url must be ws://HOST:PORT, got ${o.url}`);
  if (!['tuple', 'map', 'reading'].includes(o.shape)) throw bad(`--shape must be tuple, map or reading`);
  if (!(o.devices >= 1)) throw bad('--devices must be >= 1');
  if (!(o.batch >= 1)) throw bad('--batch must be >= 1');
  if (!(o.rate >= 0)) throw bad('--rate must be >= 0');
  if (!(o.durationS > 0)) throw bad('--duration must be > 0');
  if (o.gateway && !(o.connections >= 1)) o.connections = Math.min(o.devices, 10);
  if (!o.gateway) o.connections = o.devices;
  o.devices = Math.floor(o.devices);
  o.connections = Math.floor(o.connections);
  o.batch = Math.floor(o.batch);
  return o;
}

/** Parses `damper simulate` arguments (`--flag value` or `--flag=value`). */
export function parseSimulateArgs(argv: string[]): SimulateOptions & { help: boolean } {
  const o: Partial<SimulateOptions> = {};
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = (): string | undefined => value ?? argv[++i];
    switch (arg) {
      case '--url': o.url = next() ?? ''; break;
      case '--devices': o.devices = num(arg, next(), 1); break;
      case '--connections': o.connections = num(arg, next(), 1); break;
      case '--rate': o.rate = num(arg, next(), 0); break;
      case '--batch': o.batch = num(arg, next(), 1); break;
      case '--shape': o.shape = next() as FrameShape; break;
      case '--gateway': o.gateway = true; break;
      case '--ack': o.ack = true; break;
      case '--duration': o.durationS = num(arg, next(), 0.001); break;
      case '--prefix': o.prefix = next() ?? ''; break;
      case '--token': o.token = next() ?? ''; break;
      case '--no-barrier': o.barrier = false; break;
      case '--json': o.json = true; break;
      case '--window': o.window = num(arg, next(), 0); o.ack = true; break;
      case '--drain-timeout': o.drainTimeoutS = num(arg, next(), 0); break;
      case '--bad-every': o.badEvery = num(arg, next(), 0); break;
      case '--help': case '-h': help = true; break;
      default: throw bad(`unknown option ${arg}`);
    }
  }
  return { ...resolveSimulateOptions(o), help };
}
