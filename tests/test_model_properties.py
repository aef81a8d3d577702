"""Properties of the optimum that must hold on any instance (hypothesis draws small ones):

- adding a provider never raises the optimal cost (it only adds options);
- raising a budget never raises it (it only relaxes the budget rule);
- raising a scheme's minimum cover never lowers it (it only tightens cover);
- relaxing the CQC floor never raises it.

Each instance is solved to proven optimality (gap 0), so a violation is a modelling bug.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from factory import offsite, provider, resident, scheme, visit, write_dataset, write_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimiser.run import solve_file

EXAMPLES = 12
SHIFTS = {"patterns": [[7, 8], [15, 7], [22, 9], [7, 3], [17, 4]]}
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
RATINGS = ["outstanding", "good", "requires_improvement", "unrated"]


@st.composite
def instances(draw) -> dict:
    """One scheme, 2-4 providers (one on-site capable), 1-4 residents with a few visits."""
    n_providers = draw(st.integers(2, 4))
    providers = [provider(
        block_rate_day=draw(st.integers(18, 26)), block_rate_night=draw(st.integers(22, 32)),
        framework_rate_day=draw(st.integers(22, 34)), cqc_rating="good",
        travel_minutes_per_visit=draw(st.sampled_from([0, 10, 20])),
        framework_admission_cost=draw(st.sampled_from([0, 520, 2080])))]
    for i in range(2, n_providers + 1):
        providers.append(offsite(
            provider_id=f"P{i}", framework_rate_day=draw(st.integers(20, 34)),
            framework_rate_night=draw(st.integers(28, 40)),
            cqc_rating=draw(st.sampled_from(RATINGS)),
            satisfaction=draw(st.integers(60, 95)),
            travel_minutes_per_visit=draw(st.sampled_from([0, 10, 20])),
            framework_admission_cost=draw(st.sampled_from([0, 520, 2080]))))
    n_residents = draw(st.integers(1, 4))
    residents, visits = [], []
    for r in range(1, n_residents + 1):
        rid = f"R{r}"
        residents.append(resident(resident_id=rid, weekly_budget=draw(st.integers(30, 400))))
        for _ in range(draw(st.integers(1, 3))):
            start = f"{draw(st.integers(6, 22)):02d}:{draw(st.sampled_from(['00', '30']))}"
            visits.append(visit(resident_id=rid, day=draw(st.sampled_from(DAYS)), start=start,
                                minutes=draw(st.sampled_from([15, 30, 45, 60])),
                                carers=draw(st.sampled_from([1, 1, 2]))))
    visits = list({(v["resident_id"], v["day"], v["start"]): v for v in visits}.values())
    return {"schemes": [scheme(day_calls_per_hour=draw(st.sampled_from([0, 0.5, 1.5])))],
            "providers": providers, "residents": residents, "visits": visits}


def optimum(folder: Path, tables: dict, policy: dict | None = None) -> float | None:
    """Proven optimal weekly cost, or None if no plan meets the rules."""
    data = write_dataset(folder / "data", **tables)
    model = write_model(folder, data, policy=policy, shifts=SHIFTS)
    outcome = solve_file(model, None, verify=False)
    if outcome.result is None or not outcome.result.has_plan:
        return None
    assert outcome.result.status == "optimal"
    return outcome.result.objective


def _check_not_above(before: float | None, after: float | None) -> None:
    """A relaxation: never infeasible where the original was feasible, never dearer."""
    if before is not None:
        assert after is not None
        assert after <= before + 1e-6


PROPS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


@PROPS
@given(tables=instances(), extra=st.integers(18, 34))
def test_adding_a_provider_never_raises_the_cost(tmp_path_factory, tables, extra) -> None:
    before = optimum(tmp_path_factory.mktemp("a"), tables)
    more = {**tables, "providers": [*tables["providers"],
                                    offsite(provider_id="P9", framework_rate_day=extra)]}
    _check_not_above(before, optimum(tmp_path_factory.mktemp("b"), more))


@PROPS
@given(tables=instances(), rise=st.integers(1, 200))
def test_raising_a_budget_never_raises_the_cost(tmp_path_factory, tables, rise) -> None:
    policy = {"budget_topup_share": 0.0}
    before = optimum(tmp_path_factory.mktemp("a"), tables, policy)
    richer = [{**r, "weekly_budget": r["weekly_budget"] + rise} for r in tables["residents"]]
    _check_not_above(before, optimum(tmp_path_factory.mktemp("b"), {**tables,
                                                                    "residents": richer}, policy))


@PROPS
@given(tables=instances(), more_staff=st.integers(1, 2))
def test_raising_minimum_cover_never_lowers_the_cost(tmp_path_factory, tables, more_staff):
    before = optimum(tmp_path_factory.mktemp("a"), tables)
    tighter = {**tables, "schemes": [scheme(day_min_staff=1 + more_staff,
                                            day_calls_per_hour=tables["schemes"][0][
                                                "day_calls_per_hour"])]}
    after = optimum(tmp_path_factory.mktemp("b"), tighter)
    if after is not None:
        assert before is not None and after >= before - 1e-6


@PROPS
@given(tables=instances())
def test_relaxing_the_cqc_floor_never_raises_the_cost(tmp_path_factory, tables) -> None:
    strict = optimum(tmp_path_factory.mktemp("a"), tables, {"cqc_floor": "good"})
    relaxed = optimum(tmp_path_factory.mktemp("b"), tables,
                      {"cqc_floor": "requires_improvement"})
    _check_not_above(strict, relaxed)


@pytest.mark.parametrize("floor", ["good", "requires_improvement"])
def test_property_instances_are_solvable(tmp_path, floor) -> None:
    """Guard: the generator's instances are not all infeasible (or the properties are empty)."""
    tables = {"schemes": [scheme()], "providers": [provider(), offsite(provider_id="P2")],
              "residents": [resident()], "visits": [visit()]}
    assert optimum(tmp_path, tables, {"cqc_floor": floor}) is not None


