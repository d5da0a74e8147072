// The MinHash min-reduction in WebAssembly SIMD: 4 permutations per i32x4 lane group, 16 per pass over the
// shingles (i32x4.mul keeps the low 32 bits, i32x4.add wraps and i32x4.min_u compares unsigned, so the result is
// exactly the scalar (a*x + b) mod 2^32 minimum). The module is ~150 bytes, assembled here by hand so there is
// no build step or dependency; MinHasher falls back to the JS loop where WebAssembly SIMD is unavailable.
//
// Memory layout (one imported memory):
//   [0, COEF_BYTES)        per pass of 16 permutations: a0..a3 vectors then b0..b3 vectors (128 bytes)
//   [OUT_AT, +OUT_BYTES)   the minima, 16 per pass
//   [SHINGLES_AT, ...)     the shingle hashes of the current document (grown on demand)

// The WebAssembly JS API, typed locally: the project's TS libs have no DOM typings and @types/node 20 does not
// declare the WebAssembly namespace.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (d: { initial: number }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const MAX_PERMS = 1024 * 1024; // checkParams allows 1024 x 1024
export const SIMD_PERMS_PER_PASS = 16;

// Function f(xPtr, m, coefPtr, passes, outPtr); locals 5 p, 6 end, 7-10 A, 11-14 B, 15-18 acc, 19 x.
function body(): number[] {
  const get = (i: number) => [0x20, i], set = (i: number) => [0x21, i], tee = (i: number) => [0x22, i];
  const simd = (op: number) => (op < 0x80 ? [0xfd, op] : [0xfd, (op & 0x7f) | 0x80, op >> 7]);
  const mem = (offset: number) => [0x00, ...leb(offset)]; // alignment hint 0 is always valid
  const code: number[] = [
    0x02, 0x02, 0x7f, 0x0d, 0x7b, // locals: 2 x i32, 13 x v128
    ...get(0), ...get(1), 0x41, 2, 0x74, 0x6a, ...set(6), // end = xPtr + m * 4
    0x03, 0x40, // loop over passes
  ];
  for (let k = 0; k < 8; k++) code.push(...get(2), ...simd(0x00), ...mem(16 * k), ...set(7 + k)); // A0-3, B0-3
  code.push(...simd(0x0c), ...new Array(16).fill(0xff), ...tee(15), ...tee(16), ...tee(17), ...set(18));
  code.push(...get(0), ...set(5));
  code.push(0x03, 0x40); // loop over shingles (m >= 1)
  code.push(...get(5), ...simd(0x09), ...mem(0), ...set(19)); // x = splat(load32)
  for (let k = 0; k < 4; k++) {
    code.push(...get(15 + k), ...get(7 + k), ...get(19), ...simd(0xb5), ...get(11 + k), ...simd(0xae),
      ...simd(0xb7), ...set(15 + k)); // acc = min_u(acc, a*x + b)
  }
  code.push(...get(5), 0x41, 4, 0x6a, ...tee(5), ...get(6), 0x49, 0x0d, 0, 0x0b); // next shingle; end loop
  for (let k = 0; k < 4; k++) code.push(...get(4), ...get(15 + k), ...simd(0x0b), ...mem(16 * k));
  code.push(...get(4), 0x41, ...sleb(64), 0x6a, ...set(4));
  code.push(...get(2), 0x41, ...sleb(128), 0x6a, ...set(2));
  code.push(...get(3), 0x41, 1, 0x6b, ...tee(3), 0x0d, 0, 0x0b); // passes--; end loop
  code.push(0x0b);
  return code;
}

/** Signed LEB128 of a non-negative number (i32.const immediates: 64 needs two bytes, 0xc0 0x00). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>>= 7;
    if (n === 0 && (b & 0x40) === 0) return [...out, b];
    out.push(b | 0x80);
  }
}

/** Unsigned LEB128 (sizes, indices, memarg offsets). */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function moduleBytes(): Uint8Array {
  const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
  const str = (s: string) => [s.length, ...Buffer.from(s, "ascii")];
  const b = body();
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...section(2, [1, ...str("m"), ...str("mem"), 0x02, 0x00, 0x01]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str("f"), 0x00, 0]),
    ...section(10, [1, ...leb(b.length), ...b]),
  ]);
}

/** 32-bit min-hash kernel over a shared WebAssembly memory; null where WebAssembly SIMD is not available. */
export class SimdMinHash {
  private readonly memory: WasmMemory;
  private readonly f: (xPtr: number, m: number, coefPtr: number, passes: number, outPtr: number) => void;
  private readonly passes: number;
  private readonly perms: number;
  private readonly outAt: number;
  private readonly shinglesAt: number;
  /** The shingle hashes go here (a view of the module's memory; replaced when the memory grows). */
  shingles: Int32Array;
  private out: Uint32Array;

  static create(a: Int32Array, b: Int32Array): SimdMinHash | null {
    if (a.length > MAX_PERMS || !wasm) return null;
    const bytes = moduleBytes();
    if (!wasm.validate(bytes)) return null;
    return new SimdMinHash(bytes, a, b);
  }

  private constructor(bytes: Uint8Array, a: Int32Array, b: Int32Array) {
    const P = a.length;
    this.perms = P;
    this.passes = Math.ceil(P / SIMD_PERMS_PER_PASS);
    this.outAt = this.passes * 128;
    this.shinglesAt = this.outAt + this.passes * 64;
    this.memory = new wasm!.Memory({ initial: Math.ceil((this.shinglesAt + 65536) / 65536) });
    const inst = new wasm!.Instance(new wasm!.Module(bytes), { m: { mem: this.memory } });
    this.f = inst.exports.f as SimdMinHash["f"];
    // Padding permutations (a = 1, b = 0) compute minima nobody reads.
    const coef = new Int32Array(this.memory.buffer, 0, this.passes * 32);
    for (let p = 0; p < this.passes * SIMD_PERMS_PER_PASS; p++) {
      const pass = p >> 4, vec = (p >> 2) & 3, lane = p & 3;
      coef[pass * 32 + vec * 4 + lane] = p < P ? a[p] : 1;
      coef[pass * 32 + 16 + vec * 4 + lane] = p < P ? b[p] : 0;
    }
    this.shingles = new Int32Array(this.memory.buffer, this.shinglesAt);
    this.out = new Uint32Array(this.memory.buffer, this.outAt, P);
  }

  /** Make room for m shingle hashes (this.shingles may be a new view afterwards). */
  reserve(m: number): void {
    const need = this.shinglesAt + m * 4;
    if (need > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((need - this.memory.buffer.byteLength) / 65536));
      // Growing detaches the old buffer: both views must be made again.
      this.shingles = new Int32Array(this.memory.buffer, this.shinglesAt);
      this.out = new Uint32Array(this.memory.buffer, this.outAt, this.perms); // (a detached view has length 0)
    }
  }

  /** sig[p] = min over this.shingles[0..m) of (a[p] * x + b[p]) mod 2^32, for m >= 1. */
  minima(m: number, sig: Uint32Array): void {
    this.f(this.shinglesAt, m, 0, this.passes, this.outAt);
    sig.set(this.out);
  }
}
