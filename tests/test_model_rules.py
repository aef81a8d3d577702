"""One tiny instance per rule family, with the optimal weekly cost worked out by hand.

Each test shows the rule binds: with the rule (or the input that triggers it) the optimum
changes by exactly the amount the arithmetic in the test says. Every plan is written and
passes the independent checker (optimiser.plan.checks), so the tables agree with the numbers too.

Base instance (tests/factory.py): one scheme, 1 member of staff day and night, no calls,
provider P1 on site at GBP 20/h day and weekend, GBP 30/h at night (22:00-07:00).
With the shifts 07:00-22:00 (15 h) and 22:00-07:00 (9 h), one member of staff round the clock
costs: weekdays 5 x 15 h x 20 = 1500, weekends 2 x 15 h x 20 = 600, nights 7 x 9 h x 30 = 1890,
total GBP 3,990 a week.
"""

from __future__ import annotations

import pytest
from factory import offsite, provider, resident, scheme, visit, write_dataset, write_model

from optimiser.inputs.config import load_scenario
from optimiser.inputs.load import load_dataset
from optimiser.inputs.params import StaticInfeasibility, derive
from optimiser.model.build import build_model
from optimiser.run import solve_file
from optimiser.solving.decompose import prices
from optimiser.solving.highs import compile_model

DAY_NIGHT = {"patterns": [[7, 15], [22, 9]]}
WITH_HOUR = {"patterns": [[7, 15], [22, 9], [10, 1]]}  # plus a 1-hour shift at 10:00
BASE = 3990.0
NO_BLOCK_CARE = {"allow_block_care": False, "allow_onsite_spot": False}
# The on-site provider with framework prices too high to matter, for framework-choice tests.
ONSITE_DEAR = provider(framework_rate_day=40, framework_rate_night=50, framework_rate_weekend=40,
                       framework_admission_cost=1040)


def weekly_cost(tmp_path, policy=None, shifts=None, **tables) -> float:
    """Solve a tiny model, write and verify its plan, and return the weekly total."""
    data = write_dataset(tmp_path / "data", **tables)
    model = write_model(tmp_path, data, policy=policy, shifts=shifts or DAY_NIGHT)
    outcome = solve_file(model, tmp_path / "results", charts=False)
    assert outcome.result is not None and outcome.result.status == "optimal", outcome.reasons
    assert outcome.problems == [], outcome.problems
    lines = outcome.plan.cost_lines.set_index("line")["weekly_gbp"]
    assert lines["total"] == pytest.approx(outcome.result.objective, abs=0.01)
    return float(lines["total"])


def test_base_cost_is_one_member_of_staff_round_the_clock(tmp_path):
    assert weekly_cost(tmp_path) == pytest.approx(BASE)


def test_no_lone_working_at_night_needs_two_waking_staff(tmp_path):
    # A second night worker: 7 x 9 h x 30 = 1890 more.
    cost = weekly_cost(tmp_path, schemes=[scheme(lone_working_at_night="false")])
    assert cost == pytest.approx(BASE + 1890)


def test_shifts_that_leave_the_night_uncovered(tmp_path):
    # Only the 07:00 shift (15 h) and a night minimum of 0 with no calls: nobody is needed at
    # night, so the rota is the day shifts, 1500 + 600 = 2100, none of it at the night rate.
    day_only = {"patterns": [[7, 15]]}
    cost = weekly_cost(tmp_path / "a", shifts=day_only, schemes=[scheme(night_min_staff=0)])
    assert cost == pytest.approx(2100)
    # A visit at 23:00 then cannot be under the block (no one is on duty): P2 at the night
    # rate, GBP 35.
    night = weekly_cost(tmp_path / "b", shifts=day_only, schemes=[scheme(night_min_staff=0)],
                        providers=[provider(), offsite(provider_id="P2")],
                        visits=[visit(start="23:00")])
    assert night == pytest.approx(2100 + 35)


def test_cover_rows_are_the_moments_of_the_slots_a_shift_covers(tmp_path):
    # Only the 07:00 shift (15 h), night minimum 0, no calls, R1's hour on Monday at 10:00
    # (slot 10, starting on the hour). Every slot a shift covers has one cover row at its
    # start, the visit's slot included: 7 days x 15 hours (07:00-21:00) = 105 rows, slots
    # 24d + 7 ... 24d + 21. The 63 night slots no shift covers need no carer (no reserve, no
    # visit) and have none, and so does the rota's minimum there (0 at night): 105 rows too.
    # (The model's row count is written to run.json.)
    data = write_dataset(tmp_path / "data", schemes=[scheme(night_min_staff=0)])
    scenario = load_scenario(write_model(tmp_path, data, shifts={"patterns": [[7, 15]]}))
    compiled = compile_model(build_model(derive(load_dataset(data), scenario)))
    rows: dict[str, list] = {}
    for family, key in compiled.rows:
        rows.setdefault(family, []).append(key)
    day_slots = [24 * d + h for d in range(7) for h in range(7, 22)]
    assert sorted(rows["care_and_reserve_cover"]) == [("S1", t, 60 * t) for t in day_slots]
    assert sorted(rows["minimum_cover"]) == [("S1", t) for t in day_slots]


