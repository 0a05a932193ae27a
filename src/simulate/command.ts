// `damper simulate`: parse flags, run the fleet, print the report.
import { DamperError } from '../errors.js';
import { runFleet, type SimulateReport } from './fleet.js';
import { parseSimulateArgs, SIMULATE_USAGE } from './options.js';

function formatReport(r: SimulateReport): string {
  const lines = [
    `fleet: ${r.connected}/${r.connections} connections (${r.devices} devices${r.gateway ? ', gateway' : ''}), ` +
      `shape ${r.shape}, ${r.eventsPerFrame} events/frame${r.ack ? ', acked' : ''}`,
    `sent: ${r.eventsSent} events in ${r.framesSent} frames over ${r.durationS.toFixed(2)} s ` +
      `= ${Math.round(r.sendRate)} events/s (target ${r.targetRate || 'max'}; ${r.skippedFrames} frames skipped)`,
    `acked: ${r.eventsAcked} events (${r.framesAcked} frames)  rejected: ${r.eventsRejected} events ` +
      `(${r.framesRejected} frames)  unanswered: ${r.unanswered}`,
  ];
  if (Object.keys(r.errors).length > 0) lines.push(`errors: ${JSON.stringify(r.errors)}`);
  if (r.connectFailures > 0) lines.push(`connect failures: ${r.connectFailures} (${r.firstConnectError})`);
  if (r.barrierTimeouts > 0) lines.push(`barrier timeouts: ${r.barrierTimeouts}`);
  lines.push(`simulator cpu: ${r.cpuS.toFixed(2)} s`);
  return lines.join('\n');
}

export async function runSimulateCommand(argv: string[]): Promise<number> {
  let opts;
  try {
    opts = parseSimulateArgs(argv);
  } catch (err) {
    if (err instanceof DamperError) {
      process.stderr.write(`damper simulate: ${err.message}\n${SIMULATE_USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(`${SIMULATE_USAGE}\n`);
    return 0;
  }
  const report = await runFleet(opts);
  process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
  return report.connected > 0 ? 0 : 1;
}
