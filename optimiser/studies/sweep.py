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
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import re
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
from pyomo.environ import Var

from optimiser.inputs.config import Scenario, load_scenario
from optimiser.inputs.load import Dataset, InputError, checksum, load_dataset
from optimiser.inputs.params import StaticInfeasibility, derive
from optimiser.model.build import build_model
from optimiser.model.objective import COST_LINES
from optimiser.plan.files import atomic_write, write_csv
from optimiser.plan.tables import HEADLINE_FIGURES, extract_plan
from optimiser.solving.decompose import chosen_method, solve_from_plan
from optimiser.solving.held import Plan, session
from optimiser.solving.highs import INTERRUPTED, STATUS_TEXT, SolveResult
from optimiser.solving.pooled_cover import first_stage, lost_cover

SUBJECT = "The sweep"
DECOMPOSED = "decomposed"  # model column: solved scheme by scheme (docs/decomposition.md)
ONE_AT_A_TIME = "one-at-a-time"
FACTORIAL = "factorial"
MODES = (ONE_AT_A_TIME, FACTORIAL)
CSV_NAME = "sweep.csv"
PARQUET_NAME = "sweep.parquet"
PARQUET_FROM_ROWS = 10_000
SUMMARY_NAME = "summary.txt"
TORNADO_NAME = "tornado.png"
BASE_ID_LABEL = "base"
RANDOM_LABEL = "random"
DEFAULT_SIGMA = 0.1
MIN_VISIT_MINUTES = 5

# Named scalings of input columns: parameter -> (table, columns multiplied).
_RATE_BANDS = ("day", "night", "weekend")
SCALINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    **{f"rates.{band}*": ("providers", (f"block_rate_{band}", f"framework_rate_{band}"))
       for band in _RATE_BANDS},
    "rates.all*": ("providers", tuple(f"{kind}_rate_{band}" for kind in ("block", "framework")
                                      for band in _RATE_BANDS)),
    "demand*": ("visits", ("minutes",)),
    "budgets*": ("residents", ("weekly_budget",)),
    "capacity*": ("providers", ("weekly_capacity_hours",)),
}

# Plan-summary figures copied into each row and charted against each varied parameter.
HEADLINES = (*HEADLINE_FIGURES, "package_hours_per_week")
CHARTED: tuple[str, ...] = (
    "annual_cost", "block_staff_hours_per_week", "framework_providers",
    "night_cover_cost_per_flat_per_week", "preferences_honoured", "mean_satisfaction",
    "onsite_share_of_planned_care",
)
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
# Specs: what to vary and how


@dataclass(frozen=True)
class Vary:
    """One varied parameter and the values it takes, in the order given."""

    param: str
    values: tuple

    @property
    def is_scaling(self) -> bool:
        return self.param in SCALINGS


