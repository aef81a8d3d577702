"""Any single hand edit of a figure in a written plan fails `verify`.

Real plans are solved once per module (a second or two each) under four models that between
them write every table a run can write (support tiers, the framework ranking, cover paid from
pooled budgets). The tables and their numeric columns are discovered from the files, not
listed here, so a table or column added later is covered too; the columns that carry no figure
are declared in optimiser.plan.checks.tables.FREE_TEXT.

Each edit is checked twice: as it is (the table's SHA-256 in run.json then differs), and with
run.json's checksums recomputed, as someone covering their tracks would: the re-derivation
alone must then catch it, except for the few figures only a first-stage solve measured
(CHECKSUM_ONLY).
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from factory import write_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_checks import _rich_dataset as _dataset  # every column of every table gets a figure

from optimiser.inputs.config import Scenario
from optimiser.inputs.load import load_dataset
from optimiser.plan.checks import verify_run
from optimiser.plan.checks.tables import CHECKSUM_ONLY, FREE_TEXT, MANIFEST_KEY, table_checksums
from optimiser.run import solve_file

SHIFTS = {"starts": [7, 14, 22], "lengths": [7, 8, 9]}
MODELS: dict[str, dict] = {
    "plain": {},
    "tiers": {"support_tiers": True, "tier_visits_per_week": [0, 0, 0.25, 1, 7]},
    "ranked": {"call_off_in_rank_order": True},
    "pooled": {"cover_funding": "pooled_budgets", "allow_block_care": False,
               "budget_topup_share": 5.0},
}
DELTAS = (1.0, -1.0, 0.5, 7.0, -3.25, 100.0)


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("edits")
    data = _dataset(root / "data")
    out = {}
    for name, policy in MODELS.items():
        model = write_model(root, data, policy=policy, shifts=SHIFTS, name=name)
        outcome = solve_file(model, root / "results", charts=False)
        assert outcome.written_to is not None, (name, outcome.reasons, outcome.problems)
        out[name] = outcome.written_to
    return out


def _inputs(run: Path):
    scenario = Scenario.model_validate(json.loads((run / "run.json").read_text())["scenario"])
    return load_dataset(scenario.dataset), scenario


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() != ""


def numeric_cells(run: Path) -> dict[tuple[str, str], list[int]]:
    """(table, column) -> rows whose cell is a number, for every CSV the run wrote, leaving
    out the declared free-text columns. summary.csv is long (one figure a row): each metric
    counts as its own column there."""
    cells: dict[tuple[str, str], list[int]] = {}
    for path in sorted(run.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in frame.columns:
            if column in FREE_TEXT:
                continue
            for i, text in frame[column].items():
                if _is_number(text):
                    name = frame.at[i, "metric"] if path.stem == "summary" else column
                    cells.setdefault((path.stem, name), []).append(int(i))
    return cells


def edited_copy(run: Path, dest: Path, table: str, column: str, row: int, delta: float,
                rehash: bool) -> Path:
    copy = Path(shutil.copytree(run, dest))
    path = copy / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    real = "value" if table == "summary" else column
    frame.at[row, real] = f"{float(frame.at[row, real]) + delta:.10g}"
    frame.to_csv(path, index=False, lineterminator="\n")
    if rehash:
        record = json.loads((copy / "run.json").read_text())
        record[MANIFEST_KEY] = table_checksums(copy)
        (copy / "run.json").write_text(json.dumps(record))
    return copy


def test_plans_pass_and_write_every_optional_table(plans: dict[str, Path]) -> None:
    for run in plans.values():
        assert verify_run(run, *_inputs(run)) == []
    written = {p.stem for run in plans.values() for p in run.glob("*.csv")}
    assert {"tiers", "ranking", "cover_funding"} <= written


def test_every_numeric_column_of_every_table_is_re_derived(plans: dict[str, Path],
                                                           tmp_path: Path) -> None:
    """For every table and numeric column any of the plans writes: one random cell edited and
    run.json's checksums recomputed; verify must still fail."""
    chance = random.Random(11)
    missed, seen = [], []
    for edit in column_edits(plans, tmp_path, CHECKSUM_ONLY, lambda rows: (
            chance.choice(rows), chance.choice(DELTAS))):
        seen.append((edit.table, edit.column))
        if not edit.problems:
            missed.append(f"{edit.plan}: {edit.table}.csv row {edit.row + 2} {edit.column} "
                          f"{edit.delta:+g}")
    assert len(seen) > 60
    assert missed == []


