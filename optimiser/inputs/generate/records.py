"""The records a synthetic council is built from: schemes, visits, residents, providers, names.

Plain dataclasses, one per row of the input tables, so each part of the generator fills in
its own fields and the writer turns them into CSV text in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from optimiser.inputs.generate.figures import (
    BUDGET_ENHANCEMENT,
    BUDGET_TRAVEL_MINUTES,
    DAY_END,
    DAY_START,
)


@dataclass
class Scheme:
    """One Extra Care Housing scheme, as a row of schemes.csv."""

    scheme_id: str
    name: str
    zone: str
    flats: int
    day_min_staff: int
    night_min_staff: int
    lone_working_at_night: bool
    day_calls_per_hour: float
    night_calls_per_hour: float
    mean_call_minutes: float
    response_target_minutes: float
    response_share: float


@dataclass
class Visit:
    """One planned visit; day is an index into DAYS, start in minutes after midnight."""

    day: int
    start: int
    minutes: int
    carers: int


def _enhancement(v: Visit) -> float:
    """Council's unsocial-hours uplift for a visit, by its start (night 22-07, then weekend)."""
    if v.start >= DAY_END or v.start < DAY_START:
        return BUDGET_ENHANCEMENT["night"]
    return BUDGET_ENHANCEMENT["weekend" if v.day >= 5 else "day"]


@dataclass
class Resident:
    """One resident and the planned visits of their care package."""

    resident_id: str
    scheme_id: str
    needs_band: str
    weekly_budget: float = 0.0
    preferred_provider: str | None = None
    preference_strength: str = "none"
    wants_direct_payment: bool = False
    visits: list[Visit] = field(default_factory=list)

    def carer_hours(self) -> float:
        """Carer-hours per week (a double-up visit counts twice)."""
        return sum(v.minutes * v.carers for v in self.visits) / 60.0

    def priced_hours(self) -> float:
        """Carer-hours as the council prices a package to set its budget: each carer-visit
        plus a standard travel allowance, night and weekend hours at their enhancement."""
        return sum(
            v.carers * (v.minutes + BUDGET_TRAVEL_MINUTES) / 60.0 * _enhancement(v)
            for v in self.visits
        )


@dataclass
class Provider:
    """One care provider, as a row of providers.csv (zones held as zone indices)."""

    provider_id: str
    name: str
    cqc_rating: str
    onsite_capable: bool
    zones: set[int] = field(default_factory=set)
    satisfaction: float = 0.0
    block_rate_day: float | None = None
    block_rate_night: float | None = None
    block_rate_weekend: float | None = None
    framework_rate_day: float = 0.0
    framework_rate_night: float = 0.0
    framework_rate_weekend: float = 0.0
    travel_minutes_per_visit: float = 0.0
    weekly_capacity_hours: float = 0.0
    framework_admission_cost: float = 0.0
    framework_monitoring_cost: float = 0.0
    min_block_hours: float | None = None


@dataclass(frozen=True)
class Naming:
    """Optional hand-chosen names (the bundled example); generic names are used otherwise."""

    zones: Sequence[str] = ()
    schemes: Sequence[str] = ()
    providers: Sequence[str] = ()
