"""The scale presets and the command line (``python -m optimiser.inputs.generate``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from optimiser.inputs.generate.build import generate_dataset
from optimiser.inputs.generate.bundled import shireford

# Scale presets: number of schemes (S = one scheme, M = a county, L = a metropolitan council).
PRESETS: dict[str, int] = {"S": 1, "M": 25, "L": 80}


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python -m optimiser.inputs.generate OUT --preset M --seed 1`` or
    ``--shireford``."""
    parser = argparse.ArgumentParser(prog="python -m optimiser.inputs.generate",
                                     description="Write a synthetic ECH dataset (five CSVs).")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--shireford", action="store_true", help="the bundled example")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="M")
    parser.add_argument("--schemes", type=int, help="number of schemes (overrides --preset)")
    parser.add_argument("--providers", type=int, help="number of providers")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.shireford:
        counts = shireford(args.out_dir)
    else:
        n = args.schemes or PRESETS[args.preset]
        counts = generate_dataset(args.out_dir, n, args.seed, args.providers)
    for table, rows in counts.items():
        print(f"{table}: {rows} rows")