def test_emergency_reserve_from_erlang_c_staffs_the_night(tmp_path):
    # Night minimum 0 and no calls: only the 15 h day shifts, 1500 + 600 = 2100.
    quiet = weekly_cost(tmp_path / "a", schemes=[scheme(night_min_staff=0)])
    assert quiet == pytest.approx(2100)
    # 0.5 calls an hour of 15 minutes: A = 0.125 erlangs; one carer answers
    # 1 - 0.125 exp(-(1 - 0.125) 10/15) = 93.0 % within 10 minutes >= 90 %: reserve 1 at night.
    calls = weekly_cost(tmp_path / "b", schemes=[scheme(night_min_staff=0,
                                                        night_calls_per_hour=0.5)])
    assert calls == pytest.approx(BASE)


def test_reserve_of_three_when_calls_are_heavy(tmp_path):
    # 3 calls an hour of 20 minutes at night: A = 1 erlang. c = 2: B = 0.2, C = 1/3, within
    # 10 min 1 - (1/3) e^-0.5 = 79.8 % < 90 %; c = 3: B = 0.0625, C = 0.0909,
    # 1 - 0.0909 e^-1 = 96.7 % >= 90 %. So 3 waking staff: nights cost 3 x 1890.
    cost = weekly_cost(tmp_path, schemes=[scheme(night_calls_per_hour=3, mean_call_minutes=20)])
    assert cost == pytest.approx(2100 + 3 * 1890)


def test_planned_care_under_the_block_needs_staff_on_duty(tmp_path):
    # Two residents, each a 1-hour visit on Monday at 10:00. The first fits the member of staff
    # already on duty (free); the second needs a second carer on duty at 10:00: a 1-hour shift
    # (GBP 20) beats the framework price (GBP 25, provider P2, no travel).
    residents = [resident(), resident(resident_id="R2")]
    visits = [visit(), visit(resident_id="R2")]
    providers = [provider(), offsite(provider_id="P2")]
    with_short = weekly_cost(tmp_path / "a", shifts=WITH_HOUR, residents=residents,
                             visits=visits, providers=providers)
    assert with_short == pytest.approx(BASE + 20)
    # Without the 1-hour shift a second carer costs a 15-hour shift (300): P2 is cheaper (25).
    without = weekly_cost(tmp_path / "b", residents=residents, visits=visits, providers=providers)
    assert without == pytest.approx(BASE + 25)


def test_double_up_visit_needs_both_carers_on_duty(tmp_path):
    # A 30-minute visit for 2 carers loads the slot with 2 x 30/60 = 1 staff, which the one
    # member of staff on duty would cover, but both carers are needed at once: a second carer
    # for an hour (GBP 20) is cheaper than the framework (2 carers x 0.5 h x 25 = 25).
    providers = [provider(), offsite(provider_id="P2")]
    single = weekly_cost(tmp_path / "a", shifts=WITH_HOUR, providers=providers,
                         visits=[visit(minutes=60, carers=1)])
    assert single == pytest.approx(BASE)
    double = weekly_cost(tmp_path / "b", shifts=WITH_HOUR, providers=providers,
                         visits=[visit(minutes=30, carers=2)])
    assert double == pytest.approx(BASE + 20)


def test_double_up_share_under_the_block_needs_both_carers_with_splits(tmp_path):
    # Packages may be split. Half of the 30-minute double-up visit under the block would load
    # the slot's peak with only 2 x 0.5 = 1 carer, the one already on duty, and the other
    # half at P2 would cost 0.5 x 25 = 12.50; but any share under the block needs both
    # carers at once, so a second carer for an hour (GBP 20) beats P2 for all of it (25).
    cost = weekly_cost(tmp_path, policy={"allow_splits": True}, shifts=WITH_HOUR,
                       providers=[provider(), offsite(provider_id="P2")],
                       visits=[visit(minutes=30, carers=2)])
    assert cost == pytest.approx(BASE + 20)


def test_a_framework_provider_may_take_part_of_a_package_with_splits(tmp_path):
    # Packages may be split, no care under the block. One 1-hour visit; P3 charges GBP 25 an
    # hour but can supply only half an hour a week, P2 charges 30. Half to each: 0.5 x 25 +
    # 0.5 x 30 = 27.50 (all to P2 would be 30); P3 is active with a share of a half.
    cost = weekly_cost(tmp_path, policy={**NO_BLOCK_CARE, "allow_splits": True},
                       providers=[ONSITE_DEAR, offsite(provider_id="P2", framework_rate_day=30),
                                  offsite(provider_id="P3", weekly_capacity_hours=0.5)])
    assert cost == pytest.approx(BASE + 27.5)


