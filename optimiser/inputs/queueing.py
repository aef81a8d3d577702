"""The emergency reserve: how many staff must float free to answer pendant and pull-cord calls.

We use the Erlang C (M/M/c) model: calls arrive at random (Poisson) at rate lambda per hour,
each takes an exponentially distributed time with mean ``h`` minutes, and a call that finds
every floating carer busy waits. The reserve is the fewest floating carers ``c`` for which the
share of calls reached within the response target ``T`` is at least the required share:

    P(wait <= T) = 1 - C(c, A) * exp(-(c - A) * T / h),   A = lambda * h / 60 erlangs.

Why Erlang C rather than a finite-source (Engset) model: an ECH scheme has 35-90 flats and at
most a few calls an hour, so the calling population is not depleted by calls in progress; the
infinite-source model is then slightly conservative (it never under-staffs) and is the formula
commissioners and alarm-receiving centres already use. See docs/model.md, section "Reserve".
"""

from __future__ import annotations

import math
from functools import lru_cache

MAX_RESERVE = 200


def erlang_b(servers: int, erlangs: float) -> float:
    """Blocking probability B(c, A) by the stable recursion B(k) = A B(k-1) / (k + A B(k-1))."""
    if servers < 0 or erlangs < 0:
        raise ValueError("servers and traffic must be non-negative")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = erlangs * blocking / (k + erlangs * blocking)
    return blocking


def erlang_c(servers: int, erlangs: float) -> float:
    """Probability that a call has to wait, C(c, A); 1 when the servers are overloaded (c <= A)."""
    if erlangs == 0:
        return 0.0
    if servers <= erlangs:
        return 1.0
    blocking = erlang_b(servers, erlangs)
    return servers * blocking / (servers - erlangs * (1.0 - blocking))


def share_answered_within(
    servers: int, calls_per_hour: float, mean_minutes: float, target_minutes: float
) -> float:
    """Share of calls reached within the target with ``servers`` floating carers."""
    erlangs = calls_per_hour * mean_minutes / 60.0
    if erlangs == 0:
        return 1.0
    if servers <= erlangs:
        return 0.0
    wait = erlang_c(servers, erlangs)
    return 1.0 - wait * math.exp(-(servers - erlangs) * target_minutes / mean_minutes)


def mean_wait_minutes(servers: int, calls_per_hour: float, mean_minutes: float) -> float:
    """Average time a call waits before a carer is free (the 'average speed of answer')."""
    erlangs = calls_per_hour * mean_minutes / 60.0
    if erlangs == 0:
        return 0.0
    if servers <= erlangs:
        return math.inf
    return erlang_c(servers, erlangs) * mean_minutes / (servers - erlangs)


@lru_cache(maxsize=4096)
def reserve_staff(
    calls_per_hour: float, mean_minutes: float, target_minutes: float, share: float
) -> int:
    """Fewest floating carers that reach ``share`` of calls within the target (0 if no calls)."""
    if calls_per_hour <= 0:
        return 0
    erlangs = calls_per_hour * mean_minutes / 60.0
    servers = max(1, math.floor(erlangs) + 1)
    while share_answered_within(servers, calls_per_hour, mean_minutes, target_minutes) < share:
        servers += 1
        if servers > MAX_RESERVE:
            raise ValueError(
                f"{calls_per_hour:g} calls an hour of {mean_minutes:g} minutes cannot be answered "
                f"within {target_minutes:g} minutes by {MAX_RESERVE} staff"
            )
    return servers
