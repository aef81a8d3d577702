"""Erlang B and C against published tables, hand calculations and an independent exact sum.

The independent reference computes the Erlang C probability straight from its definition,

    C(c, A) = (A^c / c! * c / (c - A)) / (sum_{k<c} A^k / k! + A^c / c! * c / (c - A)),

in exact rational arithmetic (fractions.Fraction), so it shares no code or recursion with
optimiser.inputs.queueing.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from factory import scheme, write_dataset, write_model

from optimiser.inputs.config import load_scenario
from optimiser.inputs.load import load_dataset
from optimiser.inputs.params import derive
from optimiser.inputs.queueing import (
    MAX_RESERVE,
    erlang_b,
    erlang_c,
    mean_wait_minutes,
    reserve_staff,
    share_answered_within,
)


def exact_erlang_b(servers: int, erlangs: Fraction) -> Fraction:
    top = erlangs**servers / math.factorial(servers)
    return top / sum(erlangs**k / math.factorial(k) for k in range(servers + 1))


def exact_erlang_c(servers: int, erlangs: Fraction) -> Fraction:
    top = erlangs**servers / math.factorial(servers) * servers / (servers - erlangs)
    return top / (sum(erlangs**k / math.factorial(k) for k in range(servers)) + top)


def independent_share(servers: int, calls_per_hour: float, mean_minutes: float,
                      target_minutes: float) -> float:
    """P(wait <= T) = 1 - C exp(-(c - A) T / h), with C from the exact sum."""
    erlangs = Fraction(calls_per_hour) * Fraction(mean_minutes) / 60
    if servers <= erlangs:
        return 0.0
    wait = float(exact_erlang_c(servers, erlangs))
    return 1.0 - wait * math.exp(-(servers - float(erlangs)) * target_minutes / mean_minutes)


# --------------------------------------------------------------------------- Erlang B


@pytest.mark.parametrize(
    ("erlangs", "servers", "table"),
    [(2, 5, 0.0367), (10, 14, 0.0568), (5, 10, 0.0184)],
)
def test_erlang_b_matches_published_loss_tables(erlangs: float, servers: int,
                                                table: float) -> None:
    """Standard Erlang B loss tables, four decimal places."""
    assert round(erlang_b(servers, erlangs), 4) == table


def test_erlang_b_small_cases_by_hand() -> None:
    assert erlang_b(0, 3.0) == 1.0  # no servers: every call is lost
    assert erlang_b(1, 1.0) == pytest.approx(0.5)  # A / (1 + A)
    assert erlang_b(3, 2.0) == pytest.approx(4 / 19, abs=1e-15)  # (8/6) / (1 + 2 + 2 + 8/6)


@pytest.mark.parametrize(("servers", "erlangs"), [(1, 0.3), (7, 4.2), (30, 25.5), (60, 48)])
def test_erlang_b_agrees_with_exact_sum(servers: int, erlangs: float) -> None:
    exact = exact_erlang_b(servers, Fraction(erlangs))
    assert erlang_b(servers, erlangs) == pytest.approx(float(exact), rel=1e-12)


def test_erlang_b_refuses_negative_input() -> None:
    with pytest.raises(ValueError, match="^servers and traffic must be non-negative$"):
        erlang_b(-1, 2.0)
    with pytest.raises(ValueError, match="^servers and traffic must be non-negative$"):
        erlang_b(3, -0.5)


def test_erlang_b_without_traffic_loses_nothing() -> None:
    assert erlang_b(3, 0.0) == 0.0
    assert erlang_b(0, 0.0) == 1.0


# --------------------------------------------------------------------------- Erlang C


def test_erlang_c_by_hand() -> None:
    """A = 2, c = 3: B(3, 2) = 4/19, C = 3B / (3 - 2(1 - B)) = (12/19) / (27/19) = 4/9."""
    value = erlang_c(3, 2.0)
    assert value == pytest.approx(4 / 9, abs=1e-15)
    assert Fraction(value).limit_denominator(1000) == Fraction(4, 9)
    assert Fraction(exact_erlang_c(3, Fraction(2))) == Fraction(4, 9)  # the reference agrees


def test_call_centre_example() -> None:
    """The classic example: 360 calls per half hour, 4-minute calls -> A = 720 * 4 / 60 = 48
    erlangs; with 55 agents 23.87 % of calls wait and the average speed of answer is
    C * h / (c - A) = 0.2387 * 240 s / 7 = 8.18 s."""
    calls_per_hour, minutes, agents = 720.0, 4.0, 55
    assert calls_per_hour * minutes / 60 == 48
    wait = erlang_c(agents, 48.0)
    assert round(100 * wait, 2) == 23.87
    assert wait == pytest.approx(float(exact_erlang_c(agents, Fraction(48))), abs=1e-12)
    assert round(60 * mean_wait_minutes(agents, calls_per_hour, minutes), 2) == 8.18
    within_20s = share_answered_within(agents, calls_per_hour, minutes, 20 / 60)
    assert within_20s == pytest.approx(independent_share(agents, calls_per_hour, minutes, 20 / 60),
                                       abs=1e-12)
    assert 0.86 < within_20s < 0.87  # about 86.7 % answered within 20 seconds


@pytest.mark.parametrize(("servers", "erlangs"), [(2, 0.5), (4, 1.3), (9, 6.0), (25, 20.2)])
def test_erlang_c_agrees_with_exact_sum(servers: int, erlangs: float) -> None:
    exact = exact_erlang_c(servers, Fraction(erlangs))
    assert erlang_c(servers, erlangs) == pytest.approx(float(exact), abs=1e-12)


@pytest.mark.parametrize("erlangs", [0.3, 1.0, 2.7, 8.0, 48.0])
def test_more_servers_wait_less(erlangs: float) -> None:
    first = math.floor(erlangs) + 1
    waits = [erlang_c(c, erlangs) for c in range(first, first + 15)]
    assert all(a > b for a, b in zip(waits, waits[1:], strict=False))
    assert all(0 < w < 1 for w in waits)
    # waiting (C) is always at least as likely as being lost without a queue (B)
    assert all(erlang_c(c, erlangs) >= erlang_b(c, erlangs)
               for c in range(first, first + 15))


def test_no_traffic_never_waits() -> None:
    assert erlang_c(1, 0.0) == 0.0
    assert share_answered_within(1, 0.0, 15, 10) == 1.0
    assert mean_wait_minutes(1, 0.0, 15) == 0.0


@pytest.mark.parametrize(("servers", "erlangs"), [(1, 1.0), (2, 2.0), (2, 3.5), (0, 0.4)])
def test_overloaded_servers(servers: int, erlangs: float) -> None:
    """With c <= A the queue grows without end: everyone waits, nobody is reached in time."""
    calls_per_hour = erlangs * 60 / 15  # 15-minute calls
    assert erlang_c(servers, erlangs) == 1.0
    assert share_answered_within(servers, calls_per_hour, 15, 10) == 0.0
    assert mean_wait_minutes(servers, calls_per_hour, 15) == math.inf


# --------------------------------------------------------------------------- reserve


def test_no_calls_no_reserve() -> None:
    assert reserve_staff(0.0, 19, 10, 0.9) == 0
    assert reserve_staff(0.0, 60, 1, 0.9999) == 0


# calls per hour, mean call minutes, response target minutes, required share: ECH-like
ECH_CASES = [
    (1.321, 19, 10, 0.90),  # Oakfield Court, day
    (0.441, 20, 10, 0.90),  # Willow House, night
    (2.0, 15, 10, 0.90),
    (3.5, 25, 5, 0.95),
    (6.0, 30, 5, 0.99),
    (0.1, 15, 15, 0.80),
    (12.0, 20, 10, 0.95),
]


@pytest.mark.parametrize(("calls", "minutes", "target", "share"), ECH_CASES)
def test_reserve_is_the_smallest_team_meeting_the_share(calls: float, minutes: float,
                                                        target: float, share: float) -> None:
    brute = next(c for c in range(0, 100) if independent_share(c, calls, minutes, target) >= share)
    reserve = reserve_staff(calls, minutes, target, share)
    assert reserve == brute
    assert independent_share(reserve, calls, minutes, target) >= share
    assert independent_share(reserve - 1, calls, minutes, target) < share
    assert reserve >= 1


def test_reserve_grows_with_demand() -> None:
    reserves = [reserve_staff(calls, 20, 10, 0.9) for calls in (0.5, 2, 5, 10, 20, 40)]
    assert reserves == sorted(reserves)
    assert reserves[0] < reserves[-1]
    stricter = [reserve_staff(5, 20, 10, s) for s in (0.5, 0.8, 0.9, 0.99, 0.999)]
    assert stricter == sorted(stricter)
    assert stricter[0] < stricter[-1]


def test_impossible_reserve_is_refused() -> None:
    """More traffic than MAX_RESERVE staff could carry."""
    calls = (MAX_RESERVE + 10) * 60 / 30  # A = MAX_RESERVE + 10 erlangs of 30-minute calls
    with pytest.raises(ValueError, match="cannot be answered"):
        reserve_staff(calls, 30, 10, 0.9)


def test_reserve_by_slot_is_whole_staff(tmp_path) -> None:
    """Day: 2 calls an hour of 15 minutes, A = 0.5: one carer reaches 1 - 0.5 e^(-1/3) = 64.2 %
    within 10 minutes, two reach 1 - 0.1 e^-1 = 96.3 % >= 90 %: 2. Night: 0.5 calls an hour,
    A = 0.125: one carer reaches 1 - 0.125 e^(-0.875 x 10/15) = 93.0 %: 1. Weekend days take
    the day rate. The reserve is a number of staff, so a whole number."""
    data = write_dataset(tmp_path / "data", schemes=[
        scheme(day_calls_per_hour=2, night_calls_per_hour=0.5)])
    model = write_model(tmp_path, data, shifts={"patterns": [[7, 15], [22, 9]]})
    cover = derive(load_dataset(data), load_scenario(model)).cover.set_index("slot")
    assert cover.at[10, "reserve"] == 2  # Mon 10:00
    assert cover.at[2, "reserve"] == 1  # Mon 02:00
    assert cover.at[5 * 24 + 10, "reserve"] == 2  # Sat 10:00
    assert cover["reserve"].dtype.kind == "i"
