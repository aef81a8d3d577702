"""Sensitivity sweeps (`optimiser sweep`): one model file solved under many what-ifs.

A commissioner asks "what if night rates rise 10 %, demand grows, the CQC floor rises?". A
sweep answers by solving the same model many times, each time with some settings moved:
either a key of the model file (``policy.cqc_floor``) or a named scaling of an input column
(``rates.night*`` multiplies every provider's night rates). Each scenario is one row of a
tidy table with its status, cost lines, headline figures and block holders, so the table,
the charts and the plain-English summary all say how robust the plan is.

Scenarios are independent, so they run in-process, in parallel processes or on a Dask
cluster with the same worker function and give the same table. Every finished scenario is
written to disk at once (atomically), so an interrupted sweep resumes where it stopped.

This module solves the scenarios and keeps the table; what is varied and the scenarios
planned from it are in sweep_spec, the summary and charts in sweep_report.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
from pyomo.environ import Var

from optimiser.inputs.config import Scenario, load_scenario
from optimiser.inputs.load import Dataset, InputError, load_dataset
from optimiser.inputs.params import StaticInfeasibility, derive
from optimiser.model.build import build_model
from optimiser.model.objective import COST_LINES
from optimiser.plan.files import atomic_write, write_csv
from optimiser.plan.tables import HEADLINE_FIGURES, extract_plan
from optimiser.solving.decompose import chosen_method, solve_from_plan
from optimiser.solving.held import Plan, session
from optimiser.solving.highs import INTERRUPTED, STATUS_TEXT, SolveResult
from optimiser.solving.pooled_cover import first_stage, lost_cover
from optimiser.studies.sweep_report import CSV_NAME, SUMMARY_NAME, write_outputs
from optimiser.studies.sweep_spec import (
    FACTORIAL,
    ONE_AT_A_TIME,
    SCALINGS,
    SUBJECT,
    SweepSpec,
    Task,
    Vary,
    check_spec,
    load_sweep_file,
    parse_values,
    parse_vary,
    plan_scenarios,
)

__all__ = [  # the sweep's public names, wherever they are defined
    "CSV_NAME", "FACTORIAL", "ONE_AT_A_TIME", "SUMMARY_NAME", "SweepSpec", "Vary", "apply_scalings",
    "check_spec", "load_sweep_file", "parse_values", "parse_vary", "plan_scenarios", "run_sweep",
    "write_outputs",
]

DECOMPOSED = "decomposed"  # model column: solved scheme by scheme (docs/decomposition.md)
MIN_VISIT_MINUTES = 5

# Plan-summary figures copied into each row.
HEADLINES = (*HEADLINE_FIGURES, "package_hours_per_week")
COST_COLUMNS: tuple[str, ...] = tuple(f"annual_{line}" for line in COST_LINES)
LEAD_COLUMNS: tuple[str, ...] = ("scenario_id", "varied")
RESULT_COLUMNS: tuple[str, ...] = (
    "status", "reason", "gap", "objective_weekly", "annual_cost", *COST_COLUMNS, *HEADLINES,
)
TAIL_COLUMNS: tuple[str, ...] = ("model", "start", "seconds", "spec_hash")
START_PLAN_NAME = "start_plan.json"
PLAN_KEY = "_plan"  # a worker's row carries the base plan under this key, never written
_BLOCK_COLUMN = re.compile(r"block_(?P<scheme>.+)_(provider|hours)")


# ---------------------------------------------------------------------------------------------
# The worker: one scenario, from plain data to one flat row


@lru_cache(maxsize=4)
def _dataset(folder: str, stamp: float) -> Dataset:  # noqa: ARG001 - stamp keys the cache
    """Read and validate a dataset once per process; scenarios copy what they change."""
    return load_dataset(folder)


def _scale_columns(frame: pd.DataFrame, columns: Iterable[str], factor: float) -> pd.DataFrame:
    out = frame.copy()
    for col in columns:
        out[col] = out[col] * factor
    return out


def _scale_minutes(visits: pd.DataFrame, factors: pd.Series) -> pd.DataFrame:
    """Visit minutes times a factor, in whole minutes and never under the 5-minute floor."""
    out = visits.copy()
    scaled = (out["minutes"] * factors.to_numpy()).round().clip(lower=MIN_VISIT_MINUTES)
    out["minutes"] = scaled.astype(visits["minutes"].dtype)
    return out


def apply_scalings(data: Dataset, scalings: dict[str, float]) -> Dataset:
    """A copy of the dataset with each named scaling applied (the input stays untouched)."""
    for name, factor in scalings.items():
        table, columns = SCALINGS[name]
        if table == "visits":
            frame = _scale_minutes(data.visits, pd.Series(factor, index=data.visits.index))
        else:
            frame = _scale_columns(getattr(data, table), columns, factor)
        data = replace(data, **{table: frame})
    return data


def draw_demand(data: Dataset, seed: int, index: int, sigma: float) -> Dataset:
    """Each resident's visit minutes times a lognormal draw with median 1 (sigma as given),
    the same for the same (seed, index) on any machine."""
    rng = np.random.default_rng([seed, index])
    residents = sorted(data.residents["resident_id"])
    factors = pd.Series(rng.lognormal(0.0, sigma, size=len(residents)), index=residents)
    return replace(data, visits=_scale_minutes(
        data.visits, data.visits["resident_id"].map(factors).fillna(1.0)))


def _plan_row(plan, weeks: float) -> dict[str, object]:
    """Cost lines, headline figures and block holders of a plan, as flat columns."""
    annual = plan.cost_lines.set_index("line")["annual_gbp"]
    summary = dict(zip(plan.summary["metric"], plan.summary["value"], strict=True))
    row: dict[str, object] = {"annual_cost": float(annual["total"])}
    row.update({f"annual_{line}": float(annual.get(line, 0.0)) for line in COST_LINES})
    row.update({key: summary.get(key) for key in HEADLINES})
    row["objective_weekly"] = round(float(annual["total"]) / weeks, 2)
    for block in plan.block_contracts.itertuples():
        row[f"block_{block.scheme_id}_provider"] = block.provider_id
        row[f"block_{block.scheme_id}_hours"] = round(float(block.weekly_staff_hours), 2)
    return row


def _decomposes(model, params, scenario: Scenario) -> bool:
    """Whether `optimiser solve` would decompose this scenario's model."""
    integers = sum(1 for v in model.component_data_objects(Var, active=True)
                   if v.is_integer() or v.is_binary())
    return chosen_method(scenario.solver, params, integers, 1.0) == "decompose"