def test_minimum_viable_volume_moves_the_block(tmp_path):
    # P1 needs 200 staff-hours a week; the scheme needs 168. Topping P1 up costs 32 h x 20 = 640
    # (total 4630); P2 has no minimum and 10 % higher rates: 1.1 x 3990 = 4389.
    p2 = provider(provider_id="P2", block_rate_day=22, block_rate_night=33, block_rate_weekend=22)
    no_minimum = weekly_cost(tmp_path / "a", shifts=WITH_HOUR, providers=[provider(), p2])
    assert no_minimum == pytest.approx(BASE)
    cost = weekly_cost(tmp_path / "b", shifts=WITH_HOUR,
                       providers=[provider(min_block_hours=200), p2])
    assert cost == pytest.approx(4389)


def test_framework_admission_cost_is_weighed_against_rates(tmp_path):
    # P2: GBP 25/h but admission 520 over a 1-year term = 10 a week; P3: GBP 30/h, no cost.
    providers = [ONSITE_DEAR, offsite(provider_id="P2", framework_admission_cost=520),
                 offsite(provider_id="P3", framework_rate_day=30)]
    one_hour = weekly_cost(tmp_path / "a", policy=NO_BLOCK_CARE, providers=providers)
    assert one_hour == pytest.approx(BASE + 30)  # P3: 30 < 25 + 10
    three = [visit(), visit(day="Tue"), visit(day="Wed")]
    three_hours = weekly_cost(tmp_path / "b", policy=NO_BLOCK_CARE, providers=providers,
                              visits=three)
    assert three_hours == pytest.approx(BASE + 85)  # P2: 75 + 10 < 90


def test_minimum_framework_providers_per_zone(tmp_path):
    # Keeping 2 framework providers admits P2 too (10 a week; P1's admission costs 20); once P2
    # is admitted its GBP 25 beats P3's 30, so the care moves to P2: 25 + 10.
    providers = [ONSITE_DEAR, offsite(provider_id="P2", framework_admission_cost=520),
                 offsite(provider_id="P3", framework_rate_day=30)]
    cost = weekly_cost(tmp_path, policy={**NO_BLOCK_CARE, "min_framework_per_zone": 2},
                       providers=providers)
    assert cost == pytest.approx(BASE + 25 + 10)


def test_minimum_framework_providers_counts_only_those_above_the_cqc_floor(tmp_path):
    # Two framework providers per zone, but P3 is rated Inadequate (below the floor) and may
    # not be admitted even though it costs nothing to admit: it is no framework candidate at
    # all (and none is when the model closes the framework). The second provider is P1 (GBP
    # 20 a week to admit), and the care goes to P2 at 25: 25 + 20.
    providers = [ONSITE_DEAR, offsite(provider_id="P2"),
                 offsite(provider_id="P3", cqc_rating="inadequate")]
    policy = {**NO_BLOCK_CARE, "min_framework_per_zone": 2}
    cost = weekly_cost(tmp_path, policy=policy, providers=providers)
    assert cost == pytest.approx(BASE + 25 + 20)
    data = load_dataset(tmp_path / "data")
    scenario = load_scenario(tmp_path / "test.toml")
    assert list(derive(data, scenario).framework["provider_id"]) == ["P1", "P2"]
    closed = scenario.model_copy(update={"policy": scenario.policy.model_copy(
        update={"allow_framework": False, "min_framework_per_zone": 0})})
    assert derive(data, closed, check=False).framework.empty


def test_a_night_band_that_does_not_wrap_midnight(tmp_path):
    # Nights from 00:00 to 06:00: 6 night hours a day at GBP 30 (42 a week) and the other 126
    # hours at GBP 20 (weekend days are paid as weekdays here): 1,260 + 2,520 = 3,780.
    cost = weekly_cost(tmp_path, policy={"night_start_hour": 0, "night_end_hour": 6})
    assert cost == pytest.approx(42 * 30 + 126 * 20)


def test_budget_cap_excludes_a_provider(tmp_path):
    # Budget GBP 28, no top-up: P3 at 30 is over budget, so P2 (25 + 10 admission) it is.
    providers = [ONSITE_DEAR, offsite(provider_id="P2", framework_admission_cost=520),
                 offsite(provider_id="P3", framework_rate_day=30)]
    cost = weekly_cost(tmp_path, policy={**NO_BLOCK_CARE, "budget_topup_share": 0.0},
                       providers=providers, residents=[resident(weekly_budget=28)])
    assert cost == pytest.approx(BASE + 35)


