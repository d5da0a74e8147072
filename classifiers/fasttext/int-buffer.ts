// A growable Int32Array used as a reusable scratch vector in hot loops (no per-document allocation).

export class IntBuffer {
  data: Int32Array;
  length = 0;
  constructor(capacity = 256) {
    this.data = new Int32Array(capacity);
  }
  clear(): void {
    this.length = 0;
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  /** Append src[a, b): room is made once, then a plain copy loop (the runs are short; a subarray() view would allocate). */
  pushRange(src: Int32Array, a: number, b: number): void {
    const need = this.length + (b - a);
    if (need > this.data.length) {
      const bigger = new Int32Array(Math.max(need, this.data.length * 2));
      bigger.set(this.data);
      this.data = bigger;
    }
    const data = this.data;
    let n = this.length;
    for (let k = a; k < b; k++) data[n++] = src[k]!;
    this.length = n;
  }
}
