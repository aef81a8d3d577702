"""When planned visits happen: minutes of the week, the slots a visit overlaps, and the moments
in each slot when the most visits are under way at once.

Staff on duty are constant within a slot (shifts start on the hour and a slot divides the hour),
so the on-site team is short in a slot exactly when, at some moment of the slot, the carers busy
with visits plus the emergency reserve exceed the staff on duty. The number of busy carers is a
step function of time that only rises where a visit starts (or where a slot begins while a
visit is under way), so checking those moments checks every moment. Of the moments in one slot,
only those whose set of busy carers is not contained in another moment's set can bind (a peak);
the model writes one cover row per peak (docs/model.md, section 4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimiser.inputs.config import Scenario
from optimiser.inputs.load import Dataset
from optimiser.inputs.schema import DAYS

WEEK_MINUTES = 7 * 1440


def visit_minutes(data: Dataset) -> pd.DataFrame:
    """Each visit as [start, end) in minutes from Monday 00:00, with its scheme and carers; a
    visit running past Sunday midnight is cut in two, the rest continuing on Monday."""
    v = data.visits
    day = v["day"].map({d: i for i, d in enumerate(DAYS)}).to_numpy()
    hh = v["start"].str.slice(0, 2).astype(int).to_numpy()
    mm = v["start"].str.slice(3, 5).astype(int).to_numpy()
    start = day * 1440 + hh * 60 + mm
    end = start + v["minutes"].to_numpy()
    scheme = v["resident_id"].map(data.residents.set_index("resident_id")["scheme_id"])
    frame = pd.DataFrame({
        "resident_id": v["resident_id"].to_numpy(), "scheme_id": scheme.to_numpy(),
        "start": start, "end": end, "carers": v["carers"].to_numpy(),
    })
    wraps = frame["end"] > WEEK_MINUTES
    after = frame[wraps].copy()
    after["start"] = 0
    after["end"] -= WEEK_MINUTES
    frame.loc[wraps, "end"] = WEEK_MINUTES
    return pd.concat([frame, after], ignore_index=True)


def visit_slots(data: Dataset, scenario: Scenario) -> pd.DataFrame:
    """Each visit split over the slots it overlaps (a 45-minute visit at 07:30 spans two), with
    the minutes it spends in each."""
    v = visit_minutes(data)
    width = scenario.slot_minutes
    first = v["start"] // width
    count = (v["end"] - 1) // width - first + 1
    parts = v.loc[v.index.repeat(count)].copy()
    parts["slot"] = first.repeat(count).to_numpy() + parts.groupby(level=0).cumcount().to_numpy()
    lo = np.maximum(parts["start"], parts["slot"] * width)
    hi = np.minimum(parts["end"], (parts["slot"] + 1) * width)
    parts["minutes"] = hi - lo
    parts["staff_minutes"] = parts["minutes"] * parts["carers"]
    return parts.reset_index(drop=True)


def slot_load(data: Dataset, scenario: Scenario) -> pd.DataFrame:
    """Per resident and slot: the staff-minutes of planned care spread over the slot (``load``,
    used for hours, never for cover) and the most carers one visit needs (``carers``)."""
    parts = visit_slots(data, scenario)
    load = parts.groupby(["resident_id", "slot"], as_index=False).agg(
        staff_minutes=("staff_minutes", "sum"), carers=("carers", "max")
    )
    load["load"] = load["staff_minutes"] / scenario.slot_minutes
    return load[["resident_id", "slot", "load", "carers"]]


def _moments(parts: pd.DataFrame, width: int) -> pd.DataFrame:
    """Candidate moments per scheme and slot: every visit start, and the slot's first minute
    where a visit began in an earlier slot."""
    starts = parts[["scheme_id", "slot"]].assign(instant=np.maximum(parts["start"],
                                                                    parts["slot"] * width))
    return starts.drop_duplicates().reset_index(drop=True)


def _busy(parts: pd.DataFrame, moments: pd.DataFrame) -> pd.DataFrame:
    """Carers each resident's visits need at each moment (visits under way at that minute)."""
    pairs = moments.merge(parts[["scheme_id", "slot", "resident_id", "start", "end", "carers"]],
                          on=["scheme_id", "slot"])
    under_way = (pairs["start"] <= pairs["instant"]) & (pairs["instant"] < pairs["end"])
    busy = pairs[under_way].groupby(["scheme_id", "slot", "instant", "resident_id"],
                                     as_index=False)["carers"].sum()
    return busy


def _dominated(busy: pd.DataFrame) -> pd.Series:
    """Moments whose busy carers are contained in another moment's of the same slot (resident
    by resident no more carers), keeping the earliest of moments with identical sets."""
    keys = ["scheme_id", "slot"]
    size = busy.groupby([*keys, "instant"]).size().rename("n")
    pairs = busy.merge(busy, on=[*keys, "resident_id"], suffixes=("", "_other"))
    pairs = pairs[(pairs["instant"] != pairs["instant_other"])
                  & (pairs["carers_other"] >= pairs["carers"])]
    covered = pairs.groupby([*keys, "instant", "instant_other"]).size().rename("covered")
    covered = covered.reset_index()
    covered["n"] = covered.set_index([*keys, "instant"]).index.map(size).to_numpy()
    contained = covered[covered["covered"] == covered["n"]]
    # Two moments contain each other exactly when their sets are equal: keep the earliest.
    pair = list(zip(contained["scheme_id"], contained["slot"], contained["instant"],
                    contained["instant_other"], strict=True))
    found = set(pair)
    equal = np.array([(s, t, o, i) in found for s, t, i, o in pair], dtype=bool)
    drop = contained[~equal | (contained["instant_other"] < contained["instant"])]
    gone = set(zip(drop["scheme_id"], drop["slot"], drop["instant"], strict=True))
    return pd.Series([k in gone for k in zip(busy["scheme_id"], busy["slot"], busy["instant"],
                                             strict=True)], index=busy.index)


def peaks(data: Dataset, scenario: Scenario) -> pd.DataFrame:
    """One row per (scheme, slot, peak moment, resident): the carers the resident's visits need
    at that moment. A peak is a moment no other moment of the slot contains (see module)."""
    cols = ["scheme_id", "slot", "instant", "resident_id", "carers"]
    parts = visit_slots(data, scenario)
    if parts.empty:
        return pd.DataFrame(columns=cols)
    busy = _busy(parts, _moments(parts, scenario.slot_minutes))
    out = busy[~_dominated(busy)]
    return out.sort_values(cols[:4]).reset_index(drop=True)[cols]


def most_carers_at_once(peak_rows: pd.DataFrame) -> pd.Series:
    """Per (scheme, slot): the most carers busy at once if every resident's care were under the
    block: the largest planned-care need the slot can put on the on-site team."""
    if peak_rows.empty:
        return pd.Series(dtype=float)
    per_moment = peak_rows.groupby(["scheme_id", "slot", "instant"])["carers"].sum()
    return per_moment.groupby(level=["scheme_id", "slot"]).max()
