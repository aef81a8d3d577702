"""Writing the tables: records to CSV text and files, in the schema's column order.

Same seed, same bytes: floats are written with fixed decimals, booleans as true/false and
every file with '\\n' line ends.
"""

from __future__ import annotations

import csv
from pathlib import Path

from optimiser.inputs.generate.records import Provider, Resident, Scheme
from optimiser.inputs.schema import DAYS, TABLES, TableSpec


def _fmt(value: object, decimals: int = 2) -> str:
    """CSV text for one cell: empty for missing, true/false for booleans, fixed decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


def _hhmm(minutes: int) -> str:
    """Minutes after midnight as HH:MM."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _scheme_row(s: Scheme) -> dict[str, str]:
    """schemes.csv row; call rates keep 3 decimals (they are small numbers)."""
    row = {k: _fmt(v) for k, v in vars(s).items()}
    for k in ("day_calls_per_hour", "night_calls_per_hour"):
        row[k] = _fmt(getattr(s, k), 3)
    for k in ("mean_call_minutes", "response_target_minutes"):
        row[k] = _fmt(getattr(s, k), 0)
    return row


def _provider_row(p: Provider, zones: list[str]) -> dict[str, str]:
    """providers.csv row: zones as a '|' list of zone ids in map order."""
    row = {k: _fmt(v) for k, v in vars(p).items() if k != "zones"}
    row["zones"] = "|".join(zones[z] for z in sorted(p.zones))
    row["satisfaction"] = _fmt(p.satisfaction, 1)
    row["travel_minutes_per_visit"] = _fmt(p.travel_minutes_per_visit, 1)
    row["weekly_capacity_hours"] = _fmt(p.weekly_capacity_hours, 0)
    row["min_block_hours"] = _fmt(p.min_block_hours, 0)
    return row


def _resident_row(r: Resident) -> dict[str, str]:
    """residents.csv row."""
    return {k: _fmt(v) for k, v in vars(r).items() if k != "visits"}


def _visit_rows(r: Resident) -> list[dict[str, str]]:
    """visits.csv rows of one resident, by day (Mon first) then start time."""
    return [
        {
            "resident_id": r.resident_id,
            "day": DAYS[v.day],
            "start": _hhmm(v.start),
            "minutes": str(v.minutes),
            "carers": str(v.carers),
        }
        for v in sorted(r.visits, key=lambda v: (v.day, v.start))
    ]


def _write_table(out_dir: Path, spec: TableSpec, rows: list[dict[str, str]]) -> int:
    """Write one CSV in the schema's column order with '\\n' line ends; return the row count.
    Optional columns the generator does not draw (support_tier) are written blank."""
    names = [c.name for c in spec.columns]
    with (out_dir / spec.filename).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([row[c.name] if c.required else row.get(c.name, "")
                          for c in spec.columns] for row in rows)
    return len(rows)


def write_tables(out_dir: Path, tables: dict[str, list[dict[str, str]]]) -> dict[str, int]:
    """Write every table of :data:`TABLES` into ``out_dir`` (created if missing)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {spec.name: _write_table(out_dir, spec, tables[spec.name]) for spec in TABLES}