def test_budget_top_up_widens_the_cap_to_the_penny(tmp_path):
    # Budget GBP 20 with a 25 % top-up: cap 20 x 1.25 = 25, exactly P2's price for the 1-hour
    # visit, so P2 is eligible (P3 at 30 and P1 at 40 are not): 3990 + 25. With a 24 % top-up
    # the cap is 24.80 and no route fits: the run stops before solving, naming R1.
    providers = [ONSITE_DEAR, offsite(provider_id="P2"),
                 offsite(provider_id="P3", framework_rate_day=30)]
    residents = [resident(weekly_budget=20)]
    cost = weekly_cost(tmp_path / "a", policy={**NO_BLOCK_CARE, "budget_topup_share": 0.25},
                       providers=providers, residents=residents)
    assert cost == pytest.approx(BASE + 25)
    data = write_dataset(tmp_path / "b" / "data", providers=providers, residents=residents)
    outcome = solve_file(write_model(tmp_path / "b", data, shifts=DAY_NIGHT, policy={
        **NO_BLOCK_CARE, "budget_topup_share": 0.24}))
    assert outcome.result is None and "Resident R1" in outcome.reasons[0]


def test_pooled_budgets_pay_for_what_individual_budgets_cannot(tmp_path):
    # One framework provider at GBP 30 for 1 hour each; budgets 20 and 40. Individually R1
    # cannot afford it (no eligible route); pooled, 30 + 30 <= 20 + 40.
    tables = {"providers": [ONSITE_DEAR, offsite(provider_id="P3", framework_rate_day=30)],
              "residents": [resident(weekly_budget=20), resident(resident_id="R2",
                                                                 weekly_budget=40)],
              "visits": [visit(), visit(resident_id="R2")]}
    policy = {**NO_BLOCK_CARE, "budget_topup_share": 0.0}
    data = write_dataset(tmp_path / "a" / "data", **tables)
    outcome = solve_file(write_model(tmp_path / "a", data, policy=policy, shifts=DAY_NIGHT))
    assert outcome.result is None and "Resident R1" in outcome.reasons[0]
    cost = weekly_cost(tmp_path / "b", policy={**policy, "budget_rule": "pooled"}, **tables)
    assert cost == pytest.approx(BASE + 60)


def test_pooled_budgets_with_split_packages_set_no_individual_cap(tmp_path):
    # As above, with packages allowed to split: R1's GBP 30 visit is over its own GBP 20
    # budget, but the pool (20 + 40 = 60) pays for both visits: 3990 + 60.
    tables = {"providers": [ONSITE_DEAR, offsite(provider_id="P3", framework_rate_day=30)],
              "residents": [resident(weekly_budget=20), resident(resident_id="R2",
                                                                 weekly_budget=40)],
              "visits": [visit(), visit(resident_id="R2")]}
    policy = {**NO_BLOCK_CARE, "budget_topup_share": 0.0, "budget_rule": "pooled",
              "allow_splits": True}
    assert weekly_cost(tmp_path, policy=policy, **tables) == pytest.approx(BASE + 60)


def test_strong_preference_is_honoured_weak_one_is_not(tmp_path):
    providers = [ONSITE_DEAR, offsite(provider_id="P2"),
                 offsite(provider_id="P3", framework_rate_day=30)]
    weak = weekly_cost(tmp_path / "a", policy=NO_BLOCK_CARE, providers=providers, residents=[
        resident(preferred_provider="P3", preference_strength="weak")])
    assert weak == pytest.approx(BASE + 25)
    strong = weekly_cost(tmp_path / "b", policy=NO_BLOCK_CARE, providers=providers, residents=[
        resident(preferred_provider="P3", preference_strength="strong")])
    assert strong == pytest.approx(BASE + 30)


def test_strong_preference_for_the_on_site_provider_binds_while_it_holds_the_block(tmp_path):
    # R1 (GBP 30 budget, no top-up) names P1, which can serve R1 only on site: P1's own
    # hourly price (2 carers x 0.5 h x GBP 40 = 40) is over budget. A 30-minute visit for 2
    # carers at 10:00 needs a second carer on duty under the block, a 15-hour day shift
    # (15 x 20 = 300); P2 charges 2 x 0.5 x 25 = 25. Weak: P2 takes it (3990 + 25). Strong:
    # P1 holds the block (the only on-site provider), so the care stays with it: 3990 + 300.
    tables = {"providers": [ONSITE_DEAR, offsite(provider_id="P2")],
              "visits": [visit(minutes=30, carers=2)]}
    policy = {"budget_topup_share": 0.0}
    weak = weekly_cost(tmp_path / "a", policy=policy, **tables, residents=[
        resident(weekly_budget=30, preferred_provider="P1", preference_strength="weak")])
    assert weak == pytest.approx(BASE + 25)
    strong = weekly_cost(tmp_path / "b", policy=policy, **tables, residents=[
        resident(weekly_budget=30, preferred_provider="P1", preference_strength="strong")])
    assert strong == pytest.approx(BASE + 300)


