// The WebAssembly JS API types: tsconfig uses lib ES2022 without DOM, and @types/node 20
// does not declare them. Only what the engine uses (Node 20 implements all of it).
declare global {
  namespace WebAssembly {
    interface MemoryDescriptor { initial: number; maximum?: number; shared?: boolean }
    class Memory {
      constructor(descriptor: MemoryDescriptor);
      readonly buffer: ArrayBuffer | SharedArrayBuffer;
      grow(delta: number): number;
    }
    class Module {
      constructor(bytes: ArrayBufferView | ArrayBuffer);
    }
    class Instance {
      constructor(module: Module, importObject?: Record<string, Record<string, unknown>>);
      readonly exports: Record<string, unknown>;
    }
    class RuntimeError extends Error {}
    class CompileError extends Error {}
    class LinkError extends Error {}
  }
}
export {};
