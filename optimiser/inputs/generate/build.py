"""Building a whole council: every part drawn from one random generator in a fixed order.

The order of the draws is the order of the calls in :func:`build_tables`; changing it changes
every generated dataset, the bundled example included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from optimiser.inputs.generate.costs import _costs
from optimiser.inputs.generate.figures import _pad
from optimiser.inputs.generate.providers import (
    _ensure_capacity,
    _make_providers,
    _price_provider,
    _provider_names,
)
from optimiser.inputs.generate.records import Naming
from optimiser.inputs.generate.residents import _make_residents
from optimiser.inputs.generate.schemes import _make_schemes
from optimiser.inputs.generate.writing import (
    _provider_row,
    _resident_row,
    _scheme_row,
    _visit_rows,
    write_tables,
)


def n_zones_for(n_schemes: int) -> int:
    """About one zone per three schemes (1 -> 1, 6 -> 3, 25 -> 9, 80 -> 27)."""
    return max(1, 1 + n_schemes // 3)


def default_n_providers(n_schemes: int) -> int:
    """Providers in the market: 6 for one scheme, else 1.5 per scheme and at least 12."""
    return 6 if n_schemes == 1 else max(12, round(1.5 * n_schemes))


def build_tables(
    n_schemes: int,
    seed: int,
    n_providers: int | None = None,
    name_prefix: str = "Scheme",
    naming: Naming | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Build the five tables as rows of CSV text, keyed by table name (no files written)."""
    if n_schemes < 1:
        raise ValueError("n_schemes must be at least 1")
    naming = naming or Naming()
    rng = np.random.default_rng(seed)
    n_prov = n_providers if n_providers is not None else default_n_providers(n_schemes)
    zones = list(naming.zones) or [_pad("Z", z + 1, 9) for z in range(n_zones_for(n_schemes))]
    scheme_names = list(naming.schemes) or [
        f"{name_prefix} {i + 1:0{max(2, len(str(n_schemes)))}d}" for i in range(n_schemes)
    ]
    provider_names = list(naming.providers) or _provider_names(rng, n_prov)
    if naming.providers:
        _provider_names(rng, n_prov)  # same draws as the generic run: only the names differ
    if len(scheme_names) != n_schemes or len(provider_names) != n_prov:
        raise ValueError("naming must give one name per scheme and per provider")
    schemes = _make_schemes(rng, n_schemes, zones, scheme_names)
    providers = _make_providers(rng, n_prov, len(zones), provider_names)
    for p in providers:
        _price_provider(rng, p)
    residents = _make_residents(rng, schemes, providers, zones)
    _ensure_capacity(providers, schemes, residents, zones)
    return {
        "schemes": [_scheme_row(s) for s in schemes],
        "residents": [_resident_row(r) for r in residents],
        "visits": [row for r in residents for row in _visit_rows(r)],
        "providers": [_provider_row(p, zones) for p in providers],
        "costs": _costs(),
    }


def generate_dataset(
    out_dir: Path,
    n_schemes: int,
    seed: int,
    n_providers: int | None = None,
    name_prefix: str = "Scheme",
) -> dict[str, int]:
    """Write schemes, residents, visits, providers and costs CSVs; return their row counts.

    Deterministic: the same arguments give byte-identical files.
    """
    return write_tables(out_dir, build_tables(n_schemes, seed, n_providers, name_prefix))
