// Hand-assembled WebAssembly SIMD kernels for the two hot loops of training (SgdStep.update) and for the input
// matrix's random initialisation. They reproduce the JS loops bit for bit, so a model trained with them is
// byte-identical to one trained without:
//  - sum_rows:  h[j] += row[j] for each id, h float64 — each lane adds the promoted float32 exactly as
//    `h[j] += wi[o + j]` does, rows in the same order (lanes are different j, so no sum is reordered);
//  - add_rows:  row[j] = float32(row[j] + g[j]) for each id — promote, float64 add, round to float32, as
//    `wi[o + j] += g[j]`; rows are read and written one after the other inside each 16-byte column group, so an id
//    that appears twice in a line is updated twice in sequence, as in JS;
//  - init_uniform: mulberry32 (Rng in sgd.ts) and (u / 2^32 * 2 - 1) * a rounded to float32, as initInput.
// What they buy: no bounds checks, two float64 lanes per instruction, and ROWS rows in flight per column loop, so
// the cache misses of the n-gram bucket rows (random addresses in a 2 GB matrix) overlap instead of queueing.
// The matrix and the per-thread scratch (hidden, gradient, ids) live in the shared WebAssembly.Memory of
// simd-rows.ts; the scratch slot is claimed the same way the prediction kernel claims its own.
import { leb, section, str, wasm, type WasmLayout } from "./simd-rows.js";

// Rows per step of sum_rows/add_rows. Measured on dim 256 with a 2 GB matrix (600 ids per line, two thirds random
// bucket rows): 1 row 1.6 s, 2 rows 1.2 s, 4 rows 0.84 s, 8 rows 0.86 s for 4,000 lines' sum + update.
const ROWS = 4;
const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b;
const get = (l: number) => [0x20, l];
const set = (l: number) => [0x21, l];
const tee = (l: number) => [0x22, l];
const i32c = (v: number) => [0x41, ...sleb(v)];
const f64c = (v: number) => [0x44, ...new Uint8Array(new Float64Array([v]).buffer)];
const ADD = 0x6a, MUL = 0x6c, XOR = 0x73, OR = 0x72, SHR_U = 0x76, SHL = 0x74, LT_U = 0x49, GE_U = 0x4f;
const I32_LOAD = (off: number) => [0x28, 0x02, ...leb(off)];
const simd = (op: number, ...imm: number[]) => [0xfd, ...leb(op), ...imm];
const V_LOAD = (off: number) => simd(0x00, 0x00, ...leb(off));
const V_STORE = (off: number) => simd(0x0b, 0x00, ...leb(off));
const LOAD64_ZERO = (off: number) => simd(0x5d, 0x00, ...leb(off));
const STORE64_LANE0 = (off: number) => simd(0x5b, 0x00, ...leb(off), 0);
const PROMOTE = simd(0x5f), DEMOTE = simd(0x5e), F64X2_ADD = simd(0xf0);

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

// sum_rows / add_rows (params h|g=0 base=1 dimBytes=2 ids=3 n=4; locals end=5 endR=6 j=7 p=8 r0..=9.., then 2 v128)
const P_VEC = 0, P_BASE = 1, P_DIM = 2, P_IDS = 3, P_N = 4, L_END = 5, L_ENDR = 6, L_J = 7, L_P = 8, L_R0 = 9;
const L_GLO = L_R0 + ROWS, L_GHI = L_GLO + 1;

/** Visit the ids from P_IDS on, `rows` at a time while P_IDS < limit, running `column` for each 16-byte group j. */
function rowLoop(rows: number, limit: number, column: (rows: number) => number[]): number[] {
  const code = [0x02, 0x40, ...get(P_IDS), ...get(limit), GE_U, 0x0d, 0x00, 0x03, 0x40];
  for (let k = 0; k < rows; k++)
    code.push(...get(P_BASE), ...get(P_IDS), ...I32_LOAD(4 * k), ...get(P_DIM), MUL, ADD, ...set(L_R0 + k));
  code.push(...i32c(0), ...set(L_J), ...get(P_VEC), ...set(L_P), 0x03, 0x40);
  code.push(...column(rows));
  code.push(...get(L_P), ...i32c(32), ADD, ...set(L_P));
  code.push(...get(L_J), ...i32c(16), ADD, ...tee(L_J), ...get(P_DIM), LT_U, 0x0d, 0x00, 0x0b);
  code.push(...get(P_IDS), ...i32c(4 * rows), ADD, ...tee(P_IDS), ...get(limit), LT_U, 0x0d, 0x00, 0x0b, 0x0b);
  return code;
}

