"""The synthetic dataset generator: deterministic, the right size, realistic, schema-exact.

The distribution checks are loose bands around the published figures the generator is built
from (data/shireford/README.md); they fail if a change breaks the shape of the data.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from optimiser.inputs.generate import PRESETS, generate_dataset, shireford
from optimiser.inputs.schema import DAYS, TABLES

BUNDLED = Path(__file__).resolve().parents[1] / "data" / "shireford"
GOOD_OR_BETTER = {"outstanding", "good"}
PASSES_FLOOR = {"outstanding", "good", "requires_improvement"}
HAS_LOADER = importlib.util.find_spec("optimiser.inputs.load") is not None


def _files(folder: Path) -> dict[str, bytes]:
    return {spec.filename: (folder / spec.filename).read_bytes() for spec in TABLES}


def _read(folder: Path) -> dict[str, pd.DataFrame]:
    return {
        spec.name: pd.read_csv(folder / spec.filename, dtype=str, keep_default_na=False)
        for spec in TABLES
    }


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The M preset (a county) generated once for the whole module."""
    out = tmp_path_factory.mktemp("county")
    return out, generate_dataset(out, PRESETS["M"], seed=7)


@pytest.fixture(scope="module")
def tables(county: tuple[Path, dict[str, int]]) -> dict[str, pd.DataFrame]:
    return _read(county[0])


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate_dataset(tmp_path / "a", 6, seed=11)
    generate_dataset(tmp_path / "b", 6, seed=11)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    generate_dataset(tmp_path / "a", 6, seed=11)
    generate_dataset(tmp_path / "b", 6, seed=12)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    for name in ("schemes.csv", "residents.csv", "visits.csv", "providers.csv"):
        assert a[name] != b[name], name


def test_bundled_example_is_regenerated_exactly(tmp_path: Path) -> None:
    shireford(tmp_path)
    assert _files(tmp_path) == _files(BUNDLED)


@pytest.mark.parametrize("folder", ["county", "bundled"])
def test_columns_are_exactly_the_schema_in_order(
    folder: str, county: tuple[Path, dict[str, int]]
) -> None:
    path = county[0] if folder == "county" else BUNDLED
    for spec in TABLES:
        with (path / spec.filename).open(newline="", encoding="utf-8") as f:
            header = next(csv.reader(f))
        assert header == [c.name for c in spec.columns], spec.filename


def test_county_size(county: tuple[Path, dict[str, int]], tables: dict) -> None:
    _, counts = county
    assert counts["schemes"] == 25
    assert 1200 <= counts["residents"] <= 1450
    assert 35 <= counts["providers"] <= 45
    assert counts == {name: len(frame) for name, frame in tables.items()}


def test_other_presets_have_their_size(tmp_path: Path) -> None:
    small = generate_dataset(tmp_path / "s", PRESETS["S"], seed=3)
    assert small["schemes"] == 1 and small["providers"] == 6
    large = generate_dataset(tmp_path / "l", PRESETS["L"], seed=3)
    assert large["schemes"] == 80 and large["providers"] == 120
    assert 3700 <= large["residents"] <= 4500


def test_share_with_care_and_hours(tables: dict[str, pd.DataFrame]) -> None:
    residents, visits = tables["residents"], tables["visits"]
    with_care = residents[residents["needs_band"] != "none"]
    assert 0.6 <= len(with_care) / len(residents) <= 0.8
    hours = visits["minutes"].astype(int).groupby(visits["resident_id"]).sum() / 60
    assert set(hours.index) == set(with_care["resident_id"])  # care <=> visits
    assert 8 <= hours.mean() <= 12
    no_care = residents[residents["needs_band"] == "none"]
    assert (no_care["weekly_budget"].astype(float) == 0).all()
    assert (no_care["preference_strength"] == "none").all()
    assert (no_care["wants_direct_payment"] == "false").all()