def _solve(model, params, scenario: Scenario, task: Task) -> tuple[SolveResult, dict]:
    """Decomposition where `optimiser solve` would use it (its model built afresh, the base
    plan its first incumbent where it meets this scenario's rules), else the held model
    re-solved from the base plan."""
    if _decomposes(model, params, scenario):
        started = solve_from_plan(model, params, scenario.solver,
                                  task.start if task.reuse else None)
        row: dict[str, object] = {"model": DECOMPOSED, "start": started.start}
        if task.keep_plan and started.plan is not None:
            row[PLAN_KEY] = started.plan
        return started.result, row
    solved = session(task.reuse).solve(model, scenario.solver, start=task.start,
                                       routes=params.routes, want_plan=task.keep_plan)
    row = {"model": solved.model, "start": solved.start}
    if solved.plan is not None:
        row[PLAN_KEY] = solved.plan
    return solved.result, row


def _solve_task(task: Task) -> dict[str, object]:
    scenario = load_scenario(task.model_file, task.overrides)
    folder = Path(scenario.dataset)
    data = _dataset(str(folder), folder.stat().st_mtime if folder.exists() else 0.0)
    data = apply_scalings(data, task.scalings)
    if task.draw is not None:
        data = draw_demand(data, *task.draw)
    accounts = None
    if scenario.policy.cover_funding == "pooled_budgets":
        scenario, accounts = _pooled_cover_stage(data, scenario)
    params = derive(data, scenario)
    model = build_model(params)
    result, row = _solve(model, params, scenario, task)
    if result.status == INTERRUPTED:
        raise KeyboardInterrupt  # Ctrl-C stops the sweep; it is not a result to keep
    row.update(status=result.status, gap=result.gap)
    if not result.has_plan:
        row["reason"] = f"{STATUS_TEXT[result.status]} (HiGHS: {result.solver_status})"
        return row
    plan = extract_plan(model, params, result)
    row.update(_plan_row(plan, params.weeks_per_year))
    if accounts is not None:
        row.update(lost_cover(accounts, plan, params.weeks_per_year))
    return row