def test_care_under_anothers_block_does_not_honour_a_preference(tmp_path):
    # P3 runs the on-site team for less (GBP 18 an hour on weekdays): 75 x 18 + 30 x 20 +
    # 63 x 30 = 3840 a week, against P1's 3990. R1 weakly names P1 and every preference must
    # be honoured. Care under P3's block does not honour it, so R1's hour is called off P1 on
    # the framework at GBP 25: 3840 + 25 = 3865 (cheaper than giving P1 the block, 3990).
    providers = [provider(), provider(provider_id="P3", name="Three", block_rate_day=18)]
    residents = [resident(preferred_provider="P1", preference_strength="weak")]
    cost = weekly_cost(tmp_path, policy={"min_preference_share": 1.0}, providers=providers,
                       residents=residents)
    assert cost == pytest.approx(3840 + 25)

def test_share_of_preferences_honoured(tmp_path):
    # Two residents weakly prefer P3 (30) over P2 (25); half must be honoured: +5 once.
    providers = [ONSITE_DEAR, offsite(provider_id="P2"),
                 offsite(provider_id="P3", framework_rate_day=30)]
    residents = [resident(preferred_provider="P3", preference_strength="weak"),
                 resident(resident_id="R2", preferred_provider="P3", preference_strength="weak")]
    visits = [visit(), visit(resident_id="R2")]
    cost = weekly_cost(tmp_path, policy={**NO_BLOCK_CARE, "min_preference_share": 0.5},
                       providers=providers, residents=residents, visits=visits)
    assert cost == pytest.approx(BASE + 25 + 30)


def test_direct_payment_request_is_honoured(tmp_path):
    # Under the block the visit is free (fits the staff on duty); asked for, a direct payment
    # costs 1 h x GBP 22 plus administration 520/52 = 10 a week.
    cost = weekly_cost(tmp_path, residents=[resident(wants_direct_payment="true")],
                       costs={"direct_payment_admin_per_year": 520})
    assert cost == pytest.approx(BASE + 22 + 10)


def test_direct_payments_open_to_every_resident(tmp_path):
    # Without care under the block, R1 (who has not asked for a direct payment) takes
    # framework care from P1 at GBP 25; with direct payments open to every resident, the
    # direct payment at GBP 22 an hour (no administration) is cheaper: 3990 + 22.
    assert weekly_cost(tmp_path / "a", policy=NO_BLOCK_CARE) == pytest.approx(BASE + 25)
    cost = weekly_cost(tmp_path / "b", policy={**NO_BLOCK_CARE, "direct_payments": "always"})
    assert cost == pytest.approx(BASE + 22)

def test_mean_satisfaction_floor(tmp_path):
    providers = [ONSITE_DEAR, offsite(provider_id="P2", satisfaction=70),
                 offsite(provider_id="P3", framework_rate_day=30, satisfaction=90)]
    cheap = weekly_cost(tmp_path / "a", policy=NO_BLOCK_CARE, providers=providers)
    assert cheap == pytest.approx(BASE + 25)
    floor = weekly_cost(tmp_path / "b", policy={**NO_BLOCK_CARE, "min_mean_satisfaction": 80},
                        providers=providers)
    assert floor == pytest.approx(BASE + 30)


def test_block_care_counts_at_its_holders_satisfaction(tmp_path):
    # The visit fits the one member of staff on duty, so block care costs nothing extra. The
    # block holder P1 scores 80 (a share of 0.80 of the hours): a floor of 75 keeps R1 under
    # the block (3990); a floor of 85 does not, and only P2 (95) reaches it, at 25: 3990 + 25.
    providers = [provider(), offsite(provider_id="P2", satisfaction=95)]
    low = weekly_cost(tmp_path / "a", policy={"min_mean_satisfaction": 75}, providers=providers)
    assert low == pytest.approx(BASE)
    high = weekly_cost(tmp_path / "b", policy={"min_mean_satisfaction": 85}, providers=providers)
    assert high == pytest.approx(BASE + 25)


def test_satisfaction_floor_at_a_scheme_without_an_on_site_team(tmp_path):
    # S1 keeps no on-site team (no staff cost): only framework care, P2 (satisfaction 70) at
    # GBP 25 or P3 (90) at 30. A floor of 80 needs P3.
    providers = [offsite(provider_id="P2", satisfaction=70),
                 offsite(provider_id="P3", framework_rate_day=30, satisfaction=90)]
    policy = {"schemes_without_cover": ["S1"]}
    cheap = weekly_cost(tmp_path / "a", policy=policy, providers=providers)
    assert cheap == pytest.approx(25)
    floor = weekly_cost(tmp_path / "b", policy={**policy, "min_mean_satisfaction": 80},
                        providers=providers)
    assert floor == pytest.approx(30)


