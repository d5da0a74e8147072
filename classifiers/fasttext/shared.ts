// Typed arrays backed by SharedArrayBuffer, so worker threads can map the same memory instead of copying it.

export function sharedFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * 4));
}
export function sharedInt32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4), 0, n);
}
export function sharedUint32(n: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(Math.max(1, n) * 4), 0, n);
}
export function sharedUint8(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(Math.max(1, n)), 0, n);
}
export function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8), 0, n);
}
