"""One size, all sizes, and the sweep measurement: jobs for the children, rows from their
answers.
"""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from optimiser.bench.parent import run_child
from optimiser.bench.report import (
    _fill,
    _is_sweep,
    git_state,
    judge,
    merged,
    read_rows,
    write_csv,
    write_markdown,
)
from optimiser.bench.spec import (
    DEFAULT_SEED,
    GRACE_SECONDS,
    HIGHS_MPS,
    MODEL_FILE,
    OPTIMISER,
    REUSE_TARGET,
    ROOT,
    SIZES,
    SWEEP_GAP_TARGET,
    WORKERS_TARGET,
    Row,
    SizeSpec,
    SweepBench,
    Target,
    _num,
    _pct,
)

# --- One size, all sizes ------------------------------------------------------------------------


def _job(spec: SizeSpec, folder: Path, seed: int, method: str) -> dict[str, Any]:
    dataset = ROOT / spec.dataset if spec.dataset else folder
    return {
        "model_file": str(MODEL_FILE), "dataset": str(dataset), "time_limit": spec.time_limit,
        "mip_rel_gap": spec.mip_rel_gap, "threads": 1, "seed": 0,
        "workers": spec.workers, "dask_workers": spec.dask_workers,
        "mps_file": str(folder / "model.mps"), "log_file": str(folder / f"{method}.highs.log"),
        "result_file": str(folder / f"{method}.result.json"),
    }


def _base_row(spec: SizeSpec, method: str, counts: dict[str, int], seed: int) -> Row:
    return Row(
        size=spec.name, method=method, schemes=counts.get("schemes", 0),
        residents=counts.get("residents", 0), visits=counts.get("visits", 0),
        providers=counts.get("providers", 0), time_limit=spec.time_limit,
        mip_rel_gap=spec.mip_rel_gap, target=spec.target.describe(), seed=seed,
        commit=_commit_label(),
    )


def _commit_label() -> str:
    """Commit, marked '+dirty' when the code or models had uncommitted changes."""
    commit, dirty = git_state()
    return commit + ("+dirty" if dirty else "")


def _measure(spec: SizeSpec, method: str, folder: Path, counts: dict[str, int], seed: int,
             say: Callable[[str], None]) -> Row:
    """Run one method on one size in a child and turn what it reports into a row."""
    row = _base_row(spec, method, counts, seed)
    if method == HIGHS_MPS and not (folder / "model.mps").is_file():
        row.note = "no MPS file: the optimiser run did not reach the solver"
        row.target_met = judge(row, spec.target)
        return row
    run = run_child(method, _job(spec, folder, seed, method), spec.time_limit + GRACE_SECONDS,
                    f"[{spec.name}] {method}", say)
    row = _fill(row, run)
    row.target_met = judge(row, spec.target)
    say(f"[{spec.name}] {method}: {row.status}, total {_num(row.total_s)} s, solve "
        f"{_num(row.solve_s)} s, peak {_num(row.peak_mib, 0)} MiB, gap "
        f"{'–' if row.gap is None else _pct(row.gap, 3)}{' – ' + row.note if row.note else ''}")
    return row


def bench_size(spec: SizeSpec, out: Path, seed: int, say: Callable[[str], None],
               floor: bool = True) -> list[Row]:
    """Generate the size's dataset, then measure the optimiser and (optionally) HiGHS alone."""
    from optimiser.inputs.generate import generate_dataset

    folder = out / "out" / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.mps").unlink(missing_ok=True)  # never solve a stale model as the floor
    counts = (_counts(ROOT / spec.dataset) if spec.dataset
              else generate_dataset(folder, spec.n_schemes, seed, spec.n_providers))
    say(f"[{spec.name}] {counts.get('schemes')} schemes, {counts.get('residents')} residents, "
        f"{counts.get('visits')} visits, {counts.get('providers')} providers; solver limit "
        f"{spec.time_limit:g} s, gap {_pct(spec.mip_rel_gap)}")
    rows = [_measure(spec, OPTIMISER, folder, counts, seed, say)]
    if floor:
        rows.append(_measure(spec, HIGHS_MPS, folder, counts, seed, say))
        rows[1].commit = rows[0].commit  # the floor solves the model written by that code
    return rows


def _counts(dataset: Path) -> dict[str, int]:
    """Rows of a bundled dataset's tables, as the generator reports them."""
    def rows(name: str) -> int:
        with (dataset / f"{name}.csv").open(encoding="utf-8") as handle:
            return sum(1 for _ in handle) - 1
    return {name: rows(name) for name in ("schemes", "residents", "visits", "providers")}


