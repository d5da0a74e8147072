// A 140-byte hand-assembled WebAssembly SIMD kernel for the hot loop of prediction: hidden += row[id] for a list
// of ids, four float32 lanes at a time. f32x4.add rounds each lane exactly like a scalar float32 add and the rows
// are added in the same order, so the result is bit-identical to fastText's loop — just faster than the JS one.
// The input matrix lives in a shared WebAssembly.Memory (a SharedArrayBuffer underneath), so every worker thread
// runs the kernel over the same weights; each model instance claims a private scratch slot (hidden vector + ids)
// at the start of that memory.

// (func (param h base dimBytes ids n)
//   end = ids + n*4; if ids < end: loop { row = base + i32.load(ids) * dimBytes;
//     j = 0; loop { v128.store(h+j, f32x4.add(v128.load(h+j), v128.load(row+j))); j += 16; br_if j < dimBytes }
//     ids += 4; br_if ids < end })
const BODY = [
  0x01, 0x03, 0x7f, // 3 locals i32: end(5) row(6) j(7)
  0x20, 0x03, 0x20, 0x04, 0x41, 0x02, 0x74, 0x6a, 0x21, 0x05,
  0x02, 0x40,
  0x20, 0x03, 0x20, 0x05, 0x4f, 0x0d, 0x00,
  0x03, 0x40,
  0x20, 0x01, 0x20, 0x03, 0x28, 0x02, 0x00, 0x20, 0x02, 0x6c, 0x6a, 0x21, 0x06,
  0x41, 0x00, 0x21, 0x07,
  0x03, 0x40,
  0x20, 0x00, 0x20, 0x07, 0x6a,
  0x20, 0x00, 0x20, 0x07, 0x6a, 0xfd, 0x00, 0x02, 0x00,
  0x20, 0x06, 0x20, 0x07, 0x6a, 0xfd, 0x00, 0x02, 0x00,
  0xfd, 0xe4, 0x01,
  0xfd, 0x0b, 0x02, 0x00,
  0x20, 0x07, 0x41, 0x10, 0x6a, 0x22, 0x07, 0x20, 0x02, 0x49, 0x0d, 0x00,
  0x0b,
  0x20, 0x03, 0x41, 0x04, 0x6a, 0x22, 0x03, 0x20, 0x05, 0x49, 0x0d, 0x00,
  0x0b,
  0x0b,
  0x0b,
];

// The WebAssembly JS API, typed locally: the project's TS libs have no DOM typings and @types/node 20 does not
// declare the WebAssembly namespace.
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

function section(id: number, bytes: number[]): number[] {
  return [id, ...leb(bytes.length), ...bytes];
}
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

const MODULE_BYTES = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]),
  // import env.memory: shared, min 1 page, max 65536 pages
  ...section(2, [0x01, ...str("env"), ...str("memory"), 0x02, 0x03, 0x01, ...leb(65536)]),
  ...section(3, [0x01, 0x00]),
  ...section(7, [0x01, ...str("add_rows"), 0x00, 0x00]),
  ...section(10, [0x01, ...leb(BODY.length), ...BODY]),
]);

let compiled: object | null | undefined;
function kernelModule(): object | null {
  if (compiled === undefined) {
    try {
      if (!wasm) throw new Error("no WebAssembly");
      compiled = new wasm.Module(MODULE_BYTES);
    } catch {
      compiled = null; // no WASM SIMD on this runtime: the JS loop is used
    }
  }
  return compiled;
}

/** Where the kernel's shared memory keeps its scratch slots and the matrix. */
export interface WasmLayout {
  /** a shared WebAssembly.Memory */
  memory: WasmMemory;
  slots: number;
  slotBytes: number;
  idsCapacity: number;
  matrixOffset: number;
}

const SLOTS = 64;
const IDS_CAPACITY = 16384;
const PAGE = 65536;
const MAX_PAGES = 65536;

/** A shared WebAssembly.Memory holding scratch slots and a rows x cols float32 matrix, or null when the kernel
 * cannot be used (no SIMD, cols not a multiple of 4, or more than 4 GiB). */
export function allocWasmMatrix(rows: number, cols: number): { layout: WasmLayout; data: Float32Array } | null {
  if (cols % 4 !== 0 || !kernelModule()) return null;
  const slotBytes = Math.ceil((cols * 4 + IDS_CAPACITY * 4) / 16) * 16;
  const matrixOffset = 64 + SLOTS * slotBytes;
  const total = matrixOffset + rows * cols * 4;
  const pages = Math.max(1, Math.ceil(total / PAGE));
  if (pages > MAX_PAGES) return null;
  let memory: WasmMemory;
  try {
    memory = new wasm!.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    return null;
  }
  const layout: WasmLayout = { memory, slots: SLOTS, slotBytes, idsCapacity: IDS_CAPACITY, matrixOffset };
  return { layout, data: new Float32Array(memory.buffer, matrixOffset, rows * cols) };
}

/** One model instance's use of the kernel: its own scratch slot in the shared memory. */
export class SimdRowSum {
  private constructor(
    private readonly fn: (h: number, base: number, dimBytes: number, ids: number, n: number) => void,
    private readonly hidden: Float32Array,
    private readonly ids: Int32Array,
    private readonly hPtr: number,
    private readonly idsPtr: number,
    private readonly base: number,
    private readonly dimBytes: number,
  ) {}

  /** Claim a slot; null if the kernel is unavailable or every slot is taken (the caller then uses JS). */
  static create(layout: WasmLayout, dim: number): SimdRowSum | null {
    const mod = kernelModule();
    if (!mod) return null;
    const counter = new Int32Array(layout.memory.buffer, 0, 1);
    const slot = Atomics.add(counter, 0, 1);
    if (slot >= layout.slots) return null;
    const inst = new wasm!.Instance(mod, { env: { memory: layout.memory } });
    const hPtr = 64 + slot * layout.slotBytes;
    const idsPtr = hPtr + dim * 4;
    const buf = layout.memory.buffer;
    return new SimdRowSum(
      inst.exports.add_rows as (h: number, base: number, dimBytes: number, ids: number, n: number) => void,
      new Float32Array(buf, hPtr, dim),
      new Int32Array(buf, idsPtr, layout.idsCapacity),
      hPtr,
      idsPtr,
      layout.matrixOffset,
      dim * 4,
    );
  }

  /** out = sum of rows ids[0..count) in order (float32). */
  sum(ids: Int32Array, count: number, out: Float32Array): void {
    this.hidden.fill(0);
    const cap = this.ids.length;
    for (let start = 0; start < count; start += cap) {
      const n = Math.min(cap, count - start);
      this.ids.set(ids.subarray(start, start + n));
      this.fn(this.hPtr, this.base, this.dimBytes, this.idsPtr, n);
    }
    out.set(this.hidden);
  }
}