def test_budgets_preferences_and_direct_payments(tables: dict[str, pd.DataFrame]) -> None:
    residents, providers = tables["residents"], tables["providers"]
    care = residents[residents["needs_band"] != "none"]
    assert (care["weekly_budget"].astype(float) > 0).all()
    named = care[care["preferred_provider"] != ""]
    assert 0.15 <= len(named) / len(care) <= 0.35
    assert set(named["preference_strength"]) == {"weak", "strong"}
    assert 0.04 <= (care["wants_direct_payment"] == "true").mean() <= 0.15
    zones_of = dict(zip(providers["provider_id"], providers["zones"].str.split("|"), strict=True))
    scheme_zone = dict(zip(tables["schemes"]["scheme_id"], tables["schemes"]["zone"], strict=True))
    for _, r in named.iterrows():
        assert scheme_zone[r["scheme_id"]] in zones_of[r["preferred_provider"]]


def test_double_up_visits_present(tables: dict[str, pd.DataFrame]) -> None:
    visits = tables["visits"]
    assert set(visits["carers"]) == {"1", "2"}
    doubled = visits.loc[visits["carers"] == "2", "resident_id"].unique()
    bands = tables["residents"].set_index("resident_id").loc[doubled, "needs_band"]
    assert (bands == "high").all()


def test_visits_within_a_day_unique_and_not_overlapping(tables: dict[str, pd.DataFrame]) -> None:
    v = tables["visits"].copy()
    assert set(v["day"]) <= set(DAYS)
    v["begin"] = v["start"].str[:2].astype(int) * 60 + v["start"].str[3:].astype(int)
    v["end"] = v["begin"] + v["minutes"].astype(int)
    assert (v["end"] <= 24 * 60).all()
    assert (v["minutes"].astype(int) % 15 == 0).all()
    assert not v.duplicated(["resident_id", "day", "start"]).any()
    v = v.sort_values(["resident_id", "day", "begin"])
    same = (v["resident_id"] == v["resident_id"].shift()) & (v["day"] == v["day"].shift())
    assert (v["begin"][same] >= v["end"].shift()[same]).all()


@pytest.mark.parametrize("folder", ["county", "bundled"])
def test_every_zone_can_be_served(folder: str, county: tuple[Path, dict[str, int]]) -> None:
    t = _read(county[0] if folder == "county" else BUNDLED)
    providers = t["providers"]
    for zone in t["schemes"]["zone"].unique():
        serving = providers[providers["zones"].str.split("|").map(lambda zs, z=zone: z in zs)]
        onsite_good = serving[
            (serving["onsite_capable"] == "true") & serving["cqc_rating"].isin(GOOD_OR_BETTER)
        ]
        assert len(onsite_good) >= 2, zone
        assert serving["cqc_rating"].isin(PASSES_FLOOR).sum() >= 3, zone


def test_provider_market(tables: dict[str, pd.DataFrame]) -> None:
    p = tables["providers"]
    ratings = p["cqc_rating"].value_counts()
    for rating in ("outstanding", "good", "requires_improvement", "inadequate", "unrated"):
        assert ratings.get(rating, 0) >= 1, rating
    assert ratings["good"] / len(p) >= 0.6
    onsite = p["onsite_capable"] == "true"
    assert 0.2 <= onsite.mean() <= 0.35
    assert (p.loc[onsite, "block_rate_day"] != "").all()
    assert (p.loc[~onsite, ["block_rate_day", "min_block_hours"]] == "").all().all()
    day = p["framework_rate_day"].astype(float)
    assert day.between(25, 33).all()
    assert (p["framework_rate_night"].astype(float) > day).all()
    assert p.loc[onsite, "block_rate_day"].astype(float).between(21, 26).all()


def test_bundled_example_headline(tmp_path: Path) -> None:
    t = _read(BUNDLED)
    assert len(t["schemes"]) == 6 and t["schemes"]["zone"].nunique() == 3
    assert len(t["providers"]) >= 12
    assert (t["providers"]["onsite_capable"] == "true").sum() >= 3
    assert (t["providers"]["cqc_rating"] == "unrated").sum() == 1


@pytest.mark.skipif(not HAS_LOADER, reason="optimiser.inputs.load not written yet")
@pytest.mark.parametrize("folder", ["county", "bundled", "small"])
def test_loader_accepts_generated_data(
    folder: str, county: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    from optimiser.inputs.load import load_dataset

    if folder == "small":
        generate_dataset(tmp_path, PRESETS["S"], seed=5)
    path = {"county": county[0], "bundled": BUNDLED, "small": tmp_path}[folder]
    data = load_dataset(path)
    assert len(data.schemes) >= 1 and len(data.visits) > 0
