"""Learning-rate schedule of one phase, as data: Stable = constant, Decay = fresh cosine to final_factor * lr.

lr_at(t) is the LR used by optimizer update t (0-based) of the phase. Optional linear warmup over the first
`warmup` updates (0 in the OctoThinker recipe). Decay: update 0 runs at the peak (continuous with the Stable
stage it branches from), the last update (t = steps - 1) runs exactly at final_factor * peak.
"""
import math


class PhaseSchedule:
    def __init__(self, phase, peak_lr, steps, final_factor=0.1, warmup=0):
        if phase not in ("stable", "decay"):
            raise ValueError(f"unknown phase {phase!r}")
        self.phase, self.peak, self.steps, self.final_factor, self.warmup = phase, peak_lr, steps, final_factor, warmup

    def lr_at(self, t):
        if t < self.warmup:
            return self.peak * (t + 1) / self.warmup
        if self.phase == "stable":
            return self.peak
        span = self.steps - 1 - self.warmup
        progress = 1.0 if span <= 0 else min(1.0, (t - self.warmup) / span)
        floor = self.final_factor * self.peak
        # Weighted form, not floor + (peak - floor) * w: it gives exactly the peak at the first update (the LR the
        # Stable stage ended with, to the last bit) and exactly the floor at the last (cos(pi) is exactly -1).
        w = 0.5 * (1.0 + math.cos(math.pi * progress))
        return floor * (1.0 - w) + self.peak * w

    def describe(self):
        d = {"phase": self.phase, "steps": self.steps, "warmup_steps": self.warmup, "peak_lr": self.peak,
             "first_lr": self.lr_at(0), "last_lr": self.lr_at(self.steps - 1)}
        if self.phase == "decay":
            d.update(shape="cosine", final_factor=self.final_factor, mid_lr=self.lr_at((self.steps - 1) // 2))
        return d

    def state_dict(self):
        return {"phase": self.phase, "peak": self.peak, "steps": self.steps, "final_factor": self.final_factor,
                "warmup": self.warmup}