def _two_schemes() -> dict:
    p2 = provider(provider_id="P2", block_rate_day=22, block_rate_night=33, block_rate_weekend=22,
                  zones="North|South")
    return {"schemes": [scheme(), scheme(scheme_id="S2", name="Willow House", zone="South")],
            "providers": [provider(zones="North|South"), p2],
            "residents": [resident(), resident(resident_id="R2", scheme_id="S2")],
            "visits": [visit(), visit(resident_id="R2")]}


def test_market_share_cap_spreads_block_contracts(tmp_path):
    # Both schemes to P1: 2 x 3990. With no provider above 60 % of hours, one goes to P2 (4389).
    assert weekly_cost(tmp_path / "a", **_two_schemes()) == pytest.approx(2 * BASE)
    capped = weekly_cost(tmp_path / "b", policy={"max_provider_share": 0.6}, **_two_schemes())
    assert capped == pytest.approx(BASE + 4389)


def test_satisfaction_floor_and_market_share_cap_together(tmp_path):
    # Both rules read the care under each block, credited to its holder. P2 (on site at 10 %
    # higher rates, satisfaction 60) and P3 (framework only, GBP 25, satisfaction 95) join.
    # Floor alone: both blocks to P1, visits free under them (mean 0.80): 2 x 3990 = 7980.
    # Cap of 60 % alone: one block to P2, 3990 + 4389 = 8379. Both: the care under P2's block
    # counts at 0.60, mean (0.80 + 0.60) / 2 = 0.70 < 0.75, so the other resident's visit goes
    # to P3 (mean (0.95 + 0.60) / 2 = 0.775): 8379 + 25 = 8404.
    tables = _two_schemes()
    tables["providers"][1]["satisfaction"] = 60
    tables["providers"].append(offsite(provider_id="P3", zones="North|South", satisfaction=95))
    floor = weekly_cost(tmp_path / "a", policy={"min_mean_satisfaction": 75}, **tables)
    assert floor == pytest.approx(2 * BASE)
    both = weekly_cost(tmp_path / "b", policy={"min_mean_satisfaction": 75,
                                               "max_provider_share": 0.6}, **tables)
    assert both == pytest.approx(BASE + 4389 + 25)


def test_provider_capacity(tmp_path):
    # P1 can supply 200 hours a week: one scheme's 168 staff-hours, not two.
    tables = _two_schemes()
    tables["providers"][0] = provider(zones="North|South", weekly_capacity_hours=200)
    assert weekly_cost(tmp_path, **tables) == pytest.approx(BASE + 4389)


def _lp_bound(data, model, without: str | None = None) -> float:
    """The LP relaxation's value of a tiny model, optionally with one row family switched off."""
    m = build_model(derive(load_dataset(data), load_scenario(model)))
    if without is not None:
        getattr(m, without).deactivate()
    return float(prices.lp_relaxation(compile_model(m), 60.0)[1])


def test_framework_hours_need_admission_lifts_the_lp_to_the_integer_optimum(tmp_path):
    # R1 and R2 each need one hour (Monday 10:00); no care under the block or on-site spot.
    # A direct payment costs GBP 40 an hour; P2 on the framework 25, can supply 1 hour a week,
    # and costs 520 a year to monitor (10 a week). Integer optimum: admit P2 for one of them,
    # the other on a direct payment: 10 + 25 + 40 = 75 on top of the base rota. LP relaxation
    # without framework_hours_need_admission: each care share is at most P2's admission z, so
    # P2 can carry its 1 hour as half of each package with z = 1/2: 5 + 25 + 40 = 70. With the
    # row, the 1 hour needs z = 1, and the LP is the integer optimum, 75.
    tables = {
        "providers": [ONSITE_DEAR, offsite(provider_id="P2", weekly_capacity_hours=1,
                                           framework_monitoring_cost=520)],
        "residents": [resident(), resident(resident_id="R2")],
        "visits": [visit(), visit(resident_id="R2")],
        "costs": {"direct_payment_hourly_rate": 40.0},
    }
    policy = {**NO_BLOCK_CARE, "direct_payments": "always"}
    assert weekly_cost(tmp_path / "mip", policy=policy, **tables) == pytest.approx(BASE + 75)
    data = write_dataset(tmp_path / "lp" / "data", **tables)
    model = write_model(tmp_path / "lp", data, policy=policy, shifts=DAY_NIGHT)
    assert _lp_bound(data, model) == pytest.approx(BASE + 75)
    assert _lp_bound(data, model, "framework_hours_need_admission") == pytest.approx(BASE + 70)


def test_onsite_cqc_floor_and_unrated_rule(tmp_path):
    p2 = provider(provider_id="P2", block_rate_day=22, block_rate_night=33, block_rate_weekend=22)
    ri = [provider(cqc_rating="requires_improvement"), p2]
    assert weekly_cost(tmp_path / "a", providers=ri) == pytest.approx(4389)
    relaxed = weekly_cost(tmp_path / "b", providers=ri,
                          policy={"onsite_cqc_floor": "requires_improvement"})
    assert relaxed == pytest.approx(BASE)
    unrated = [provider(cqc_rating="unrated"), p2]
    assert weekly_cost(tmp_path / "c", providers=unrated) == pytest.approx(4389)
    trusted = weekly_cost(tmp_path / "d", providers=unrated, policy={"unrated_as": "good"})
    assert trusted == pytest.approx(BASE)


