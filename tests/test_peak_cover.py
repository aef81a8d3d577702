"""Cover at the moments visits overlap, and the per-band hours bound (docs/model.md, sections
3-4). Every number is worked out by hand in the comments.

Base instance (tests/factory.py): one scheme, 1 member of staff day and night, no calls,
provider P1 on site at GBP 20/h day and weekend, 30/h at night; one member of staff round the
clock on the 07:00 (15 h) and 22:00 (9 h) shifts costs GBP 3,990 a week. Framework and spot
prices are set high (GBP 100/h) so the on-site team is the only sensible way to deliver care.
"""

from __future__ import annotations

import highspy
import pandas as pd
import pytest
from factory import provider, resident, scheme, visit, write_dataset, write_model

from optimiser.inputs.config import load_scenario
from optimiser.inputs.load import load_dataset
from optimiser.inputs.params import derive
from optimiser.inputs.peaks import most_carers_at_once, peaks
from optimiser.model.build import build_model
from optimiser.plan.checks import verify_run
from optimiser.run import solve_file
from optimiser.solving.highs import compile_model, run_highs

DAY_NIGHT = {"patterns": [[7, 15], [22, 9]]}
WITH_HOUR = {"patterns": [[7, 15], [22, 9], [10, 1]]}  # plus a 1-hour shift at 10:00
BASE = 3990.0
DEAR = {"framework_rate_day": 100, "framework_rate_night": 100, "framework_rate_weekend": 100}


def _residents(n: int) -> list[dict]:
    return [resident(resident_id=f"R{i + 1}", weekly_budget=5000) for i in range(n)]


def _solve(tmp_path, shifts=WITH_HOUR, **tables):
    data = write_dataset(tmp_path / "data", **tables)
    model = write_model(tmp_path, data, shifts=shifts)
    outcome = solve_file(model, tmp_path / "results", charts=False)
    assert outcome.result is not None and outcome.result.status == "optimal", outcome.reasons
    assert outcome.problems == [], outcome.problems
    return outcome


def test_peak_moments_of_overlapping_visits():
    # Monday: R1 10:00-10:30 (1 carer), R2 10:15-10:45 (2 carers), R3 10:40-11:10 (1 carer).
    # Slot 10:00: at 10:00 {R1:1}, at 10:15 {R1:1, R2:2}, at 10:40 {R2:2, R3:1}; the first is
    # inside the second, so the peaks are 10:15 and 10:40 with 3 carers each. Slot 11:00:
    # R3 still under way at 11:00, 1 carer. The old slot average was (30 + 60 + 20)/60 = 1.83.
    class Data:
        residents = pd.DataFrame({"resident_id": ["R1", "R2", "R3"], "scheme_id": ["S1"] * 3})
        visits = pd.DataFrame({"resident_id": ["R1", "R2", "R3"], "day": ["Mon"] * 3,
                               "start": ["10:00", "10:15", "10:40"], "minutes": [30, 30, 30],
                               "carers": [1, 2, 1]})

    class Scenario:
        slot_minutes = 60

    rows = peaks(Data, Scenario)
    moments = sorted(set(zip(rows["slot"], rows["instant"], strict=True)))
    assert moments == [(10, 615), (10, 640), (11, 660)]
    most = most_carers_at_once(rows)
    assert most[("S1", 10)] == 3 and most[("S1", 11)] == 1


def test_four_half_hour_visits_at_ten_need_four_carers(tmp_path):
    # Four residents, each a 30-minute visit on Monday at 10:00: four carers are busy at once.
    # The slot average (4 x 30 / 60 = 2 staff) would have bought one extra 1-hour shift
    # (GBP 20); at the moment they overlap three more carers are needed: 3 x 20 = 60.
    visits = [visit(resident_id=f"R{i + 1}", minutes=30) for i in range(4)]
    outcome = _solve(tmp_path, residents=_residents(4), visits=visits,
                     providers=[provider(**DEAR)])
    assert outcome.plan.cost_lines.set_index("line")["weekly_gbp"]["total"] == pytest.approx(
        BASE + 60)
    cover = outcome.plan.cover.set_index(["scheme_id", "slot"])
    assert cover.loc[("S1", 10), "required"] == pytest.approx(4)
    assert cover.loc[("S1", 10), "on_duty"] == 4


def test_staggered_visits_need_no_extra_carer(tmp_path):
    # 10:00-10:30 and 10:30-11:00 never overlap: the one member of staff does both.
    visits = [visit(resident_id="R1", minutes=30), visit(resident_id="R2", start="10:30",
                                                       minutes=30)]
    outcome = _solve(tmp_path, residents=_residents(2), visits=visits,
                     providers=[provider(**DEAR)])
    assert outcome.plan.cost_lines.set_index("line")["weekly_gbp"]["total"] == pytest.approx(BASE)


def test_checker_rejects_a_rota_staffed_for_the_slot_average(tmp_path):
    # The plan above with the rota cut to what the slot average asked for (one extra carer at
    # 10:00, so 2 on duty) must fail verification: 4 carers are busy at 10:00.
    visits = [visit(resident_id=f"R{i + 1}", minutes=30) for i in range(4)]
    outcome = _solve(tmp_path, residents=_residents(4), visits=visits,
                     providers=[provider(**DEAR)])
    folder = tmp_path / "results" / "test"
    rota = pd.read_csv(folder / "rota.csv", dtype=str)
    hour = rota["hours"].astype(float) == 1
    assert rota.loc[hour, "staff"].astype(float).sum() == 3
    rota.loc[hour, "staff"] = "1"
    rota.to_csv(folder / "rota.csv", index=False)
    problems = verify_run(folder, outcome.params.data, outcome.params.scenario)
    cover = [p for p in problems if p.startswith("cover:")]
    assert cover and "2 staff on duty, 4 required" in cover[0], problems


