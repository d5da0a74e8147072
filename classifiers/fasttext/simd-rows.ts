// A small hand-assembled WebAssembly SIMD kernel for the hot loop of prediction: hidden += row[id] for a list of
// ids, four float32 lanes at a time. f32x4.add rounds each lane exactly like a scalar float32 add and the rows are
// added in the same order, so the result is bit-identical to fastText's loop — just faster than the JS one.
// The input matrix lives in a shared WebAssembly.Memory (a SharedArrayBuffer underneath), so every worker thread
// runs the kernel over the same weights; each model instance claims a private scratch slot (hidden vector + ids)
// at the start of that memory.
//
// Rows are consumed ROWS_PER_STEP at a time: for each 16-byte lane group, h = ((h + r0) + r1) + ... + r7. Per lane
// that is the same sequence of float32 adds as one row after the other (so the same bits), but the rows of a big
// model are cache misses at random addresses, and loading several of them in the same inner loop lets the CPU
// wait for those misses in parallel instead of one row at a time; h is also loaded and stored once per step.
// The ids left over (n mod ROWS_PER_STEP) go through the one-row loop.
//
// (func (param h base dimBytes ids n)  ;; locals: end endR j r0..r{R-1}
//   end = ids + n*4; endR = ids + (n & -R)*4
//   if ids < endR: loop { r_k = base + i32.load(ids + 4k) * dimBytes (k < R); j = 0;
//     loop { v128.store(h+j, add(...add(v128.load(h+j), v128.load(r0+j))..., v128.load(r{R-1}+j))); j += 16;
//            br_if j < dimBytes }
//     ids += 4R; br_if ids < endR }
//   if ids < end: loop { r0 = base + i32.load(ids) * dimBytes; j = 0; loop { h+j += r0+j; ... }; ids += 4; ... })
const ROWS_PER_STEP = 8; // a power of two (the n & -R mask) and at most 15 (4R is a one-byte LEB immediate); 8 measured best
const L_END = 5, L_ENDR = 6, L_J = 7, L_ROW0 = 8;
const get = (l: number) => [0x20, l];
const set = (l: number) => [0x21, l];
const tee = (l: number) => [0x22, l];
const I32_ADD = 0x6a, I32_MUL = 0x6c, I32_SHL = 0x74, I32_AND = 0x71, I32_LT_U = 0x49, I32_GE_U = 0x4f;
const V128_LOAD = [0xfd, 0x00, 0x02, 0x00], V128_STORE = [0xfd, 0x0b, 0x02, 0x00], F32X4_ADD = [0xfd, 0xe4, 0x01];

/** One pass over `rows` ids from `ids` on, then ids += 4*rows, looping while ids < limit (guarded by a block). */
function rowLoop(rows: number, limit: number): number[] {
  const code: number[] = [0x02, 0x40, ...get(3), ...get(limit), I32_GE_U, 0x0d, 0x00, 0x03, 0x40];
  for (let k = 0; k < rows; k++) {
    // r_k = base + i32.load offset=4k (ids) * dimBytes
    code.push(...get(1), ...get(3), 0x28, 0x02, 4 * k, ...get(2), I32_MUL, I32_ADD, ...set(L_ROW0 + k));
  }
  code.push(0x41, 0x00, ...set(L_J), 0x03, 0x40);
  code.push(...get(0), ...get(L_J), I32_ADD); // store address
  code.push(...get(0), ...get(L_J), I32_ADD, ...V128_LOAD);
  for (let k = 0; k < rows; k++) code.push(...get(L_ROW0 + k), ...get(L_J), I32_ADD, ...V128_LOAD, ...F32X4_ADD);
  code.push(...V128_STORE);
  code.push(...get(L_J), 0x41, 0x10, I32_ADD, ...tee(L_J), ...get(2), I32_LT_U, 0x0d, 0x00, 0x0b);
  code.push(...get(3), 0x41, 4 * rows, I32_ADD, ...tee(3), ...get(limit), I32_LT_U, 0x0d, 0x00, 0x0b, 0x0b);
  return code;
}

const BODY = [
  0x01, 3 + ROWS_PER_STEP, 0x7f, // i32 locals: end endR j r0..
  ...get(3), ...get(4), 0x41, 0x02, I32_SHL, I32_ADD, ...set(L_END),
  ...get(3), ...get(4), 0x41, (-ROWS_PER_STEP) & 0x7f, I32_AND, 0x41, 0x02, I32_SHL, I32_ADD, ...set(L_ENDR),
  ...rowLoop(ROWS_PER_STEP, L_ENDR),
  ...rowLoop(1, L_END),
  0x0b,
];

// The WebAssembly JS API, typed locally: the project's TS libs have no DOM typings and @types/node 20 does not
// declare the WebAssembly namespace.
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
export const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

export function section(id: number, bytes: number[]): number[] {
  return [id, ...leb(bytes.length), ...bytes];
}
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
export const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

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
  // a slot holds a float32 hidden vector + ids for prediction, or float64 hidden + gradient + ids for training
  const slotBytes = Math.ceil((cols * 16 + IDS_CAPACITY * 4) / 16) * 16;
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
