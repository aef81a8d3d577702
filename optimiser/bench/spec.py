"""What the benchmark measures: sizes, solver limits and targets (from the issue), the
sweep measurement, and the row every measurement fills (results.csv).
"""

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL_FILE = ROOT / "models" / "optimised.toml"
DEFAULT_SEED = 1
GRACE_SECONDS = 300.0  # a child gets its solver time limit plus this before it is killed
PROGRESS = "BENCH "  # prefix of a child's machine-readable progress lines
OK_STATUSES = ("optimal", "feasible", "no_solution", "infeasible", "unbounded", "error")
FAILED_STATUSES = ("crashed", "timed out", "skipped")
OPTIMISER, HIGHS_MPS = "optimiser", "highs_mps"


# --- What to run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A target from the issue; ``None`` means the issue sets none for that measure."""

    gap: float | None = None
    seconds: float | None = None
    peak_mib: float | None = None
    build_share: float | None = None
    speedup: float | None = None  # sweeps: at least this many times faster than the reference

    def describe(self) -> str:
        parts = []
        if self.gap is not None:
            parts.append(f"gap ≤{_pct(self.gap)}")
        if self.seconds is not None:
            parts.append(f"total <{self.seconds:g} s")
        if self.peak_mib is not None:
            parts.append(f"peak <{self.peak_mib / 1024:g} GiB")
        if self.build_share is not None:
            parts.append(f"build share <{_pct(self.build_share, 0)}")
        if self.speedup is not None:
            parts.append(f"speed-up ≥{self.speedup:g}x")
        return ", ".join(parts)


@dataclass(frozen=True)
class SizeSpec:
    """One benchmark size: how big a dataset, which solver limits, which target."""

    name: str
    n_schemes: int
    time_limit: float
    mip_rel_gap: float
    target: Target = field(default_factory=Target)
    n_providers: int | None = None
    dataset: str | None = None  # a bundled dataset (relative to the repository) to solve as is
    workers: int = 1  # worker processes for the schemes' own solves
    dask_workers: int = 0  # > 0: the schemes' own solves on a Dask LocalCluster of this size


SIZES: dict[str, SizeSpec] = {
    "S": SizeSpec("S", 1, 60.0, 0.001),
    "Shireford": SizeSpec("Shireford", 6, 30.0, 0.001, Target(gap=0.001, seconds=30.0),
                          dataset="data/shireford"),
    "M": SizeSpec("M", 25, 60.0, 0.005, Target(gap=0.005, seconds=60.0), workers=2),
    "L": SizeSpec("L", 80, 300.0, 0.005, Target(gap=0.005, seconds=300.0), workers=2),
    "XL": SizeSpec("XL", 250, 900.0, 0.01, Target(gap=0.01, seconds=900.0, peak_mib=2048.0),
                   dask_workers=2),
}
QUICK: dict[str, SizeSpec] = {
    "S": replace(SIZES["S"], time_limit=15.0),
    "M": replace(SIZES["M"], time_limit=30.0),
}


@dataclass(frozen=True)
class SweepBench:
    """The sweep measurement: one-at-a-time night rates on one size, solved three ways.

    Settings, and why: the target is every scenario proven within 0.5 %. On M the
    decomposition proves that in about 35 s (2 workers) from scratch, so each scenario gets
    the target gap and 60 s, the base the same gap and 120 s; a scenario stopped on time keeps
    its honest gap and the row says the target was missed. Rebuilding uses the same settings,
    without a starting plan; reuse starts every scenario from the base plan.
    """

    size: str = "M"
    vary: str = "rates.night*=1.01:1.99:0.01"  # the base and 99 more: 100 scenarios
    mip_rel_gap: float = 0.005
    time_limit: float = 60.0
    base_gap: float = 0.005
    base_time_limit: float = 120.0
    runs: tuple[tuple[bool, int], ...] = ((False, 1), (True, 1), (True, 2))  # (reuse, workers)

    def settings(self) -> str:
        return (f"gap {_pct(self.mip_rel_gap)} and {self.time_limit:g} s a scenario; base "
                f"scenario gap {_pct(self.base_gap)} and {self.base_time_limit:g} s; "
                "1 HiGHS thread a worker")


SWEEP = SweepBench()
QUICK_SWEEP = replace(SWEEP, vary="rates.night*=1.1:1.9:0.1", mip_rel_gap=0.05,
                      time_limit=10.0, base_gap=0.02, base_time_limit=60.0)
SWEEP_GAP_TARGET = 0.005  # every scenario proven within this (the worst gap of the row)
REUSE_TARGET = 3.0  # reuse, 1 worker, against rebuild, 1 worker
WORKERS_TARGET = 1.7  # reuse, 2 workers, against reuse, 1 worker


@dataclass
class Row:
    """One line of results.csv: one size solved by one method."""

    size: str
    method: str
    schemes: int = 0
    residents: int = 0
    visits: int = 0
    providers: int = 0
    variables: int | None = None
    integer_variables: int | None = None
    constraints: int | None = None
    nonzeros: int | None = None
    import_s: float | None = None
    load_s: float | None = None  # load + validate the CSVs; for highs_mps: read the MPS file
    derive_s: float | None = None
    build_s: float | None = None
    handoff_s: float | None = None  # compile to matrix form + pass to HiGHS
    solve_s: float | None = None
    total_s: float | None = None  # imports + every stage above
    build_share: float | None = None  # (load + derive + build + hand-off) / total
    peak_mib: float | None = None
    status: str = "skipped"
    solver_status: str = ""
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    nodes: int | None = None
    time_limit: float = 0.0
    mip_rel_gap: float = 0.0
    target: str = ""
    target_met: str = ""
    note: str = ""
    commit: str = ""
    seed: int = DEFAULT_SEED
    scenarios: int | None = None  # sweep rows only, from here on
    workers: int | None = None
    plans: int | None = None  # scenarios with a plan
    speedup: float | None = None  # against the reference row named in the note


COLUMNS: list[str] = [f.name for f in fields(Row)]



def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


def _num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"