@dataclass
class Edit:
    """One cell of a plan edited, checksums recomputed, and what verify then says."""

    plan: str
    table: str
    column: str
    row: int
    delta: float
    problems: list[str]


def column_edits(plans: dict[str, Path], tmp_path: Path, skip, choose) -> Iterator[Edit]:
    """For each (table, column) with a number in any plan (the first plan that has one), one
    cell chosen by choose(rows) -> (row, delta) edited with run.json re-hashed, and verified."""
    seen = set(skip)
    for plan, run in plans.items():
        data, scenario = _inputs(run)
        for (table, column), rows in numeric_cells(run).items():
            if (table, column) in seen:
                continue
            seen.add((table, column))
            row, delta = choose(rows)
            copy = edited_copy(run, tmp_path / f"{plan}-{table}-{column}", table, column, row,
                               delta, rehash=True)
            yield Edit(plan, table, column, row, delta, verify_run(copy, data, scenario))
            shutil.rmtree(copy)


def test_checksum_only_figures_are_covered_by_the_checksums(plans: dict[str, Path],
                                                            tmp_path: Path) -> None:
    for table, column in sorted(CHECKSUM_ONLY):
        run = next(r for r in plans.values() if (table, column) in numeric_cells(r))
        copy = edited_copy(run, tmp_path / table, table, column,
                           numeric_cells(run)[(table, column)][0], 1.0, rehash=False)
        assert f"table: {table}.csv was changed after the plan was made (its SHA-256 differs " \
               "from run.json)" in verify_run(copy, *_inputs(run))


@pytest.fixture(scope="module")
def cell_space(plans: dict[str, Path]) -> list[tuple[str, str, str, int]]:
    return [(plan, table, column, row) for plan, run in plans.items()
            for (table, column), rows in numeric_cells(run).items() for row in rows]


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_single_edit_fails_verify(plans: dict[str, Path], cell_space: list,
                                      tmp_path_factory: pytest.TempPathFactory, data) -> None:
    plan, table, column, row = data.draw(st.sampled_from(cell_space), label="cell")
    delta = data.draw(st.sampled_from(DELTAS), label="delta")
    rehash = data.draw(st.booleans(), label="checksums recomputed") and \
        (table, column) not in CHECKSUM_ONLY
    run = plans[plan]
    dest = tmp_path_factory.mktemp("edit") / run.name
    copy = edited_copy(run, dest, table, column, row, delta, rehash)
    assert verify_run(copy, *_inputs(run)), (plan, table, column, row, delta, rehash)


def _set_cell(run: Path, dest: Path, table: str, row: int, column: str, text: str) -> Path:
    """A copy of the run with one cell overwritten and run.json's checksums recomputed."""
    copy = Path(shutil.copytree(run, dest))
    path = copy / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.at[row, column] = text
    frame.to_csv(path, index=False, lineterminator="\n")
    record = json.loads((copy / "run.json").read_text())
    record[MANIFEST_KEY] = table_checksums(copy)
    (copy / "run.json").write_text(json.dumps(record))
    return copy


def test_edited_tier_and_pooled_budget_are_explained(plans: dict[str, Path],
                                                      tmp_path: Path) -> None:
    """The message names the rule that gives the right figure: tier 1* (monitoring only) has
    no emergency response; Willow House's pool is its residents' budgets (GBP 30 + 200) plus
    the 500 % top-up: 230 x 6 = GBP 1,380."""
    run = plans["tiers"]
    copy = _set_cell(run, tmp_path / "tiers", "tiers", 0, "emergency_response", "True")
    assert verify_run(copy, *_inputs(run)) == [
        "table: tiers.csv row 2 (1): emergency_response is 'True', but the tier (2* and above) "
        "gives 'False'"]
    run = plans["pooled"]
    copy = _set_cell(run, tmp_path / "pooled", "cover_funding", 1, "pooled_budgets", "1381")
    assert verify_run(copy, *_inputs(run)) == [
        "table: cover_funding.csv row 3 (S2): pooled_budgets is 1381, but the residents' "
        "budgets plus top-up gives 1380"]


