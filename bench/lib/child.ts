// Starting the processes a scenario measures (engine, bare endpoints, peer, simulator):
// each in its own process so CPU and memory can be attributed to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: the nearest package.json above this file (compiled in dist/ or not). */
export const ROOT = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
export const DIST = path.join(ROOT, 'dist');

/**
 * Processes this scenario started and has not seen exit: killed when the scenario process
 * exits, so a server stuck in a busy loop (deaf to SIGTERM) never outlives its scenario.
 */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});
function track(proc: ChildProcess): void {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
}

export interface Server {
  /** http://HOST:PORT */
  url: string;
  /** ws://HOST:PORT */
  wsUrl: string;
  pid: number;
  proc: ChildProcess;
  /** Everything the process wrote to stderr (for notes when something fails). */
  stderr(): string;
  stop(): Promise<number | null>;
}

/**
 * Spawns `node args…` and waits for a line matching `ready` that captures http://HOST:PORT.
 * `shell` runs the command through sh (to raise the fd limit with ulimit first).
 */
export function startServer(
  args: string[],
  ready: RegExp,
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; fdLimit?: number } = {},
): Promise<Server> {
  const nodeArgs = [...args];
  const proc =
    opts.fdLimit !== undefined
      ? spawn('sh', ['-c', `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, process.execPath, ...nodeArgs], {
          cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, nodeArgs, {
          cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
        });
  track(proc);
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} not ready in time: ${err.slice(-500)}`));
    }, opts.timeoutMs ?? 30_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}: ${err.slice(-500)}`));
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      proc.stdout!.removeAllListeners('data');
      proc.stdout!.resume();
      const url = m[1];
      resolve({
        url,
        wsUrl: url.replace(/^http/, 'ws'),
        pid: proc.pid!,
        proc,
        stderr: () => err,
        stop: () => stopProcess(proc),
      });
    });
  });
}

export function stopProcess(proc: ChildProcess, graceMs = 10_000): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    proc.kill('SIGTERM');
  });
}

/** Runs `node args…` to completion and returns its stdout. */
export function runNode(
  args: string[],
  opts: { timeoutMs?: number; onSpawn?: (pid: number) => void } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    track(proc);
    opts.onSpawn?.(proc.pid!);
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts the real engine: `node bin/damper.js start --port 0 --data DIR --rules FILE`. */
export async function startEngine(rulesFile: string, extraArgs: string[] = [], fdLimit?: number): Promise<Server & { dataDir: string }> {
  const data = tempDir('damper-bench-');
  try {
    const server = await startServer(
      [path.join(ROOT, 'bin/damper.js'), 'start', '--host', '127.0.0.1', '--port', '0', '--data', data.dir, '--rules', rulesFile, ...extraArgs],
      /damper listening on (http:\/\/[^\s]+)/,
      { timeoutMs: 60_000, fdLimit },
    );
    const stop = server.stop;
    return {
      ...server,
      dataDir: data.dir,
      stop: async () => {
        const code = await stop();
        data.remove();
        return code;
      },
    };
  } catch (err) {
    data.remove();
    throw err;
  }
}

/** Starts the bare uWS endpoints (the box's ceiling). */
export function startBare(fdLimit?: number): Promise<Server> {
  return startServer([path.join(DIST, 'bench/baselines/bare-uws.js')], /bare listening on (http:\/\/[^\s]+)/, { fdLimit });
}

/** Starts the peer baseline (ws + msgpackr + reference features + json-rules-engine). */
export function startPeer(rulesFile: string): Promise<Server> {
  return startServer([path.join(DIST, 'bench/peer/server.js'), '--rules', rulesFile], /peer listening on (http:\/\/[^\s]+)/);
}
