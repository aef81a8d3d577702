"""Tiny hand-made datasets for tests whose optimal cost is worked out by hand.

Defaults make arithmetic easy: one scheme, minimum 1 member of staff day and night, no calls
(so no emergency reserve), flat block rates of GBP 20 an hour (night 30), framework rates of
GBP 25 (night 35) with no travel, no fixed costs unless a test sets them.
"""

from __future__ import annotations

import csv
from pathlib import Path

from optimiser.inputs.schema import TABLES

SCHEME = {
    "scheme_id": "S1", "name": "Oakfield Court", "zone": "North", "flats": 40,
    "day_min_staff": 1, "night_min_staff": 1, "lone_working_at_night": "true",
    "day_calls_per_hour": 0, "night_calls_per_hour": 0, "mean_call_minutes": 15,
    "response_target_minutes": 10, "response_share": 0.9,
}
PROVIDER = {
    "provider_id": "P1", "name": "Provider One", "zones": "North", "onsite_capable": "true",
    "cqc_rating": "good", "satisfaction": 80, "block_rate_day": 20, "block_rate_night": 30,
    "block_rate_weekend": 20, "framework_rate_day": 25, "framework_rate_night": 35,
    "framework_rate_weekend": 25, "travel_minutes_per_visit": 0, "weekly_capacity_hours": 10000,
    "framework_admission_cost": 0, "framework_monitoring_cost": 0, "min_block_hours": 0,
}
RESIDENT = {
    "resident_id": "R1", "scheme_id": "S1", "needs_band": "low", "weekly_budget": 1000,
    "preferred_provider": "", "preference_strength": "none", "wants_direct_payment": "false",
}
VISIT = {"resident_id": "R1", "day": "Mon", "start": "10:00", "minutes": 60, "carers": 1}
COSTS = {
    "direct_payment_hourly_rate": 22.0,
    "direct_payment_admin_per_year": 0.0,
    "direct_payment_satisfaction": 80.0,
    "coordination_per_provider_scheme_per_week": 0.0,
    "block_contract_management_per_year": 0.0,
    "framework_term_years": 1.0,
    "weeks_per_year": 52.0,
}


def provider(**changes: object) -> dict:
    return {**PROVIDER, **changes}


def offsite(**changes: object) -> dict:
    """A framework-only provider (cannot run an on-site team)."""
    base = {**PROVIDER, "onsite_capable": "false", "block_rate_day": "", "block_rate_night": "",
            "block_rate_weekend": "", "min_block_hours": ""}
    return {**base, **changes}


def scheme(**changes: object) -> dict:
    return {**SCHEME, **changes}


def resident(**changes: object) -> dict:
    return {**RESIDENT, **changes}


def visit(**changes: object) -> dict:
    return {**VISIT, **changes}


def write_dataset(
    folder: Path,
    schemes: list[dict] | None = None,
    providers: list[dict] | None = None,
    residents: list[dict] | None = None,
    visits: list[dict] | None = None,
    costs: dict[str, float] | None = None,
) -> Path:
    """Write the five CSVs with the schema's columns in order."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = {
        "schemes": schemes if schemes is not None else [scheme()],
        "providers": providers if providers is not None else [provider()],
        "residents": residents if residents is not None else [resident()],
        "visits": visits if visits is not None else [visit()],
        "costs": [{"name": k, "value": v, "unit": "", "source": "test"}
                  for k, v in {**COSTS, **(costs or {})}.items()],
    }
    for spec in TABLES:
        with open(folder / spec.filename, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=[c.name for c in spec.columns])
            writer.writeheader()
            writer.writerows(rows[spec.name])
    return folder


def write_model(folder: Path, dataset: Path, policy: dict | None = None,
                shifts: dict | None = None, name: str = "test") -> Path:
    """A model file pointing at a dataset, with policy switches."""
    lines = [f'name = "{name}"', f'dataset = "{dataset}"', "[policy]"]
    for key, value in (policy or {}).items():
        lines.append(f"{key} = {_toml(value)}")
    lines.append("[shifts]")
    for key, value in (shifts or {"starts": [0], "lengths": [24]}).items():
        lines.append(f"{key} = {_toml(value)}")
    lines += ["[solver]", "mip_rel_gap = 0", "time_limit = 60"]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)