def test_edited_preference_is_explained(plans: dict[str, Path], tmp_path: Path) -> None:
    """A resident's stated preference copied into allocations.csv names the file it comes from:
    R2 (allocations.csv row 3, framework care from P2) prefers P2 in residents.csv, so the
    row saying P3 is wrong."""
    run = plans["plain"]
    copy = _set_cell(run, tmp_path / "plain", "allocations", 1, "preferred_provider", "P3")
    assert verify_run(copy, *_inputs(run)) == [
        "table: allocations.csv row 3 (R2, framework, P2): preferred_provider is 'P3', but "
        "residents.csv gives 'P2'"]


def test_ranking_rows_are_the_providers_ranked(plans: dict[str, Path], tmp_path: Path) -> None:
    """ranking.csv has one row for each provider passing the CQC floor: P2, P3 and P1 in rank
    order (P4 is rated inadequate). P2's row relabelled as P4's is named both ways, by
    provider."""
    run = plans["ranked"]
    copy = _set_cell(run, tmp_path / "ranked", "ranking", 0, "provider_id", "P4")
    rows = [p for p in verify_run(copy, *_inputs(run)) if p.startswith("table: ranking.csv has")]
    assert rows == ["table: ranking.csv has no row for provider P2",
                    "table: ranking.csv has a row for provider P4, which the plan does not give "
                    "one"]


def test_ranking_figures_name_the_rule_they_come_from(plans: dict[str, Path],
                                                      tmp_path: Path) -> None:
    """P2 is ranked first (row 2 of ranking.csv, as above); written as second, the problem
    names the ranking rule the rank comes from."""
    run = plans["ranked"]
    copy = _set_cell(run, tmp_path / "ranked", "ranking", 0, "rank", "2")
    assert verify_run(copy, *_inputs(run)) == [
        "table: ranking.csv row 2 (P2): rank is 2, but the ranking rule (price and quality) "
        "gives 1"]



