// Shard shared-memory layout: declared once, compiled by both AssemblyScript (assembly/)
// and TypeScript (src/, via tsconfig "include"). Plain integer constants only, so both
// compilers accept the file as is. See docs/internals.md for what each field means.
//
// A shard is one shared WebAssembly.Memory:
//   [0, HEADER_BASE)          AssemblyScript static data (the kernel allocates nothing else there)
//   [HEADER_BASE, +PAGE)      header: fixed fields below, then kernel-private fields
//   ring | batch | scratch | outbox | program 0 | program 1 | arena (grows at the end)
// Region bases and sizes are computed by the runtime at shard creation and written into
// the header; the kernel reads them from there (it never assumes a size).

export const PAGE = 65536;
export const HEADER_BASE = 65536;
export const LAYOUT_MAGIC = 0x444d5052; // 'DMPR'
export const LAYOUT_VERSION = 1;

// ---- header fields: byte offsets relative to HEADER_BASE ----
export const H_MAGIC = 0; //              i32  LAYOUT_MAGIC once the runtime has written the header
export const H_LAYOUT_VERSION = 4; //     i32
export const H_SHARD_ID = 8; //           i32
export const H_KERNEL_READY = 12; //      i32  set to 1 by kernel init()

// Ring: single producer (main thread) / single consumer (the one task draining the shard).
export const H_RING_BASE = 16; //         i32  absolute byte offset
export const H_RING_SIZE = 20; //         i32  bytes, multiple of 8
export const H_RING_WRITE = 24; //        i32  Atomics: producer offset in [0, size)
export const H_RING_READ = 28; //         i32  Atomics: consumer offset in [0, size)

// Batch: decoded events the worker writes and applyBatch() reads (BATCH_EVENT_BYTES each).
export const H_BATCH_BASE = 32; //        i32
export const H_BATCH_CAP = 36; //         i32  events

// Scratch: argument area for setAttrs() and other calls with variable-length input.
export const H_SCRATCH_BASE = 40; //      i32
export const H_SCRATCH_SIZE = 44; //      i32  bytes

// Outbox: linear, owned by the draining task; the main thread reads it when the task ends.
export const H_OUT_BASE = 48; //          i32
export const H_OUT_SIZE = 52; //          i32  bytes
export const H_OUT_LEN = 56; //           i32  bytes written so far in the current task

// Programs: two slots, written by the rule manager, switched by a PROGRAM ring record.
export const H_PROG_BASE0 = 60; //        i32
export const H_PROG_BASE1 = 64; //        i32
export const H_PROG_SIZE = 68; //         i32  bytes per slot
export const H_ACTIVE_PROG = 72; //       i32  -1 before the first program, else 0 or 1 (kernel writes)
export const H_ACTIVE_EPOCH = 76; //      i32  epoch of the active program (kernel writes)

// Arena: everything from here to the end of memory belongs to the kernel.
export const H_ARENA_BASE = 80; //        i32

// Counters (f64, written by the kernel, read by the main thread for /metrics).
export const H_EVENTS_APPLIED = 128; //   f64  events the kernel has applied
export const H_LATE_EVENTS = 136; //      f64  events late for at least one feature group (each counted once)
export const H_TRANSITIONS = 144; //      f64  transition records written
export const H_DEVICES = 152; //          f64  device slots with state
// Program switches (u32, kernel writes): a thread holding a compiled rule evaluator for the
// active program (src/kernel/rules-jit/) knows it is stale when this number moved.
export const H_PROGRAM_SWITCHES = 160;

// Bytes [HEADER_BASE + H_KERNEL_PRIVATE, HEADER_BASE + PAGE) are the kernel's own.
export const H_KERNEL_PRIVATE = 1024;

// ---- ring records: 24-byte header, then payload padded to 8 bytes ----
export const R_LEN = 0; //                u32  payload bytes (not counting header or padding)
export const R_KIND = 4; //               u8
export const R_FLAGS = 5; //              u8
export const R_CONN = 8; //               u32  connection / request id for acks and errors (0: none)
export const R_SLOT = 12; //              u32  device slot (local to the shard), NO_SLOT if none
export const R_RECEIVED = 16; //          f64  server receive time, epoch ms (default `t`)
export const RING_HEADER_BYTES = 24;

