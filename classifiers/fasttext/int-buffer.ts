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
}