@dataclass(frozen=True)
class SweepSpec:
    """A whole sweep: the model, what moves, how the moves combine, and random draws."""

    model_file: Path
    varies: tuple[Vary, ...] = ()
    mode: str = ONE_AT_A_TIME
    random: int = 0
    seed: int = 0
    sigma: float = DEFAULT_SIGMA
    fixed: dict[str, object] = field(default_factory=dict)
    # Settings for the first scenario only (the base). Every other scenario starts from the
    # base plan, so a longer time limit or a tighter gap for it pays off many times.
    base_fixed: dict[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return Path(self.model_file).stem


def _bad(spec: str, why: str) -> InputError:
    """A spec mistake as a sentence naming the spec, for the commissioner."""
    return InputError([f"'{spec}': {why}"], SUBJECT)


def _decimal(text: str, spec: str) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise _bad(spec, f"'{text.strip()}' is not a number") from None
    if not number.is_finite():
        raise _bad(spec, f"'{text.strip()}' is not a finite number")
    return number


def _as_number(number: Decimal) -> int | float:
    """Whole decimals written without a point stay integers (counts of providers)."""
    return int(number) if number == number.to_integral_value() and "." not in str(number) \
        else float(number)


def _word(text: str) -> object:
    """A list item as the model file would read it: true/false, a number, else a word."""
    item = text.strip().strip("'\"")
    if item.lower() in ("true", "false"):
        return item.lower() == "true"
    try:
        return _as_number(Decimal(item)) if re.fullmatch(r"[+-]?\d+(\.\d*)?", item) else item
    except InvalidOperation:
        return item


def _stepped(spec: str, text: str) -> tuple:
    """start:stop:step, inclusive of stop when the steps land on it, exact in decimal."""
    parts = text.split(":")
    if len(parts) != 3:
        raise _bad(spec, "a range needs start:stop:step, for example 1.0:1.3:0.05")
    start, stop, step = (_decimal(p, spec) for p in parts)
    if step <= 0:
        raise _bad(spec, "the step of a range must be above zero")
    if stop < start:
        raise _bad(spec, "a range must not end before it starts")
    count = int((stop - start) / step) + 1
    return tuple(_as_number(start + i * step) for i in range(count))


def _integers(spec: str, text: str) -> tuple:
    """a..b: every whole number from a to b inclusive."""
    low, _, high = text.partition("..")
    if not re.fullmatch(r"\s*[+-]?\d+\s*", low) or not re.fullmatch(r"\s*[+-]?\d+\s*", high):
        raise _bad(spec, "an integer range needs whole numbers, for example 2..6")
    if int(high) < int(low):
        raise _bad(spec, "an integer range must not end before it starts")
    return tuple(range(int(low), int(high) + 1))


def parse_values(spec: str, text: str) -> tuple:
    """The values of one SPEC: 1.0:1.3:0.05, 0.9,1.0,1.1, 2..6 or [good,outstanding]."""
    text = text.strip()
    if not text:
        raise _bad(spec, "no values given after '='")
    if text.startswith("["):
        if not text.endswith("]"):
            raise _bad(spec, "a list of words must end with ']'")
        values = tuple(_word(w) for w in text[1:-1].split(",") if w.strip())
    elif ".." in text:
        values = _integers(spec, text)
    elif ":" in text:
        values = _stepped(spec, text)
    else:
        values = tuple(_word(w) for w in text.split(","))
    if not values or any(v == "" for v in values):
        raise _bad(spec, "an empty value in the list")
    if len(set(map(repr, values))) != len(values):
        raise _bad(spec, "a value is listed twice")
    return values


def parse_vary(spec: str) -> Vary:
    """One PARAM=SPEC string, checked: scalings must be positive numbers."""
    param, sep, text = spec.partition("=")
    param = param.strip()
    if not sep or not param:
        raise _bad(spec, "write PARAM=VALUES, for example rates.night*=1.0:1.3:0.05")
    if param.endswith("*") and param not in SCALINGS:
        known = ", ".join(SCALINGS)
        raise _bad(spec, f"'{param}' is not a known scaling (known: {known})")
    if not param.endswith("*") and not re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", param):
        raise _bad(spec, f"'{param}' is neither a scaling nor a model-file key like "
                         "policy.cqc_floor")
    values = parse_values(spec, text)
    if param in SCALINGS and any(
            isinstance(v, bool) or not isinstance(v, int | float) or v <= 0 for v in values):
        raise _bad(spec, "a scaling takes factors above zero, for example 0.9,1.0,1.1")
    return Vary(param, values)


def check_spec(spec: SweepSpec) -> Scenario:
    """Refuse a sweep that cannot run before solving anything: bad mode, repeated parameter,
    or a model-file value the model file would refuse. Returns the base scenario."""
    problems: list[str] = []
    if spec.mode not in MODES:
        problems.append(f"mode '{spec.mode}' is not one of {', '.join(MODES)}")
    params = [v.param for v in spec.varies]
    problems += [f"'{p}' is varied twice" for p in sorted({p for p in params
                                                            if params.count(p) > 1})]
    if spec.random < 0 or not 0 < spec.sigma <= 1:
        problems.append("random scenarios need a count >= 0 and a sigma in (0, 1]")
    if not spec.varies and not spec.random:
        problems.append("nothing to vary: give --vary PARAM=VALUES or --random N")
    if problems:
        raise InputError(problems, SUBJECT)
    base = load_scenario(spec.model_file, spec.fixed)
    if spec.base_fixed:
        load_scenario(spec.model_file, {**spec.fixed, **spec.base_fixed})
    for vary in spec.varies:
        if not vary.is_scaling:
            problems += _key_problems(spec, vary)
    if problems:
        raise InputError(problems, SUBJECT)
    return base


def _key_problems(spec: SweepSpec, vary: Vary) -> list[str]:
    """Each value of a model-file key, tried on the model file (cheap: no data is read)."""
    out = []
    for value in vary.values:
        try:
            load_scenario(spec.model_file, {**spec.fixed, vary.param: value})
        except InputError as exc:
            detail = "; ".join(p.split(": ", 1)[-1] for p in exc.problems)
            out.append(f"'{vary.param}={value}' is refused by the model file: {detail}")
    return out


def load_sweep_file(path: Path | str) -> SweepSpec:
    """Read a sweep file (sweeps/*.toml); the model path is relative to the working folder, the
    sweep file's folder or the folder above it (the project root for sweeps/)."""
    path = Path(path)
    if not path.is_file():
        raise InputError([f"sweep file {path} does not exist"], SUBJECT)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError([f"{path.name}: not a valid TOML file ({exc})"], SUBJECT) from None
    known = {"model", "mode", "vary", "random", "seed", "sigma", "set", "base", "description"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InputError([f"{path.name}: unknown key(s) {', '.join(unknown)}"], SUBJECT)
    if "model" not in raw:
        raise InputError([f"{path.name}: 'model' (the model file) is missing"], SUBJECT)
    model = Path(raw["model"])
    if not model.is_absolute() and not model.is_file():
        for base in (path.parent, path.parent.parent):
            if (base / model).is_file():
                model = base / model
                break
    return SweepSpec(model_file=model, varies=tuple(parse_vary(v) for v in raw.get("vary", [])),
                     mode=raw.get("mode", ONE_AT_A_TIME), random=int(raw.get("random", 0)),
                     seed=int(raw.get("seed", 0)), sigma=float(raw.get("sigma", DEFAULT_SIGMA)),
                     fixed=dict(raw.get("set", {})), base_fixed=dict(raw.get("base", {})))


# ---------------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Task:
    """One scenario as plain data, so it can be sent to another process or machine."""

    scenario_id: str
    model_file: str
    overrides: dict[str, object]
    scalings: dict[str, float]
    values: dict[str, object]
    varied: str = ""
    draw: tuple[int, int, float] | None = None  # (seed, index, sigma) of a random demand draw
    spec_hash: str = ""
    # How to solve (not part of the hash: both ways answer the same question). reuse: keep
    # this process's HiGHS model between scenarios and start from `start`, the base plan.
    reuse: bool = False
    start: Plan | None = None
    keep_plan: bool = False  # return the plan (under PLAN_KEY) to start other scenarios from


def _base_value(base: Scenario, vary: Vary) -> object:
    """The value a parameter has when it is not moved: 1 for a scaling, else the model's."""
    if vary.is_scaling:
        return 1.0
    node: object = base
    for part in vary.param.split("."):
        node = getattr(node, part, None)
    return node


def _moves(spec: SweepSpec) -> Iterator[tuple[str, dict[str, object]]]:
    """(label, values moved) for each scenario before random draws, base first."""
    if spec.mode == FACTORIAL:
        for combo in itertools.product(*(v.values for v in spec.varies)):
            yield FACTORIAL, {v.param: x for v, x in zip(spec.varies, combo, strict=True)}
        return
    yield BASE_ID_LABEL, {}
    for vary in spec.varies:
        for value in vary.values:
            yield vary.param, {vary.param: value}


def _fingerprint(spec: SweepSpec, base: Scenario) -> str:
    """What every scenario's result depends on besides its own moves: the model file's text
    and the dataset's files, so a changed input is never mistaken for a finished scenario."""
    digest = hashlib.sha256(Path(spec.model_file).read_bytes())
    folder = Path(base.dataset)
    for csv in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        digest.update(f"{csv.name}:{checksum(csv)}".encode())
    return digest.hexdigest()


def _hash(fingerprint: str, task: Task) -> str:
    payload = json.dumps({"inputs": fingerprint, "overrides": task.overrides,
                          "scalings": task.scalings, "draw": task.draw},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def plan_scenarios(spec: SweepSpec) -> list[Task]:
    """Every scenario of the sweep, in order, with ids that sort in that order."""
    base = check_spec(spec)
    fixed = {"solver.threads": 1, **spec.fixed}  # one HiGHS thread per scenario
    moves = [*_moves(spec)] if spec.varies else []
    moves += [(RANDOM_LABEL, {}) for _ in range(spec.random)]
    width = max(4, len(str(len(moves))))
    fingerprint = _fingerprint(spec, base)
    tasks = []
    draw_index = 0
    for number, (label, moved) in enumerate(moves):
        values = {v.param: moved.get(v.param, _base_value(base, v)) for v in spec.varies}
        draw = None
        if label == RANDOM_LABEL:
            draw_index += 1
            draw = (spec.seed, draw_index, spec.sigma)
            values["random_draw"] = draw_index
        own = {**fixed, **(spec.base_fixed if number == 0 else {})}
        task = Task(
            scenario_id=f"s{number:0{width}d}", model_file=str(spec.model_file),
            overrides={**own, **{k: v for k, v in moved.items() if k not in SCALINGS}},
            scalings={k: float(v) for k, v in moved.items() if k in SCALINGS},
            values=values, varied=label, draw=draw)
        tasks.append(replace(task, spec_hash=_hash(fingerprint, task)))
    return tasks


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


def write_outputs(table: pd.DataFrame, spec: SweepSpec, folder: Path, charts: bool = True) -> str:
    """Parquet (large tables, if pyarrow is there), charts and summary.txt; returns the
    summary text."""
    if len(table) > PARQUET_FROM_ROWS:
        with contextlib.suppress(ImportError):  # Parquet is optional: CSV is the record
            atomic_write(folder / PARQUET_NAME, lambda p: table.to_parquet(p, index=False))
    if charts:
        sweep_charts(table, spec, folder)
    text = summary_text(table, spec)
    atomic_write(folder / SUMMARY_NAME, lambda p: p.write_text(text, encoding="utf-8"))
    return text


# ---------------------------------------------------------------------------------------------
# Plain-English summary


def _money(value: float) -> str:
    return f"GBP {value:,.0f}"


def _show(value: object) -> str:
    """A varied value as a commissioner would write it (1.15, good, 4)."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _has_plan(row: pd.Series) -> bool:
    return bool(pd.notna(row.get("annual_cost")))


def _series(table: pd.DataFrame, param: str) -> pd.DataFrame:
    """One-at-a-time rows moving one parameter, in the order its values were given."""
    return table[table["varied"] == param]


def _base_row(table: pd.DataFrame) -> pd.Series | None:
    base = table[table["varied"] == BASE_ID_LABEL]
    return base.iloc[0] if len(base) and _has_plan(base.iloc[0]) else None


def cost_ranges(table: pd.DataFrame, spec: SweepSpec) -> list[tuple[str, float, object, object]]:
    """(parameter, range of annual cost in GBP, value at cheapest, value at dearest), largest
    range first. Factorial sweeps use the mean cost at each value (the main effect)."""
    out = []
    for vary in spec.varies:
        if spec.mode == FACTORIAL:
            plans = table[table["annual_cost"].notna()]
            costs = plans.groupby(vary.param, sort=False)["annual_cost"].mean()
        else:
            series = pd.concat([table[table["varied"] == BASE_ID_LABEL],
                                _series(table, vary.param)])  # the base is a point too
            costs = series[series["annual_cost"].notna()].groupby(
                vary.param, sort=False)["annual_cost"].first()
        if len(costs):
            out.append((vary.param, float(costs.max() - costs.min()), costs.idxmin(),
                        costs.idxmax()))
    return sorted(out, key=lambda item: -item[1])


def _block_changes(before: pd.Series, after: pd.Series, at: str) -> list[str]:
    schemes = sorted({c[len("block_"):-len("_provider")] for c in before.index
                      if c.startswith("block_") and c.endswith("_provider")})
    out = []
    for scheme in schemes:
        col = f"block_{scheme}_provider"
        old, new = before.get(col), after.get(col)
        old = None if pd.isna(old) else old
        new = None if pd.isna(new) else new
        if old == new:
            continue
        if old and new:
            out.append(f"{at}, {scheme}'s block moves from {old} to {new}.")
        elif old:
            out.append(f"{at}, {scheme} no longer has a block contract (was {old}).")
        else:
            out.append(f"{at}, {scheme} gets a block contract with {new}.")
    return out


def _step_changes(before: pd.Series, after: pd.Series, param: str) -> list[str]:
    """How the plan's structure differs between two consecutive values of one parameter."""
    at = f"At {param} = {_show(after[param])}"
    if _has_plan(before) != _has_plan(after):
        if _has_plan(after):
            return [f"{at}, a plan exists again."]
        return [f"{at}, there is no plan: {after.get('reason', after.get('status'))}."]
    if not _has_plan(after):
        return []
    out = _block_changes(before, after, at)
    old, new = before.get("framework_providers"), after.get("framework_providers")
    if pd.notna(old) and pd.notna(new) and int(old) != int(new):
        out.append(f"{at}, the framework goes from {int(old)} to {int(new)} provider(s).")
    return out


def structure_changes(table: pd.DataFrame, spec: SweepSpec) -> list[str]:
    """Where the optimal plan's structure changes along each one-at-a-time parameter."""
    if spec.mode == FACTORIAL:
        return []
    out = []
    for vary in spec.varies:
        series = _series(table, vary.param)
        rows = [row for _, row in series.iterrows()]
        for before, after in itertools.pairwise(rows):
            out += _step_changes(before, after, vary.param)
    return out


def _random_lines(table: pd.DataFrame) -> list[str]:
    draws = table[table["varied"] == RANDOM_LABEL]
    costs = draws["annual_cost"].dropna()
    if not len(draws):
        return []
    lines = [f"Random demand: {len(draws)} draw(s), {len(costs)} with a plan."]
    if len(costs):
        low, mid, high = costs.quantile([0.05, 0.5, 0.95])
        lines.append(f"  Annual cost: median {_money(mid)}, 90 % of draws between "
                     f"{_money(low)} and {_money(high)}.")
    return lines


def summary_text(table: pd.DataFrame, spec: SweepSpec) -> str:
    """What a commissioner reads first: which parameters move the cost most, and where the
    plan's structure changes."""
    plans = int(table["annual_cost"].notna().sum()) if "annual_cost" in table else 0
    lines = [f"Sweep of model '{spec.name}' ({spec.mode}): {len(table)} scenario(s), "
             f"{plans} with a plan, {len(table) - plans} without."]
    base = _base_row(table) if spec.mode == ONE_AT_A_TIME and len(table) else None
    if base is not None:
        lines.append(f"Base plan: {_money(base['annual_cost'])} a year.")
    ranges = cost_ranges(table, spec) if len(table) else []
    if ranges:
        lines.append("What moves the annual cost most:")
    for param, spread, cheap, dear in ranges:
        if spread < 0.5:
            lines.append(f"  - {param}: no change in the annual cost.")
            continue
        lines.append(f"  - {param}: a range of {_money(spread)} a year (cheapest at "
                     f"{_show(cheap)}, dearest at {_show(dear)}).")
    changes = structure_changes(table, spec) if len(table) else []
    if changes:
        lines.append("Where the plan's structure changes:")
        lines += [f"  - {change}" for change in changes]
    elif spec.mode == ONE_AT_A_TIME and spec.varies:
        lines.append("The plan's structure (block holders, framework size) does not change.")
    lines += _random_lines(table) if len(table) else []
    failed = table[table["status"].isin(["error", "input error"])] if len(table) else table
    if len(failed):
        lines.append(f"{len(failed)} scenario(s) failed; their reasons are in {CSV_NAME}.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Charts


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _slug(param: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", param.replace("*", "_scale").lower()).strip("_")


def _x(values: pd.Series) -> tuple[list, list[str] | None]:
    """Numeric values plot as they are; words (CQC levels) as evenly spaced categories."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        return list(numeric), None
    return list(range(len(values))), [str(v) for v in values]


def parameter_chart(table: pd.DataFrame, param: str, path: Path) -> None:
    """Annual cost and the headline figures against one parameter (one-at-a-time)."""
    plt = _plt()
    series = _series(table, param)
    x, labels = _x(series[param])
    fig, axes = plt.subplots(2, 4, figsize=(13, 5.5), squeeze=False)
    for ax, metric in zip(axes.flat, CHARTED, strict=False):
        y = pd.to_numeric(series[metric], errors="coerce")
        scale = 1000.0 if metric == "annual_cost" else 1.0
        ax.plot(x, y / scale, marker="o", color="#3b6ea5")
        ax.set_title("annual cost (GBP thousand)" if scale > 1 else metric.replace("_", " "),
                     fontsize=8)
        if labels is not None:
            ax.set_xticks(x, labels, rotation=20, fontsize=7)
        ax.tick_params(labelsize=7)
    axes.flat[-1].axis("off")
    fig.suptitle(f"Plan against {param}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def tornado_chart(table: pd.DataFrame, spec: SweepSpec, path: Path) -> bool:
    """Change in annual cost from the base at the first and last value of each parameter,
    widest bar on top. False (nothing drawn) without a base plan."""
    base = _base_row(table)
    if base is None:
        return False
    bars = []
    for vary in spec.varies:
        series = _series(table, vary.param)
        if len(series) and _has_plan(series.iloc[0]) and _has_plan(series.iloc[-1]):
            low = float(series.iloc[0]["annual_cost"] - base["annual_cost"])
            high = float(series.iloc[-1]["annual_cost"] - base["annual_cost"])
            label = f"{vary.param} ({_show(vary.values[0])} to {_show(vary.values[-1])})"
            bars.append((label, low, high))
    if not bars:
        return False
    bars.sort(key=lambda b: max(abs(b[1]), abs(b[2])))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 1.0 + 0.55 * len(bars)))
    pos = range(len(bars))
    ax.barh(pos, [b[1] / 1000 for b in bars], color="#9bb7d4", label="first value")
    ax.barh(pos, [b[2] / 1000 for b in bars], color="#3b6ea5", label="last value")
    ax.set_yticks(list(pos), [b[0] for b in bars], fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"Change in annual cost from the base ({_money(base['annual_cost'])}), "
                  "GBP thousand")
    ax.set_title("Cost sensitivity")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def sweep_charts(table: pd.DataFrame, spec: SweepSpec, folder: Path) -> list[Path]:
    """The charts a sweep writes: one per parameter and a tornado (one-at-a-time), or one
    histogram of random-draw costs."""
    written = []
    if spec.mode == ONE_AT_A_TIME and len(table):
        for vary in spec.varies:
            path = folder / f"vary_{_slug(vary.param)}.png"
            parameter_chart(table, vary.param, path)
            written.append(path)
        if tornado_chart(table, spec, folder / TORNADO_NAME):
            written.append(folder / TORNADO_NAME)
    costs = table[table["varied"] == RANDOM_LABEL]["annual_cost"].dropna() if len(table) \
        else pd.Series(dtype=float)
    if len(costs):
        plt = _plt()
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.hist(costs / 1000, bins=min(30, max(5, len(costs) // 3)), color="#3b6ea5")
        ax.set_xlabel("Annual cost, GBP thousand")
        ax.set_ylabel("draws")
        ax.set_title("Annual cost under random demand")
        fig.tight_layout()
        fig.savefig(folder / "random_demand.png", dpi=100)
        plt.close(fig)
        written.append(folder / "random_demand.png")
    return written
