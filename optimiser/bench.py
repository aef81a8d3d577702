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

The issue also sets targets for sweeps: a 100-scenario night-rate sweep on M, reusing the
built model (``optimiser.solving.held``) at least 3x faster than rebuilding each time, and 2 worker
processes at least 1.7x faster than 1. Each sweep measurement is one fresh child running
``optimiser.studies.sweep.run_sweep`` from an empty folder (nothing resumed).

Run ``python -m optimiser.bench`` (``make bench``); ``--quick`` runs S and M with short limits
and a 10-scenario sweep; ``--sweep-only`` runs just the sweep measurements, ``--no-sweep``
skips them. A partial run keeps the other rows of an earlier results.csv.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
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


# --- Children: each measurement in a fresh process ----------------------------------------------


def _peak_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _emit(stage: str) -> None:
    """Tell the parent which stage the child is in, for the progress line."""
    print(PROGRESS + json.dumps({"stage": stage}), flush=True)


class _Laps:
    """Wall-clock laps since the child started, named by stage."""

    def __init__(self) -> None:
        self.start = self._last = time.perf_counter()
        self.times: dict[str, float] = {}

    def lap(self, name: str) -> float:
        now = time.perf_counter()
        self.times[name] = now - self._last
        self._last = now
        return self.times[name]


def child_optimiser(job: dict[str, Any]) -> dict[str, Any]:
    """The full pipeline on one dataset, timed stage by stage; also writes the MPS floor file.

    Imports are inside the function so the HiGHS-alone child never pays for Pyomo's memory.
    """
    laps = _Laps()
    _emit("import")
    from optimiser.inputs.config import SolverOptions, load_scenario
    from optimiser.inputs.load import load_dataset
    from optimiser.inputs.params import StaticInfeasibility, derive
    from optimiser.model.build import build_model
    from optimiser.solving.highs import compile_model

    laps.lap("import")
    _emit("load")
    scenario = load_scenario(job["model_file"], {"dataset": job["dataset"]})
    data = load_dataset(scenario.dataset)
    laps.lap("load")
    _emit("derive")
    try:
        params = derive(data, scenario)
    except StaticInfeasibility as exc:
        return {"status": "infeasible", "solver_status": "static check",
                "note": "; ".join(exc.reasons)[:300], "times": laps.times}
    laps.lap("derive")
    _emit("build")
    model = build_model(params)
    laps.lap("build")
    _emit("hand-off")
    compiled = compile_model(model)
    laps.lap("compile")
    _emit("solve")
    options = SolverOptions(time_limit=job["time_limit"], mip_rel_gap=job["mip_rel_gap"],
                            threads=job["threads"], seed=job["seed"],
                            workers=job.get("workers", 1))
    result = _solve_by_method(compiled, params, options, job)
    run_seconds = laps.lap("run")
    peak = _peak_mib()  # before the MPS write, which is not part of the pipeline
    _emit("write MPS")
    _write_mps(compiled.lp, Path(job["mps_file"]))
    return {
        "status": result.status, "solver_status": result.solver_status,
        "objective": result.objective, "bound": result.bound, "gap": result.gap,
        "nodes": result.nodes, "size": compiled.size, "peak_mib": peak,
        "note": _method_note(result.details, job),
        "times": {**laps.times, "solve": result.solve_seconds,
                  "pass": run_seconds - result.solve_seconds},
        "total_s": sum(laps.times[k] for k in ("import", "load", "derive", "build", "compile",
                                               "run")),
    }


