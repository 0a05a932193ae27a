// Rules section of the program binary: the contract between the encoder
// (src/kernel/encode-rules.ts) and the rule VM (assembly/rules/). Plain integer constants
// only, so AssemblyScript and TypeScript both compile this file as is. All offsets are
// bytes from the start of the rules section unless said otherwise; the section starts
// 8-byte aligned and everything in it is 8-byte aligned. See docs/rule-vm.md.

// ---- section header ----
export const RH_RULE_COUNT = 0; //        u32  rules (0: the section may end here)
export const RH_STATE_BYTES = 4; //       u32  rule state bytes per device (multiple of 8)
export const RH_MAX_OUT = 8; //           u32  worst-case outbox bytes of one evaluation of one device
export const RH_FEATURES = 12; //         u32  feature cache slots (= features of the program)
export const RH_STACK_OFF = 16; //        u32  scratch offset of the expression stack (f64[RH_STACK_DEPTH])
export const RH_CACHE_OFF = 20; //        u32  scratch offset of the feature value cache (f64[RH_FEATURES])
export const RH_STAMP_OFF = 24; //        u32  scratch offset of the cache stamps (u32[RH_FEATURES])
export const RH_STACK_DEPTH = 28; //      u32  deepest expression stack of any rule
export const RH_AGE_RULES = 32; //        u32  rules with usesAge (ticks skip the device when 0)
export const RH_ATTR_SLOTS = 36; //       u32  rule-state offset of the attribute slots (f64 each, below)
export const RH_ATTR_COUNT = 40; //       u32  attribute slots
export const RH_ATTR_LIST = 44; //        u32  offset of their global attribute ids (u32 each, slot order)
export const RULES_HEADER_BYTES = 48;

// ---- rule table: RULE_BYTES per rule, right after the header ----
export const RR_WHEN = 0; //              u32  code offset of `when`
export const RR_CLEAR = 4; //             u32  code offset of `clear`, 0 when the rule has none
export const RR_FOR = 8; //               f64  ms
export const RR_COOLDOWN = 16; //         f64  ms
export const RR_FLAGS = 24; //            u32  RF_*
export const RR_PREV = 28; //             i32  index of the rule with the same key in the previous program, -1 if none
export const RR_MATCH = 32; //            u32  offset of the match clauses (0: matches every device)
export const RR_MATCH_COUNT = 36; //      u32  clauses (ANDed)
export const RR_READS = 40; //            u32  offset of the reads list
export const RR_READS_COUNT = 44; //      u32
export const RR_WORD = 48; //             u32  state offset of the rule's u32 state word
export const RR_SINCE = 52; //            u32  state offset of the f64 pending-since (0: rule has no `for`)
export const RR_LAST_FIRE = 56; //        u32  state offset of the f64 last fire (0: rule has no `cooldown`)
// RULE_FUSED_WHEN: `when` is one atom, or two joined by `and`, each `feature CMP number` or
// `feature CMP device.NAME ± number`, copied into the row (evaluated without the interpreter)
export const RR_ATOM0 = 64; //            ATOM_BYTES: the first atom
export const RR_ATOM1 = 88; //            ATOM_BYTES: the second (RULE_TWO_ATOMS)
export const RULE_BYTES = 112;

export const ATOM_OP = 0; //              u32  OP_FEATURE_*_NUM: the comparison
export const ATOM_FEATURE = 4; //         u32  feature index (left side)
export const ATOM_ATTR = 8; //            u32  attribute slot added to the number (right side), NO_ATTR: none
export const ATOM_NUM = 16; //            f64  the number
export const ATOM_BYTES = 24;
export const NO_ATTR = 0xffffffff;

export const RULE_USES_AGE = 1;
export const RULE_HAS_CLEAR = 2;
export const RULE_FUSED_WHEN = 4; //      `when` is fused atoms in the row (RR_ATOM*)
// Fused `when`, no match clauses, no `clear`: after an event, nothing can change unless
// `when` is true while not firing or false while not idle (the VM's fast path).
export const RULE_SIMPLE = 8;
export const RULE_TWO_ATOMS = 16; //      `when` is RR_ATOM0 and RR_ATOM1

