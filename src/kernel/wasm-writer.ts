// A minimal WebAssembly binary writer: just what the rule compiler (rules-jit/) emits —
// one function type per signature, function imports, a shared memory import, functions with
// their locals, function exports. Instruction bytes follow the WebAssembly 1.0 core spec
// (plus the threads proposal's shared memory limits, flag 0x03).

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export type ValType = typeof I32 | typeof I64 | typeof F64;
/** Block types: no result, or one value. */
export const VOID = 0x40;
export type BlockType = typeof VOID | ValType;

/** Opcodes used by the rule compiler (WebAssembly core spec §5.4; trunc_sat: 0xfc prefix). */
export const Op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f, call: 0x10,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i64Load: 0x29, f64Load: 0x2b, i32Load8U: 0x2d, i32Store: 0x36, i64Store: 0x37, f64Store: 0x39, i32Store8: 0x3a,
  i32Const: 0x41, i64Const: 0x42, f64Const: 0x44,
  i32Eqz: 0x45, i32Eq: 0x46, i32Ne: 0x47, i64Eqz: 0x50, i64Eq: 0x51, i64Ne: 0x52, i64LtS: 0x53, i64GtS: 0x55, i64LeS: 0x57, i64GeS: 0x59,
  f64Eq: 0x61, f64Ne: 0x62, f64Lt: 0x63, f64Gt: 0x64, f64Le: 0x65, f64Ge: 0x66,
  i32LtU: 0x49, i32GeU: 0x4f,
  i32Ctz: 0x68, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32And: 0x71, i32Or: 0x72, i32Xor: 0x73, i32Shl: 0x74, i32ShrU: 0x76,
  i64Ctz: 0x7a, i64Popcnt: 0x7b, i64Add: 0x7c, i64Sub: 0x7d, i64And: 0x83, i64Or: 0x84, i64Xor: 0x85, i64Shl: 0x86, i64ShrU: 0x88,
  f64Abs: 0x99, f64Neg: 0x9a, f64Floor: 0x9c, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2, f64Div: 0xa3,
  i32WrapI64: 0xa7, f64ConvertI32U: 0xb8, f64ConvertI64S: 0xb9, f64ReinterpretI64: 0xbf,
} as const;

/** Natural alignment (log2 bytes) of the loads and stores above. */
const ALIGN: Record<number, number> = {
  [Op.i32Load]: 2, [Op.i64Load]: 3, [Op.f64Load]: 3, [Op.i32Load8U]: 0, [Op.i32Store]: 2, [Op.i64Store]: 3, [Op.f64Store]: 3, [Op.i32Store8]: 0,
};

/** A byte sink with the spec's integer encodings. */
class Bytes {
  readonly out: number[] = [];
  byte(b: number): this { this.out.push(b & 0xff); return this; }
  u32(n: number): this {
    let v = n >>> 0;
    do {
      const b = v & 0x7f;
      v >>>= 7;
      this.out.push(v !== 0 ? b | 0x80 : b);
    } while (v !== 0);
    return this;
  }
  /** Signed LEB128 of a bigint (i32.const and i64.const immediates). */
  sleb(n: bigint): this {
    let v = n;
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
      this.out.push(done ? b : b | 0x80);
      if (done) return this;
    }
  }
  name(s: string): this {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    for (const x of b) this.out.push(x);
    return this;
  }
  append(bytes: readonly number[]): this { for (const x of bytes) this.out.push(x); return this; }
}

/** The body of one function: its locals (after the parameters) and its instructions. */
export class FunctionBody {
  private readonly code = new Bytes();
  private readonly locals: ValType[] = [];

  /** `params`: the function type's parameters, which take local indices 0 … n − 1. */
  constructor(private readonly params: readonly ValType[]) {}