def _solve_by_method(compiled: Any, params: Any, options: Any, job: dict[str, Any]) -> Any:
    """The method `optimiser solve` would choose; the schemes' own solves in worker processes
    or on a Dask LocalCluster started here when the job asks."""
    from optimiser.solving.decompose import chosen_method
    from optimiser.solving.decompose.orchestrate import solve_decomposed
    from optimiser.solving.highs import run_highs

    method = chosen_method(options, params, compiled.size["integer_variables"], compiled.sense)
    if method != "decompose":
        return run_highs(compiled, options, log_file=Path(job["log_file"]))[0]
    if not job.get("dask_workers"):
        return solve_decomposed(compiled, params, options)[0]
    from distributed import LocalCluster

    with LocalCluster(n_workers=job["dask_workers"], threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        options = options.model_copy(update={"scheduler": cluster.scheduler_address})
        return solve_decomposed(compiled, params, options)[0]


def _method_note(details: dict[str, Any], job: dict[str, Any]) -> str:
    """How the run solved: method, price rounds and where the schemes' solves ran."""
    if details.get("method") != "decompose":
        return "single model"
    where = (f"Dask LocalCluster of {job['dask_workers']}" if job.get("dask_workers")
             else f"{job.get('workers', 1)} worker(s)")
    return (f"decompose: {details['blocks']} schemes, {details['rounds']} price round(s), "
            f"{where}, plan from {details['plan_from'] or 'none'}")


def _write_mps(lp: Any, path: Path) -> None:
    """The exact matrix HiGHS was given, as MPS, for the HiGHS-alone floor."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    h.writeModel(str(path))


def _highs_status(h: Any) -> str:
    """HiGHS model status in the optimiser's words.

    Mirrors ``optimiser.solving.highs._status``; duplicated because importing
    ``optimiser.solving.highs`` would load Pyomo into the HiGHS-alone child and spoil its
    peak-memory figure.
    """
    import highspy

    ms = highspy.HighsModelStatus
    status = h.getModelStatus()
    has_solution = h.getInfo().primal_solution_status == 2
    if status == ms.kOptimal:
        return "optimal"
    if status in (ms.kInfeasible, ms.kUnboundedOrInfeasible):
        return "infeasible"
    if status == ms.kUnbounded:
        return "unbounded"
    if status in (ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit, ms.kInterrupt,
                  ms.kMemoryLimit, ms.kObjectiveBound, ms.kObjectiveTarget):
        return "feasible" if has_solution else "no_solution"
    return "error"


def _highs_size(h: Any) -> dict[str, int]:
    """Size of the model HiGHS actually read, to confirm the MPS is the same model."""
    import highspy

    lp = h.getLp()
    integer = sum(1 for t in lp.integrality_ if t != highspy.HighsVarType.kContinuous)
    return {"variables": h.getNumCol(), "integer_variables": integer,
            "constraints": h.getNumRow(), "nonzeros": h.getNumNz()}


def child_highs(job: dict[str, Any]) -> dict[str, Any]:
    """HiGHS alone: read the MPS file and solve it with the same options (the floor)."""
    laps = _Laps()
    _emit("import")
    import highspy

    h = highspy.Highs()
    for name, value in (("log_to_console", False), ("log_file", job["log_file"]),
                        ("time_limit", float(job["time_limit"])),
                        ("mip_rel_gap", float(job["mip_rel_gap"])),
                        ("random_seed", int(job["seed"])), ("threads", int(job["threads"]))):
        h.setOptionValue(name, value)
    laps.lap("import")
    _emit("read MPS")
    h.readModel(job["mps_file"])
    laps.lap("load")
    _emit("solve")
    h.run()
    laps.lap("solve")
    status, info = _highs_status(h), h.getInfo()
    has_plan = status in ("optimal", "feasible")
    objective = float(info.objective_function_value) if has_plan else None
    bound = float(info.mip_dual_bound) if has_plan else None
    return {
        "status": status, "solver_status": h.modelStatusToString(h.getModelStatus()),
        "objective": objective, "bound": bound,
        "gap": _gap(objective, bound), "nodes": int(info.mip_node_count),
        "size": _highs_size(h), "peak_mib": _peak_mib(), "times": laps.times,
        "total_s": sum(laps.times.values()),
    }


def _gap(objective: float | None, bound: float | None) -> float | None:
    """Relative gap as optimiser.solving.highs computes it, so both methods compare alike."""
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)


def child_sweep(job: dict[str, Any]) -> dict[str, Any]:
    """One whole sweep from an empty folder, timed end to end (imports excluded: the same for
    both ways), with what the table says about each scenario."""
    import shutil

    _emit("import")
    from optimiser.studies.sweep import SweepSpec, parse_vary, run_sweep

    folder = Path(job["out"])
    shutil.rmtree(folder, ignore_errors=True)  # never resume: every scenario is solved
    spec = SweepSpec(model_file=Path(job["model_file"]),
                     varies=(parse_vary(job["vary"]),), fixed=job["fixed"],
                     base_fixed=job["base_fixed"])
    _emit("sweep")
    start = time.perf_counter()
    table = run_sweep(spec, folder, workers=job["workers"], reuse=job["reuse"],
                      charts=False,
                      on_done=lambda row, done, total: _emit(f"sweep {done}/{total}")).table
    total = time.perf_counter() - start
    gaps = table["gap"].dropna()
    return {
        "status": "done", "total_s": total, "scenarios": len(table),
        "plans": int(table["annual_cost"].notna().sum()) if "annual_cost" in table else 0,
        "gap": float(gaps.max()) if len(gaps) else None,
        "median_gap": float(gaps.median()) if len(gaps) else None,
        "statuses": table["status"].value_counts().to_dict(),
        "models": table["model"].value_counts().to_dict() if "model" in table else {},
        "starts": table["start"].value_counts().to_dict() if "start" in table else {},
        "solve_s": float(table["seconds"].sum()),
        "peak_mib": _peak_mib(),
    }


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    OPTIMISER: child_optimiser,
    HIGHS_MPS: child_highs,
    "sweep": child_sweep,
}


def _child_main(kind: str, job_file: Path) -> None:
    """Entry point inside a child: run the job, write its result next to the job file."""
    job = json.loads(job_file.read_text(encoding="utf-8"))
    result = CHILDREN[kind](job)
    Path(job["result_file"]).write_text(json.dumps(result), encoding="utf-8")


# --- Parent: run children with a hard limit and a live status line -------------------------------


@dataclass
class ChildRun:
    """What the parent saw of one child: its result, or why there is none."""

    result: dict[str, Any] | None
    status: str = ""
    note: str = ""


def _reader(stream: Any, state: dict[str, Any], tail: deque[str]) -> None:
    """Collect the child's progress lines (stage names) and keep the last lines of any output."""
    for line in stream:
        line = line.rstrip("\n")
        if line.startswith(PROGRESS):
            state["stage"] = json.loads(line[len(PROGRESS):])["stage"]
            state["since"] = time.monotonic()
        elif line.strip():
            tail.append(line)


def _kill(proc: subprocess.Popen[str]) -> None:
    """Kill the child's own process group (it was started in a new session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _watch(proc: subprocess.Popen[str], label: str, hard_limit: float,
           state: dict[str, Any], say: Callable[[str], None]) -> bool:
    """Wait for the child, updating the status line; return False if it hit the hard limit."""
    from rich.console import Console

    console = Console(stderr=True)
    start = last_beat = time.monotonic()
    with console.status(f"{label}: starting") as status:
        while True:
            try:
                proc.wait(timeout=1.0)
                return True
            except subprocess.TimeoutExpired:
                pass
            elapsed = time.monotonic() - start
            if elapsed > hard_limit:
                _kill(proc)
                return False
            status.update(f"{label}: {state['stage']} · {elapsed:.0f} s elapsed "
                          f"(hard limit {hard_limit:.0f} s)")
            if not console.is_terminal and time.monotonic() - last_beat >= 60:
                last_beat = time.monotonic()
                say(f"  {label}: still in {state['stage']}, {elapsed:.0f} s elapsed")


def run_child(kind: str, job: dict[str, Any], hard_limit: float, label: str,
              say: Callable[[str], None]) -> ChildRun:
    """Run one measurement in a fresh Python process; never raises on a crash or a hang."""
    result_file = Path(job["result_file"])
    result_file.unlink(missing_ok=True)
    job_file = result_file.with_suffix(".job.json")
    job_file.write_text(json.dumps(job), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "optimiser.bench", "_child", kind, str(job_file)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
        start_new_session=True,
    )
    state: dict[str, Any] = {"stage": "starting", "since": time.monotonic()}
    tail: deque[str] = deque(maxlen=20)
    reader = threading.Thread(target=_reader, args=(proc.stdout, state, tail), daemon=True)
    reader.start()
    finished = _watch(proc, label, hard_limit, state, say)
    reader.join(timeout=5)
    if not finished:
        return ChildRun(None, "timed out", f"killed after {hard_limit:.0f} s in {state['stage']}")
    if proc.returncode != 0 or not result_file.is_file():
        last = " | ".join(list(tail)[-3:])[-300:]
        return ChildRun(None, "crashed", f"exit {proc.returncode} in {state['stage']}: {last}")
    return ChildRun(json.loads(result_file.read_text(encoding="utf-8")))


# --- Rows, targets and output files -------------------------------------------------------------


def _fill(row: Row, run: ChildRun) -> Row:
    """Copy a child's result into a row and derive the totals and the build share."""
    if run.result is None:
        row.status, row.note = run.status, run.note
        return row
    r = run.result
    row.status, row.solver_status = r["status"], r.get("solver_status", "")
    row.note = r.get("note", "")
    for key in ("objective", "bound", "gap", "nodes", "peak_mib", "total_s"):
        setattr(row, key, r.get(key))
    for key, value in r.get("size", {}).items():
        setattr(row, key, value)
    times = r.get("times", {})
    row.import_s, row.load_s = times.get("import"), times.get("load")
    row.derive_s, row.build_s = times.get("derive"), times.get("build")
    row.solve_s = times.get("solve")
    if "compile" in times:
        row.handoff_s = times["compile"] + times.get("pass", 0.0)
    outside = [t for t in (row.load_s, row.derive_s, row.build_s, row.handoff_s) if t is not None]
    if row.total_s:
        row.build_share = sum(outside) / row.total_s
    return row


def judge(row: Row, target: Target) -> str:
    """'yes', 'no: <which target missed>', or '' when the issue sets no target for the size."""
    if not target.describe():
        return ""
    if row.status in FAILED_STATUSES:
        return f"no: {row.status}"
    missed = []
    if target.gap is not None and (row.gap is None or row.gap > target.gap * (1 + 1e-9)):
        missed.append("gap " + ("none" if row.gap is None else _pct(row.gap, 2)))
    if target.seconds is not None and (row.total_s is None or row.total_s >= target.seconds):
        missed.append(f"total {_num(row.total_s)} s")
    if target.peak_mib is not None and (row.peak_mib is None or row.peak_mib >= target.peak_mib):
        missed.append(f"peak {_num(row.peak_mib, 0)} MiB")
    if (target.build_share is not None and row.method == OPTIMISER
            and (row.build_share is None or row.build_share >= target.build_share)):
        missed.append("build share " + _pct(row.build_share or 0, 0))
    if target.speedup is not None and (row.speedup is None or row.speedup < target.speedup):
        missed.append("speed-up " + ("none" if row.speedup is None else f"{row.speedup:.2f}x"))
    return "yes" if not missed else "no: " + ", ".join(missed)


def _pct(x: float, digits: int = 1) -> str:
    return f"{100 * x:.{digits}f} %"


def _num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def write_csv(rows: Sequence[Row], path: Path) -> None:
    """results.csv: every measured number, one row per size and method."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in asdict(row).items()})


MD_HEADER = ("| size | method | schemes / residents / providers | vars / int / cons | build s "
             "| hand-off s | solve s | total s | build share | peak MiB | status | gap "
             "| target met |")


def _md_line(row: Row) -> str:
    """One markdown table line; build s is load + derive + Pyomo build."""
    build = [t for t in (row.load_s, row.derive_s, row.build_s) if t is not None]
    build_s = sum(build) if row.method == OPTIMISER and build else None
    handoff = row.handoff_s if row.method == OPTIMISER else row.load_s  # MPS read for the floor
    cells = [
        row.size, row.method, f"{row.schemes} / {row.residents} / {row.providers}",
        f"{_num(row.variables, 0)} / {_num(row.integer_variables, 0)} / "
        f"{_num(row.constraints, 0)}",
        _num(build_s, 2), _num(handoff, 2), _num(row.solve_s), _num(row.total_s),
        "–" if row.build_share is None else _pct(row.build_share),
        _num(row.peak_mib, 0), row.status, "–" if row.gap is None else _pct(row.gap, 3),
        (f"{row.target_met} ({row.target})" if row.target else "no target"),
    ]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def markdown_table(rows: Sequence[Row]) -> str:
    """The short table for results.md and the terminal."""
    lines = [MD_HEADER, "|" + "---|" * (MD_HEADER.count("|") - 1)]
    return "\n".join(lines + [_md_line(row) for row in rows])


def _context(rows: Sequence[Row], seed: int) -> str:
    """Where and on what the numbers were measured, so they can be compared later."""
    commits = ", ".join(f"`{c}`" for c in dict.fromkeys(row.commit for row in rows))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"Measured at commit {commits} (+dirty: uncommitted changes to optimiser/ or "
            f"models/ when the run started); seed {seed}; "
            f"{platform.python_implementation()} {platform.python_version()} on "
            f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load} at the end; "
            f"{time.strftime('%Y-%m-%d %H:%M')}.")


def write_markdown(rows: Sequence[Row], path: Path, seed: int,
                   sweep: SweepBench | None = None) -> str:
    """results.md: the tables plus what the columns mean."""
    sizes = [row for row in rows if not _is_sweep(row)]
    sweeps = [row for row in rows if _is_sweep(row)]
    table = markdown_table(sizes) if sizes else ""
    if sweeps:
        table += ("\n\n" if table else "") + sweep_table(sweeps)
    text = "\n".join([
        "# Benchmark results", "", _context(rows, seed), "", table, "",
        "build s = load and validate the CSVs + derive parameters + build the Pyomo model; "
        "hand-off s = compile to matrix form + pass to HiGHS (for highs_mps: read the MPS "
        "file); total s includes Python imports; build share = (build + hand-off) / total. "
        "highs_mps is the floor: HiGHS alone on the same model written as MPS. Targets come "
        "from the issue and are reported, not asserted. Every stage is in results.csv.", "",
        f"Sweeps: {(sweep or SWEEP).vary} on {(sweep or SWEEP).size}, one at a time, "
        f"{(sweep or SWEEP).settings()}. total s "
        "is the whole sweep from an empty folder (Python imports excluded); rebuild builds and "
        "solves every scenario from scratch; reuse keeps each process's HiGHS model where "
        "only numbers change and starts every scenario from the base plan. Speed-ups: reuse "
        "1w against rebuild 1w, 2w against 1w the same way.", "",
    ])
    path.write_text(text, encoding="utf-8")
    return table


def git_state() -> tuple[str, bool]:
    """Short commit and whether the code or models differ from it (numbers depend on both)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "optimiser",
                     "models"))
    return commit, dirty


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


