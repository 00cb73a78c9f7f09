// The WebAssembly JS API as Node 20 provides it. tsconfig's lib is ES2022
// without DOM, which declares no WebAssembly values, so the host declares the
// part it uses here.
declare namespace WebAssembly {
  type BufferSourceLike = ArrayBufferView | ArrayBuffer;
  type ImportValue = ((...args: any[]) => unknown) | Global | Memory | Table | number | bigint;
  type ModuleImports = Record<string, ImportValue>;
  type Imports = Record<string, ModuleImports>;
  type ExportValue = ((...args: any[]) => unknown) | Global | Memory | Table;
  type Exports = Record<string, ExportValue>;
  interface ModuleExportDescriptor { name: string; kind: 'function' | 'table' | 'memory' | 'global' | 'tag' }
  interface ModuleImportDescriptor { module: string; name: string; kind: 'function' | 'table' | 'memory' | 'global' | 'tag' }

  class Module {
    constructor(bytes: BufferSourceLike);
    static exports(module: Module): ModuleExportDescriptor[];
    static imports(module: Module): ModuleImportDescriptor[];
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Exports;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(deltaPages: number): number;
  }
  class Table {
    readonly length: number;
  }
  class Global {
    constructor(descriptor: { value: string; mutable?: boolean }, value?: unknown);
    value: unknown;
  }
  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}

  function validate(bytes: BufferSourceLike): boolean;
  function compile(bytes: BufferSourceLike): Promise<Module>;
  function instantiate(module: Module, imports?: Imports): Promise<Instance>;
}