export const RK_PAD = 0; //               skip to the ring start
export const RK_FRAME_MSGPACK = 1; //     raw frame of a device connection (slot set)
export const RK_FRAME_JSON = 2; //        raw JSON text frame of a device connection (slot set)
export const RK_ROUTED = 3; //            msgpack array of [slot, t, m, v] decoded and re-routed by main
export const RK_ATTRS = 4; //             payload: ATTR_ENTRY_BYTES entries for slot
export const RK_REMOVE = 5; //            forget the device in slot
export const RK_TICK = 6; //              wall-clock tick; R_RECEIVED is the wall time
export const RK_PROGRAM = 7; //           payload: u32 program slot, u32 epoch
export const RK_BARRIER = 8; //           no events; acked like an empty acknowledged batch

export const RF_ACKED = 1; //             frame must be acked/nacked on R_CONN (seq in the frame)
export const RF_HTTP = 2; //              frame came from POST /v1/events (answer on R_CONN)

export const NO_SLOT = 0xffffffff;

// ---- batch events (applyBatch input) ----
export const BATCH_EVENT_BYTES = 24;
export const BE_SLOT = 0; //              u32
export const BE_METRIC = 4; //            u32  global metric id, NO_METRIC when no rule reads it
export const BE_TS = 8; //                f64  event time, epoch ms
export const BE_VALUE = 16; //            f64
export const NO_METRIC = 0xffffffff;

// ---- attribute entries (setAttrs input, RK_ATTRS payload) ----
export const ATTR_ENTRY_BYTES = 16;
export const AE_ID = 0; //                u32  global attribute id
export const AE_KIND = 4; //              u32  ATTR_*
export const AE_VALUE = 8; //             f64  number, or interned string id
export const ATTR_ABSENT = 0;
export const ATTR_NUMBER = 1;
export const ATTR_STRING = 2;

// ---- outbox records: 8-byte header, total length a multiple of 8 ----
export const O_KIND = 0; //               u16
export const O_LEN = 4; //                u32  total record bytes including header
export const OK_TRANSITION = 1;
export const OK_ACK = 2;
export const OK_ERROR = 3;
// transition record
export const OT_RULE = 8; //              u32  rule index in the active program
export const OT_SLOT = 12; //             u32  device slot
export const OT_STATE = 16; //            u32  STATE_FIRED | STATE_CLEARED
export const OT_EPOCH = 20; //            u32  program epoch it was evaluated under
export const OT_TS = 24; //               f64  event time that caused the change (tick: wall time)
export const OT_NVALUES = 32; //          u32  values that follow, in the rule's `reads` order
export const OT_VALUES = 40; //           f64[]
export const STATE_FIRED = 1;
export const STATE_CLEARED = 2;

// Rule states as reported by ruleState().
export const RS_NOT_MATCHING = -1;
export const RS_IDLE = 0;
export const RS_PENDING = 1;
export const RS_FIRING = 2;

// ---- program binary header (see src/kernel/program.ts) ----
export const P_MAGIC = 0; //              u32  PROGRAM_MAGIC
export const P_EPOCH = 4; //              u32
export const P_VERSION = 8; //            u32  rules version
export const P_PLAN_OFF = 12; //          u32  feature plan section (kernel features)
export const P_PLAN_LEN = 16;
export const P_RULES_OFF = 20; //         u32  rules section (kernel rule VM)
export const P_RULES_LEN = 24;
export const P_META_OFF = 28; //          u32  UTF-8 JSON {metrics: string[]} for the worker
export const P_META_LEN = 32;
export const PROGRAM_HEADER_BYTES = 64;
export const PROGRAM_MAGIC = 0x47525044; // 'DPRG'