SWEEP_HEADER = ("| sweep | size | scenarios | plans | total s | s per scenario | speed-up "
                "| worst gap | what happened | target met |")


def _sweep_line(row: Row) -> str:
    per = row.total_s / row.scenarios if row.total_s and row.scenarios else None
    cells = [row.method, row.size, _num(row.scenarios, 0), _num(row.plans, 0),
             _num(row.total_s), _num(per), "–" if row.speedup is None else f"{row.speedup:.2f}x",
             "–" if row.gap is None else _pct(row.gap, 2), row.note or row.status,
             f"{row.target_met} ({row.target})" if row.target else "reference"]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def sweep_table(rows: Sequence[Row]) -> str:
    lines = [SWEEP_HEADER, "|" + "---|" * (SWEEP_HEADER.count("|") - 1)]
    return "\n".join(lines + [_sweep_line(row) for row in rows])


def _is_sweep(row: Row) -> bool:
    return row.method.startswith("sweep ")


def read_rows(path: Path) -> list[Row]:
    """Rows of an earlier results.csv (unknown columns ignored, missing ones left empty)."""
    if not path.is_file():
        return []
    kinds = {f.name: f.type for f in fields(Row)}
    out = []
    with path.open(newline="", encoding="utf-8") as handle:
        for raw in csv.DictReader(handle):
            values: dict[str, Any] = {}
            for name, text in raw.items():
                if name not in kinds or text in (None, ""):
                    continue
                kind = str(kinds[name])
                values[name] = (int(float(text)) if kind.startswith("int") else float(text)
                                if kind.startswith("float") else text)
            out.append(Row(**values))
    return out


