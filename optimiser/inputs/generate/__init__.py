"""Deterministic synthetic datasets: Extra Care Housing schemes, residents, visits, providers.

Why: the optimiser has to be tested and benchmarked at county and metropolitan scale, but real
resident data is personal and cannot be shipped. This package builds a plausible council from
published UK figures (see ``data/shireford/README.md``
for every number and its source) and writes the five input CSVs of
:mod:`optimiser.inputs.schema`, in exactly its column order.

Same seed, same bytes: every random draw comes from one ``numpy.random.default_rng(seed)`` in a
fixed order, rows are sorted, floats are written with fixed decimals and nothing iterates over a
hash-ordered set of strings. No Pyomo here: data generation must not depend on the model.

Regenerate the bundled example with
``python -m optimiser.inputs.generate --shireford data/shireford``.

The package: :mod:`.figures` the figures and small helpers, :mod:`.records` the dataclasses,
:mod:`.schemes`, :mod:`.providers` and :mod:`.residents` the parts of a council,
:mod:`.costs` the costs table, :mod:`.writing` the CSV files, :mod:`.build` the whole
council, :mod:`.bundled` the Shireford example and :mod:`.command` the presets and command line.
"""

from optimiser.inputs.generate.build import (
    build_tables,
    default_n_providers,
    generate_dataset,
    n_zones_for,
)
from optimiser.inputs.generate.bundled import SHIREFORD_SEED, shireford
from optimiser.inputs.generate.command import PRESETS, main
from optimiser.inputs.generate.records import Naming
from optimiser.inputs.generate.writing import write_tables

__all__ = [
    "PRESETS",
    "SHIREFORD_SEED",
    "Naming",
    "build_tables",
    "default_n_providers",
    "generate_dataset",
    "main",
    "n_zones_for",
    "shireford",
    "write_tables",
]
