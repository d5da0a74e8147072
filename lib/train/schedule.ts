// The LR of optimizer update t of a phase; the same formula as trainer/megamath_trainer/schedule.py (a test runs
// both): Stable constant; Decay a fresh cosine from the peak (update 0) to final_factor x peak (the last update).

export interface PhaseSpec {
  phase: "stable" | "decay";
  peakLr: number;
  steps: number;
  finalFactor: number;
  warmup: number;
}

export function lrAt(s: PhaseSpec, t: number): number {
  if (t < s.warmup) return (s.peakLr * (t + 1)) / s.warmup;
  if (s.phase === "stable") return s.peakLr;
  const span = s.steps - 1 - s.warmup;
  const progress = span <= 0 ? 1 : Math.min(1, (t - s.warmup) / span);
  const floor = s.finalFactor * s.peakLr;
  // Weighted form (as schedule.py): exactly the peak at the first update, exactly the floor at the last.
  const w = 0.5 * (1 + Math.cos(Math.PI * progress));
  return floor * (1 - w) + s.peakLr * w;
}

/** LR at the phase's landmarks (1-based step numbers, as the trainer logs them). */
export function lrLandmarks(s: PhaseSpec): { step: number; lr: number }[] {
  const idx = s.phase === "stable"
    ? [0, s.steps - 1]
    : [0, Math.round((s.steps - 1) / 4), Math.round((s.steps - 1) / 2), Math.round((3 * (s.steps - 1)) / 4), s.steps - 1];
  return [...new Set(idx)].map((t) => ({ step: t + 1, lr: lrAt(s, t) }));
}
