// Union-find over documents identified by (file, row), holding only documents that appear in a pair.
// Memory per document: 8 bytes of id + 4 of parent + 4-8 of open-addressing slot (load <= 1/2) ≈ 20-24 bytes,
// transiently twice that while a table grows.
import { fmix32 } from "./minhash.js";

export class DocUnionFind {
  file = new Uint32Array(1024);
  row = new Uint32Array(1024);
  parent = new Int32Array(1024);
  size = 0;
  private slots = new Int32Array(2048).fill(-1);
  private mask = 2047;

  /** Node index of (file, row), created on first sight. */
  node(file: number, row: number): number {
    let s = fmix32(Math.imul(file, 0x9e3779b1) ^ row) & this.mask;
    for (;;) {
      const n = this.slots[s];
      if (n < 0) break;
      if (this.file[n] === file && this.row[n] === row) return n;
      s = (s + 1) & this.mask;
    }
    const n = this.size++;
    if (n === this.file.length) this.growNodes();
    this.file[n] = file;
    this.row[n] = row;
    this.parent[n] = n;
    this.slots[s] = n;
    if (this.size * 2 > this.slots.length) this.rehash();
    return n;
  }

  find(n: number): number {
    const p = this.parent;
    let r = n;
    while (p[r] !== r) r = p[r];
    while (p[n] !== r) {
      const next = p[n];
      p[n] = r;
      n = next;
    }
    return r;
  }

  /** Join two sets; the smaller index becomes the root (any fixed rule works: survivors are chosen later). */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
  }

  private growNodes(): void {
    const cap = this.file.length * 2;
    const f = new Uint32Array(cap); f.set(this.file); this.file = f;
    const r = new Uint32Array(cap); r.set(this.row); this.row = r;
    const p = new Int32Array(cap); p.set(this.parent); this.parent = p;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let n = 0; n < this.size; n++) {
      let s = fmix32(Math.imul(this.file[n], 0x9e3779b1) ^ this.row[n]) & mask;
      while (slots[s] >= 0) s = (s + 1) & mask;
      slots[s] = n;
    }
    this.slots = slots;
    this.mask = mask;
  }
}
