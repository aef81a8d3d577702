"""Benchmark: how long and how much memory the whole pipeline takes at S, M and L scale.

Why this exists: the issue sets scale targets (M proven within 0.5 % in under 60 s, L within
1 % in under 10 minutes and 4 GiB, build and hand-off under a quarter of the time on M) and we
need honest numbers for where the time goes: loading and validating the data, deriving the
parameters, building the Pyomo model, handing it to HiGHS, and HiGHS itself. As a floor, the
same model is written as MPS and solved by HiGHS alone, so the Python overhead is visible.

Each measurement runs in a fresh subprocess so that peak memory (``ru_maxrss``) belongs to one
size and one method, and so that a crash or a hang in one size cannot take the benchmark down:
the parent records it as "crashed" or "timed out" and moves on. Targets are reported next to
the measured values, never asserted.

Sweeps are measured too: a 100-scenario night-rate sweep on M, every scenario asked for
0.5 %, rebuilding each scenario against reusing (starting from the base plan), with 1 and 2
worker processes. Each sweep measurement is one fresh child running
``optimiser.studies.sweep.run_sweep`` from an empty folder (nothing resumed).

Modules: spec (sizes, limits, targets, the row), children (each measurement in its own
process), parent (running a child with a hard limit), runs (sizes and sweeps), report (rows
judged, results.csv and results.md), cli (``python -m optimiser.bench``).

Run ``python -m optimiser.bench`` (``make bench``); ``--quick`` runs S and M with short limits
and a 10-scenario sweep; ``--sweep-only`` runs just the sweep measurements, ``--no-sweep``
skips them. A partial run keeps the other rows of an earlier results.csv.
"""

from optimiser.bench.parent import ChildRun, run_child
from optimiser.bench.report import (
    MD_HEADER,
    _fill,
    judge,
    markdown_table,
    merged,
    read_rows,
    sweep_table,
    write_csv,
    write_markdown,
)
from optimiser.bench.runs import _speedups, bench_size, bench_sweep, run_benchmark
from optimiser.bench.spec import (
    COLUMNS,
    HIGHS_MPS,
    OPTIMISER,
    REUSE_TARGET,
    SIZES,
    SWEEP,
    WORKERS_TARGET,
    Row,
    SizeSpec,
    SweepBench,
    Target,
)

__all__ = [
    "COLUMNS", "HIGHS_MPS", "MD_HEADER", "OPTIMISER", "REUSE_TARGET", "SIZES", "SWEEP",
    "WORKERS_TARGET", "ChildRun", "Row", "SizeSpec", "SweepBench", "Target", "_fill", "_speedups",
    "bench_size", "bench_sweep", "judge", "markdown_table", "merged", "read_rows", "run_benchmark",
    "run_child", "sweep_table", "write_csv", "write_markdown",
]
