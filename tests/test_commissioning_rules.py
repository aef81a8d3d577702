"""The rules behind the commissioning models of docs/models.md, each on a tiny instance whose
optimal weekly cost is worked out by hand, and each plan written and passed by the checker.

Base instance (tests/factory.py): one scheme with one member of staff round the clock at
GBP 3,990 a week (see test_model_rules.py). Unless a test says otherwise the on-site provider
P1 is made too dear to matter off site (framework rate GBP 40, admission GBP 20 a week) and no
care is carried by the block, so only the rule under test decides who delivers the care.
"""

from __future__ import annotations

import pandas as pd
import pytest
from factory import offsite, provider, resident, scheme, visit, write_dataset, write_model

from optimiser.inputs.config import load_scenario
from optimiser.inputs.load import InputError, load_dataset
from optimiser.inputs.params import derive
from optimiser.plan.checks import verify_folder
from optimiser.run import solve_file

DAY_NIGHT = {"patterns": [[7, 15], [22, 9]]}
WITH_HOUR = {"patterns": [[7, 15], [22, 9], [10, 1]]}
BASE = 3990.0
NO_BLOCK_CARE = {"allow_block_care": False, "allow_onsite_spot": False}
ONSITE_DEAR = provider(framework_rate_day=40, framework_rate_night=50, framework_rate_weekend=40,
                       framework_admission_cost=1040)


def solved(tmp_path, policy=None, shifts=None, **tables):
    """Solve, write and verify a tiny model; the outcome (with its plan)."""
    data = write_dataset(tmp_path / "data", **tables)
    model = write_model(tmp_path, data, policy=policy, shifts=shifts or DAY_NIGHT)
    outcome = solve_file(model, tmp_path / "results", charts=False)
    assert outcome.result is not None and outcome.result.status == "optimal", outcome.reasons
    assert outcome.problems == [], outcome.problems
    assert verify_folder(outcome.written_to) == []
    return outcome


def total(outcome) -> float:
    return float(outcome.plan.cost_lines.set_index("line").at["total", "weekly_gbp"])


def line(outcome, name: str) -> float:
    return float(outcome.plan.cost_lines.set_index("line").at[name, "weekly_gbp"])


# --------------------------------------------------------------------------- core-flexi


def test_the_route_table_numbers_each_way_to_buy_care(tmp_path):
    # R1 can be cared for under the block, bought on site from P1 by the hour, or called off
    # the framework from P1 or P2: four routes, numbered 0-3 in that order (resident, kind,
    # provider), the route number also the row label, and the table's own columns only.
    data = write_dataset(tmp_path / "data", providers=[provider(), offsite(provider_id="P2")])
    p = derive(load_dataset(data), load_scenario(write_model(tmp_path, data)))
    routes = p.routes
    assert routes[["route", "resident_id", "kind"]].values.tolist() == [
        [0, "R1", "block"], [1, "R1", "spot"], [2, "R1", "framework"], [3, "R1", "framework"]]
    assert routes["provider_id"].tolist()[1:] == ["P1", "P1", "P2"]
    assert routes.index.tolist() == [0, 1, 2, 3]
    assert list(routes.columns) == [
        "route", "resident_id", "provider_id", "kind", "price", "paid_hours", "scheme_id",
        "hours", "budget_cap", "preferred_provider", "preference_strength",
        "wants_direct_payment", "budget_price", "satisfaction", "preferred"]

def test_cash_allocation_is_paid_and_tightens_the_budget(tmp_path):
    # One 1-hour weekday visit; resident budget GBP 30, no top-up, strongly prefers P3
    # (GBP 30 an hour); P2 charges GBP 25. No cash: P3 fits the budget exactly and the strong
    # preference binds: 3990 + 30. With 10 % cash (GBP 3), flexible hours must fit GBP 27, so
    # P3 is out of reach, the preference no longer binds, and P2 takes the visit:
    # 3990 + 25 + 3 = 4018.
    tables = {
        "providers": [ONSITE_DEAR, offsite(provider_id="P2"),
                      offsite(provider_id="P3", framework_rate_day=30)],
        "residents": [resident(weekly_budget=30, preferred_provider="P3",
                               preference_strength="strong")],
    }
    policy = {**NO_BLOCK_CARE, "budget_topup_share": 0.0}
    none = solved(tmp_path / "a", policy=policy, **tables)
    assert total(none) == pytest.approx(BASE + 30)
    cash = solved(tmp_path / "b", policy={**policy, "cash_allocation_share": 0.1}, **tables)
    assert line(cash, "cash_allocations") == pytest.approx(3.0)
    assert total(cash) == pytest.approx(BASE + 25 + 3)
    assert cash.plan.allocations["provider_id"].tolist() == ["P2"]