  /** A new local of type `t`; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  op(code: number): this { this.code.byte(code); return this; }
  get(i: number): this { this.code.byte(Op.localGet).u32(i); return this; }
  set(i: number): this { this.code.byte(Op.localSet).u32(i); return this; }
  tee(i: number): this { this.code.byte(Op.localTee).u32(i); return this; }
  i32(v: number): this { this.code.byte(Op.i32Const).sleb(BigInt(v | 0)); return this; }
  i64(v: bigint): this { this.code.byte(Op.i64Const).sleb(BigInt.asIntN(64, v)); return this; }
  f64(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.code.byte(Op.f64Const).append([...b]);
    return this;
  }
  /** A load or store with a constant offset from the address on the stack. */
  mem(code: number, offset: number): this {
    if (!(offset >= 0 && offset <= 0xffffffff)) throw new RangeError(`memory offset ${offset}`);
    this.code.byte(code).u32(ALIGN[code]).u32(offset);
    return this;
  }
  call(fn: number): this { this.code.byte(Op.call).u32(fn); return this; }
  /** i64.trunc_sat_f64_s (what AssemblyScript emits for `<i64>x`). */
  i64TruncSatF64S(): this { this.code.byte(0xfc).u32(6); return this; }
  block(t: BlockType = VOID): this { this.code.byte(Op.block).byte(t); return this; }
  loop(): this { this.code.byte(Op.loop).byte(VOID); return this; }
  brIf(depth: number): this { this.code.byte(Op.brIf).u32(depth); return this; }
  if(t: BlockType = VOID): this { this.code.byte(Op.if).byte(t); return this; }
  else(): this { this.code.byte(Op.else); return this; }
  end(): this { this.code.byte(Op.end); return this; }
  br(depth: number): this { this.code.byte(Op.br).u32(depth); return this; }

  /** The encoded body: local declarations (runs of one type), instructions, final `end`. */
  encode(): number[] {
    const runs: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    const b = new Bytes().u32(runs.length);
    for (const [n, t] of runs) b.u32(n).byte(t);
    b.append(this.code.out).byte(Op.end);
    return b.out;
  }
}

interface FuncType { params: readonly ValType[]; results: readonly ValType[] }
interface Import { module: string; field: string; type: number }
interface Func { type: number; body: FunctionBody; export?: string }

/** One module: function types, imports (functions and one shared memory), functions, exports. */
export class ModuleWriter {
  private readonly types: FuncType[] = [];
  private readonly imports: Import[] = [];
  private readonly funcs: Func[] = [];
  private memory: { module: string; field: string; min: number; max: number } | null = null;

  private typeOf(t: FuncType): number {
    const key = JSON.stringify(t);
    const i = this.types.findIndex((x) => JSON.stringify(x) === key);
    if (i >= 0) return i;
    this.types.push(t);
    return this.types.length - 1;
  }

  /** Imports a function; returns its function index (imports come first). Call before addFunction. */
  importFunction(module: string, field: string, params: readonly ValType[], results: readonly ValType[]): number {
    if (this.funcs.length > 0) throw new Error('imports must precede functions');
    this.imports.push({ module, field, type: this.typeOf({ params, results }) });
    return this.imports.length - 1;
  }

  /** Function imports so far: the index the first added function gets. */
  importCount(): number { return this.imports.length; }

  /** Imports a shared memory of `min` … `max` pages. */
  importSharedMemory(module: string, field: string, min: number, max: number): void {
    this.memory = { module, field, min, max };
  }

  /** Adds a function (optionally exported); returns its function index. */
  addFunction(params: readonly ValType[], results: readonly ValType[], body: FunctionBody, exportName?: string): number {
    this.funcs.push({ type: this.typeOf({ params, results }), body, export: exportName });
    return this.imports.length + this.funcs.length - 1;
  }

  encode(): Uint8Array {
    const out = new Bytes().append([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const section = (id: number, content: Bytes): void => {
      out.byte(id).u32(content.out.length).append(content.out);
    };
    const types = new Bytes().u32(this.types.length);
    for (const t of this.types) {
      types.byte(0x60).u32(t.params.length).append([...t.params]).u32(t.results.length).append([...t.results]);
    }
    section(1, types);
    const imports = new Bytes().u32(this.imports.length + (this.memory ? 1 : 0));
    for (const i of this.imports) imports.name(i.module).name(i.field).byte(0x00).u32(i.type);
    if (this.memory) imports.name(this.memory.module).name(this.memory.field).byte(0x02).byte(0x03).u32(this.memory.min).u32(this.memory.max);
    section(2, imports);
    const funcs = new Bytes().u32(this.funcs.length);
    for (const f of this.funcs) funcs.u32(f.type);
    section(3, funcs);
    const exported = this.funcs.map((f, i) => ({ name: f.export, index: this.imports.length + i })).filter((e) => e.name !== undefined);
    const exports = new Bytes().u32(exported.length);
    for (const e of exported) exports.name(e.name!).byte(0x00).u32(e.index);
    section(7, exports);
    const code = new Bytes().u32(this.funcs.length);
    for (const f of this.funcs) {
      const body = f.body.encode();
      code.u32(body.length).append(body);
    }
    section(10, code);
    return Uint8Array.from(out.out);
  }
}
