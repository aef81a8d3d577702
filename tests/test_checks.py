"""The independent plan checker: solved plans pass; each hand-made corruption is caught by name.

Plans are solved once per module (about a second each) and copied into each test's tmp_path, so
a test can corrupt its copy freely. Rules that depend on the inputs or the model's policy are
exercised by checking an unchanged plan against changed inputs or a stricter policy.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from factory import offsite, provider, resident, scheme, visit, write_dataset, write_model

from optimiser.cli import main
from optimiser.inputs.config import Scenario
from optimiser.inputs.load import Dataset, InputError, load_dataset
from optimiser.inputs.schema import DAYS
from optimiser.plan.checks import Week, read_plan_table, split_visits, verify_folder, verify_run
from optimiser.plan.checks.tables import MANIFEST_KEY, table_checksums
from optimiser.run import solve_file

SHIFTS = {"starts": [7, 14, 22], "lengths": [7, 8, 9]}


# --------------------------------------------------------------------------- plans


def _solve(root: Path, dataset: Path, policy: dict | None = None, shifts: dict | None = None,
           slot_minutes: int | None = None, name: str = "test") -> Path:
    model = write_model(root, dataset, policy=policy, shifts=shifts, name=name)
    if slot_minutes is not None:
        model.write_text(model.read_text().replace(
            "[policy]", f"slot_minutes = {slot_minutes}\n[policy]", 1))
    outcome = solve_file(model, root / "results", verify=False, charts=False)
    assert outcome.written_to is not None, outcome.reasons or outcome.result
    return outcome.written_to


@pytest.fixture(scope="module")
def simple_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scheme, block P1 (24 h shifts), framework P2 with travel, a direct payment."""
    root = tmp_path_factory.mktemp("simple")
    data = write_dataset(
        root / "data",
        providers=[provider(), offsite(provider_id="P2", name="Two", framework_rate_day=10,
                                       travel_minutes_per_visit=15)],
        residents=[resident(),
                   resident(resident_id="R2", preferred_provider="P2", preference_strength="weak"),
                   resident(resident_id="R3", wants_direct_payment="true")],
        visits=[visit(), visit(resident_id="R2", carers=2, minutes=30),
                visit(resident_id="R3", day="Sat")],
    )
    return _solve(root, data)


def _rich_dataset(folder: Path) -> Path:
    """Two schemes and zones, emergency calls, no lone working at night, double-ups under the
    block, a strong preference, a framework provider with travel and fixed costs, an
    inadequate provider, a direct payment, management and coordination costs."""
    return write_dataset(
        folder,
        schemes=[scheme(day_calls_per_hour=2, night_calls_per_hour=1,
                        lone_working_at_night="false"),
                 scheme(scheme_id="S2", name="Willow House", zone="South", day_min_staff=2)],
        providers=[
            provider(zones="North|South", min_block_hours=100, satisfaction=70),
            provider(provider_id="P3", name="Three", zones="South", block_rate_day=18,
                     cqc_rating="outstanding", satisfaction=95),
            offsite(provider_id="P2", name="Two", zones="North|South", framework_rate_day=12,
                    framework_rate_night=20, framework_rate_weekend=14,
                    travel_minutes_per_visit=15, framework_admission_cost=520,
                    framework_monitoring_cost=260, satisfaction=90),
            offsite(provider_id="P4", name="Four", zones="North", framework_rate_day=11,
                    cqc_rating="inadequate"),
        ],
        residents=[
            resident(),
            resident(resident_id="R2", preferred_provider="P2", preference_strength="strong",
                     weekly_budget=60),
            resident(resident_id="R3", wants_direct_payment="true", weekly_budget=50),
            resident(resident_id="R4", scheme_id="S2", weekly_budget=30, preferred_provider="P3",
                     preference_strength="weak"),
            resident(resident_id="R5", scheme_id="S2", weekly_budget=200),
            resident(resident_id="R6", needs_band="none", weekly_budget=0),
        ],
        visits=[
            visit(), visit(day="Sun", start="23:30", minutes=90),
            visit(resident_id="R2", carers=2, minutes=30),
            visit(resident_id="R2", day="Sat", start="07:45", minutes=45),
            visit(resident_id="R3", day="Sat"),
            visit(resident_id="R4", day="Wed", start="22:15", minutes=30, carers=2),
            visit(resident_id="R5", day="Tue", start="08:00", minutes=120, carers=2),
            visit(resident_id="R5", day="Thu", start="12:30"),
        ],
        costs={"coordination_per_provider_scheme_per_week": 5,
               "block_contract_management_per_year": 1040,
               "direct_payment_admin_per_year": 104},
    )


@pytest.fixture(scope="module")
def rich_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rich")
    _rich_dataset(root / "data")
    return root


@pytest.fixture(scope="module")
def rich_plan(rich_root: Path) -> Path:
    return _solve(rich_root, rich_root / "data", shifts=SHIFTS, name="rich")


@pytest.fixture(scope="module")
def pooled_plan(rich_root: Path) -> Path:
    return _solve(rich_root, rich_root / "data", policy={"budget_rule": "pooled"},
                  shifts=SHIFTS, name="pooled")


@pytest.fixture(scope="module")
def half_hour_plan(rich_root: Path) -> Path:
    return _solve(rich_root, rich_root / "data", shifts=SHIFTS, slot_minutes=30,
                  name="half_hour")


# --------------------------------------------------------------------------- helpers


def copy_of(plan: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(plan, tmp_path / plan.name))


