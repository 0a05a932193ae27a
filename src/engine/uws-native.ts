// uWebSockets.js falls back, with only a console warning, to a slow `ws`-based shim when
// its native binary does not load (e.g. on a Node ABI it was not built for). Loading the
// same binary path it tries tells us which one `import uWS` got.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function uwsNativeBinaryPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('uWebSockets.js/package.json'));
  return join(pkg, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
}

/** True when uWebSockets.js runs on its native binary (not the fallback). */
export function uwsNativeLoaded(env: NodeJS.ProcessEnv = process.env): boolean {
  const flag = env.UWS_USE_FALLBACK;
  if (flag === 'true' || flag === 'True' || flag === 'TRUE' || flag === '1') return false;
  try {
    createRequire(import.meta.url)(uwsNativeBinaryPath());
    return true;
  } catch {
    return false;
  }
}
