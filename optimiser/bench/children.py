"""The children: each measurement runs in a fresh process (``python -m optimiser.bench
_child KIND JOB``) so that its peak memory is its own and a crash or hang stays there.
"""

import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optimiser.bench.spec import HIGHS_MPS, OPTIMISER, PROGRESS

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
