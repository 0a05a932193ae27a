// The Engine: builds the running system from a config, starts it, and drains it on stop.
// Lifecycle: new → starting → ready → draining → stopped.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { Piscina } from 'piscina';
import uWS from 'uWebSockets.js';
import { H_ACTIVE_EPOCH, NO_SLOT, RK_ATTRS, RK_TICK } from '../../assembly/layout.js';
import { ActionService } from '../actions/action-service.js';
import type { ActionRecordInput } from '../actions/types.js';
import type { DamperConfig } from '../config/options.js';
import { DamperError, ERR_STATE, ERR_UWS_FALLBACK } from '../errors.js';
import { mountEventsHttp } from '../ingress/events-http.js';
import { IngestCore } from '../ingress/ingest-core.js';
import { mountIngestSocket, type IngestSockets } from '../ingress/ingest-socket.js';
import { makeAuthorize } from '../ingress/auth.js';
import { mountRulesApi } from '../ingress/rules-api.js';
import { kernelFor, packageRoot } from '../kernel/kernel.js';
import { createShardMemory, DEFAULT_SHARD_MEMORY_OPTIONS, readLayout, type ShardMemory, type ShardMemoryOptions } from '../kernel/memory.js';
import { mountDashboard } from '../ops/dashboard.js';
import { mountDeviceApi } from '../ops/device-api.js';
import { mountHealth } from '../ops/health.js';
import { listenApp, type Listening } from '../ops/listen.js';
import { EngineMetrics } from '../ops/metrics.js';
import { mountMetrics } from '../ops/metrics-endpoint.js';
import { DeviceRegistry } from '../registry/device-registry.js';
import { NameTables } from '../rules/name-tables.js';
import { RuleManager } from '../rules/rule-manager.js';
import type { RulesWatcher } from '../rules/rules-watcher.js';
import { Dispatcher } from '../shard/dispatcher.js';
import { DrainScheduler } from '../shard/drain-scheduler.js';
import { ProgramBook } from '../shard/program-book.js';
import { ReplyTargets } from '../shard/reply-targets.js';
import { ShardSet } from '../shard/shard-set.js';
import { TaskStatus } from '../shard/task-status.js';
import type { WorkerData } from '../shard/worker.js';
import { encodeAttrEntries } from './attr-entries.js';
import { readCheckpoint, writeCheckpoint, type CheckpointState } from './checkpoint.js';
import { DeviceBridge } from './device-bridge.js';
import { ProgramInstaller } from './program-installer.js';
import { uwsNativeLoaded } from './uws-native.js';

const DRAIN_TIMEOUT_MS = 30_000;

/** A ring holds several of the largest frames, so a maximal frame can always get in eventually. */
function ringBytesFor(maxFrameBytes: number): number {
  return Math.max(8 * 1024 * 1024, Math.ceil((maxFrameBytes * 4) / 8) * 8 + 4096);
}
const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

export type EngineState = 'new' | 'starting' | 'ready' | 'draining' | 'stopped';

export interface EngineHooks {
  /** Lines for operators (warnings, rules reload results); default: stderr. */
  log?: (line: string) => void;
  /** Shard memory sizing (ring, batch, outbox…); defaults suit production. */
  shardMemory?: Partial<Omit<ShardMemoryOptions, 'shardId'>>;
}

export class Engine {
  state: EngineState = 'new';
  port = 0;
  readonly metrics = new EngineMetrics();
  registry!: DeviceRegistry;
  actions!: ActionService;
  rules!: RuleManager;
  devices!: DeviceBridge;
  shards!: ShardSet;
  private root!: RootDatabase;
  private pool!: Piscina;
  private scheduler!: DrainScheduler;
  private core!: IngestCore;
  private sockets!: IngestSockets;
  private listening: Listening | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private watcher: RulesWatcher | null = null;
  private tables = new NameTables();
  private installer!: ProgramInstaller;
  private readonly programs = new ProgramBook();
  private readonly replies = new ReplyTargets();
  private appends = new Set<Promise<unknown>>();
  private readonly log: (line: string) => void;