// ---- feature plan section of a program (src/kernel/encode-plan.ts → assembly/kernel) ----
// Offsets relative to the plan section start. All u32 unless noted; see docs/kernel.md.
export const PL_N_METRICS = 0; //         entries in the metric index (spec.metrics.length)
export const PL_N_GROUPS = 4;
export const PL_N_FEATURES = 8;
export const PL_STATE_END = 12; //        end of the device block state (rule state follows it only when PL_RULE_OFF is 0)
export const PL_LAYOUT_HASH = 16; //      hash of this plan's device layout
export const PL_PREV_HASH = 20; //        layout hash of the program it migrates from (0: none)
export const PL_METRICS_OFF = 24; //      metric index: PM_BYTES per metric id
export const PL_GROUPS_OFF = 28; //       groups: PG_BYTES each, sorted by metric
export const PL_FEATURES_OFF = 32; //     features: PF_BYTES each, in ProgramSpec.features order
export const PL_SCALARS_OFF = 36; //      u32 feature indices of non-windowed features, sorted by metric
export const PL_RULE_OFF = 40; //         device-block offset reserved for the rule state (0: none, it follows PL_STATE_END)
export const PL_RULE_BYTES = 44; //       bytes reserved there (used when the rules section needs no more)
export const PLAN_HEADER_BYTES = 64;

export const PM_FIRST_GROUP = 0;
export const PM_N_GROUPS = 4;
export const PM_FIRST_SCALAR = 8;
export const PM_N_SCALARS = 12;
export const PM_BYTES = 16;

export const PG_METRIC = 0; //            u32
export const PG_NB = 4; //                u32  buckets in the window (W / B)
export const PG_BUCKET_MS = 8; //         f64  B
export const PG_MASK = 16; //             u32  accumulator blocks (1 << BLK_*)
export const PG_REC_BYTES = 20; //        u32  bytes per bucket record
export const PG_STATE_OFF = 24; //        u32  group state offset in the device block
export const PG_PREV_OFF = 28; //         u32  same group's offset in the previous layout, NO_PREV if new
export const PG_PREV_MASK = 32; //        u32
export const PG_PREV_REC_BYTES = 36; //   u32
export const PG_BLOCK_OFF = 40; //        u8[8] block offsets inside a record
export const PG_PREV_BLOCK_OFF = 48; //   u8[8] the same in the previous layout
export const PG_INV_BUCKET_MS = 56; //    f64  1 / B: bucket ids by multiply and correct, no division
export const PG_INV_NB = 64; //           f64  1 / nb: ring slots likewise
export const PG_CACHE_OFF = 72; //        u32  window cache record offset in the device block (PG_REC_BYTES, then a 16-byte trailer)
export const PG_FLAGS = 76; //            u32  GF_*
export const PG_WINDOW_SEC = 80; //       f64  W / 1000: rate = count / this (the reference's division, not a product)
export const PG_BYTES = 88;

// Group flags (window cache, assembly/kernel/window-cache.ts)
export const GF_SLIDES = 1; //            buckets can leave the cache record one by one (no MOM/LSQ/LSQ2, nb ≤ 64)
export const GF_READS_MIN = 2; //         a feature of the program reads the group's min
export const GF_READS_MAX = 4; //         … its max
export const GF_FIFO = 8; //              the cache trailer holds a value FIFO (CT_FIFO; rules read the group, blocks ⊆ CNT|SUM|MINMAX)
// Window cache trailer, after the cache record's PG_REC_BYTES (assembly/kernel/window-cache.ts).
export const CT_DRIFT = 0; //              f64  bound on the cached sum's drift (≤ 0: exactly as a scan gives it)
export const CT_OCCUPIED = 8; //           u64  bit s: ring slot s holds a bucket of the cached window (nb ≤ 64)
export const CT_FIFO = 16; //              GF_FIFO groups: the value FIFO (FIFO_BYTES) follows the trailer's two words
// Value FIFO (assembly/kernel/window-cache.ts): the single values of the newest occupied buckets of the cached window.
export const FIFO_K = 8; //                entries
export const FIFO_SECONDS = 2; //          second-value slots (buckets of exactly two values)
export const FIFO_BYTES = 88; //           header (7 × u8, 1 spare), FIFO_K values, FIFO_SECONDS second values (f64)
export const FH_HEAD = 0; //               u8   position of the oldest entry
export const FH_COUNT = 1; //              u8   entries
export const FH_MISSING = 2; //            u8   oldest occupied buckets of the window that have no entry
export const FH_MULTI = 3; //              u8   bit p: the bucket of position p is read from its ring record (three values or more)
export const FH_NEWEST = 4; //             u8   1 << position of the newest entry appended (stale once it left: harmless)
export const FH_OWNER = 5; //              u8[FIFO_SECONDS] 1 + position of the entry whose second value the slot holds (0: free)
export const FIFO_VALUES = 8; //           f64[FIFO_K]
export const FIFO_SECOND_VALUES = 72; //   f64[FIFO_SECONDS]
// A sum/avg query on a cache whose drift exceeds this share of the sum scans again: 2^-33 ≈ 1.2e-10, inside SPEC §4.2's 1e-9.
export const SUM_DRIFT_LIMIT = 1.1641532182693481e-10;
// Rounding of one f64 addition or subtraction, as the drift bound counts it: at most half an ulp of its result (2^-53 |r|); twice that for margin.
export const SUM_ROUNDING = 2.220446049250313e-16;

