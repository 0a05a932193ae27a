// The `damper` command (SPEC §2): start, rules check, simulate.
import { CONFIG_KEYS } from './config/keys.js';
import { loadConfig } from './config/load-config.js';
import { Engine } from './engine/engine.js';
import { DamperError } from './errors.js';
import { parseArgs } from './config/argv.js';

const HELP = `damper: a real-time event engine for connected devices

Usage:
  damper start [--config damper.yaml] [flags]   run the engine
  damper start --demo                            bundled demo rules and a simulated fleet
  damper rules check FILE                        validate a rules file, print its errors
  damper simulate [options]                      load generator (see damper simulate --help)
  damper --help

Flags of start (precedence: flag > environment > config file > default):
  --config FILE          YAML config file (DAMPER_CONFIG)
${CONFIG_KEYS.map((k) => `  --${`${k.flag} V`.padEnd(21)}${k.help} (${k.path}, ${k.env})`).join('\n')}
  --demo                 demo rules (demo/rules.yaml), 25 simulated thermostats, data in ./data
  --allow-uws-fallback   run even when uWebSockets.js fell back to its slow ws shim
`;

async function main(argv: string[]): Promise<number> {
  const { words, flags } = parseArgs(argv);
  const cmd = words[0];
  if (cmd === undefined || cmd === 'help' || (flags.help === true && cmd !== 'simulate')) {
    process.stdout.write(HELP);
    return cmd === undefined && flags.help !== true ? 1 : 0;
  }
  if (cmd === 'start') return start(flags);
  if (cmd === 'rules' && words[1] === 'check') {
    if (words[2] === undefined) {
      process.stderr.write('usage: damper rules check FILE\n');
      return 2;
    }
    const { rulesCheck } = await import('./rules/check-command.js');
    return rulesCheck(words[2], process.stdout, {});
  }
  if (cmd === 'simulate') {
    // Loaded lazily: the load generator is a separate part of the package.
    const mod = (await import('./simulate/command.js' as string)) as { runSimulateCommand(argv: string[]): Promise<number> };
    return mod.runSimulateCommand(argv.slice(argv.indexOf('simulate') + 1));
  }
  process.stderr.write(`damper: unknown command ${words.join(' ')}\n\n${HELP}`);
  return 2;
}

async function start(flags: Record<string, string | boolean>): Promise<number> {
  const config = loadConfig({
    file: typeof flags.config === 'string' ? flags.config : undefined,
    env: process.env,
    flags,
  });
  const engine = new Engine(config);
  await engine.start();
  process.stdout.write(`damper listening on ${engine.url}\n`);
  if (config.demoMode || config.demo.fleet > 0) await startDemo(engine, config.demo.fleet);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (): void => {
      if (stopping) return;
      stopping = true;
      engine.stop().then(resolve, (e) => {
        process.stderr.write(`damper: drain failed: ${(e as Error).message}\n`);
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return 0;
}

async function startDemo(engine: Engine, devices: number): Promise<void> {
  const ws = engine.url.replace(/^http/, 'ws');
  if (devices > 0) {
    const { startDemoFleet } = await import('./demo/fleet.js');
    const fleet = startDemoFleet({ url: ws, devices, registry: engine.registry, attrsChanged: (id) => engine.devices.attrsChanged(id) });
    process.once('SIGTERM', () => void fleet.stop());
    process.once('SIGINT', () => void fleet.stop());
  }
  process.stdout.write(
    [
      `  ingest:    ${ws}/v1/ingest?device=ID   (POST ${engine.url}/v1/events)`,
      `  actions:   ${ws}/v1/actions            (GET ${engine.url}/v1/actions?from=0)`,
      // The token is the operator's secret: say how to pass it rather than printing it.
      `  dashboard: ${engine.url}/${engine.config.auth.adminToken ? '?token=ADMIN_TOKEN' : ''}`,
      `  metrics:   ${engine.url}/metrics`,
      devices > 0 ? `  demo:      ${devices} simulated thermostats; stop with Ctrl-C` : '',
    ].filter((l) => l !== '').join('\n') + '\n',
  );
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof DamperError) process.stderr.write(`damper: ${e.message}\n`);
    else process.stderr.write(`damper: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