def test_a_visit_is_paid_at_the_band_of_the_minute_it_starts(tmp_path):
    # Night runs 22:00-07:00 and a visit is paid at the band of its start. R1's 60-minute
    # visit starts Mon 21:45, a quarter of an hour before the night: day rate, 1 x 25 = 25,
    # though it runs on to 22:45. R2's 30-minute visit starts Tue 06:55, five minutes before
    # the day: night rate, 0.5 x 35 = 17.50. P2 (framework) delivers both: 3990 + 42.50.
    tables = {"providers": [ONSITE_DEAR, offsite(provider_id="P2")],
              "residents": [resident(), resident(resident_id="R2")],
              "visits": [visit(start="21:45"),
                         visit(resident_id="R2", day="Tue", start="06:55", minutes=30)]}
    out = solved(tmp_path, policy=NO_BLOCK_CARE, **tables)
    assert total(out) == pytest.approx(BASE + 25 + 17.5)
    packages = out.params.packages.set_index("resident_id")
    assert packages.loc["R1", ["hours_day", "hours_night"]].tolist() == [1.0, 0.0]
    assert packages.loc["R2", ["hours_day", "hours_night"]].tolist() == [0.0, 0.5]


def test_no_direct_payment_when_the_policy_allows_none(tmp_path):
    # R1 asks for a direct payment (GBP 22 an hour, cheaper than P2's 25). On request it is
    # granted: 3990 + 22; with direct_payments = "never" the route does not exist, so P2
    # delivers the visit: 3990 + 25.
    tables = {"providers": [ONSITE_DEAR, offsite(provider_id="P2")],
              "residents": [resident(wants_direct_payment="true")]}
    asked = solved(tmp_path / "a", policy=NO_BLOCK_CARE, **tables)
    assert total(asked) == pytest.approx(BASE + 22)
    never = solved(tmp_path / "b", policy={**NO_BLOCK_CARE, "direct_payments": "never"},
                   **tables)
    assert total(never) == pytest.approx(BASE + 25)
    assert never.plan.allocations["provider_id"].tolist() == ["P2"]
    assert "direct" not in set(never.params.routes["kind"])


# --------------------------------------------------------------------------- outcomes


def test_outcome_payments_and_reablement_price_hourly_care(tmp_path):
    # P2: GBP 25 an hour, expected achievement a = 0.8 (outcome_achievement column).
    # Paid on outcomes, w = 0.25: 0.75 + 0.25 x 0.8 = 0.95 of the price.
    # Reablement for rho = 0.5 of packages: kept hours 1 - 0.5 x 0.8 x (0.52 + 0.21 x 0.5)
    # x (1 - 6/52) = 1 - 0.4 x 0.625 x 46/52 = 0.778846; bonus GBP 520 per success:
    # 0.5 x 0.8 x 0.52 x 520 / 52 = 2.08 a week. Price 25 x 0.778846 x 0.95 + 2.08 = 20.5776.
    tables = {"providers": [ONSITE_DEAR, offsite(provider_id="P2", outcome_achievement=0.8)]}
    policy = {**NO_BLOCK_CARE, "outcome_payment_share": 0.25, "reablement_share": 0.5,
              "reablement_bonus": 520.0}
    out = solved(tmp_path, policy=policy, **tables)
    price = 25 * (1 - 0.4 * 0.625 * 46 / 52) * 0.95 + 2.08
    assert line(out, "framework_care") == pytest.approx(price, abs=0.01)
    assert total(out) == pytest.approx(BASE + price, abs=0.01)


def test_reablement_without_outcome_payments(tmp_path):
    # Reablement alone (w = 0): the full price is paid for the hours still needed. As above,
    # kept hours 0.778846 and a bonus of 2.08 a week: 25 x 0.778846 + 2.08 = 21.5512.
    tables = {"providers": [ONSITE_DEAR, offsite(provider_id="P2", outcome_achievement=0.8)]}
    policy = {**NO_BLOCK_CARE, "reablement_share": 0.5, "reablement_bonus": 520.0}
    out = solved(tmp_path, policy=policy, **tables)
    price = 25 * (1 - 0.4 * 0.625 * 46 / 52) + 2.08
    assert line(out, "framework_care") == pytest.approx(price, abs=0.01)
    assert price == pytest.approx(21.5512, abs=1e-4)