// Function table of the kernel (asconfig exportTable): where the host puts the compiled rules
// module's functions (src/kernel/kernel.ts) and applyEvents calls them (assembly/rules/jit.ts).
// Index 0 is AssemblyScript's null.
export const JIT_SLOT = 1; //              evaluate(dev, state, slot, epoch, ts, τ, now) after every event
export const JIT_UPKEEP_SLOT = 2; //       upkeep(dev, metric, ts, v, τ) → late: the event applied to the metric's sliding groups

export const PF_FN = 0; //                u32  FeatureFn
export const PF_GROUP = 4; //             u32  group index, NO_PREV for last/ewma/age
export const PF_STATE_OFF = 8; //         u32  last/ewma/age: state offset in the device block
export const PF_PREV_OFF = 12; //         u32  last/ewma/age: offset in the previous layout, NO_PREV if new
export const PF_HALF_LIFE = 16; //        f64  ewma H in ms
export const PF_METRIC = 24; //           u32
export const PF_BYTES = 32;

export const NO_PREV = 0xffffffff;

// Accumulator blocks of a bucket record (record = i64 tagged bucket id, then the blocks in this order).
export const BLK_CNT = 0; //              count                                   (8 bytes)
export const BLK_SUM = 1; //              n, sum                                  (16)
export const BLK_MINMAX = 2; //           min, max                                (16)
export const BLK_FIRSTLAST = 3; //        firstTs, firstV, lastTs, lastV          (32)
export const BLK_MOM = 4; //              n, mean, M2                             (24)
export const BLK_LSQ = 5; //              n, mt, mv, Stt, Stv                     (40)
export const BLK_LSQ2 = 6; //             n, mt, mv, Stt, Stv, Sttt, Stttt, Sttv, minTs, maxTs, mid (88)
export const BLK_RFIT = 7; //             count for rate fits                     (8)
export const BLOCK_COUNT = 8;
export const REC_ID_BYTES = 8;
export const GROUP_HEADER_BYTES = 8; //   i64 tagged earliest bucket seen by the RFIT block

// Device block: header, then feature state (PL_STATE_END), then rule state (8-aligned).
export const D_FLAGS = 0; //              u32  DF_*
export const D_ATTR_PTR = 4; //           u32  attribute entries (arena block)
export const D_ATTR_N = 8; //             u32
export const D_ATTR_CAP = 12; //          u32  entries the block holds
export const D_TAU = 16; //               f64  device clock τ
export const DEVICE_HEADER_BYTES = 32;
export const DF_EXISTS = 1;
export const DF_CLOCK = 2;

// Per-feature state of non-windowed features: u32 flag at +0, f64s from +8.
export const LAST_STATE_BYTES = 24; //    has, ts, value
export const EWMA_STATE_BYTES = 24; //    has, s, greatest ts applied
export const AGE_STATE_BYTES = 16; //     has, wall time of the last event
