"""One run end to end: model file -> validated data -> parameters -> model -> solve -> plan
-> independent check -> files. Returns an outcome the CLI turns into words and an exit code."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from optimiser.inputs.config import Scenario, load_scenario
from optimiser.inputs.load import load_dataset
from optimiser.inputs.params import Params, StaticInfeasibility, derive
from optimiser.model.build import build_model
from optimiser.plan.files import run_record, summary_text, write_run
from optimiser.plan.tables import Plan, extract_plan
from optimiser.solving.decompose import solve_model
from optimiser.solving.highs import Progress, SolveResult
from optimiser.solving.pooled_cover import cover_funding_table, first_stage, restore_summary


@dataclass
class Outcome:
    """What happened in a run."""

    scenario: Scenario
    result: SolveResult | None = None
    plan: Plan | None = None
    params: Params | None = None
    written_to: Path | None = None
    reasons: list[str] = field(default_factory=list)  # why no plan, in plain English
    notes: list[str] = field(default_factory=list)  # findings to print beside the plan
    problems: list[str] = field(default_factory=list)  # verification failures
    timings: dict[str, float] = field(default_factory=dict)
    summary: str = ""


class _Clock:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = now - self._last
        self._last = now


def solve_scenario(scenario: Scenario, out_root: Path | None = None, verify: bool = True,
                   charts: bool = True, log_file: Path | None = None,
                   progress: Progress | None = None) -> Outcome:
    """Solve one commissioning model; write its folder under out_root if a plan was found."""
    clock = _Clock()
    outcome = Outcome(scenario=scenario)
    data = load_dataset(scenario.dataset)
    clock.lap("load")
    accounts = None
    if scenario.policy.cover_funding == "pooled_budgets":
        stage = _pool_stage(data, scenario, outcome, log_file, progress)
        clock.lap("pooled_cover_stage")
        if stage is None:
            outcome.timings = clock.times
            return outcome
        scenario, accounts = stage
        outcome.scenario = scenario
    try:
        params = derive(data, scenario)
    except StaticInfeasibility as exc:
        outcome.reasons = exc.reasons
        return outcome
    outcome.params = params
    clock.lap("derive")
    model = build_model(params)
    clock.lap("build")
    result = solve_model(model, params, scenario.solver, log_file=log_file, progress=progress)
    outcome.result = result
    clock.times["compile"] = result.compile_seconds
    clock.times["solve"] = result.solve_seconds
    clock.lap("compile_and_solve")
    if not result.has_plan:
        if result.status == "infeasible":
            from optimiser.solving.diagnose import explain_infeasible

            outcome.reasons = explain_infeasible(data, scenario)
        outcome.timings = clock.times
        return outcome
    outcome.plan = extract_plan(model, params, result)
    if accounts is not None:
        table = cover_funding_table(accounts, outcome.plan, params)
        outcome.plan.extras["cover_funding"] = table
        outcome.notes.append(restore_summary(table))
    clock.lap("extract")
    outcome.summary = "\n".join([summary_text(params, outcome.plan, result), *outcome.notes])
    if out_root is not None:
        destination = Path(out_root) / scenario.name
        record = run_record(params, result, clock.times, outcome.plan)
        record["solve_method"] = result.details
        checker = _verifier(params) if verify else None
        outcome.problems = write_run(destination, outcome.plan, record, checker, charts,
                                     summary=outcome.summary)
        if not outcome.problems:
            outcome.written_to = destination
        clock.lap("write_and_verify")
    outcome.timings = clock.times
    return outcome


def _pool_stage(data, scenario: Scenario, outcome: Outcome, log_file: Path | None,
                progress: Progress | None) -> tuple[Scenario, pd.DataFrame] | None:
    """Stage 1 of cover paid from pooled budgets (optimiser.solving.pooled_cover). None if even
    keeping cover everywhere has no plan (the outcome then says why)."""
    try:
        stage = first_stage(data, scenario, log_file, progress)
    except StaticInfeasibility as exc:
        outcome.reasons = exc.reasons
        return None
    if stage.scenario is None:
        outcome.result, outcome.reasons = stage.result, stage.reasons
        return None
    if not stage.proven:
        outcome.notes.append(
            f"At least {stage.kept} schemes' pooled budgets can pay for their 24-hour cover; the "
            "search stopped before proving that no plan keeps more.")
    return stage.scenario, stage.accounts


def _verifier(params: Params):
    from optimiser.plan.checks import verify_run

    def check(folder: Path) -> list[str]:
        return verify_run(folder, params.data, params.scenario)

    return check


def solve_file(model_file: Path, out_root: Path | None = None, overrides: dict | None = None,
               **kwargs) -> Outcome:
    return solve_scenario(load_scenario(model_file, overrides), out_root, **kwargs)