def test_achievement_defaults_to_satisfaction(tmp_path):
    # No outcome_achievement: a = satisfaction / 100 = 0.6; w = 0.25 only:
    # 25 x (0.75 + 0.25 x 0.6) = 22.50.
    tables = {"providers": [ONSITE_DEAR, offsite(provider_id="P2", satisfaction=60)]}
    out = solved(tmp_path, policy={**NO_BLOCK_CARE, "outcome_payment_share": 0.25}, **tables)
    assert line(out, "framework_care") == pytest.approx(22.50)


# --------------------------------------------------------------------------- zones


ZONE_TABLES = {
    # P2 is cheap on weekdays, P3 at weekends; R1 has a Monday visit, R2 a Saturday one.
    "providers": [ONSITE_DEAR,
                  offsite(provider_id="P2", framework_rate_day=20, framework_rate_weekend=40,
                          framework_monitoring_cost=260),
                  offsite(provider_id="P3", framework_rate_day=40, framework_rate_weekend=20,
                          framework_monitoring_cost=520)],
    "residents": [resident(), resident(resident_id="R2")],
    "visits": [visit(), visit(resident_id="R2", day="Sat")],
}


def test_one_provider_per_zone_and_cheaper_monitoring(tmp_path):
    # Free choice: P2 for R1 and P3 for R2, 20 + 20, monitoring 5 + 10: 3990 + 55.
    free = solved(tmp_path / "a", policy=NO_BLOCK_CARE, **ZONE_TABLES)
    assert total(free) == pytest.approx(BASE + 55)
    # One provider per zone: P2 for both, 20 + 40 + 5 = 65 (P3 for both: 40 + 20 + 10 = 70).
    zone = {**NO_BLOCK_CARE, "min_framework_per_zone": 1, "max_framework_per_zone": 1}
    one = solved(tmp_path / "b", policy=zone, **ZONE_TABLES)
    assert total(one) == pytest.approx(BASE + 65)
    assert set(one.plan.allocations["provider_id"]) == {"P2"}
    # Monitoring halved: 20 + 40 + 2.50.
    half = solved(tmp_path / "c", policy={**zone, "framework_monitoring_factor": 0.5},
                  **ZONE_TABLES)
    assert total(half) == pytest.approx(BASE + 62.5)
    assert line(half, "framework_fixed") == pytest.approx(2.5)


def test_no_framework_providers_in_any_zone(tmp_path):
    # At most 0 framework providers per zone. North has P1 and P2, South (Willow House, kept
    # without an on-site team and with no residents) has none. R1's 30-minute visit for 2
    # carers goes to P2 (2 x 0.5 x 25 = 25) when framework care is allowed; with none it
    # stays under the block, where a second carer costs a 15-hour day shift (15 x 20 = 300).
    tables = {"schemes": [scheme(), scheme(scheme_id="S2", name="Willow House", zone="South",
                                           day_min_staff=0, night_min_staff=0)],
              "providers": [provider(), offsite(provider_id="P2")],
              "visits": [visit(minutes=30, carers=2)]}
    policy = {"schemes_without_cover": ["S2"], "allow_onsite_spot": False}
    free = solved(tmp_path / "a", policy=policy, **tables)
    assert total(free) == pytest.approx(BASE + 25)
    none = solved(tmp_path / "b", policy={**policy, "max_framework_per_zone": 0}, **tables)
    assert total(none) == pytest.approx(BASE + 300)
    assert none.plan.allocations["route_kind"].tolist() == ["block"]


# --------------------------------------------------------------------------- cost-quality


RANK_TABLES = {
    # P2: GBP 20, requires improvement, satisfaction 50: price score 100, quality
    # 100 x (2/4 + 0.5)/2 = 50, score 75. P3: GBP 25, outstanding, satisfaction 100: price
    # score 80, quality 100, score 90. P1 (GBP 40, good, 80): 50 and 77.5, score 63.75.
    # Ranking: P3, P2, P1.
    "providers": [ONSITE_DEAR,
                  offsite(provider_id="P2", framework_rate_day=20,
                          cqc_rating="requires_improvement", satisfaction=50),
                  offsite(provider_id="P3", cqc_rating="outstanding", satisfaction=100)],
}
RANKED = {**NO_BLOCK_CARE, "call_off_in_rank_order": True}


