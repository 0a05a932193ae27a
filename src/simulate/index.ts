// Programmatic API of the fleet simulator (used by bench/ and tests).
export { runFleet, type SimulateReport } from './fleet.js';
export { runSimulateCommand } from './command.js';
export { resolveSimulateOptions, parseSimulateArgs, kDefaultSimulateOptions, type SimulateOptions } from './options.js';
export { FramePool, eventsPerFrame, wsFrame, barrierFrame, type FrameShape } from './frames.js';
export { RawWsClient } from './raw-ws.js';
