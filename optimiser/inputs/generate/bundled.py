"""The bundled example council "Shireford" (data/shireford): its names, seed and sizes.

Hand-chosen names over the same draws as a generic council of its size, so the example reads
like a real county while staying reproducible from the generator.
"""

from __future__ import annotations

from pathlib import Path

from optimiser.inputs.generate.build import build_tables
from optimiser.inputs.generate.records import Naming
from optimiser.inputs.generate.writing import write_tables

SHIREFORD_SEED = 2026


SHIREFORD_ZONES = ("North", "Central", "South")
SHIREFORD_SCHEMES = (
    "Oakfield Court",
    "Willow House",
    "Beech Lodge",
    "Meadowbank",
    "Linden Court",
    "Brookside Place",
)
SHIREFORD_PROVIDERS = (
    "Brightwater Care Services",
    "Kingsmere Homecare",
    "Oakleaf Community Care",
    "Shireford Care Partnership",
    "Marlowe Support at Home",
    "Fernlea Care",
    "Northgate Home Support",
    "Greenhollow Care",
    "Tillbrook Homecare",
    "Wrenfield Care Services",
    "Ashcombe Care at Home",
    "Copperbeech Support",
    "Lanternlight Homecare",
    "Kestrel Vale Care",
)


def shireford(out_dir: Path = Path("data/shireford")) -> dict[str, int]:
    """Regenerate the bundled example council "Shireford": 6 schemes, 3 zones, 14 providers."""
    naming = Naming(SHIREFORD_ZONES, SHIREFORD_SCHEMES, SHIREFORD_PROVIDERS)
    tables = build_tables(
        len(SHIREFORD_SCHEMES), SHIREFORD_SEED, len(SHIREFORD_PROVIDERS), naming=naming
    )
    return write_tables(out_dir, tables)