def merged(previous: Sequence[Row], new: Sequence[Row]) -> list[Row]:
    """New rows replace earlier rows of the same size and method; the rest are kept."""
    measured = {(row.size, row.method) for row in new}
    return [row for row in previous if (row.size, row.method) not in measured] + list(new)


# --- Command line -------------------------------------------------------------------------------


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m optimiser.bench",
        description="Time and measure the optimiser on synthetic S/M/L datasets.",
    )
    parser.add_argument("--sizes", default=None,
                        help="comma-separated sizes (default S,Shireford,M,L,XL)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="dataset generator seed")
    parser.add_argument("--quick", action="store_true",
                        help="S and M only with shorter solver limits (a smoke run)")
    parser.add_argument("--no-floor", action="store_true", help="skip the HiGHS-alone runs")
    parser.add_argument("--sweep-only", action="store_true",
                        help="only the sweep measurements (rebuild vs reuse, 1 vs 2 workers)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep measurements")
    parser.add_argument("--sweep-vary", default=None,
                        help="the sweep's moves instead of the 100 night rates, e.g. "
                             "'rates.night*=1.1:1.9:0.1' (10 scenarios)")
    parser.add_argument("--sweep-runs", default=None,
                        help="which sweep runs, e.g. 'rebuild:1,reuse:1,reuse:2' (default)")
    parser.add_argument("--out", type=Path, default=Path("bench"),
                        help="folder for results.csv/results.md; datasets go in OUT/out/")
    return parser.parse_args(argv)


def _specs(sizes: str | None, quick: bool) -> list[SizeSpec]:
    table = QUICK if quick else SIZES
    by_name = {name.upper(): spec for name, spec in table.items()}
    names = [s.strip().upper() for s in (sizes or ",".join(table)).split(",") if s.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(table)}")
    return [by_name[n] for n in names]


def _sweep_spec(quick: bool, runs: str | None, vary: str | None = None) -> SweepBench:
    """The sweep measurement to run: full or quick, its moves, and which of its runs."""
    bench = QUICK_SWEEP if quick else SWEEP
    if vary is not None:
        bench = replace(bench, vary=vary)
    if runs is None:
        return bench
    chosen = []
    for item in runs.split(","):
        way, _, workers = item.strip().partition(":")
        if way not in ("rebuild", "reuse") or not workers.isdigit() or int(workers) < 1:
            raise SystemExit(f"--sweep-runs: '{item}' is not WAY:WORKERS, e.g. reuse:2")
        chosen.append((way == "reuse", int(workers)))
    return replace(bench, runs=tuple(chosen))


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m optimiser.bench [--sizes S,M,L] [--seed N] [--quick] [--out bench/]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_child"]:
        _child_main(argv[1], Path(argv[2]))
        return
    args = _parse(argv)
    specs = [] if args.sweep_only else _specs(args.sizes, args.quick)
    sweep = None if args.no_sweep else _sweep_spec(args.quick, args.sweep_runs,
                                                     args.sweep_vary)
    commit, dirty = git_state()
    print(f"Benchmark at commit {commit}{' (uncommitted changes)' if dirty else ''}, "
          f"sizes {', '.join(s.name for s in specs) or 'none'}, "
          f"sweep {'no' if sweep is None else 'yes'}, seed {args.seed}", flush=True)
    rows = run_benchmark(specs, args.out, args.seed, floor=not args.no_floor,
                         say=lambda text: print(text, flush=True), sweep=sweep)
    print()
    sizes = [row for row in rows if not _is_sweep(row)]
    if sizes:
        print(markdown_table(sizes))
    if sweep is not None:
        print(sweep_table([row for row in rows if _is_sweep(row)]))
    print(f"\nWritten {args.out / 'results.csv'} and {args.out / 'results.md'}")


if __name__ == "__main__":
    main()
