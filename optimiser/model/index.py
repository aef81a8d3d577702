"""Sparse groupings the constraint rules read (which patterns cover a slot, which routes a
resident has...). Built once with pandas so every rule is a dictionary look-up, never a scan."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from optimiser.inputs.params import Params


def _group(frame: pd.DataFrame, keys: list[str] | str, value: str) -> dict:
    """{key: list of values} in the frame's order (deterministic)."""
    if frame.empty:
        return {}
    out: dict = defaultdict(list)
    key_cols = [keys] if isinstance(keys, str) else keys
    key_values = frame[key_cols].itertuples(index=False, name=None)
    for key, v in zip(key_values, frame[value].tolist(), strict=True):
        out[key[0] if isinstance(keys, str) else key].append(v)
    return dict(out)


def _peak_moments(p: Params, busy: pd.DataFrame) -> list[tuple[str, int, int]]:
    """The moments that get a cover row: every peak moment where some resident's care could
    be under the block, and the start of every other slot (reserve and minimum only)."""
    cover = p.cover[["scheme_id", "slot"]]
    with_care = busy[["scheme_id", "slot", "instant"]].drop_duplicates()
    quiet = cover.merge(with_care[["scheme_id", "slot"]].drop_duplicates(), how="left",
                        indicator=True)
    quiet = quiet[quiet["_merge"] == "left_only"]
    quiet = quiet.assign(instant=quiet["slot"] * p.scenario.slot_minutes)
    moments = pd.concat([with_care, quiet[["scheme_id", "slot", "instant"]]])
    moments = moments.sort_values(["scheme_id", "slot", "instant"])
    return list(moments.itertuples(index=False, name=None))


@dataclass
class Index:
    """Look-up tables shared by the model's constraint families."""

    providers_at_scheme: dict = field(default_factory=dict)  # s -> [k] possible block providers
    patterns_covering: dict = field(default_factory=dict)  # t -> [p]
    routes_of_resident: dict = field(default_factory=dict)  # r -> [j]
    peak_moments: list = field(default_factory=list)  # [(s, t, i)] one cover row each
    busy_at: dict = field(default_factory=dict)  # (s, t, i) -> [(j, carers busy at i)]
    double_ups: list = field(default_factory=list)  # [(s, t, j, carers)] visits needing 2+
    routes_of_provider: dict = field(default_factory=dict)  # k -> [j] (non-block routes)
    framework_routes_of: dict = field(default_factory=dict)  # f -> [j] (framework routes)
    block_of_provider: dict = field(default_factory=dict)  # k -> [s]
    framework_in_zone: dict = field(default_factory=dict)  # zone -> [f]
    routes_of_scheme: dict = field(default_factory=dict)  # s -> [j]
    residents_of_scheme: dict = field(default_factory=dict)  # s -> [r]

    @classmethod
    def build(cls, p: Params) -> Index:
        routes = p.routes
        block_routes = routes[routes["kind"] == "block"]
        load = block_routes[["route", "resident_id", "scheme_id"]].merge(p.load, on="resident_id")
        load = load.sort_values(["scheme_id", "slot", "route"])
        busy = block_routes[["route", "resident_id"]].merge(p.peaks, on="resident_id")
        busy = busy.sort_values(["scheme_id", "slot", "instant", "route"])
        busy["pair"] = list(zip(busy["route"], busy["carers"], strict=True))
        paid = routes[routes["kind"].isin(["spot", "framework"])]
        fw_zone = p.zones.dropna().merge(p.framework[["provider_id"]], on="provider_id")
        return cls(
            providers_at_scheme=_group(p.block_pairs, "scheme_id", "provider_id"),
            patterns_covering=_group(
                p.pattern_slots.sort_values(["slot", "pattern"]), "slot", "pattern"
            ),
            routes_of_resident=_group(routes, "resident_id", "route"),
            peak_moments=_peak_moments(p, busy),
            busy_at=_group(busy, ["scheme_id", "slot", "instant"], "pair"),
            double_ups=list(
                load.loc[load["carers"] >= 2, ["scheme_id", "slot", "route", "carers"]].itertuples(
                    index=False, name=None
                )
            ),
            routes_of_provider=_group(paid, "provider_id", "route"),
            framework_routes_of=_group(routes[routes["kind"] == "framework"], "provider_id",
                                       "route"),
            block_of_provider=_group(p.block_pairs, "provider_id", "scheme_id"),
            framework_in_zone=_group(fw_zone, "zone", "provider_id"),
            routes_of_scheme=_group(routes, "scheme_id", "route"),
            residents_of_scheme=_group(p.packages, "scheme_id", "resident_id"),
        )