# --------------------------------------------------------------------------- opening routes

# R1 needs two carers for an hour on Monday at 10:00. Under the block the team needs a second
# member of staff for that hour (a 1-hour shift, GBP 20); on-site provider P1 paid from the
# budget costs 2 x 25 = 50; framework P2 2 x 9 = 18; framework P3 2 x 30 = 60. The round-the-
# clock rota (07:00-22:00 and 22:00-07:00, one member of staff) costs GBP 3,990 a week in all.
OPENING = {"providers": [provider(), offsite(provider_id="P2", framework_rate_day=9),
                         offsite(provider_id="P3", framework_rate_day=30)],
           "visits": [visit(carers=2)]}
WITH_HOUR = {"patterns": [[7, 15], [22, 9], [10, 1]]}


def weekly_optimum(folder: Path, tables: dict, policy: dict) -> float:
    data = write_dataset(folder / "data", **tables)
    outcome = solve_file(write_model(folder, data, policy=policy, shifts=WITH_HOUR), None,
                         verify=False)
    assert outcome.result is not None and outcome.result.status == "optimal", outcome.reasons
    return outcome.result.objective


def test_opening_routes_never_costs_more_when_the_choice_rules_do_not_move(tmp_path) -> None:
    """No preference is stated, so opening the framework only adds plans: 3990 + 18 with it,
    3990 + 20 (the block's extra hour) without."""
    closed = weekly_optimum(tmp_path / "a", OPENING, {"allow_framework": False})
    opened = weekly_optimum(tmp_path / "b", OPENING, {})
    assert (closed, opened) == (pytest.approx(3990 + 20), pytest.approx(3990 + 18))


def test_opening_routes_can_cost_more_when_it_makes_a_preference_count(tmp_path) -> None:
    """R1 names P3, which can only serve R1 through the framework, and every counted preference
    must be honoured. With the framework closed the preference is not one the council can meet,
    so it is not counted: 3990 + 20. Opening the framework makes it count: R1 goes to P3,
    3990 + 60. The restricted model is cheaper because its choice rule is looser."""
    tables = {**OPENING, "residents": [resident(preferred_provider="P3",
                                                preference_strength="weak")]}
    policy = {"min_preference_share": 1.0}
    closed = weekly_optimum(tmp_path / "a", tables, {**policy, "allow_framework": False})
    opened = weekly_optimum(tmp_path / "b", tables, policy)
    assert (closed, opened) == (pytest.approx(3990 + 20), pytest.approx(3990 + 60))