def _pooled_cover_stage(data: Dataset, scenario: Scenario) -> tuple[Scenario, pd.DataFrame]:
    """Cover paid from pooled budgets is solved in stages (optimiser.solving.pooled_cover): the
    scenario as written, with the most schemes any plan can keep, and the pool accounts."""
    stage = first_stage(data, scenario)
    if stage.scenario is None:
        raise RuntimeError(" ".join(stage.reasons))
    return stage.scenario, stage.accounts


def run_scenario(task: Task) -> dict[str, object]:
    """Solve one scenario and return its row; never raises, so one bad scenario cannot stop
    a sweep: the row then says what went wrong."""
    started = time.perf_counter()
    row: dict[str, object] = {"scenario_id": task.scenario_id, "varied": task.varied,
                              **task.values}
    try:
        row.update(_solve_task(task))
    except StaticInfeasibility as exc:
        row.update(status="infeasible", reason="; ".join(exc.reasons))
    except InputError as exc:
        row.update(status="input error", reason="; ".join(exc.problems))
    except Exception as exc:  # noqa: BLE001 - recorded in the row, the sweep goes on
        row.update(status="error", reason=f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - started, 3)
    row["spec_hash"] = task.spec_hash
    return row


# ---------------------------------------------------------------------------------------------
# The table on disk: atomic after every scenario, resumable




def results_table(rows: Iterable[dict], params: Iterable[str] = ()) -> pd.DataFrame:
    """Rows as one table sorted by scenario id, columns in a fixed order whatever order the
    scenarios finished in (block columns by scheme)."""
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return frame
    lead = [*LEAD_COLUMNS, *params]
    if "random_draw" in frame:
        lead.append("random_draw")
    blocks = sorted((c for c in frame.columns if _BLOCK_COLUMN.fullmatch(c)),
                    key=lambda c: (c.rsplit("_", 1)[0], c.endswith("_hours")))
    order = [*lead, *RESULT_COLUMNS, *blocks, *TAIL_COLUMNS]
    frame = frame.reindex(columns=[*order, *(c for c in frame.columns if c not in order)])
    return frame.sort_values("scenario_id", kind="stable").reset_index(drop=True)