def edit(run: Path, table: str, change: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    """Change a plan table by hand, as someone editing the CSV would."""
    path = run / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    changed = change(frame)
    (frame if changed is None else changed).to_csv(path, index=False, lineterminator="\n")
    rehash(run)


def rehash(run: Path) -> None:
    """Record the tables' checksums anew, as someone covering their tracks would, so a test
    sees what the rules themselves find (test_plan_edits.py checks the checksums)."""
    edit_record(run, lambda record: record.update({MANIFEST_KEY: table_checksums(run)}))


def rule_problems(problems: list[str]) -> list[str]:
    """Problems other than figures re-derived for the tables (rule family 12), for tests that
    change the inputs under a plan, which changes those figures too."""
    return [p for p in problems if not p.startswith("table:")]


def edit_record(run: Path, change: Callable[[dict], None]) -> None:
    record = json.loads((run / "run.json").read_text())
    change(record)
    (run / "run.json").write_text(json.dumps(record))


def inputs(run: Path) -> tuple[Dataset, Scenario]:
    scenario = Scenario.model_validate(json.loads((run / "run.json").read_text())["scenario"])
    return load_dataset(scenario.dataset), scenario


def with_policy(scenario: Scenario, **changes: object) -> Scenario:
    return scenario.model_copy(update={"policy": scenario.policy.model_copy(update=changes)})


def with_table(data: Dataset, table: str, key: str, row_id: str, **values: object) -> Dataset:
    frame = getattr(data, table).copy()
    for column, value in values.items():
        frame.loc[frame[key] == row_id, column] = value
    return dataclasses.replace(data, **{table: frame})


def set_cells(run: Path, table: str, where: dict[str, str], **values: str) -> None:
    """Overwrite cells of the rows matching ``where`` (column -> value) in a plan table."""
    def change(frame: pd.DataFrame) -> None:
        rows = np.logical_and.reduce([frame[k] == v for k, v in where.items()])
        assert rows.any(), f"no row of {table}.csv matches {where}"
        for column, value in values.items():
            frame.loc[rows, column] = value

    edit(run, table, change)


# --------------------------------------------------------------------------- solved plans pass


@pytest.mark.parametrize("plan", ["simple_plan", "rich_plan", "pooled_plan", "half_hour_plan"])
def test_solved_plans_pass(plan: str, request: pytest.FixtureRequest) -> None:
    run = request.getfixturevalue(plan)
    assert verify_folder(run) == []
    assert verify_run(run, *inputs(run)) == []


def test_rich_plan_exercises_the_rules_it_claims(rich_plan: Path) -> None:
    """The passing rich plan really has block double-ups, travel, a direct payment, fixed and
    coordination costs and an honoured strong preference, so passing it means something."""
    alloc = pd.read_csv(rich_plan / "allocations.csv")
    cover = pd.read_csv(rich_plan / "cover.csv")
    lines = pd.read_csv(rich_plan / "cost_lines.csv").set_index("line")["weekly_gbp"]
    kinds = set(zip(alloc["resident_id"], alloc["route_kind"], alloc["provider_id"].fillna(""),
                    strict=True))
    assert ("R2", "framework", "P2") in kinds
    assert ("R3", "direct", "") in kinds
    assert {("R4", "block", "P3"), ("R5", "block", "P3")} <= kinds
    assert (cover["double_up_carers"] == 2).sum() >= 3
    assert (cover["reserve"] > 0).any()
    assert lines["framework_fixed"] > 0 and lines["coordination"] > 0
    assert lines["block_management"] > 0


# --------------------------------------------------------------------------- unit pieces


def test_week_bands_and_labels() -> None:
    week = Week(60, 22, 7)
    bands = week.bands()
    assert len(bands) == 168
    assert bands[0] == "night" and bands[7] == "day" and bands[22] == "night"
    assert bands[5 * 24 + 12] == "weekend" and bands[5 * 24 + 23] == "night"
    assert week.label(24 + 2) == "Tue 02:00"
    assert Week(30, 22, 7).label(3) == "Mon 01:30"
    assert list(Week(60, 1, 5).bands()[:6]) == ["day", "night", "night", "night", "night", "day"]


def test_visits_split_over_slots_and_wrap_the_week() -> None:
    sunday_late, monday_early = 6 * 1440 + 23 * 60 + 30, 7 * 60 + 30
    visits = pd.DataFrame({"resident_id": ["R1", "R2"], "at": [sunday_late, monday_early],
                           "minutes": [90, 45], "carers": [2, 1]})
    parts = split_visits(visits, Week(60, 22, 7))
    got = sorted(zip(parts["resident_id"], parts["slot"], parts["staff_minutes"], strict=True))
    assert got == [("R1", 0, 120), ("R1", 167, 60), ("R2", 7, 30), ("R2", 8, 15)]


def test_excel_guard_apostrophe_is_stripped(tmp_path: Path) -> None:
    (tmp_path / "framework.csv").write_text("provider_id,provider_name\n'=P1,'-Care\n")
    table = read_plan_table(tmp_path, "framework")
    assert table.at[0, "provider_id"] == "=P1" and table.at[0, "provider_name"] == "-Care"


# --------------------------------------------------------------------------- folders and inputs


def test_missing_folder_and_table_raise_input_error(simple_plan: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        verify_folder(tmp_path / "nowhere")
    run = copy_of(simple_plan, tmp_path)
    (run / "rota.csv").unlink()
    with pytest.raises(InputError, match=r"rota\.csv: not found"):
        verify_folder(run)


def test_unreadable_number_raises_input_error(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R1"}, share="lots")
    with pytest.raises(InputError, match="allocations.csv: row 2, column 'share' = 'lots'"):
        verify_folder(run)


def test_changed_input_is_reported(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    data = Path(shutil.copytree(inputs(simple_plan)[0].path, tmp_path / "data"))
    edit_record(run, lambda r: r["scenario"].update(dataset=str(data)))
    assert verify_folder(run) == []
    residents = (data / "residents.csv").read_text()
    (data / "residents.csv").write_text(residents.replace("1000", "1001", 1))
    assert verify_folder(run)[0] == "input changed since the plan was made: residents.csv"


def test_run_record_without_input_checksums_is_reported(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    edit_record(run, lambda r: r.pop("input_checksums_sha256"))
    assert verify_folder(run) == [
        "input: run.json records no input checksums; cannot tell whether the input changed "
        "since the plan was made"]


def test_model_file_replaces_recorded_scenario(simple_plan: Path, tmp_path: Path) -> None:
    dataset = inputs(simple_plan)[1].dataset
    model = write_model(tmp_path, dataset, policy={"min_mean_satisfaction": 90},
                        shifts={"starts": [0], "lengths": [24]})
    problems = verify_folder(simple_plan, model)
    assert "quality: hours-weighted mean satisfaction of planned care is 80.00, below the " \
           "model's floor of 90.00" in problems


# --------------------------------------------------------------------------- 1. block contracts


def test_missing_block_contract(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    edit(run, "block_contracts", lambda f: f.iloc[0:0])
    problems = verify_folder(run)
    assert "block: scheme S1 (Oakfield Court) has no block contract, but the model requires " \
           "24-hour cover (require_24h_cover)" in problems


def test_block_holder_must_be_eligible(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    edit(run, "block_contracts", lambda f: f.assign(provider_id="P2"))
    problems = verify_folder(run)
    assert "block: scheme S1 (Oakfield Court) block contract is held by provider P2 (Two), " \
           "which cannot run an on-site team" in problems
    assert any(p.startswith("rota: rota row 2 (S1, P1, Mon 00:00, 24 h): P1 does not hold")
               for p in problems)


def test_block_holder_rating_against_on_site_floor(simple_plan: Path) -> None:
    data, scenario = inputs(simple_plan)
    problems = verify_run(simple_plan, data, with_policy(scenario, onsite_cqc_floor="outstanding"))
    assert "block: scheme S1 (Oakfield Court) block contract is held by provider P1 " \
           "(Provider One), which is rated good, below the on-site CQC floor (outstanding)" \
           in problems


def test_two_block_contracts_at_one_scheme(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    edit(run, "block_contracts", lambda f: pd.concat([f, f.assign(provider_id="P2")]))
    assert "block: scheme S1 (Oakfield Court) has 2 block contracts (P1, P2); at most one is " \
           "allowed" in verify_folder(run)


def test_minimum_viable_block(rich_plan: Path) -> None:
    data, scenario = inputs(rich_plan)
    data = with_table(data, "providers", "provider_id", "P3", min_block_hours=300.0)
    assert "block: scheme S2 (Willow House) block contract with provider P3 (Three) has " \
           "274.00 staff-hours a week, below the provider's minimum viable block of 300.00" \
           in verify_run(rich_plan, data, scenario)
    # Short of the minimum by no more than the solver's tolerance (1e-6) meets it.
    data = with_table(data, "providers", "provider_id", "P3", min_block_hours=274.000001)
    problems = verify_run(rich_plan, data, scenario)
    assert not any(p.startswith("block:") for p in problems), problems


def test_rota_uses_only_model_shift_patterns(rich_plan: Path, tmp_path: Path) -> None:
    run = copy_of(rich_plan, tmp_path)
    set_cells(run, "rota", {"scheme_id": "S1", "day": "Mon", "start": "07:00"}, start="05:00")
    assert "rota: rota row 2 (S1, P1, Mon 05:00, 7 h): not one of the model's shifts (07:00 " \
           "for 7 h, 07:00 for 8 h, 07:00 for 9 h, 14:00 for 7 h, 14:00 for 8 h, 14:00 for 9 h, " \
           "22:00 for 7 h, 22:00 for 8 h, 22:00 for 9 h)" in verify_folder(run)


# --------------------------------------------------------------------------- 2. cover


def test_dropped_rota_row_leaves_slots_uncovered(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    edit(run, "rota", lambda f: f[f["day"] != "Mon"])
    problems = verify_folder(run)
    assert "cover: scheme S1 (Oakfield Court), Mon 02:00: 0 staff on duty, 1 required " \
           "(minimum 1; carers busy at once 0.00 + reserve 0)" in problems
    assert "cover table: cover.csv gives scheme S1 (Oakfield Court), Mon 02:00 1 staff on " \
           "duty; the rota gives 0" in problems
    assert "cost: line onsite_staff is GBP 3,990.00 a week in cost_lines.csv, but the rates " \
           "give GBP 3,420.00" in problems


def test_reserve_counts_on_top_of_planned_care(rich_plan: Path, tmp_path: Path) -> None:
    run = copy_of(rich_plan, tmp_path)
    set_cells(run, "rota", {"scheme_id": "S1", "day": "Mon", "start": "07:00"}, staff="1")
    assert "cover: scheme S1 (Oakfield Court), Mon 10:00: 1 staff on duty, 2 required " \
           "(minimum 1; carers busy at once 0.00 + reserve 2)" in verify_folder(run)


def test_double_up_needs_both_carers(rich_plan: Path, tmp_path: Path) -> None:
    """R4's 22:15 Wednesday visit needs 2 carers at once: 1 on duty is short although the
    planned load of the slot is only 1.00 and the night minimum 1."""
    run = copy_of(rich_plan, tmp_path)
    wed_22 = 2 * 24 + 22

    def one_on_duty(f: pd.DataFrame) -> pd.DataFrame:
        day = f["day"].map({d: i for i, d in enumerate(DAYS)})
        start = day * 24 + f["start"].str[:2].astype(int)
        covers = (wed_22 - start) % 168 < f["hours"].astype(int)
        kept = f[~((f["scheme_id"] == "S2") & covers)]
        night = f[f["scheme_id"] == "S2"].iloc[[0]].assign(day="Wed", start="22:00", hours="9",
                                                          staff="1")
        return pd.concat([kept, night])

    edit(run, "rota", one_on_duty)
    problems = verify_folder(run)
    assert "cover: scheme S2 (Willow House), Wed 22:00: 1 staff on duty, 2 required " \
           "(minimum 1; carers busy at once 2.00 + reserve 0; double-up 2 + reserve 0)" in problems
    assert not any(p.startswith("cover: scheme S2 (Willow House), Wed 23:00") for p in problems)


def test_no_lone_working_at_night_needs_two(simple_plan: Path) -> None:
    data, scenario = inputs(simple_plan)
    data = with_table(data, "schemes", "scheme_id", "S1", lone_working_at_night=False)
    problems = verify_run(simple_plan, data, scenario)
    assert "cover: scheme S1 (Oakfield Court), Mon 00:00: 1 staff on duty, 2 required " \
           "(minimum 2; carers busy at once 0.00 + reserve 0)" in problems
    assert not any("Mon 07:00" in p for p in problems)


def test_cover_table_must_match_the_rules(rich_plan: Path, tmp_path: Path) -> None:
    run = copy_of(rich_plan, tmp_path)
    set_cells(run, "cover", {"scheme_id": "S2", "slot": "32"}, required="1")
    assert "cover table: cover.csv gives scheme S2 (Willow House), Tue 08:00 1 staff " \
           "required; the rules give 2" in verify_folder(run)


def test_cover_table_within_its_tolerance_of_the_rules(tmp_path: Path) -> None:
    # Nobody is needed at night (no night minimum, no calls, no night visits), so the night
    # slots' required staff is 0. cover.csv writing 0.001 there differs from the rules by
    # exactly the cover table's tolerance (1e-3) and is accepted; 0.002 is not.
    data = write_dataset(tmp_path / "data", schemes=[scheme(night_min_staff=0)])
    run = _solve(tmp_path, data)
    cover = pd.read_csv(run / "cover.csv")
    slot = str(int(cover.loc[cover["required"] == 0, "slot"].iloc[0]))

    def said(value: str) -> list[str]:
        copy = copy_of(run, tmp_path / value)
        set_cells(copy, "cover", {"scheme_id": "S1", "slot": slot}, required=value)
        return [p for p in verify_folder(copy)
                if p.startswith("cover table:") and "staff required" in p]
    assert said("0.001") == []
    assert len(said("0.002")) == 1


def test_problems_are_capped_per_rule(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    edit(run, "rota", lambda f: f.iloc[0:0])
    cover = [p for p in verify_folder(run) if p.startswith("cover:")]
    assert len(cover) == 21
    assert re.fullmatch(r"cover: \.\.\. and 148 more problem\(s\) of this kind", cover[-1])
    assert len([p for p in verify_folder(run) if p.startswith("cover table:")]) == 21


# --------------------------------------------------------------------------- 3-4. allocation


def test_share_below_one(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R1"}, share="0.5")
    problems = verify_folder(run)
    assert "allocation: resident R1's shares sum to 0.5, not 1 (every visit must be delivered " \
           "exactly once)" in problems


@pytest.mark.parametrize(("share", "outside"), [
    ("1.000001", False),  # over 1 by exactly the tolerance (1e-6): a solver's rounding
    ("1.00001", True),
    ("0", True),
])
def test_share_outside_zero_to_one(simple_plan: Path, tmp_path: Path, share: str,
                                   outside: bool) -> None:
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R1"}, share=share)
    said = [p for p in verify_folder(run) if "outside (0, 1]" in p]
    assert said == ([f"allocation: resident R1, block route with provider P1: share {share} is "
                     "outside (0, 1]"] if outside else [])

def test_resident_without_allocation(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    edit(run, "allocations", lambda f: f[f["resident_id"] != "R2"])
    assert "allocation: resident R2 at scheme S1 (Oakfield Court) has no allocation for 1.00 " \
           "staff-hours of care a week; every visit must be delivered" in verify_folder(run)


def test_split_without_permission(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)

    def split(f: pd.DataFrame) -> pd.DataFrame:
        r2 = f[f["resident_id"] == "R2"]
        halves = pd.concat([r2.assign(share="0.5", weekly_cost="7.5", budget_draw="7.5"),
                            r2.assign(share="0.5", route_kind="block", provider_id="P1",
                                      weekly_cost="0", budget_draw="0")])
        return pd.concat([f[f["resident_id"] != "R2"], halves])

    edit(run, "allocations", split)
    problems = verify_folder(run)
    assert "allocation: resident R2 has 2 routes, but the model does not allow splitting a " \
           "package (allow_splits = false)" in problems
    assert not any(p.startswith(("price:", "allocation: resident R2's")) for p in problems)


def test_resident_without_care_may_not_appear(rich_plan: Path, tmp_path: Path) -> None:
    run = copy_of(rich_plan, tmp_path)
    edit(run, "allocations", lambda f: pd.concat([f, f.iloc[[0]].assign(resident_id="R6")]))
    assert "allocation: resident R6 appears in allocations.csv but has no care package " \
           "(needs band none)" in verify_folder(run)


def test_unadmitted_framework_provider(rich_plan: Path, tmp_path: Path) -> None:
    run = copy_of(rich_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R1"}, provider_id="P4")
    assert "route: resident R1, framework route with provider P4: provider P4 (Four) is not " \
           "admitted to the framework (framework.csv)" in verify_folder(run)


def test_framework_provider_outside_its_zones(rich_plan: Path, tmp_path: Path) -> None:
    run = copy_of(rich_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R4"}, route_kind="framework", provider_id="P1")
    assert not any(p.startswith("route:") for p in verify_folder(run))
    data, scenario = inputs(run)
    data = with_table(data, "providers", "provider_id", "P1", zones="North")
    problems = verify_run(run, data, scenario)
    assert "route: resident R4, framework route with provider P1: provider P1 (Provider One) " \
           "does not serve zone South" in problems


def test_framework_route_below_cqc_floor(simple_plan: Path) -> None:
    data, scenario = inputs(simple_plan)
    data = with_table(data, "providers", "provider_id", "P2", cqc_rating="inadequate")
    problems = verify_run(simple_plan, data, scenario)
    assert "route: resident R2, framework route with provider P2: provider P2 (Two) is rated " \
           "inadequate, below the CQC floor (requires_improvement)" in problems
    assert "framework: admitted provider P2 (Two) is rated inadequate, below the CQC floor " \
           "(requires_improvement)" in problems


def test_block_route_needs_the_block_holder(rich_plan: Path, tmp_path: Path) -> None:
    run = copy_of(rich_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R4"}, provider_id="P1")
    assert "route: resident R4, block route with provider P1: P1 does not hold the block " \
           "contract at scheme S2 (Willow House) (held by P3)" in verify_folder(run)


def test_block_route_at_a_scheme_without_a_block(rich_plan: Path, tmp_path: Path) -> None:
    # S2's block contract taken out of block_contracts.csv: R4's care under P3's block there
    # has no block to be under.
    run = copy_of(rich_plan, tmp_path)
    edit(run, "block_contracts", lambda f: f[f["scheme_id"] != "S2"])
    assert "route: resident R4, block route with provider P3: P3 does not hold the block " \
           "contract at scheme S2 (Willow House) (not awarded)" in verify_folder(run)


def test_direct_payment_only_on_request(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R1"}, route_kind="direct", provider_id="")
    assert "route: resident R1, direct payment: the resident has not asked for a direct " \
           "payment (direct_payments = on_request)" in verify_folder(run)


# --------------------------------------------------------------------------- 5-6. prices, budgets


def test_raised_weekly_cost(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R2"}, weekly_cost="20")
    problems = verify_folder(run)
    assert "price: resident R2, framework route with provider P2: weekly_cost GBP 20.00 in " \
           "allocations.csv, but the rates give GBP 15.00 (share 1 x GBP 15.00)" in problems


def test_spot_route_priced_without_travel(simple_plan: Path, tmp_path: Path) -> None:
    """R2's double-up (2 carers x 30 min, weekday) bought from the on-site provider at GBP 25
    an hour costs GBP 25.00 however much travel the provider would charge off site."""
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R2"}, route_kind="spot", provider_id="P1",
              weekly_cost="25", budget_draw="26")
    data, scenario = inputs(run)
    data = with_table(data, "providers", "provider_id", "P1", travel_minutes_per_visit=30.0)
    problems = verify_run(run, data, scenario)
    assert [p for p in problems if p.startswith(("price:", "route:"))] == [
        "price: resident R2, spot route with provider P1: budget_draw GBP 26.00 in "
        "allocations.csv, but the rates give GBP 25.00 (share 1 x GBP 25.00)"]
    assert "cost: line onsite_spot is GBP 0.00 a week in cost_lines.csv, but the rates give " \
           "GBP 25.00" in problems
    closed = verify_run(run, data, with_policy(scenario, allow_onsite_spot=False))
    assert "route: resident R2, spot route with provider P1: the model does not allow this " \
           "route (allow_onsite_spot = false)" in closed


def test_direct_payment_price_and_draw(rich_plan: Path, tmp_path: Path) -> None:
    """A direct payment costs hours x rate plus weekly admin; the budget bears only the first."""
    run = copy_of(rich_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R3"}, budget_draw="24")
    assert "price: resident R3, direct payment: budget_draw GBP 24.00 in allocations.csv, but " \
           "the rates give GBP 22.00 (share 1 x GBP 22.00)" in verify_folder(run)


def test_direct_payment_price_is_not_paid_on_outcomes(simple_plan: Path, tmp_path: Path) -> None:
    """Outcome payments reshape hourly routes only: R3's direct payment (Sat, 60 min at the
    GBP 22 direct-payment rate, no admin) still costs 1 x 22 = GBP 22.00 with half of every
    hourly payment at risk, so a weekly_cost of 30 is named against 22."""
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R3"}, weekly_cost="30")
    data, scenario = inputs(run)
    problems = verify_run(run, data, with_policy(scenario, outcome_payment_share=0.5))
    assert "price: resident R3, direct payment: weekly_cost GBP 30.00 in allocations.csv, but " \
           "the rates give GBP 22.00 (share 1 x GBP 22.00)" in problems


def test_individual_budget_exceeded(simple_plan: Path) -> None:
    data, scenario = inputs(simple_plan)
    data = with_table(data, "residents", "resident_id", "R2", weekly_budget=10.0)
    assert "budget: resident R2 draws GBP 15.00 a week, above budget GBP 10.00 plus 10 % " \
           "top-up (GBP 11.00)" in verify_run(simple_plan, data, scenario)
    # Over budget by no more than the solver's tolerance (1e-6) is within it.
    data = with_table(data, "residents", "resident_id", "R2", weekly_budget=14.999999)
    problems = verify_run(simple_plan, data, with_policy(scenario, budget_topup_share=0.0))
    assert not any(p.startswith("budget:") for p in problems), problems


def test_pooled_budget_exceeded(pooled_plan: Path) -> None:
    data, scenario = inputs(pooled_plan)
    for rid in ("R1", "R2", "R3"):
        data = with_table(data, "residents", "resident_id", rid, weekly_budget=10.0)
    alloc = pd.read_csv(pooled_plan / "allocations.csv")
    draw = alloc.loc[alloc["scheme_id"] == "S1", "budget_draw"].sum()
    assert draw > 33
    problems = verify_run(pooled_plan, data, scenario)
    assert f"budget: scheme S1 (Oakfield Court) packages draw GBP {draw:,.2f} a week, above " \
           "the pooled budgets GBP 30.00 plus 10 % top-up (GBP 33.00)" in problems
    assert not any(p.startswith("budget: resident") for p in problems)


def test_no_budget_rule_checks_nothing(simple_plan: Path) -> None:
    data, scenario = inputs(simple_plan)
    data = with_table(data, "residents", "resident_id", "R2", weekly_budget=10.0)
    assert rule_problems(verify_run(simple_plan, data, with_policy(scenario, budget_rule="none"))) \
        == []


# --------------------------------------------------------------------------- 7-8. market


def test_capacity_exceeded(simple_plan: Path) -> None:
    data, scenario = inputs(simple_plan)
    data = with_table(data, "providers", "provider_id", "P2", weekly_capacity_hours=1.0)
    assert "capacity: provider P2 (Two) supplies 1.50 hours a week, above its capacity of 1.00" \
        in verify_run(simple_plan, data, scenario)


def test_market_share_cap(simple_plan: Path) -> None:
    data, scenario = inputs(simple_plan)
    problems = verify_run(simple_plan, data, with_policy(scenario, max_provider_share=0.5))
    # P1: 168 cover hours + R1's 1 hour under the block; P2: R2's 1 staff-hour + 0.5 h travel.
    assert problems == ["market share: provider P1 (Provider One) supplies 169.00 of 170.50 "
                        "commissioned hours (99.12 %), above the 50 % cap"]


def test_outcome_payment_counts_the_hours_of_a_provider_not_listed(simple_plan: Path,
                                                                   tmp_path: Path) -> None:
    """R2's care moved to a spot route with P9, which providers.csv does not list, under a
    model paying half the price on outcomes without reablement. P9 has no achievement rate,
    but without reablement the hours paid do not depend on it: R2's 2 carers x 30 min = 1 hour
    a week (spot: no travel), as when paying by the hour. So P9 is commissioned 1 hour and
    needs a row in providers.csv, and P1's share is 169 / (169 + 1) = 0.994118."""
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R2"}, route_kind="spot", provider_id="P9")
    data, scenario = inputs(run)
    problems = verify_run(run, data, with_policy(scenario, outcome_payment_share=0.5))
    assert "table: providers.csv has no row for provider P9" in problems
    assert "table: providers.csv row 2 (P1): market_share is 0.991202, but the provider's " \
           "commissioned hours over all commissioned hours gives 0.994118" in problems
    assert problems == verify_run(run, data, scenario)


def test_deleted_framework_row(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    edit(run, "framework", lambda f: f[f["provider_id"] != "P2"])
    assert "route: resident R2, framework route with provider P2: provider P2 (Two) is not " \
           "admitted to the framework (framework.csv)" in verify_folder(run)


def test_framework_providers_per_zone(rich_plan: Path) -> None:
    data, scenario = inputs(rich_plan)
    admitted = pd.read_csv(rich_plan / "framework.csv")["provider_id"].tolist()
    zones = data.providers.set_index("provider_id")["zones"].str.split("|")
    members = {z: [p for p in admitted if z in zones[p]] for z in ("North", "South")}
    fewest = min(members, key=lambda z: len(members[z]))
    most = max(members, key=lambda z: len(members[z]))
    assert len(members[fewest]) < len(members[most])  # so each bound picks out one zone
    low = verify_run(rich_plan, data, with_policy(
        scenario, min_framework_per_zone=len(members[fewest]) + 1))
    assert low == [f"framework: zone {fewest} has {len(members[fewest])} admitted framework "
                   f"provider(s) ({', '.join(members[fewest])}), fewer than the minimum of "
                   f"{len(members[fewest]) + 1}"]
    high = verify_run(rich_plan, data, with_policy(
        scenario, max_framework_per_zone=len(members[most]) - 1))
    assert high == [f"framework: zone {most} has {len(members[most])} admitted framework "
                    f"provider(s) ({', '.join(members[most])}), more than the maximum of "
                    f"{len(members[most]) - 1}"]


def test_admitted_provider_below_cqc_floor(rich_plan: Path, tmp_path: Path) -> None:
    run = copy_of(rich_plan, tmp_path)
    edit(run, "framework", lambda f: pd.concat([f, f.iloc[[0]].assign(provider_id="P4")]))
    problems = rule_problems(verify_folder(run))
    assert problems == ["framework: admitted provider P4 (Four) is rated inadequate, below the "
                        "CQC floor (requires_improvement)"]



def test_admitted_provider_missing_from_providers_csv(rich_plan: Path, tmp_path: Path) -> None:
    # framework.csv admits P9, which providers.csv does not list: the one problem named.
    run = copy_of(rich_plan, tmp_path)
    edit(run, "framework", lambda f: pd.concat([f, f.iloc[[0]].assign(provider_id="P9")]))
    problems = rule_problems(verify_folder(run))
    assert problems == ["framework: admitted provider P9 is not in providers.csv"]

# --------------------------------------------------------------------------- 9-10. choice, quality


def _reassign(run: Path, rid: str, kind: str, pid: str) -> None:
    """Move a resident's whole package to another route, with a consistent price of 0 for block."""
    set_cells(run, "allocations", {"resident_id": rid}, route_kind=kind, provider_id=pid,
              weekly_cost="0", budget_draw="0")


def test_strong_preference_must_be_honoured(rich_plan: Path, tmp_path: Path) -> None:
    run = copy_of(rich_plan, tmp_path)
    _reassign(run, "R2", "block", "P1")
    problems = verify_folder(run)
    assert "choice: resident R2 strongly prefers provider P2 (Two), an eligible provider, but " \
           "only 0 of the package is with it" in problems
    data, scenario = inputs(run)
    relaxed = verify_run(run, data, with_policy(scenario, honour_strong_preferences=False))
    assert not any(p.startswith("choice:") for p in relaxed)
    # R2's package with P2 short of whole by exactly the solver's tolerance (1e-6) honours it.
    close = copy_of(rich_plan, tmp_path / "close")
    set_cells(close, "allocations", {"resident_id": "R2"}, share="0.999999")
    problems = verify_folder(close)
    assert not any(p.startswith("choice:") for p in problems), problems


def test_ineligible_strong_preference_need_not_be_honoured(rich_plan: Path,
                                                           tmp_path: Path) -> None:
    """Under individual budgets a preferred provider dearer than the budget cap is not eligible."""
    run = copy_of(rich_plan, tmp_path)
    _reassign(run, "R2", "block", "P1")
    data, scenario = inputs(run)
    data = with_table(data, "residents", "resident_id", "R2", weekly_budget=20.0)
    assert not any(p.startswith("choice:") for p in verify_run(run, data, scenario))


def test_strong_preference_for_an_on_site_provider(rich_plan: Path, tmp_path: Path) -> None:
    """Without the framework, P1 could only serve Willow House on site: a strong preference for
    it does not award it the block, but P3, which holds the block, must be honoured."""
    run = copy_of(rich_plan, tmp_path)
    _reassign(run, "R5", "spot", "P3")
    data, scenario = inputs(run)
    closed = with_policy(scenario, allow_framework=False)

    def choices(preferred: str) -> list[str]:
        prefs = with_table(data, "residents", "resident_id", "R5", preferred_provider=preferred,
                           preference_strength="strong")
        return [p for p in verify_run(run, prefs, closed) if p.startswith("choice:")]

    assert choices("P1") == []
    assert choices("P3") == []
    _reassign(run, "R5", "block", "P1")
    assert choices("P3") == ["choice: resident R5 strongly prefers provider P3 (Three), an "
                             "eligible provider, but only 0 of the package is with it"]


def test_strong_preference_for_on_site_spot_care_counts_only_within_the_budget(
        simple_plan: Path, tmp_path: Path) -> None:
    """Without block care or the framework, R1's strong preference for P1 is eligible only as
    on-site spot care, which costs 1 h x GBP 25 = 25 a week: within a budget of 30 (cap 33 with
    the 10 % top-up), not within one of 20 (cap 22). R2's preference for P2 (framework only)
    is then not eligible, so the summary's count of eligible preferences (1, written under the
    plan's own model) is right with the budget of 30 and wrong with 20."""
    run = copy_of(simple_plan, tmp_path)
    _reassign(run, "R1", "framework", "P2")
    data, scenario = inputs(run)
    spot_only = with_policy(scenario, allow_block_care=False, allow_onsite_spot=True,
                            allow_framework=False)

    def said(budget: float) -> list[str]:
        prefs = with_table(data, "residents", "resident_id", "R1", preferred_provider="P1",
                           preference_strength="strong", weekly_budget=budget)
        return [p for p in verify_run(run, prefs, spot_only) if p.startswith("choice:")
                or "preferences_eligible" in p or "cannot be re-derived" in p]

    assert said(30.0) == ["choice: resident R1 strongly prefers provider P1 (Provider One), an "
                          "eligible provider, but only 0 of the package is with it"]
    assert said(20.0) == ["table: summary.csv row 19 (preferences_eligible): value is 1, but "
                          "the model's rules gives 0"]


def test_direct_payment_is_the_choice(simple_plan: Path) -> None:
    """R3 takes the direct payment it asked for, so its preference for P2 need not be met."""
    data, scenario = inputs(simple_plan)
    data = with_table(data, "residents", "resident_id", "R3", preferred_provider="P2",
                      preference_strength="strong")
    assert rule_problems(verify_run(simple_plan, data,
                                    with_policy(scenario, min_preference_share=1.0))) == []
    asks_not = with_table(data, "residents", "resident_id", "R3", wants_direct_payment=False)
    assert "choice: resident R3 strongly prefers provider P2 (Two), an eligible provider, but " \
           "only 0 of the package is with it" in verify_run(simple_plan, asks_not, scenario)


def test_minimum_share_of_preferences(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    _reassign(run, "R2", "block", "P1")
    data, scenario = inputs(run)
    problems = verify_run(run, data, with_policy(scenario, min_preference_share=1.0))
    assert "choice: 0 of 1 eligible stated preferences honoured; the model requires at least 1 " \
           "(100 %)" in problems
    assert not any(p.startswith("choice:") for p in verify_run(run, data, scenario))
    # A share short of the need by no more than the solver's tolerance (1e-6) meets it.
    close = copy_of(simple_plan, tmp_path / "close")
    set_cells(close, "allocations", {"resident_id": "R2"}, share="0.999999")
    problems = verify_run(close, data, with_policy(scenario, min_preference_share=1.0))
    assert not any(p.startswith("choice:") for p in problems), problems


def test_direct_payment_request_honoured(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    _reassign(run, "R3", "block", "P1")
    assert "choice: resident R3 asked for a direct payment, which the model allows, but 0 of " \
           "the package is a direct payment (must be 1)" in verify_folder(run)
    data, scenario = inputs(run)
    never = verify_run(run, data, with_policy(scenario, direct_payments="never"))
    assert not any(p.startswith("choice:") for p in never)
    # GBP 22 a week does not fit a GBP 10 budget plus 10 %: the request cannot be granted
    poor = with_table(data, "residents", "resident_id", "R3", weekly_budget=10.0)
    assert not any(p.startswith("choice:") for p in verify_run(run, poor, scenario))
    # ... but fits a GBP 20 budget plus 10 % to the penny: the request must be granted
    exact = with_table(data, "residents", "resident_id", "R3", weekly_budget=20.0)
    assert "choice: resident R3 asked for a direct payment, which the model allows, but 0 of " \
           "the package is a direct payment (must be 1)" in verify_run(run, exact, scenario)


def test_mean_satisfaction_floor(rich_plan: Path) -> None:
    data, scenario = inputs(rich_plan)
    # staff-hours: R1 2.5 and R2 1.75 at 90 (P2), R3 1 at 80 (direct payment), R4 1 and R5 5
    # at 95 (P3): 1032.5 / 11.25 = 91.78
    assert verify_run(rich_plan, data, with_policy(scenario, min_mean_satisfaction=91.7)) == []
    assert verify_run(rich_plan, data, with_policy(scenario, min_mean_satisfaction=92)) == [
        "quality: hours-weighted mean satisfaction of planned care is 91.78, below the model's "
        "floor of 92.00"]


# --------------------------------------------------------------------------- 11. costs


def test_cost_line_changed(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "cost_lines", {"line": "framework_care"}, weekly_gbp="16")
    # The annual figure (780 = 15 x 52) no longer matches the edited week either.
    assert verify_folder(run) == ["cost: line framework_care is GBP 16.00 a week in "
                                  "cost_lines.csv, but the rates give GBP 15.00",
                                  "cost: line framework_care is GBP 780.00 a year in "
                                  "cost_lines.csv, but GBP 16.00 a week x 52 weeks is "
                                  "GBP 832.00"]


def test_cost_line_missing(simple_plan: Path, tmp_path: Path) -> None:
    # R2's 30-minute double-up with P2: 2 carers x (30 + 15 minutes' travel) = 1.5 h x GBP 10.
    run = copy_of(simple_plan, tmp_path)
    edit(run, "cost_lines", lambda f: f[f["line"] != "framework_care"])
    assert "cost: cost_lines.csv has no line 'framework_care' (recomputed GBP 15.00 a week)" \
        in verify_folder(run)


def test_total_and_annual_lines(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "cost_lines", {"line": "total"}, weekly_gbp="4030", annual_gbp="1")
    problems = verify_folder(run)
    assert "cost: line total is GBP 4,030.00 a week in cost_lines.csv, but the rates give " \
           "GBP 4,027.00" in problems
    assert "cost: line total is GBP 1.00 a year in cost_lines.csv, but GBP 4,030.00 a week x " \
           "52 weeks is GBP 209,560.00" in problems


def test_large_figures_allow_floating_point_noise(simple_plan: Path, tmp_path: Path) -> None:
    # A figure may differ from the re-derived one by half a unit of its last written digit
    # plus 1e-9 of its size: an annual cost of 209,404 written as 209404.0002 is 0.0002 off,
    # within 0.00005 + 0.000209; written as 209404.0003 it is not.
    run = copy_of(simple_plan, tmp_path / "a")
    set_cells(run, "summary", {"metric": "annual_cost"}, value="209404.0002")
    assert verify_folder(run) == []
    run = copy_of(simple_plan, tmp_path / "b")
    set_cells(run, "summary", {"metric": "annual_cost"}, value="209404.0003")
    assert verify_folder(run) == ["table: summary.csv row 6 (annual_cost): value is 209404, but "
                                  "the weekly total x weeks_per_year gives 209404"]


def test_summary_metric_twice_missing_or_misnamed(simple_plan: Path, tmp_path: Path) -> None:
    """summary.csv with 'schemes' listed twice (both rows right: 1 scheme), 'gap' and
    'framework_providers' left out, and the model's name (row 2) written 'other' where run.json
    names the model 'test': each is said, the missing metrics in the summary's own order."""
    run = copy_of(simple_plan, tmp_path)

    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame["metric"] == "model", "value"] = "other"
        frame = frame[~frame["metric"].isin(["gap", "framework_providers"])]
        return pd.concat([frame, frame[frame["metric"] == "schemes"]])

    edit(run, "summary", change)
    assert verify_folder(run) == [
        "table: summary.csv lists metric schemes twice",
        "table: summary.csv has no metric 'gap'",
        "table: summary.csv has no metric 'framework_providers'",
        "table: summary.csv row 2 (model): value is 'other', but run.json gives 'test'"]


def test_eligible_preferences_re_derived(simple_plan: Path, tmp_path: Path) -> None:
    # R2 names P2, which serves the zone and fits the budget: 1 eligible preference.
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "summary", {"metric": "preferences_eligible"}, value="0")
    assert verify_folder(run) == ["table: summary.csv row 19 (preferences_eligible): value is 0, "
                                  "but the model's rules gives 1"]


def test_eligible_preference_fits_the_budget_to_the_penny(simple_plan: Path) -> None:
    # R2's framework care from P2 draws 2 carers x (30 + 15 minutes' travel) / 60 x GBP 10 =
    # GBP 15 a week. A budget of 13.60 with the 10 % top-up caps the draw at 14.96: 4p short,
    # so R2's preference is not eligible and the summary's 1 is wrong; 13.64 (cap 15.004) fits.
    data, scenario = inputs(simple_plan)

    def eligible_line(budget: float) -> list[str]:
        poorer = with_table(data, "residents", "resident_id", "R2", weekly_budget=budget)
        return [p for p in verify_run(simple_plan, poorer, scenario)
                if "(preferences_eligible)" in p]

    assert eligible_line(13.60) == ["table: summary.csv row 19 (preferences_eligible): value is "
                                    "1, but the model's rules gives 0"]
    assert eligible_line(13.64) == []


def test_objective_changed(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    edit_record(run, lambda r: r.update(objective_weekly_gbp=4027.05))
    problems = verify_folder(run)
    assert "table: summary.csv row 7 (solver_objective): value is 4027, but run.json gives " \
        "4027.05" in problems
    assert rule_problems(problems) == [
        "cost: run.json gives the solver's objective as GBP 4,027.05 a week, but the plan's "
        "recomputed cost is GBP 4,027.00"]


def test_rota_row_cost_and_rates(rich_plan: Path, tmp_path: Path) -> None:
    run = copy_of(rich_plan, tmp_path)
    set_cells(run, "rota", {"scheme_id": "S1", "day": "Mon", "start": "22:00"}, weekly_cost="1")
    assert verify_folder(run) == ["cost: rota row 4 (S1, P1, Mon 22:00, 9 h x 2 staff) costs "
                                  "GBP 1.00 in rota.csv, but the block rates give GBP 540.00"]


def test_block_staff_hours_come_from_the_rota(simple_plan: Path, tmp_path: Path) -> None:
    # One member of staff on the 24-hour shift every day: 7 x 24 = 168 staff-hours a week.
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "block_contracts", {"scheme_id": "S1"}, weekly_staff_hours="170")
    assert verify_folder(run) == ["table: block_contracts.csv row 2 (S1, P1): weekly_staff_hours "
                                  "is 170, but the rota (staff x hours) gives 168"]


def test_block_contract_without_a_rota_has_no_staff_hours(simple_plan: Path,
                                                          tmp_path: Path) -> None:
    # With every rota row deleted the block contract's figures re-derive as 0: it had one
    # member of staff round the clock, 168 h a week, of which weekdays 5 x 15 = 75 h (day),
    # weekends 2 x 15 = 30 h, nights 7 x 9 = 63 h, costing 75 x 20 + 30 x 20 + 63 x 30 = 3990.
    run = copy_of(simple_plan, tmp_path)
    edit(run, "rota", lambda f: f.iloc[0:0])
    block = [p for p in verify_folder(run) if p.startswith("table: block_contracts.csv")]
    assert block == [
        "table: block_contracts.csv row 2 (S1, P1): weekly_staff_hours is 168, but the rota "
        "(staff x hours) gives 0",
        "table: block_contracts.csv row 2 (S1, P1): day_hours is 75, but the rota's "
        "staff-hours in the day band gives 0",
        "table: block_contracts.csv row 2 (S1, P1): night_hours is 63, but the rota's "
        "staff-hours in the night band gives 0",
        "table: block_contracts.csv row 2 (S1, P1): weekend_hours is 30, but the rota's "
        "staff-hours in the weekend band gives 0",
        "table: block_contracts.csv row 2 (S1, P1): weekly_staff_cost is 3990, but the rota at "
        "the block rates gives 0"]


def test_provider_row_the_plan_does_not_use_is_named_once(rich_plan: Path,
                                                           tmp_path: Path) -> None:
    """A row added to providers.csv for P4, which holds no block and delivers no care in the
    rich plan, every figure 0 and its capacity the 10,000 hours of providers.csv: the row is
    named as one the plan does not give, and nothing else, as its figures are right (no rota,
    no paid hours: 0 hours supplied and commissioned, a 0 share)."""
    run = copy_of(rich_plan, tmp_path)
    row = {"provider_id": "P4", "provider_name": "Four", "block_staff_hours": "0",
           "package_paid_hours": "0", "total_hours": "0", "weekly_capacity_hours": "10000",
           "commissioned_hours": "0", "market_share": "0"}
    edit(run, "providers", lambda f: pd.concat([f, pd.DataFrame([row])]))
    assert verify_folder(run) == ["table: providers.csv has a row for provider P4, which the "
                                  "plan does not give one"]


def test_coordination_recomputed_from_active_pairs(simple_plan: Path) -> None:
    """Active pairs: (S1, P1) holds the block and (S1, P2) delivers R2's care: 2 x GBP 5."""
    data, scenario = inputs(simple_plan)
    data = dataclasses.replace(data, costs={
        **data.costs, "coordination_per_provider_scheme_per_week": 5.0})
    problems = verify_run(simple_plan, data, scenario)
    assert "cost: line coordination is GBP 0.00 a week in cost_lines.csv, but the rates give " \
           "GBP 10.00" in problems


# --------------------------------------------------------------------------- command line


def _said(result) -> str:
    """The command's words with rich's line wrapping undone."""
    return " ".join(result.output.split())


def test_cli_verify_good_plan(simple_plan: Path) -> None:
    result = CliRunner().invoke(main, ["verify", str(simple_plan)])
    assert result.exit_code == 0, result.output
    assert "every rule holds" in _said(result)


def test_cli_verify_corrupted_plan(simple_plan: Path, tmp_path: Path) -> None:
    run = copy_of(simple_plan, tmp_path)
    set_cells(run, "allocations", {"resident_id": "R1"}, share="0.5")
    result = CliRunner().invoke(main, ["verify", str(run)])
    assert result.exit_code == 4, result.output
    assert "allocation: resident R1's shares sum to 0.5, not 1" in _said(result)


def test_cli_verify_missing_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["verify", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "does not exist" in _said(result)