// ---- match clause: header then MV_BYTES per accepted value ----
export const MC_ATTR = 0; //              u32  global attribute id
export const MC_COUNT = 4; //             u32  accepted values (any-of)
export const MC_HEADER_BYTES = 8;
export const MV_KIND = 0; //              u32  ATTR_NUMBER | ATTR_STRING
export const MV_VALUE = 8; //             f64  number or interned string id
export const MV_BYTES = 16;

// ---- reads: what a transition record carries, in order ----
export const RD_KIND = 0; //              u32  READ_FEATURE | READ_ATTR
export const RD_ID = 4; //                u32  feature index or global attribute id
export const READ_BYTES = 8;
export const READ_FEATURE = 1;
export const READ_ATTR = 2;

// ---- expression code: postfix, 8-byte instructions (u32 op, u32 arg); OP_NUM is followed by its f64 ----
export const INSN_BYTES = 8;
export const OP_END = 0;
export const OP_NUM = 1; //               next 8 bytes: f64 constant
export const OP_FEATURE = 2; //           arg: feature index
export const OP_ATTR = 3; //              arg: attribute slot (NaN when absent or a string)
export const OP_ABS = 4;
export const OP_NEG = 5;
export const OP_NOT = 6;
export const OP_ADD = 7;
export const OP_SUB = 8;
export const OP_MUL = 9;
export const OP_DIV = 10;
export const OP_LT = 11;
export const OP_LE = 12;
export const OP_GT = 13;
export const OP_GE = 14;
export const OP_EQ = 15;
export const OP_NE = 16;
export const OP_AND = 17;
export const OP_OR = 18;
// Fused `feature CMP number` (the commonest rule shape): arg = feature index, next 8 bytes the f64.
export const OP_FEATURE_LT_NUM = 19;
export const OP_FEATURE_LE_NUM = 20;
export const OP_FEATURE_GT_NUM = 21;
export const OP_FEATURE_GE_NUM = 22;
export const OP_FEATURE_EQ_NUM = 23;
export const OP_FEATURE_NE_NUM = 24;
// Short-circuit `and`/`or`: `A and B` is code(A) AND_SKIP(n) code(B) BOOL, where AND_SKIP
// leaves 0 and skips the n bytes after it when A is false, else drops A; OR_SKIP likewise
// leaves 1 when A is true. A false left side then never computes the right side's features.
export const OP_AND_SKIP = 25;
export const OP_OR_SKIP = 26;
export const OP_BOOL = 27;

// ---- per-device rule state (docs/rule-vm.md) ----
// One u32 word per rule from offset 0, then the attribute slots (RH_ATTR_SLOTS), then the
// f64 times of the rules that need them (pending-since with `for`, last fire with `cooldown`).
// An attribute slot holds the bits of the attribute's number XOR those of the canonical
// quiet NaN (0x7ff8000000000000; ATTR_SLOT_NAN in assembly/rules/eval.ts), so that
// zeroed memory (a new device, a new program's blocks) reads as NaN: absent. The kernel
// rewrites a device's slots whenever its attributes change (setAttrs) and at every switch.
export const RSW_STATE_MASK = 0xff; //    low byte: RS_IDLE / RS_PENDING / RS_FIRING
export const RSW_FIRED = 0x100; //        has fired at least once (cooldown applies)

// ---- VM scratch: the upper half of the kernel-private header page (docs/internals.md) ----
// Per shard, used by one evaluation at a time (one drain per shard): the evaluation
// generation, the expression stack, the feature cache and its stamps. Hot for every device,
// unlike anything in a device block.
export const VM_SCRATCH = 32768; //       offset from HEADER_BASE
export const VM_SCRATCH_BYTES = 32768;
export const VS_GEN = 0; //               u32  evaluation generation (stamps equal to it are valid)
export const VS_DATA = 8; //              stack, cache and stamps start here
