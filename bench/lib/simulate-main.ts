// Entry point to run the simulator in its own process (its CPU is then measurable apart
// from the engine's): node dist/bench/lib/simulate-main.js <damper simulate flags>
import { runSimulateCommand } from '../../src/simulate/command.js';

process.exitCode = await runSimulateCommand(process.argv.slice(2));