def finished_rows(path: Path, tasks: list[Task]) -> dict[str, dict]:
    """Rows already in the table for a scenario with the same id and the same spec hash."""
    if not path.is_file():
        return {}
    try:
        frame = pd.read_csv(path, dtype={"scenario_id": str, "spec_hash": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return {}
    if not {"scenario_id", "spec_hash"} <= set(frame.columns):
        return {}
    wanted = {t.scenario_id: t.spec_hash for t in tasks}
    out = {}
    for row in frame.to_dict("records"):
        if wanted.get(row["scenario_id"]) == row["spec_hash"]:
            out[row["scenario_id"]] = {k: v for k, v in row.items()
                                       if not (isinstance(v, float) and math.isnan(v))}
    return out


# ---------------------------------------------------------------------------------------------
# Running: in-process, parallel processes, or a Dask cluster


Runner = Callable[[list[Task]], Iterator[dict]]


def _pool_rows(pool: ProcessPoolExecutor, tasks: list[Task]) -> Iterator[dict]:
    futures = [pool.submit(run_scenario, task) for task in tasks]
    for future in as_completed(futures):
        yield future.result()


def _dask_rows(client, tasks: list[Task]) -> Iterator[dict]:
    from distributed import as_completed as dask_completed

    futures = [client.submit(run_scenario, task, key=f"sweep-{task.scenario_id}-"
                             f"{task.spec_hash}", pure=False) for task in tasks]
    for future in dask_completed(futures):
        yield future.result()


@contextlib.contextmanager
def _runner(workers: int, scheduler: str | None, count: int) -> Iterator[Runner]:
    """Where scenarios run: in this process, in spawned processes (no fork: HiGHS and threads
    do not survive a fork cleanly) or on an existing Dask cluster. One runner serves the whole
    sweep, so worker processes keep their HiGHS model from the base scenario to the rest."""
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise InputError(["a scheduler address needs the 'distributed' package installed"],
                             SUBJECT) from None
        client = Client(scheduler)
        try:
            yield lambda tasks: _dask_rows(client, tasks)
        finally:
            client.close()
    elif workers > 1 and count > 1:
        pool = ProcessPoolExecutor(max_workers=min(workers, count),
                                   mp_context=get_context("spawn"))
        try:
            yield lambda tasks: _pool_rows(pool, tasks)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        yield lambda tasks: (run_scenario(task) for task in tasks)


@dataclass
class SweepOutcome:
    """What a sweep did: the table, the scenarios solved now, and where it was written."""

    table: pd.DataFrame
    solved: list[str]
    skipped: list[str]
    folder: Path


def default_out(spec: SweepSpec) -> Path:
    return Path("results") / f"sweep-{spec.name}"


def _saved_plan(folder: Path, base: Task) -> Plan | None:
    """The base plan saved by an earlier run of this sweep, if it is the same base scenario."""
    path = folder / START_PLAN_NAME
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("spec_hash") != base.spec_hash:
        return None
    return saved.get("plan") or None


def _save_plan(folder: Path, base: Task, plan: Plan | None) -> None:
    payload = json.dumps({"spec_hash": base.spec_hash, "plan": plan or {}}, sort_keys=True)
    atomic_write(folder / START_PLAN_NAME, lambda p: p.write_text(payload, encoding="utf-8"))


def _base_first(run: Runner, base: Task, folder: Path) -> tuple[dict | None, Plan | None]:
    """The base plan every other scenario starts from: saved by an earlier run, or solved now
    (its row is returned to be recorded)."""
    plan = _saved_plan(folder, base)
    if plan is not None:
        return None, plan
    row = next(iter(run([replace(base, reuse=True, keep_plan=True)])))
    plan = row.pop(PLAN_KEY, None)
    if plan:
        _save_plan(folder, base, plan)
    return row, plan


def run_sweep(spec: SweepSpec, out: Path | None = None, workers: int = 1,
              scheduler: str | None = None,
              on_done: Callable[[dict, int, int], None] | None = None,
              charts: bool = True, reuse: bool = True) -> SweepOutcome:
    """Solve every scenario not already finished, rewriting sweep.csv after each one, then
    write the charts and summary. on_done(row, done, total) reports progress.

    reuse (the default): the first scenario (the base) is solved first, and every other
    scenario reuses its process's HiGHS model where the structure allows and starts from the
    base plan (optimiser.solving.held). reuse=False builds and solves each scenario from scratch."""
    tasks = plan_scenarios(spec)
    folder = Path(out) if out is not None else default_out(spec)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CSV_NAME
    rows = finished_rows(path, tasks)
    skipped = sorted(rows)
    todo = [t for t in tasks if t.scenario_id not in rows]
    names = [v.param for v in spec.varies]
    solved: list[str] = []
    if on_done is not None and skipped:
        on_done({}, len(rows), len(tasks))

    def record(row: dict) -> None:
        rows[str(row["scenario_id"])] = row
        solved.append(str(row["scenario_id"]))
        table = results_table(rows.values(), names)
        atomic_write(path, lambda p: write_csv(table, p))
        if on_done is not None:
            on_done(row, len(rows), len(tasks))

    with _runner(workers, scheduler, len(todo)) as run:
        if reuse and todo:
            base_row, plan = _base_first(run, tasks[0], folder)
            if base_row is not None:
                record(base_row)
            done_now = {base_row["scenario_id"]} if base_row is not None else set()
            todo = [replace(t, reuse=True, start=plan) for t in todo
                    if t.scenario_id not in done_now]
        for row in run(todo):
            record(row)
    table = results_table(rows.values(), names)
    atomic_write(path, lambda p: write_csv(table, p))
    write_outputs(table, spec, folder, charts=charts)
    return SweepOutcome(table=table, solved=solved, skipped=skipped, folder=folder)
