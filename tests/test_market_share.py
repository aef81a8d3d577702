"""The market-share cap counts commissioned hours by need, so idle rota hours cannot meet it
(docs/model.md, commissioned hours). Numbers worked out by hand in the comments.

Two schemes, each with 1 member of staff round the clock on the 07:00 (15 h) and 22:00 (9 h)
shifts: 168 cover hours each, GBP 3,990 a week at GBP 20/h day and weekend, 30/h night.
P1 serves both zones and is the only on-site provider in the North (S1); P2 is on site in the
South (S2) only, at the same rates, with framework rates too high to use (GBP 100/h).
R1 lives at S2 and strongly prefers P1: seven 12-hour visits and one 1-hour visit, 85 hours
of P1 framework care at GBP 25/h (GBP 2,125). P1's commissioned hours are 168 + 85 = 253.
"""

from __future__ import annotations

import pytest
from factory import provider, resident, scheme, visit, write_dataset, write_model

from optimiser.inputs.schema import DAYS
from optimiser.plan.checks import build_context
from optimiser.plan.checks.market import commissioned_hours
from optimiser.run import solve_file

DAY_NIGHT = {"patterns": [[7, 15], [22, 9]]}
POLICY = {"max_provider_share": 0.6, "honour_strong_preferences": True}


def _tables(with_r2: bool) -> dict:
    p1 = provider(zones="North|South")
    p2 = provider(provider_id="P2", name="Provider Two", zones="South", framework_rate_day=100,
                  framework_rate_night=100, framework_rate_weekend=100)
    residents = [resident(resident_id="R1", scheme_id="S2", preferred_provider="P1",
                          preference_strength="strong", weekly_budget=5000)]
    visits = [visit(resident_id="R1", day=d, start="08:00", minutes=720) for d in DAYS]
    visits.append(visit(resident_id="R1", day="Mon", start="21:00", minutes=60))
    if with_r2:
        residents.append(resident(resident_id="R2", scheme_id="S2", weekly_budget=5000))
        visits.append(visit(resident_id="R2", day="Mon", start="10:00", minutes=60))
    return {"schemes": [scheme(), scheme(scheme_id="S2", name="Willow House", zone="South")],
            "providers": [p1, p2], "residents": residents, "visits": visits}


def _solve(tmp_path, with_r2: bool):
    data = write_dataset(tmp_path / "data", **_tables(with_r2))
    model = write_model(tmp_path, data, policy=POLICY, shifts=DAY_NIGHT)
    return solve_file(model, tmp_path / "results", charts=False)


def test_care_under_a_competitors_block_counts_not_idle_staff(tmp_path):
    # R2's 1-hour visit under P2's block at S2 is commissioned from P2 (the member of staff on
    # duty does it at no extra cost): P1 253 of 168 + 85 + 168 + 1 = 422 hours, 59.95 % <= 60 %.
    # Cost: 3,990 + 3,990 + 2,125 = 10,105.
    outcome = _solve(tmp_path, with_r2=True)
    assert outcome.result.status == "optimal", outcome.reasons
    assert outcome.problems == [], outcome.problems
    assert outcome.result.objective == pytest.approx(10_105)
    ctx = build_context(tmp_path / "results" / "test", outcome.params.data,
                        outcome.params.scenario)
    hours = commissioned_hours(ctx)
    assert hours["P1"] == pytest.approx(253) and hours["P2"] == pytest.approx(169)
    written = outcome.plan.providers.set_index("provider_id")
    assert written.at["P1", "commissioned_hours"] == pytest.approx(253)
    assert written.at["P1", "market_share"] == pytest.approx(253 / 422, abs=1e-6)


def test_idle_shift_at_a_competitors_scheme_cannot_meet_the_cap(tmp_path):
    # Without R2, P1 has 253 of 421 commissioned hours (60.1 %). Counting rota hours, an idle
    # 9-hour night shift at S2 (GBP 270) would have diluted P1 to 253/430 = 58.8 %; counted by
    # need it changes nothing, and nothing else can: no plan meets the cap.
    outcome = _solve(tmp_path, with_r2=False)
    assert outcome.result is not None and outcome.result.status == "infeasible"
    assert any("market" in reason.lower() for reason in outcome.reasons), outcome.reasons