const rowAt = (k: number) => [...get(L_R0 + k), ...get(L_J), ADD];

/** h[j..j+4) (two f64x2 at p, p+16) += promoted row_k[j..j+4) for k in order. */
function sumColumn(rows: number): number[] {
  const code: number[] = [];
  for (const half of [0, 1]) {
    code.push(...get(L_P), ...get(L_P), ...V_LOAD(16 * half));
    for (let k = 0; k < rows; k++) code.push(...rowAt(k), ...LOAD64_ZERO(8 * half), ...PROMOTE, ...F64X2_ADD);
    code.push(...V_STORE(16 * half));
  }
  return code;
}

/** row_k[j..j+4) = float32(row_k + g[j..j+4)) for k in order (each row's load after the previous row's store). */
function addColumn(rows: number): number[] {
  const code = [...get(L_P), ...V_LOAD(0), ...set(L_GLO), ...get(L_P), ...V_LOAD(16), ...set(L_GHI)];
  for (let k = 0; k < rows; k++)
    for (const half of [0, 1])
      code.push(...rowAt(k), ...rowAt(k), ...LOAD64_ZERO(8 * half), ...PROMOTE, ...get(half ? L_GHI : L_GLO), ...F64X2_ADD,
        ...DEMOTE, ...STORE64_LANE0(8 * half));
  return code;
}

function rowsBody(column: (rows: number) => number[]): number[] {
  return [
    0x02, 4 + ROWS, I32, 2, V128, // local groups: i32 end endR j p r0.., v128 glo ghi
    ...get(P_IDS), ...get(P_N), ...i32c(2), SHL, ADD, ...set(L_END),
    ...get(P_IDS), ...get(P_N), ...i32c(-ROWS), 0x71, ...i32c(2), SHL, ADD, ...set(L_ENDR),
    ...rowLoop(ROWS, L_ENDR, column),
    ...rowLoop(1, L_END, column),
    0x0b,
  ];
}

// init_uniform(ptr=0, count=1, state=2, a:f64=3) -> state; locals end=4 t=5
const INIT_BODY = [
  0x01, 2, I32,
  ...get(0), ...get(1), ...i32c(2), SHL, ADD, ...set(4),
  0x02, 0x40, ...get(0), ...get(4), GE_U, 0x0d, 0x00, 0x03, 0x40,
  // s = s + 0x6d2b79f5; t = imul(s ^ s >>> 15, s | 1); t ^= t + imul(t ^ t >>> 7, t | 61); t ^= t >>> 14
  ...get(2), ...i32c(0x6d2b79f5), ADD, ...tee(2), ...get(2), ...i32c(15), SHR_U, XOR, ...get(2), ...i32c(1), OR, MUL, ...set(5),
  ...get(5), ...get(5), ...get(5), ...get(5), ...i32c(7), SHR_U, XOR, ...get(5), ...i32c(61), OR, MUL, ADD, XOR, ...set(5),
  ...get(5), ...get(5), ...i32c(14), SHR_U, XOR, ...set(5),
  // f32[ptr] = float32((u / 2^32 * 2 - 1) * a)
  ...get(0), ...get(5), 0xb8, ...f64c(4294967296), 0xa3, ...f64c(2), 0xa2, ...f64c(1), 0xa1, ...get(3), 0xa2, 0xb6,
  0x38, 0x02, 0x00,
  ...get(0), ...i32c(4), ADD, ...tee(0), ...get(4), LT_U, 0x0d, 0x00, 0x0b, 0x0b,
  ...get(2), 0x0b,
];