# Each figure a table rule re-derives is named with where it comes from: the sentence
# "table: T.csv row N (...): C is X, but WHY gives Y" carries this reason for column C, the
# source a commissioner checks by hand (the other figures have rules of their own: prices,
# cost lines, the rota's shifts, cover, budgets).
REASONS: dict[tuple[str, str], str] = {
    ("allocations", "package_hours"): "the resident's visits in visits.csv (minutes x carers)",
    ("allocations", "weekly_budget"): "residents.csv",
    ("allocations", "satisfaction"):
        "the provider's satisfaction (or direct_payment_satisfaction)",
    ("block_contracts", "min_block_hours"): "the provider's minimum block hours in providers.csv",
    ("block_contracts", "weekly_management_cost"):
        "block_contract_management_per_year / weeks_per_year in costs.csv",
    ("block_contracts", "weekly_staff_hours"): "the rota (staff x hours)",
    ("block_contracts", "day_hours"): "the rota's staff-hours in the day band",
    ("block_contracts", "night_hours"): "the rota's staff-hours in the night band",
    ("block_contracts", "weekend_hours"): "the rota's staff-hours in the weekend band",
    ("block_contracts", "weekly_staff_cost"): "the rota at the block rates",
    ("block_contracts", "residents_block"):
        "the shares of residents' care on the block route at the scheme",
    ("block_contracts", "residents_spot"):
        "the shares of residents' care on the spot route at the scheme",
    ("cover", "min_staff"): "the rules, the rota and the visits",
    ("cover", "planned_load"): "the rules, the rota and the visits",
    ("cover", "double_up_carers"): "the rules, the rota and the visits",
    ("cover", "reserve"): "the rules, the rota and the visits",
    ("cover", "check_visits"): "the rules, the rota and the visits",
    ("cover", "required"): "the rules, the rota and the visits",
    ("cover", "on_duty"): "the rules, the rota and the visits",
    ("cover", "slack"): "the rules, the rota and the visits",
    ("framework", "residents"): "the framework rows of allocations.csv at the provider's rates",
    ("framework", "weekly_paid_hours"):
        "the framework rows of allocations.csv at the provider's rates",
    ("framework", "weekly_care_cost"):
        "the framework rows of allocations.csv at the provider's rates",
    ("framework", "weekly_fixed_cost"):
        "admission over the framework term plus monitoring, a week",
    ("providers", "block_staff_hours"): "the rota and the paid hours of the allocations",
    ("providers", "package_paid_hours"): "the rota and the paid hours of the allocations",
    ("providers", "total_hours"): "the rota and the paid hours of the allocations",
    ("providers", "weekly_capacity_hours"): "providers.csv",
    ("providers", "commissioned_hours"):
        "cover and contact hours under its blocks plus paid hours, by need",
    ("providers", "market_share"): "the provider's commissioned hours over all commissioned hours",
    ("rota", "pattern"): "the shift's day, start and length numbered as the model file lists them",
    ("rota", "staff_hours"): "staff x hours",
    ("rota", "day_hours"): "the shift's hours in the day band x staff",
    ("rota", "night_hours"): "the shift's hours in the night band x staff",
    ("rota", "weekend_hours"): "the shift's hours in the weekend band x staff",
    ("summary", "gap"): "run.json",
    ("summary", "weekly_cost"): "the total of cost_lines.csv",
    ("summary", "annual_cost"): "the weekly total x weeks_per_year",
    ("summary", "solver_objective"): "run.json",
    ("summary", "solver_bound"): "run.json",
    ("summary", "schemes"): "schemes.csv",
    ("summary", "schemes_with_block"): "block_contracts.csv",
    ("summary", "residents_with_care"): "residents.csv",
    ("summary", "package_hours_per_week"): "visits.csv",
    ("summary", "block_staff_hours_per_week"): "the rota",
    ("summary", "onsite_share_of_planned_care"): "the allocations' hours on site over all hours",
    ("summary", "framework_providers"): "framework.csv",
    ("summary", "direct_payments"): "the direct payments in allocations.csv",
    ("summary", "night_cover_cost_per_flat_per_week"): "the rota's night hours at the night rates",
    ("summary", "preferences_stated"): "residents.csv",
    ("summary", "preferences_eligible"): "the model's rules",
    ("summary", "preferences_honoured"): "allocations.csv",
    ("summary", "mean_satisfaction"): "the hours-weighted satisfaction of allocations.csv",
    ("summary", "providers_per_scheme"): "allocations.csv",
    ("tiers", "residents"): "residents.csv and the tier rules",
    ("tiers", "check_visits_per_week"): "the tier rules",
    ("tiers", "check_hours_per_week"): "the tier rules",
    ("tiers", "weekly_check_cost"): "check hours at the block holder's day rate",
    ("ranking", "price"): "the ranking rule (price and quality)",
    ("ranking", "price_score"): "the ranking rule (price and quality)",
    ("ranking", "quality_score"): "the ranking rule (price and quality)",
    ("ranking", "score"): "the ranking rule (price and quality)",
    ("ranking", "rank"): "the ranking rule (price and quality)",
    ("ranking", "residents"): "the framework rows of allocations.csv",
    ("ranking", "weekly_paid_hours"): "the framework rows of allocations.csv",
    ("cover_funding", "flats"): "schemes.csv",
    ("cover_funding", "pooled_budgets"): "the residents' budgets plus top-up",
    ("cover_funding", "care_drawn"): "what allocations.csv draws on budgets",
    ("cover_funding", "team_cost"): "the rota at the block rates",
    ("cover_funding", "restore_cost_annual"): "restore_cost_weekly x weeks_per_year",
}


def test_each_edited_figure_names_where_it_comes_from(plans: dict[str, Path],
                                                      tmp_path: Path) -> None:
    """The first numeric cell of every column REASONS lists, raised by 7 with the checksums
    recomputed: verify names that cell and gives the column's own reason."""
    wrong, seen = [], set()
    for edit in column_edits(plans, tmp_path, CHECKSUM_ONLY, lambda rows: (rows[0], 7.0)):
        if (edit.table, edit.column) not in REASONS:
            continue
        seen.add((edit.table, edit.column))
        real = "value" if edit.table == "summary" else edit.column
        head = f"table: {edit.table}.csv row {edit.row + 2} ("
        whys = {p.split(", but ", 1)[1].rsplit(" gives ", 1)[0] for p in edit.problems
                if p.startswith(head) and f"): {real} is " in p}
        if whys != {REASONS[edit.table, edit.column]}:
            wrong.append(f"{edit.table}.{edit.column}: {sorted(whys)}")
    assert seen == set(REASONS)
    assert wrong == []