def test_work_is_called_off_in_rank_order(tmp_path):
    cheapest = solved(tmp_path / "a", policy=NO_BLOCK_CARE, **RANK_TABLES)
    assert total(cheapest) == pytest.approx(BASE + 20)
    # P2 may be admitted only if P3 is, and then the visit goes to P3 unless P3 is full.
    ranked = solved(tmp_path / "b", policy=RANKED, **RANK_TABLES)
    assert total(ranked) == pytest.approx(BASE + 25)
    assert ranked.plan.allocations["provider_id"].tolist() == ["P3"]
    ranking = ranked.plan.extras["ranking"].set_index("provider_id")
    assert ranking["rank"].to_dict() == {"P3": 1, "P2": 2, "P1": 3}
    assert ranking.at["P2", "score"] == pytest.approx(75.0)
    assert ranking.at["P1", "score"] == pytest.approx(63.75)


def test_work_passes_down_the_ranking_when_the_better_provider_is_full(tmp_path):
    # P3 can take only half an hour a week: it is full for a 1-hour package, so P2 may have it.
    tables = {"providers": [RANK_TABLES["providers"][0], RANK_TABLES["providers"][1],
                            offsite(provider_id="P3", cqc_rating="outstanding", satisfaction=100,
                                    weekly_capacity_hours=0.5)]}
    out = solved(tmp_path, policy=RANKED, **tables)
    assert total(out) == pytest.approx(BASE + 20)


def test_ranking_without_any_care_weighs_the_bands_equally(tmp_path):
    # No resident has care (needs band none, no visits), so no hours weigh the pay bands and
    # each counts a third: P2 (20 + 35 + 25) / 3 = 26.67, P3 (25 + 35 + 25) / 3 = 28.33,
    # P1 (40 + 50 + 40) / 3 = 43.33. The plan is the on-site team alone, and verifies.
    out = solved(tmp_path, policy=RANKED, residents=[resident(needs_band="none")], visits=[],
                 **RANK_TABLES)
    assert total(out) == pytest.approx(BASE)
    price = out.plan.extras["ranking"].set_index("provider_id")["price"]
    assert price.to_dict() == pytest.approx({"P2": 80 / 3, "P3": 85 / 3, "P1": 130 / 3},
                                            abs=0.005)

def test_named_provider_is_exempt_from_rank_order(tmp_path):
    tables = {**RANK_TABLES, "residents": [resident(preferred_provider="P2",
                                                    preference_strength="weak")]}
    out = solved(tmp_path, policy=RANKED, **tables)
    assert total(out) == pytest.approx(BASE + 20)


