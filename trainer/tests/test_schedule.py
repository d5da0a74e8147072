import math
import unittest

from megamath_trainer.schedule import PhaseSchedule


class ScheduleTest(unittest.TestCase):
    def test_stable_is_constant(self):
        s = PhaseSchedule("stable", 5e-5, 47684)
        self.assertEqual({s.lr_at(t) for t in (0, 1, 1000, 47683)}, {5e-5})

    def test_decay_boundaries_are_exact(self):
        s = PhaseSchedule("decay", 2e-5, 4768, final_factor=0.1)
        self.assertEqual(s.lr_at(0), 2e-5)                                  # continuous with Stable
        self.assertTrue(math.isclose(s.lr_at(4767), 2e-6, rel_tol=1e-12))  # last update: exactly 10%
        self.assertTrue(math.isclose(s.lr_at(4767 / 2), 1.1e-5, rel_tol=1e-12))   # cosine midpoint
        lrs = [s.lr_at(t) for t in range(4768)]
        self.assertTrue(all(a >= b for a, b in zip(lrs, lrs[1:])))

    def test_decay_ends_are_bit_exact_for_the_recipe_lrs(self):
        # The first Decay update runs at exactly the LR the Stable stage ended with (no 1-ulp step down), the last
        # at exactly final_factor * peak.
        for peak in (5e-5, 3e-5, 2e-5, 1e-5, 3e-3, 7e-4):
            s = PhaseSchedule("decay", peak, 4768, final_factor=0.1)
            self.assertEqual(s.lr_at(0), peak)
            self.assertEqual(s.lr_at(4767), 0.1 * peak)

    def test_warmup(self):
        s = PhaseSchedule("stable", 1e-3, 10, warmup=4)
        self.assertEqual([s.lr_at(t) for t in range(5)], [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3])


if __name__ == "__main__":
    unittest.main()