def test_coordination_and_block_management_costs(tmp_path):
    # 520 a year to manage the block = 10 a week; coordination 7 a week for the one provider.
    cost = weekly_cost(tmp_path, costs={"block_contract_management_per_year": 520,
                                        "coordination_per_provider_scheme_per_week": 7})
    assert cost == pytest.approx(BASE + 10 + 7)


def test_onsite_provider_paid_from_budget_has_no_travel(tmp_path):
    # Core and add-on: planned care not under the block. On-site P1 at 25 (no travel) beats
    # P2 at 25 plus 15 minutes' travel (25 x 75/60 = 31.25).
    providers = [provider(travel_minutes_per_visit=15),
                 offsite(provider_id="P2", travel_minutes_per_visit=15)]
    cost = weekly_cost(tmp_path, policy={"allow_block_care": False}, providers=providers)
    assert cost == pytest.approx(BASE + 25)
    spot = weekly_cost(tmp_path / "b", policy=NO_BLOCK_CARE, providers=providers)
    assert spot == pytest.approx(BASE + 31.25)


def test_on_site_spot_care_counts_towards_the_providers_capacity(tmp_path):
    # Without care under the block, R1's hour is on-site spot care from P1 at GBP 25. P1's
    # rota is 168 staff-hours a week; with a capacity of 168.5 the spot hour no longer fits
    # (169 > 168.5), so the hour goes to P2 on the framework at GBP 30: 3990 + 30.
    providers = [provider(weekly_capacity_hours=168.5),
                 offsite(provider_id="P2", framework_rate_day=30)]
    roomy = weekly_cost(tmp_path / "a", policy={"allow_block_care": False},
                        providers=[provider(), providers[1]])
    assert roomy == pytest.approx(BASE + 25)
    full = weekly_cost(tmp_path / "b", policy={"allow_block_care": False}, providers=providers)
    assert full == pytest.approx(BASE + 30)


def test_split_packages_pass_down_the_ranking_only_while_the_better_provider_is_full(tmp_path):
    # Ranking (as in the cost-quality tests): P3 (GBP 25, outstanding, satisfaction 100) first,
    # P2 (GBP 20, requires improvement, 50) second, P1 (framework GBP 40) third. Packages may
    # be split. R1, R2 and R3 each have a 1-hour visit; R3 names P2 (exempt from the ranking)
    # and goes there: 20. P3 can take 2.5 hours a week; it is full for a 1-hour package only
    # while it already supplies at least 2.5 - 1 = 1.5 hours, so of R1's and R2's two hours at
    # most 0.5 may pass down to P2: 1.5 x 25 + 0.5 x 20 = 47.50, in all 20 + 47.50 = 67.50.
    # ("Full" is yes or no: counting P3 as partly full for a share of a package would let
    # R1 and R2 pass half each down, P3 keeping 1 hour: 25 + 1 x 20 + 20 = 65.)
    providers = [ONSITE_DEAR,
                 offsite(provider_id="P2", framework_rate_day=20,
                         cqc_rating="requires_improvement", satisfaction=50),
                 offsite(provider_id="P3", cqc_rating="outstanding", satisfaction=100,
                         weekly_capacity_hours=2.5)]
    residents = [resident(), resident(resident_id="R2"),
                 resident(resident_id="R3", preferred_provider="P2", preference_strength="weak")]
    visits = [visit(), visit(resident_id="R2"), visit(resident_id="R3")]
    cost = weekly_cost(tmp_path, policy={**NO_BLOCK_CARE, "call_off_in_rank_order": True,
                                         "allow_splits": True},
                       providers=providers, residents=residents, visits=visits)
    assert cost == pytest.approx(BASE + 67.5)


def test_infeasible_model_names_the_rule_that_cannot_be_met(tmp_path):
    # P1's capacity (100 h) cannot staff the scheme round the clock (168 h): no plan, and
    # relaxing capacity alone would give one. Nothing is written.
    data = write_dataset(tmp_path / "data", providers=[provider(weekly_capacity_hours=100)])
    outcome = solve_file(write_model(tmp_path, data, shifts=DAY_NIGHT), tmp_path / "results")
    assert outcome.result is not None and outcome.result.status == "infeasible"
    assert any("providers' weekly capacity" in r for r in outcome.reasons), outcome.reasons
    # Where and by how much: the block needs 168 staff-hours, P1 can give 100.
    assert any("provider P1: 68 hours a week more than its capacity" in r
               for r in outcome.reasons), outcome.reasons
    assert not (tmp_path / "results").exists()


