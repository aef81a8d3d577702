"""The checker's own derivations (Erlang C, CQC floors, shift patterns) against published and
hand-worked values, and the checker accepting the optimal plan of a model with splits."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from factory import offsite, provider, resident, visit, write_dataset, write_model

from optimiser.inputs.config import Scenario, Shifts
from optimiser.inputs.load import load_dataset
from optimiser.plan.checks import build_context, verify_folder, verify_run
from optimiser.plan.checks.choice import preference_table
from optimiser.plan.checks.context import rating_passes
from optimiser.plan.checks.contracts import model_shifts
from optimiser.plan.checks.erlang import floating_carers, share_reached, waiting_probability
from optimiser.run import solve_file


def test_waiting_probability_small_case_by_hand() -> None:
    # A = 2 erlangs, 3 carers: terms 1, 2, 2 and (8/6) x 3 / (3 - 2) = 4, so C = 4 / 9.
    assert waiting_probability(3, 2.0) == pytest.approx(4 / 9, abs=1e-12)
    # A = 1, 2 carers: (1/2) x 2 / 1 = 1 over 1 + 1 + 1: C = 1/3.
    assert waiting_probability(2, 1.0) == pytest.approx(1 / 3, abs=1e-12)


def test_waiting_probability_matches_the_published_call_centre_example() -> None:
    """48 erlangs offered to 55 agents: P(wait) 23.87 % (the textbook Erlang C example)."""
    assert round(100 * waiting_probability(55, 48.0), 2) == 23.87


def test_overloaded_and_idle_carers() -> None:
    assert waiting_probability(2, 2.0) == 1.0
    assert waiting_probability(1, 0.0) == 0.0
    assert share_reached(1, 8.0, 15.0, 10.0) == 0.0  # 2 erlangs, 1 carer: never in time
    assert share_reached(1, 0.0, 15.0, 10.0) == 1.0
    # Calls that take no time offer no load (A = 4 x 0 / 60 = 0): every call is reached.
    assert share_reached(1, 4.0, 0.0, 10.0) == 1.0
    assert floating_carers(4.0, 0.0, 10.0, 0.90) == 1


def test_reserve_by_hand() -> None:
    """4 calls an hour of 15 minutes (A = 1), target 10 minutes. Two carers reach
    1 - (1/3) e^(-10/15) = 0.8289 of calls; three reach 1 - (1/11) e^(-20/15) = 0.9760."""
    assert share_reached(2, 4.0, 15.0, 10.0) == pytest.approx(1 - math.exp(-10 / 15) / 3)
    assert share_reached(3, 4.0, 15.0, 10.0) == pytest.approx(1 - math.exp(-20 / 15) / 11)
    assert floating_carers(4.0, 15.0, 10.0, 0.80) == 2
    assert floating_carers(4.0, 15.0, 10.0, 0.90) == 3
    assert floating_carers(0.0, 15.0, 10.0, 0.90) == 0


def test_reserve_boundaries() -> None:
    """A share met exactly needs no further carer; one call an hour of 15 minutes (A = 1/4)
    is met by one carer, 1 - (1/4) e^(-(3/4) 10/15) = 0.848; no calls and no carers: nobody
    waits and every call (there are none) is reached."""
    exactly = share_reached(2, 4.0, 15.0, 10.0)
    assert floating_carers(4.0, 15.0, 10.0, exactly) == 2
    assert share_reached(1, 1.0, 15.0, 10.0) == pytest.approx(1 - 0.25 * math.exp(-0.5))
    assert floating_carers(1.0, 15.0, 10.0, 0.80) == 1
    assert waiting_probability(0, 0.0) == 0.0
    assert share_reached(0, 0.0, 15.0, 10.0) == 1.0


def test_reserve_search_stops_at_its_limit_with_a_clear_message() -> None:
    """A = 198.5 erlangs: 199 carers reach 31.4 % of calls in time, 200 reach 67.8 %. Asking
    for 50 % needs 200, the most the search allows; 80 % cannot be had."""
    calls = 198.5 * 4  # calls an hour of 15 minutes
    assert floating_carers(calls, 15.0, 10.0, 0.5) == 200
    with pytest.raises(ValueError, match="cannot be reached in time by 200 carers"):
        floating_carers(calls, 15.0, 10.0, 0.8)


@pytest.mark.parametrize(("rating", "floor", "unrated_as", "passes"), [
    ("good", "good", "good", True),
    ("requires_improvement", "good", "good", False),
    ("outstanding", "requires_improvement", "good", True),
    ("inadequate", "inadequate", "good", True),
    ("unrated", "good", "requires_improvement", False),
    ("unrated", "requires_improvement", "requires_improvement", True),
    ("unrated", "inadequate", "excluded", False),
])
def test_checker_cqc_floor(rating: str, floor: str, unrated_as: str, passes: bool) -> None:
    assert rating_passes(rating, floor, unrated_as) is passes


def test_checker_reads_shift_patterns_from_the_model_file() -> None:
    assert model_shifts(Shifts(starts=(7, 15), lengths=(8, 4))) == {
        (7, 8), (7, 4), (15, 8), (15, 4)}
    assert model_shifts(Shifts(patterns=((22, 9), (7, 8), (22, 9)))) == {(22, 9), (7, 8)}


def test_optimal_plan_with_splits_passes_the_checker(tmp_path: Path) -> None:
    """Splits allowed, individual budgets, every eligible preference to be honoured. R1 prefers
    P2, whose hour costs GBP 25 against R1's GBP 20 budget: unaffordable, so, as in the model,
    the preference does not count (with splits the route still exists, so the checker once
    counted it and rejected the optimal plan: 1 of 2 honoured). R2 can afford P2 and gets it.
    Stated preferences the model counts: 1 (R2), honoured 1."""
    data = write_dataset(
        tmp_path / "data",
        providers=[provider(), offsite(provider_id="P2", name="Two")],
        residents=[resident(weekly_budget=20, preferred_provider="P2", preference_strength="weak"),
                   resident(resident_id="R2", preferred_provider="P2", preference_strength="weak")],
        visits=[visit(), visit(resident_id="R2", day="Tue")],
    )
    model = write_model(tmp_path, data, policy={
        "allow_splits": True, "budget_rule": "individual", "min_preference_share": 1.0})
    outcome = solve_file(model, tmp_path / "results", verify=False, charts=False)
    run = outcome.written_to
    assert run is not None, outcome.reasons
    alloc = pd.read_csv(run / "allocations.csv")
    assert alloc.loc[alloc["resident_id"] == "R2", ["route_kind", "provider_id", "share"]
                     ].values.tolist() == [["framework", "P2", 1.0]]
    assert verify_folder(run) == []
    scenario = Scenario.model_validate(json.loads((run / "run.json").read_text())["scenario"])
    ctx = build_context(run, load_dataset(scenario.dataset), scenario)
    prefs = preference_table(ctx).set_index("resident_id")
    assert prefs["eligible"].to_dict() == {"R1": False, "R2": True}
    assert prefs.at["R2", "honoured"] == 1.0


def test_checker_budget_cap_applies_the_top_up_once(tmp_path: Path) -> None:
    """R1's one-hour visit goes to framework provider P2 at GBP 25 (the on-site provider's hour
    costs 40). With a 25 % top-up a GBP 20 budget caps the draw at exactly 25: within. A budget
    of 19.90 caps it at 24.875: over, by 12.5p (top-up applied twice the cap would be 31.09 and
    nothing reported; not applied, a GBP 20 budget would already fail)."""
    data = write_dataset(tmp_path / "data", providers=[
        provider(framework_rate_day=40), offsite(provider_id="P2")])
    model = write_model(tmp_path, data, policy={
        "allow_block_care": False, "allow_onsite_spot": False, "budget_topup_share": 0.25})
    run = solve_file(model, tmp_path / "results", verify=False, charts=False).written_to
    assert run is not None
    scenario = Scenario.model_validate(json.loads((run / "run.json").read_text())["scenario"])
    dataset = load_dataset(scenario.dataset)

    def budget_problems(budget: float) -> list[str]:
        residents = dataset.residents.assign(weekly_budget=budget)
        changed = dataclasses.replace(dataset, residents=residents)
        return [p for p in verify_run(run, changed, scenario) if p.startswith("budget:")]

    assert budget_problems(20.0) == []
    assert budget_problems(19.9) == ["budget: resident R1 draws GBP 25.00 a week, above budget "
                                     "GBP 19.90 plus 25 % top-up (GBP 24.88)"]
