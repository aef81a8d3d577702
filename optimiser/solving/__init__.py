"""Solving the model: the HiGHS wrapper, the held model re-solved in sweeps, the diagnosis of
infeasible rules, and the two-stage pooled-cover solve."""