def test_two_simultaneous_double_ups_in_two_flats(tmp_path):
    # Two flats, two residents, each a 60-minute double-up on Monday at 10:00: 4 carers at once.
    # The old bound (peak minimum + reserve + flats = 3 staff) made this infeasible; with the
    # bound derived from the visits, 3 extra 1-hour shifts: 3990 + 60.
    visits = [visit(resident_id="R1", carers=2), visit(resident_id="R2", carers=2)]
    outcome = _solve(tmp_path, residents=_residents(2), visits=visits,
                     schemes=[scheme(flats=2)], providers=[provider(**DEAR)])
    assert outcome.result.objective == pytest.approx(BASE + 60)


def _root_lp(model_file) -> float:
    scenario = load_scenario(model_file)
    params = derive(load_dataset(scenario.dataset), scenario)
    compiled = compile_model(build_model(params))
    n = compiled.lp.num_col_
    compiled.lp.integrality_ = [highspy.HighsVarType.kContinuous] * n
    result, _ = run_highs(compiled, scenario.solver)
    return result.objective


def test_hours_bound_closes_the_root_gap_between_two_holders(tmp_path):
    # P1: 20 day, 30 night, 20 weekend (3,990 a week for one member of staff round the clock).
    # P2: 30 day, 20 night, 30 weekend (5 x 15 x 30 + 2 x 15 x 30 + 7 x 9 x 20 = 4,410). The MIP
    # gives the block to P1: 3,990. With a loose bound the LP took the night hours (63) from P2
    # on a sliver of its award: 1,500 + 600 + 63 x 20 = 3,360. With G[s,b] = 1 member of staff x
    # the band's hours, P1's 75 weekday hours need P1's whole award: the LP is 3,990 too.
    p2 = provider(provider_id="P2", block_rate_day=30, block_rate_night=20,
                  block_rate_weekend=30, **DEAR)
    data = write_dataset(tmp_path / "data", providers=[provider(**DEAR), p2])
    model = write_model(tmp_path, data, shifts=DAY_NIGHT)
    assert _root_lp(model) == pytest.approx(BASE)
    bound = derive(load_dataset(data), load_scenario(model)).hours_bound
    assert bound.set_index("band")["max_hours"].to_dict() == {
        "day": 75.0, "night": 63.0, "weekend": 30.0}


def test_hours_bound_is_each_schemes_own(tmp_path):
    # Two schemes on the 07:00 and 22:00 shifts. Oakfield Court needs 1 member of staff round
    # the clock: 75 weekday, 63 night and 30 weekend hours. Willow House needs 2 by day and 1
    # at night: 2 x 75 = 150, 63 and 2 x 30 = 60. Neither bound counts the other scheme's staff.
    data = write_dataset(tmp_path / "data", schemes=[
        scheme(), scheme(scheme_id="S2", name="Willow House", day_min_staff=2)])
    model = write_model(tmp_path, data, shifts=DAY_NIGHT)
    bound = derive(load_dataset(data), load_scenario(model)).hours_bound
    assert bound.set_index(["scheme_id", "band"])["max_hours"].to_dict() == {
        ("S1", "day"): 75.0, ("S1", "night"): 63.0, ("S1", "weekend"): 30.0,
        ("S2", "day"): 150.0, ("S2", "night"): 63.0, ("S2", "weekend"): 60.0}


def test_hours_bound_with_overlapping_shifts_looks_only_at_the_schemes_own_needs(tmp_path):
    # 8-hour shifts starting every hour: 8 patterns cover each slot, so the sum of their own
    # largest N^most (8 x the need or more) never binds, and the bound at slot t is
    # max N^most over [t, t+7] + max N^most over [t-7, t-1], each scheme's own.
    # Oakfield Court needs 1 round the clock: 1 + 1 = 2 at every slot, so 2 x 75 = 150 weekday,
    # 2 x 63 = 126 night and 2 x 30 = 60 weekend hours.
    # Willow House needs 2 from 07:00 to 22:00 and 1 at night. Daytime slots look ahead at a
    # need of 2; behind them is 2 except at 07:00 (00:00-06:00, all 1): 3 + 14 x 4 = 59 hours
    # a day. Night slots: 22:00 and 23:00 see only night ahead (to 06:00), 2 behind: 3;
    # 00:00-04:00 see 07:00 ahead and the day behind: 4; 05:00 and 06:00 see 07:00 ahead, only
    # night behind (22:00-05:00): 3; 2 x 3 + 5 x 4 + 2 x 3 = 32 a night. Weekly: day
    # 5 x 59 = 295, weekend 2 x 59 = 118, night 7 x 32 = 224. The padding (no minimum volume,
    # one 8-hour shift) is below every figure.
    data = write_dataset(tmp_path / "data", schemes=[
        scheme(), scheme(scheme_id="S2", name="Willow House", day_min_staff=2)])
    model = write_model(tmp_path, data, shifts={"starts": list(range(24)), "lengths": [8]})
    bound = derive(load_dataset(data), load_scenario(model)).hours_bound
    assert bound.set_index(["scheme_id", "band"])["max_hours"].to_dict() == {
        ("S1", "day"): 150.0, ("S1", "night"): 126.0, ("S1", "weekend"): 60.0,
        ("S2", "day"): 295.0, ("S2", "night"): 224.0, ("S2", "weekend"): 118.0}