def test_preference_for_the_on_site_provider_without_on_site_routes(tmp_path):
    # No care under the block and no spot purchases: R1 (GBP 28 budget, no top-up) names P1,
    # which could only be called off the framework, at 25 plus 15 minutes' travel = 31.25,
    # over budget. The preference is stated but not eligible (P1's spot price of 25 would
    # fit, but the model allows no spot route); P2 at 25 takes the visit.
    providers = [provider(travel_minutes_per_visit=15), offsite(provider_id="P2")]
    data = write_dataset(tmp_path / "data", providers=providers, residents=[
        resident(weekly_budget=28, preferred_provider="P1", preference_strength="weak")])
    policy = {**NO_BLOCK_CARE, "budget_topup_share": 0.0}
    outcome = solve_file(write_model(tmp_path, data, policy=policy, shifts=DAY_NIGHT),
                         tmp_path / "results", charts=False)
    assert outcome.problems == [], outcome.problems
    assert outcome.result.objective == pytest.approx(BASE + 25)
    heads = dict(zip(outcome.plan.summary["metric"], outcome.plan.summary["value"], strict=True))
    assert (heads["preferences_stated"], heads["preferences_eligible"]) == (1, 0)


def test_rules_no_plan_can_meet_are_explained_before_solving(tmp_path):
    # Willow House (S2, South) needs 24-hour cover, but the only on-site provider serves the
    # North; and 2 framework providers per zone, where only P1 passes the CQC floor in the
    # North (P2 is rated inadequate).
    two = {"schemes": [scheme(), scheme(scheme_id="S2", name="Willow House", zone="South")],
           "providers": [provider(), offsite(provider_id="P2", zones="North|South")]}
    data = write_dataset(tmp_path / "a" / "data", **two)
    outcome = solve_file(write_model(tmp_path / "a", data, shifts=DAY_NIGHT))
    assert outcome.result is None
    assert outcome.reasons == [
        "Scheme Willow House (S2) needs 24-hour cover but no provider serving zone South can "
        "run an on-site team and is rated good or better."]
    data = write_dataset(tmp_path / "b" / "data", providers=[
        provider(), offsite(provider_id="P2", cqc_rating="inadequate")])
    outcome = solve_file(write_model(tmp_path / "b", data, shifts=DAY_NIGHT,
                                     policy={"min_framework_per_zone": 2}))
    assert outcome.result is None
    assert outcome.reasons == [
        "Zone North must have 2 framework providers but only 1 provider serving it passes the "
        "CQC floor."]


def test_static_infeasibility_reads_as_its_reasons_one_a_line(tmp_path):
    # Two rules no plan can meet: Willow House (S2, South) has no on-site provider, and the
    # model exempts a scheme S9 that schemes.csv does not have. The exception's own text (what
    # a caller of derive sees) is the two reasons on two lines, in the order they are found.
    data = write_dataset(tmp_path / "data", schemes=[
        scheme(), scheme(scheme_id="S2", name="Willow House", zone="South")])
    model = write_model(tmp_path, data, shifts=DAY_NIGHT, policy={"schemes_without_cover": ["S9"]})
    with pytest.raises(StaticInfeasibility) as caught:
        derive(load_dataset(data), load_scenario(model))
    assert caught.value.reasons == [
        "Scheme Willow House (S2) needs 24-hour cover but no provider serving zone South can "
        "run an on-site team and is rated good or better.",
        "The model names scheme S9 in policy.schemes_without_cover, but schemes.csv has no such "
        "scheme."]
    assert str(caught.value) == "\n".join(caught.value.reasons)


def test_preferences_that_cannot_be_met_are_not_counted_as_eligible(tmp_path):
    # R1 names P3 (GBP 30 an hour) on a GBP 28 budget with no top-up: stated, not eligible.
    # R2 names P2 (GBP 25): stated and eligible, and honoured as the cheapest anyway.
    providers = [ONSITE_DEAR, offsite(provider_id="P2"),
                 offsite(provider_id="P3", framework_rate_day=30)]
    residents = [resident(weekly_budget=28, preferred_provider="P3", preference_strength="weak"),
                 resident(resident_id="R2", preferred_provider="P2", preference_strength="weak")]
    data = write_dataset(tmp_path / "data", providers=providers, residents=residents,
                         visits=[visit(), visit(resident_id="R2")])
    policy = {**NO_BLOCK_CARE, "budget_topup_share": 0.0}
    outcome = solve_file(write_model(tmp_path, data, policy=policy, shifts=DAY_NIGHT), None)
    heads = dict(zip(outcome.plan.summary["metric"], outcome.plan.summary["value"], strict=True))
    assert heads["preferences_stated"] == 2
    assert heads["preferences_eligible"] == 1
    assert heads["preferences_honoured"] == 1