  constructor(readonly config: DamperConfig, private readonly hooks: EngineHooks = {}) {
    this.log = hooks.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  get url(): string {
    return `http://${this.config.listen.host}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new DamperError(ERR_STATE, `cannot start an engine that is ${this.state}`);
    try {
      await this.startParts();
    } catch (e) {
      // Leave nothing running behind a failed start (threads, timers, the store).
      this.state = 'stopped';
      if (this.tickTimer !== null) clearInterval(this.tickTimer);
      this.watcher?.close();
      this.listening?.close();
      await this.pool?.destroy().catch(() => undefined);
      await this.root?.close().catch(() => undefined);
      throw e;
    }
  }

  private async startParts(): Promise<void> {
    const cfg = this.config;
    if (!uwsNativeLoaded()) {
      if (!cfg.allowUwsFallback) {
        throw new DamperError(ERR_UWS_FALLBACK, `uWebSockets.js could not load its native binary for Node ${process.versions.node} (${process.platform}-${process.arch}, ABI ${process.versions.modules}) and would run on its slow ws fallback. Use Node 20, or pass --allow-uws-fallback to run anyway.`);
      }
      this.log('warning: uWebSockets.js runs on its ws fallback (--allow-uws-fallback); expect far lower throughput');
    }
    this.state = 'starting';
    mkdirSync(cfg.data.dir, { recursive: true });
    this.root = open({ path: join(cfg.data.dir, 'store') });
    this.registry = new DeviceRegistry(this.root);
    this.actions = new ActionService({
      root: this.root,
      retention: cfg.actions.retention,
      onConnections: (d) => this.metrics.connections('actions', d),
    });

    const shardMemories = (): ShardMemory[] => Array.from({ length: cfg.engine.shards }, (_, i) => createShardMemory({ ringBytes: ringBytesFor(cfg.limits.maxFrameBytes), ...this.hooks.shardMemory, shardId: i }));
    const fresh = shardMemories();
    const restored = this.restoreCheckpoint(fresh, shardMemories);
    const memories = fresh.map((m) => m.memory);
    this.shards = new ShardSet(memories);
    if (restored !== null) {
      this.shards.restoreSlots(restored.devices);
      this.tables = new NameTables(restored.tables);
    }
    const status = new TaskStatus(memories.length);
    this.pool = new Piscina({
      filename: join(packageRoot(), 'dist/src/shard/worker.js'),
      minThreads: cfg.engine.workers,
      maxThreads: cfg.engine.workers,
      idleTimeout: 2 ** 31 - 1,
      // Every shard's task can sit in a worker's queue: the next drain starts without waiting
      // for the main thread to hand it over (tasks are synchronous, so they still run one by
      // one). Results taken early through TaskStatus leave their Piscina replies pending for a
      // while, hence the headroom: a new task must still go to a worker at once.
      concurrentTasksPerWorker: 1024,
      workerData: { memories, status: status.buffer } satisfies WorkerData,
    });
    const dispatcher = new Dispatcher({
      shards: this.shards,
      programs: this.programs,
      replies: this.replies,
      attrsOf: (id) => this.registry.get(id)?.attrs ?? {},
      emit: (inputs) => this.emitActions(inputs),
    });
    let receivedAt = NaN;
    this.scheduler = new DrainScheduler(this.pool, this.shards, (shard, result) => {
      receivedAt = result.firstReceived;
      this.metrics.eventsIn(result.eventsIn);
      this.pendingReceivedAt = receivedAt;
      dispatcher.handle(shard, result);
    }, status);
    this.scheduler.onFailure((shard, err) => this.log(`shard ${shard}: drain failed: ${(err as Error)?.stack ?? String(err)}`));
    this.metrics.setSource({
      eventsApplied: () => this.shards.eventsApplied(),
      lateEvents: () => this.shards.lateEvents(),
      shardQueueBytes: () => this.shards.queueBytes(),
      workerBusySeconds: () => this.scheduler.workerBusySeconds(),
      rulesVersion: () => this.rules.version,
    });

    const attrEntries = (id: string): Uint8Array => encodeAttrEntries(this.registry.get(id)?.attrs ?? {}, this.tables);
    const installer = new ProgramInstaller({ shards: this.shards, scheduler: this.scheduler, programs: this.programs, attrEntries });
    this.installer = installer;
    this.rules = new RuleManager({ tables: this.tables, install: installer.install, fits: installer.fits, defaultBuckets: cfg.engine.buckets });
    this.devices = new DeviceBridge({
      shards: this.shards,
      scheduler: this.scheduler,
      programs: this.programs,
      kernel: (s) => kernelFor(memories[s]),
      attrEntries,
    });
    const devicesOpen = cfg.auth.devices === 'open';
    this.core = new IngestCore({
      shards: this.shards,
      scheduler: this.scheduler,
      replies: this.replies,
      metrics: this.metrics,
      isKnownDevice: (id) => devicesOpen || this.registry.has(id), // has() decodes nothing: gateways ask per event
      deviceAttached: (id, shard, slot, isNew) => {
        // HTTP attaches per request: a known slot needs only the open-mode re-registration
        // after a DELETE, which has() answers without decoding the record.
        if (!isNew) {
          if (devicesOpen && !this.registry.has(id)) this.registry.ensure(id);
          return;
        }
        const rec = devicesOpen ? this.registry.ensure(id) : this.registry.get(id);
        if (rec !== undefined && Object.keys(rec.attrs).length > 0) this.shards.writeControl(shard, RK_ATTRS, slot, Date.now(), attrEntries(id));
      },
    });

    const app = uWS.App();
    const authorize = makeAuthorize(cfg.auth.adminToken);
    const accepting = (): boolean => this.state === 'ready';
    const checkDeviceToken = (id: string, token: string | undefined): boolean => this.registry.checkToken(id, token);
    this.sockets = mountIngestSocket(app, {
      core: this.core, replies: this.replies, metrics: this.metrics, maxFrameBytes: cfg.limits.maxFrameBytes, maxFramesPerSecond: cfg.limits.maxFramesPerSecond,
      devicesMode: cfg.auth.devices, adminToken: cfg.auth.adminToken, checkDeviceToken, accepting, shardCount: cfg.engine.shards,
    });
    mountEventsHttp(app, {
      core: this.core, replies: this.replies, metrics: this.metrics, maxFrameBytes: cfg.limits.maxFrameBytes, maxFramesPerSecond: cfg.limits.maxFramesPerSecond,
      devicesMode: cfg.auth.devices, adminToken: cfg.auth.adminToken, checkDeviceToken, accepting,
    });
    mountDeviceApi(app, { registry: this.registry, engine: this.devices, authorize });
    mountRulesApi(app, { rules: this.rules, authorize, onReplaced: () => this.actions.setDefinitions(this.rules.active.actions) });
    this.actions.mount(app, { authorize });
    mountMetrics(app, this.metrics);
    mountHealth(app, { isReady: () => this.state === 'ready' });
    mountDashboard(app);

    // Listen before the rules load: /healthz answers and /readyz says 503 while starting.
    this.listening = await listenApp(app, cfg.listen.host, cfg.listen.port);
    this.port = this.listening.port;
    // An empty program first, so the kernel always has one and versions start at 1 with the first rules.
    // A restored program already runs in every shard (same epoch and version): the rules file
    // then goes through the ordinary replace path against it, so unchanged rules keep state.
    if (restored !== null) {
      installer.restore(restored.epoch, restored.rules.spec);
      this.rules.restore(restored.rules);
      this.actions.setDefinitions(this.rules.active.actions);
    } else {
      await installer.install(this.rules.active.spec, null);
    }
    if (cfg.rules.file !== '' && existsSync(cfg.rules.file)) {
      const unchanged = restored !== null && readFileSync(cfg.rules.file, 'utf8') === restored.rules.yaml;
      const r = unchanged ? null : await this.rules.load(cfg.rules.file);
      if (r !== null && !r.ok) throw new DamperError('DAMPER_ERR_RULES', `${cfg.rules.file} is invalid:\n${r.errors.join('\n')}`);
      this.actions.setDefinitions(this.rules.active.actions);
      this.watcher = this.rules.watch(cfg.rules.file, {
        onReload: (version) => {
          this.actions.setDefinitions(this.rules.active.actions);
          this.log(`rules: ${cfg.rules.file} is now version ${version}`);
        },
        onError: (errors) => this.log(`rules: ${cfg.rules.file} rejected, version ${this.rules.version} keeps running:\n${errors.join('\n')}`),
      });
    } else if (cfg.rules.file !== '') {
      this.log(`rules: ${cfg.rules.file} not found; running without rules until PUT /v1/rules`);
    }

    this.actions.start();
    this.tickTimer = setInterval(() => this.tick(), cfg.engine.tickMs);
    this.tickTimer.unref();
    this.state = 'ready';
  }

  /** Stop accepting, apply everything already received, deliver its acks, flush, close. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'draining') return;
    if (this.state !== 'ready') throw new DamperError(ERR_STATE, `cannot stop an engine that is ${this.state}`);
    this.state = 'draining';
    this.core.draining = true;
    this.listening?.close();
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.watcher?.close();
    this.rules.close();
    // Bounded: a shard that cannot drain (a kernel fault) must not keep the process alive.
    const idle = await Promise.race([this.scheduler.whenIdle().then(() => true), delay(DRAIN_TIMEOUT_MS).then(() => false)]);
    if (!idle) this.log(`drain: shards still busy after ${DRAIN_TIMEOUT_MS} ms; stopping anyway`);
    while (this.appends.size > 0) await Promise.allSettled([...this.appends]);
    this.sockets.closeAll();
    await this.actions.close();
    await this.registry.flush();
    await this.pool.destroy();
    if (idle) this.saveCheckpoint();
    await this.root.close();
    this.state = 'stopped';
  }

  /**
   * Restores a clean stop's checkpoint into the fresh shard memories, or logs why not and
   * leaves them fresh (replacing them via `remake` when a copy failed half-way). Either way
   * the checkpoint is gone afterwards.
   */
  private restoreCheckpoint(fresh: ShardMemory[], remake: () => ShardMemory[]): CheckpointState | null {
    const dir = this.config.data.dir;
    const out = readCheckpoint(dir, {
      layouts: fresh.map((m) => m.layout),
      maximumPages: this.hooks.shardMemory?.maximumPages ?? DEFAULT_SHARD_MEMORY_OPTIONS.maximumPages,
    });
    if (out.kind === 'none') return null;
    if (out.kind === 'rejected') {
      this.log(`checkpoint: not restored (${out.reason}); starting with empty kernel state`);
      return null;
    }
    try {
      out.apply(fresh.map((m) => m.memory));
    } catch (e) {
      this.log(`checkpoint: not restored (${(e as Error).message}); starting with empty kernel state`);
      fresh.splice(0, fresh.length, ...remake());
      return null;
    }
    const n = out.state.devices.reduce((a, l) => a + l.length, 0);
    this.log(`checkpoint: restored ${n} devices in ${fresh.length} shards, rules version ${out.state.rules.version}`);
    return out.state;
  }

  /** After the drain, with no worker left: the kernel state for the next start (docs/operations.md). */
  private saveCheckpoint(): void {
    const dir = this.config.data.dir;
    try {
      const epoch = this.installer.currentEpoch;
      const entry = this.programs.current();
      let consistent = entry !== null && entry.epoch === epoch && entry.spec === this.rules.active.spec;
      for (let s = 0; s < this.shards.count; s++) {
        if (this.shards.hasWork(s) || this.shards.header(s).getInt32(H_ACTIVE_EPOCH, true) !== epoch) consistent = false;
      }
      if (!consistent) {
        this.log('checkpoint: not written (a rules change or shard work was still in flight); the next start begins empty');
        return;
      }
      const t = this.tables;
      writeCheckpoint(dir, this.shards.memories, this.shards.memories.map((m) => readLayout(m)), {
        epoch, rules: this.rules.active, tables: { metrics: t.metrics, attrs: t.attrs, strings: t.strings }, devices: this.shards.slotTable(),
      });
    } catch (e) {
      this.log(`checkpoint: not written (${(e as Error).message}); the next start begins empty`);
    }
  }

  private pendingReceivedAt = NaN;

  private emitActions(inputs: ActionRecordInput[]): void {
    const receivedAt = this.pendingReceivedAt;
    const p = this.actions.append(inputs).then(
      (records) => {
        const now = Date.now();
        for (const r of records) {
          this.metrics.actions(r.rule, r.state);
          if (receivedAt === receivedAt) this.metrics.ingestToAction(Math.max(0, now - receivedAt) / 1000);
        }
      },
      (err: Error) => this.log(`actions: append failed: ${err.message}`),
    );
    this.appends.add(p);
    void p.finally(() => this.appends.delete(p));
  }

  private tick(): void {
    const now = Date.now();
    for (let s = 0; s < this.shards.count; s++) {
      // A shard that is behind gets no second tick queued: one pending tick already brings it up to date.
      if (this.shards.rings[s].used() > this.shards.reserve) continue;
      this.shards.writeControl(s, RK_TICK, NO_SLOT, now, null);
      this.scheduler.kick(s);
    }
  }
}