const fn = (body: number[]) => [...leb(body.length), ...body];
const SUM_BODY = rowsBody(sumColumn);
const ADD_BODY = rowsBody(addColumn);
const MODULE_BYTES = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [0x02, 0x60, 0x05, I32, I32, I32, I32, I32, 0x00, 0x60, 0x04, I32, I32, I32, F64, 0x01, I32]),
  ...section(2, [0x01, ...str("env"), ...str("memory"), 0x02, 0x03, 0x01, ...leb(65536)]),
  ...section(3, [0x03, 0x00, 0x00, 0x01]),
  ...section(7, [0x03, ...str("sum_rows"), 0x00, 0x00, ...str("add_rows"), 0x00, 0x01, ...str("init_uniform"), 0x00, 0x02]),
  ...section(10, [0x03, ...fn(SUM_BODY), ...fn(ADD_BODY), ...fn(INIT_BODY)]),
]);

let compiled: object | null | undefined;
function trainModule(): object | null {
  if (compiled === undefined) {
    try {
      if (!wasm) throw new Error("no WebAssembly");
      compiled = new wasm.Module(MODULE_BYTES);
    } catch {
      compiled = null; // no WASM SIMD on this runtime: SgdStep keeps its JS loops
    }
  }
  return compiled;
}

type RowsFn = (vec: number, base: number, dimBytes: number, ids: number, n: number) => void;

/** One training thread's use of the kernels: its own scratch slot (float64 hidden, float64 gradient, ids). */
export class TrainKernel {
  /** the thread's hidden vector and gradient, inside the shared memory (SgdStep works on these directly) */
  readonly hidden: Float64Array;
  readonly grad: Float64Array;
  private constructor(
    private readonly sumFn: RowsFn,
    private readonly addFn: RowsFn,
    private readonly initFn: (ptr: number, count: number, state: number, a: number) => number,
    private readonly ids: Int32Array,
    private readonly hPtr: number,
    private readonly gPtr: number,
    private readonly idsPtr: number,
    private readonly base: number,
    private readonly dimBytes: number,
    buf: ArrayBufferLike,
    dim: number,
  ) {
    this.hidden = new Float64Array(buf, hPtr, dim);
    this.grad = new Float64Array(buf, gPtr, dim);
  }

  /** Claim a slot of `layout`; null if the kernels are unavailable or the slots are used up (JS loops then). */
  static create(layout: WasmLayout, dim: number): TrainKernel | null {
    const mod = trainModule();
    if (!mod || dim % 4 !== 0 || dim * 16 > layout.slotBytes) return null;
    const slot = Atomics.add(new Int32Array(layout.memory.buffer, 0, 1), 0, 1);
    if (slot >= layout.slots) return null;
    const inst = new wasm!.Instance(mod, { env: { memory: layout.memory } });
    const hPtr = 64 + slot * layout.slotBytes;
    const gPtr = hPtr + dim * 8;
    const idsPtr = gPtr + dim * 8;
    const capacity = Math.floor((layout.slotBytes - dim * 16) / 4);
    const buf = layout.memory.buffer;
    const e = inst.exports;
    return new TrainKernel(e.sum_rows as RowsFn, e.add_rows as RowsFn, e.init_uniform as never,
      new Int32Array(buf, idsPtr, capacity), hPtr, gPtr, idsPtr, layout.matrixOffset, dim * 4, buf, dim);
  }

  private each(fn: RowsFn, vec: number, input: Int32Array, at: number, n: number): void {
    const cap = this.ids.length;
    for (let start = 0; start < n; start += cap) {
      const c = Math.min(cap, n - start);
      this.ids.set(input.subarray(at + start, at + start + c));
      fn(vec, this.base, this.dimBytes, this.idsPtr, c);
    }
  }

  /** hidden[j] += wi[id][j] for the n ids input[at..at+n), in order. */
  sumRows(input: Int32Array, at: number, n: number): void {
    this.each(this.sumFn, this.hPtr, input, at, n);
  }

  /** wi[id][j] += grad[j] for the n ids input[at..at+n), in order. */
  addGrad(input: Int32Array, at: number, n: number): void {
    this.each(this.addFn, this.gPtr, input, at, n);
  }

  /** Fill matrix elements [from, to) with initInput's uniform values from a mulberry32 stream at `state`. */
  initUniform(from: number, to: number, state: number, a: number): number {
    const step = 1 << 26; // elements per call: stays well inside i32 byte offsets
    for (let i = from; i < to; i += step) state = this.initFn(this.base + i * 4, Math.min(step, to - i), state, a);
    return state;
  }
}
