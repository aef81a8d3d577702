"""The independent plan checker: re-check a written plan against the input data and the rules.

A plan is trusted only if a second, separate derivation agrees with it. This module therefore
never imports the optimiser's own parameter derivation, model, result extraction or solver: it
reads the plan's CSV tables and ``run.json`` as a commissioner would, recomputes time slots, pay
bands, planned-care load, emergency reserve, route prices, budgets and every cost line from the
input tables, and reports each broken rule as one plain-English sentence. The rules are the
contract in docs/model.md; each sentence starts with the rule's name (``cover:``, ``budget:``
...) and names the scheme, provider or resident and the numbers involved.

Only the validated loader (:mod:`optimiser.inputs.load`), the model-file schema
(:mod:`optimiser.inputs.config`) and the table constants (:mod:`optimiser.inputs.schema`) are
shared with the optimiser. The checker has its own Erlang C (:mod:`.erlang`, by a different
computation path), its own CQC-floor rule (:func:`.context.rating_passes`) and reads the shift
patterns from the model file's fields itself (:func:`.contracts.model_shifts`). One module
per rule family; :mod:`.context` re-derives what they all check against.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from optimiser.inputs.config import Scenario, load_scenario
from optimiser.inputs.load import Dataset, InputError, load_dataset
from optimiser.plan.checks.allocation import check_allocation, check_routes
from optimiser.plan.checks.budgets import check_budgets, check_pooled_cover, check_prices
from optimiser.plan.checks.choice import check_choice, check_quality
from optimiser.plan.checks.context import (
    Context,
    Week,
    _cap,
    build_context,
    read_plan_table,
    read_run_record,
    split_visits,
)
from optimiser.plan.checks.contracts import check_blocks, check_rota
from optimiser.plan.checks.costs import check_costs
from optimiser.plan.checks.cover import check_cover
from optimiser.plan.checks.market import check_capacity, check_framework, check_rank_order
from optimiser.plan.checks.tables import check_tables

__all__ = [
    "RULES", "Context", "Week", "build_context", "check_pooled_cover", "read_plan_table",
    "split_visits", "verify_folder", "verify_run",
]

# The rule families in the order docs/model.md lists them; each returns sentences that start
# with their rule's name ("cover:", "budget:" ...).
RULES: tuple[Callable[[Context], list[str]], ...] = (
    check_blocks, check_rota, check_cover, check_allocation, check_routes, check_prices,
    check_budgets, check_pooled_cover, check_capacity, check_framework, check_rank_order,
    check_choice, check_quality, check_costs, check_tables,
)


def _by_rule(problems: Iterable[str]) -> dict[str, list[str]]:
    """Group sentences by their rule prefix so each rule is capped on its own."""
    groups: dict[str, list[str]] = {}
    for problem in problems:
        groups.setdefault(problem.split(":", 1)[0], []).append(problem)
    return groups


def verify_run(folder: Path, data: Dataset, scenario: Scenario) -> list[str]:
    """Every rule the written plan in ``folder`` breaks (empty list: the plan holds)."""
    ctx = build_context(Path(folder), data, scenario)
    problems: list[str] = []
    for rule in RULES:
        for name, group in _by_rule(rule(ctx)).items():
            problems += _cap(name, group)
    return problems


def verify_folder(run_dir: Path, model_file: Path | None = None) -> list[str]:
    """Re-check a run folder against its recorded scenario (or a given model file) and the
    dataset on disk, reporting first any input file changed since the plan was made."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError([f"run folder {run_dir} does not exist"])
    record = read_run_record(run_dir)
    if model_file is not None:
        scenario = load_scenario(model_file)
    else:
        if "scenario" not in record:
            raise InputError(["run.json: has no 'scenario'; give the model file with --model"])
        try:
            scenario = Scenario.model_validate(record["scenario"])
        except ValueError as exc:
            raise InputError([f"run.json: the recorded scenario is not valid ({exc})"]) from None
    data = load_dataset(scenario.dataset)
    return _changed_inputs(data, record) + verify_run(run_dir, data, scenario)


def _changed_inputs(data: Dataset, record: dict) -> list[str]:
    """Input files whose SHA-256 differs from the one recorded when the plan was made."""
    recorded = record.get("input_checksums_sha256")
    if not isinstance(recorded, dict):
        return ["input: run.json records no input checksums; cannot tell whether the input "
                "changed since the plan was made"]
    return [f"input changed since the plan was made: {name}" for name in sorted(data.checksums)
            if recorded.get(name) != data.checksums[name]]