# P3 (rank 1) can take 10 hours a week. R1's package is 8 one-hour visits, R2's one visit.
ROOM_FOR_SMALL = {
    "providers": [RANK_TABLES["providers"][0], RANK_TABLES["providers"][1],
                  offsite(provider_id="P3", cqc_rating="outstanding", satisfaction=100,
                          weekly_capacity_hours=10)],
    "residents": [resident(), resident(resident_id="R2")],
    "visits": [visit(day=day) for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")]
    + [visit(start="14:00"), visit(resident_id="R2")],
}


def test_a_small_package_is_not_passed_down_while_the_better_provider_has_room(tmp_path):
    # R1 at P3 (8 h x 25 = 200) leaves P3 2 hours of room, enough for R2's 1-hour package, so
    # R2 goes to P3 too: 9 x 25 = 225. Counting P3 as full because it could not take another
    # 8-hour package would let R2 go to P2 at 20: 200 + 20 = 220, which the rule forbids.
    out = solved(tmp_path, policy=RANKED, **ROOM_FOR_SMALL)
    assert total(out) == pytest.approx(BASE + 225)
    assert set(out.plan.allocations["provider_id"]) == {"P3"}


def test_checker_catches_a_small_package_passed_down_past_room(tmp_path):
    out = solved(tmp_path, policy=RANKED, **ROOM_FOR_SMALL)

    def r2_to_p2(frame: pd.DataFrame) -> None:
        frame.loc[frame["resident_id"] == "R2", ["provider_id", "weekly_cost", "budget_draw"]] = [
            "P2", "20.0", "20.0"]

    _edit(out.written_to, "allocations", r2_to_p2)
    _edit(out.written_to, "framework", lambda f: pd.concat(
        [f, pd.DataFrame([{c: "" for c in f.columns} | {"provider_id": "P2"}])]))
    problems = verify_folder(out.written_to)
    # P3 supplies 8 of its 10 hours: 2 hours of room for R2's 1-hour package.
    assert any(p.startswith("rank order: resident R2 is called off to provider P2")
               and "better-ranked admitted P3 could take the package" in p
               for p in problems), problems
    assert not any(p.startswith("rank order: resident R1") for p in problems), problems


# --------------------------------------------------------------------------- tiers


TIER_TABLES = {
    # Heavy night calls (3 an hour of 20 minutes): 3 waking staff at night without tiers.
    "schemes": [scheme(night_calls_per_hour=3, mean_call_minutes=20)],
    "residents": [resident(needs_band="none", weekly_budget=0),
                  resident(resident_id="R2")],
    "visits": [visit(resident_id="R2")],
}


def test_monitoring_only_residents_shrink_the_emergency_reserve(tmp_path):
    # Without tiers: days 2100, nights 3 x 1890 = 7770.
    plain = solved(tmp_path / "a", **TIER_TABLES)
    assert total(plain) == pytest.approx(2100 + 3 * 1890)
    # With tiers R1 (no assessed care) is 1*: only half the residents use the response, so
    # 1.5 calls an hour, A = 0.5 erlang. c = 1: 1 - 0.5 e^(-0.25) = 61 % < 90 %; c = 2:
    # B = 0.125/1.625 = 0.0769, C = 0.0769/(1 - 0.25 x 0.9231) = 0.1,
    # 1 - 0.1 e^(-0.75) = 95.3 % >= 90 %: 2 at night, 2100 + 2 x 1890 = 5880.
    tiers = solved(tmp_path / "b", policy={"support_tiers": True}, **TIER_TABLES)
    assert total(tiers) == pytest.approx(2100 + 2 * 1890)
    table = tiers.plan.extras["tiers"].set_index("tier")
    assert table["residents"].to_dict() == {1: 1, 2: 1}


def test_a_scheme_without_residents_keeps_its_whole_call_rate_with_tiers(tmp_path):
    # Willow House (S2) has no residents, so no tiers to scale its calls by: its 0.5 night
    # calls an hour of 15 minutes stay as they are, A = 0.125, and one carer reaches
    # 1 - 0.125 e^(-0.875 x 10/15) = 93.0 % >= 90 %: a reserve of 1, which the one member of
    # staff on duty gives. Both schemes: 2 x 3990.
    tables = {"schemes": [scheme(), scheme(scheme_id="S2", name="Willow House",
                                           night_calls_per_hour=0.5)]}
    out = solved(tmp_path, policy={"support_tiers": True}, **tables)
    assert total(out) == pytest.approx(2 * BASE)
    cover = out.plan.cover.set_index(["scheme_id", "slot"])
    assert cover.at[("S2", 2), "reserve"] == 1  # Mon 02:00


def test_daily_check_visits_add_to_the_staff_on_duty(tmp_path):
    # R2 chooses 5*: 7 visits of 15 minutes = 1.75 h a week over the 42 hours from 10:00 to
    # 16:00, 1/24 of a carer in each. At Monday 10:00 R2's own visit already fills the one
    # carer on duty, so a 1-hour shift at 10:00 (GBP 20) is added: 5880 + 20.
    tables = {**TIER_TABLES, "residents": [TIER_TABLES["residents"][0],
                                           resident(resident_id="R2", support_tier=5)]}
    out = solved(tmp_path, policy={"support_tiers": True}, shifts=WITH_HOUR, **tables)
    assert total(out) == pytest.approx(2100 + 2 * 1890 + 20)
    cover = out.plan.cover.set_index(["slot"])
    assert cover.at[10, "check_visits"] == pytest.approx(1.75 / 42, abs=1e-4)
    assert cover.at[9, "check_visits"] == 0.0


def test_a_cash_allocation_that_leaves_too_little_is_explained(tmp_path):
    # Budget GBP 30, no top-up, half paid as cash: GBP 15 left for a visit that costs at
    # least GBP 25 (P2). With splits the budget is a rule of the model, not a filter, so the
    # solve is infeasible and the diagnosis names the cash allocation as the rule that gives.
    data = write_dataset(tmp_path / "data", providers=[ONSITE_DEAR, offsite(provider_id="P2")],
                         residents=[resident(weekly_budget=30)])
    policy = {**NO_BLOCK_CARE, "budget_topup_share": 0.0, "allow_splits": True,
              "cash_allocation_share": 0.5}
    model = write_model(tmp_path, data, policy=policy, shifts=DAY_NIGHT)
    outcome = solve_file(model, tmp_path / "results", charts=False)
    assert outcome.plan is None and outcome.result.status == "infeasible"
    assert any("the cash allocation taken from each budget" in r for r in outcome.reasons)
    assert not (tmp_path / "results" / "test").exists()


def test_a_misspelt_needs_band_in_the_tier_map_is_refused(tmp_path):
    path = tmp_path / "tiers.toml"
    path.write_text('name = "t"\ndataset = "x"\n[policy]\nsupport_tiers = true\n'
                    'tier_by_needs_band = { none = 1, moderat = 3 }\n', encoding="utf-8")
    with pytest.raises(InputError, match="moderat"):
        load_scenario(path)


# --------------------------------------------------------------------------- the checker


def _edit(run, table: str, change) -> None:
    """Change a written plan table by hand, as someone editing the CSV would."""
    path = run / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    changed = change(frame)
    (frame if changed is None else changed).to_csv(path, index=False, lineterminator="\n")


def _to_p2(frame: pd.DataFrame) -> None:
    frame.loc[frame["resident_id"] == "R1", ["provider_id", "weekly_cost", "budget_draw"]] = [
        "P2", "20.0", "20.0"]


def test_checker_catches_work_given_past_a_better_ranked_provider(tmp_path):
    out = solved(tmp_path, policy=RANKED, **RANK_TABLES)
    _edit(out.written_to, "allocations", _to_p2)
    _edit(out.written_to, "framework", lambda f: pd.concat(
        [f, pd.DataFrame([{c: "" for c in f.columns} | {"provider_id": "P2"}])]))
    problems = verify_folder(out.written_to)
    assert any(p.startswith("rank order: resident R1") and "P3" in p for p in problems), problems


def test_checker_counts_an_idle_better_ranked_provider_as_having_room(tmp_path):
    # P3 (rank 1) can take 1.5 hours a week and is given nothing once R1 is moved to P2: with
    # no hours it has 1.5 hours of room, enough for R1's 1-hour package.
    providers = [*RANK_TABLES["providers"][:2],
                 offsite(provider_id="P3", cqc_rating="outstanding", satisfaction=100,
                         weekly_capacity_hours=1.5)]
    out = solved(tmp_path, policy=RANKED, providers=providers)
    assert total(out) == pytest.approx(BASE + 25)
    _edit(out.written_to, "allocations", _to_p2)
    _edit(out.written_to, "framework", lambda f: pd.concat(
        [f, pd.DataFrame([{c: "" for c in f.columns} | {"provider_id": "P2"}])]))
    problems = verify_folder(out.written_to)
    assert any(p.startswith("rank order: resident R1 is called off to provider P2")
               and "better-ranked admitted P3 could take the package and are not full" in p
               for p in problems), problems


def test_checker_catches_a_better_ranked_provider_left_off_the_framework(tmp_path):
    out = solved(tmp_path, policy=RANKED, **RANK_TABLES)
    _edit(out.written_to, "allocations", _to_p2)
    _edit(out.written_to, "framework", lambda f: f.replace({"provider_id": {"P3": "P2"}}))
    problems = verify_folder(out.written_to)
    assert any("is admitted, but better-ranked P3" in p for p in problems), problems


def test_checker_counts_check_visits_in_the_cover(tmp_path):
    # Without the 1-hour shift at 10:00, Monday 10:00 has 1 carer for R2's visit plus 1/24 of
    # a carer for check visits.
    tables = {**TIER_TABLES, "residents": [TIER_TABLES["residents"][0],
                                           resident(resident_id="R2", support_tier=5)]}
    out = solved(tmp_path, policy={"support_tiers": True}, shifts=WITH_HOUR, **tables)
    _edit(out.written_to, "rota", lambda f: f[(f["start"] != "10:00") | (f["day"] != "Mon")])
    problems = verify_folder(out.written_to)
    assert any(p.startswith("cover: scheme S1 (Oakfield Court), Mon 10:00: 1 staff on duty, "
                            "1.04") for p in problems), problems