def run_benchmark(sizes: Sequence[SizeSpec], out: Path, seed: int = DEFAULT_SEED,
                  floor: bool = True, say: Callable[[str], None] = print,
                  sweep: SweepBench | None = None) -> list[Row]:
    """Measure every size in turn, then the sweep (if asked); results files are rewritten
    after each, keeping rows of an earlier run that this run does not measure again."""
    out.mkdir(parents=True, exist_ok=True)
    previous = read_rows(out / "results.csv")
    rows: list[Row] = []

    def save() -> None:
        everything = merged(previous, rows)
        _speedups([row for row in everything if _is_sweep(row)])
        write_csv(everything, out / "results.csv")
        write_markdown(everything, out / "results.md", seed, sweep)

    for spec in sizes:
        rows += bench_size(spec, out, seed, say, floor)
        save()
    if sweep is not None:
        rows += bench_sweep(sweep, out, seed, say)
        save()
    return rows


# --- Sweeps: rebuild against reuse, 1 worker against 2 -------------------------------------------


def sweep_method(reuse: bool, workers: int) -> str:
    return f"sweep {'reuse' if reuse else 'rebuild'} {workers}w"


def _sweep_job(bench: SweepBench, folder: Path, reuse: bool, workers: int) -> dict[str, Any]:
    name = sweep_method(reuse, workers).replace(" ", "-")
    return {
        "model_file": str(MODEL_FILE), "vary": bench.vary, "workers": workers, "reuse": reuse,
        "fixed": {"dataset": str(folder), "solver.mip_rel_gap": bench.mip_rel_gap,
                  "solver.time_limit": bench.time_limit, "solver.threads": 1,
                  "solver.seed": 0},
        "base_fixed": {"solver.mip_rel_gap": bench.base_gap,
                       "solver.time_limit": bench.base_time_limit},
        "out": str(folder / name), "result_file": str(folder / f"{name}.result.json"),
    }


def _sweep_note(r: dict[str, Any]) -> str:
    """Statuses, how models were handed over and how scenarios started, in a few words."""
    def counts(d: dict[str, int]) -> str:
        return ", ".join(f"{v} {k}" for k, v in sorted(d.items(), key=lambda kv: -kv[1]))

    median = r.get("median_gap")
    return (f"status: {counts(r.get('statuses', {}))}; model: {counts(r.get('models', {}))}; "
            f"start: {counts(r.get('starts', {}))}; median gap "
            f"{'–' if median is None else _pct(median, 2)}")


def _speedups(rows: list[Row]) -> None:
    """Reuse against rebuild (1 worker), 2 workers against 1 (same way), and every scenario
    proven within SWEEP_GAP_TARGET: targets judged."""
    by_method = {row.method: row for row in rows}
    pairs = {sweep_method(True, 1): (sweep_method(False, 1), REUSE_TARGET),
             sweep_method(False, 2): (sweep_method(False, 1), WORKERS_TARGET),
             sweep_method(True, 2): (sweep_method(True, 1), WORKERS_TARGET)}
    for row in rows:
        reference, wanted = pairs.get(row.method, (None, None))
        ref = by_method.get(reference) if reference else None
        if ref is not None and ref.total_s and row.total_s:
            row.speedup = ref.total_s / row.total_s
        target = Target(gap=SWEEP_GAP_TARGET, speedup=wanted)
        row.target = target.describe()
        row.target_met = judge(row, target)
        if row.plans is not None and row.scenarios and row.plans < row.scenarios:
            missed = f"plans {row.plans}/{row.scenarios}"
            row.target_met = (f"no: {missed}" if row.target_met == "yes"
                              else f"{row.target_met}, {missed}")


def bench_sweep(bench: SweepBench, out: Path, seed: int, say: Callable[[str], None]) -> list[Row]:
    """Generate the size's dataset (if not there) and time the sweep each way in turn."""
    from optimiser.inputs.generate import generate_dataset

    spec = SIZES[bench.size]
    folder = out / "out" / f"{bench.size}-sweep"
    folder.mkdir(parents=True, exist_ok=True)
    counts = generate_dataset(folder, spec.n_schemes, seed, spec.n_providers)
    say(f"[sweep {bench.size}] {bench.vary}; {bench.settings()}")
    rows = []
    for reuse, workers in bench.runs:
        method = sweep_method(reuse, workers)
        job = _sweep_job(bench, folder, reuse, workers)
        hard = 200 * (bench.time_limit + 30) + bench.base_time_limit + GRACE_SECONDS
        row = _base_row(spec, method, counts, seed)  # the commit the child starts from
        run = run_child("sweep", job, hard, f"[sweep {bench.size}] {method}", say)
        row.time_limit, row.mip_rel_gap, row.workers = bench.time_limit, bench.mip_rel_gap, workers
        row = _fill(row, run)
        if run.result is not None:
            row.scenarios, row.plans = run.result["scenarios"], run.result["plans"]
            row.note = _sweep_note(run.result)
        row.target = ""
        rows.append(row)
        _speedups(rows)
        say(f"[sweep {bench.size}] {method}: {row.status}, total {_num(row.total_s)} s, "
            f"{row.plans}/{row.scenarios} plans, worst gap "
            f"{'–' if row.gap is None else _pct(row.gap, 2)}, speed-up "
            f"{'–' if row.speedup is None else f'{row.speedup:.2f}x'}; {row.note}")
    return rows
