// The hot loop of prediction: hidden += input row r for every input id. Float32Array stores round each sum to
// float32 exactly as fastText's `x[j] += at(i, j)` does, so the result is bit-identical.

export function addRows(h: Float32Array, data: Float32Array, dim: number, ids: Int32Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const o = ids[i]! * dim;
    for (let j = 0; j < dim; j++) h[j] = h[j]! + data[o + j]!;
  }
}
