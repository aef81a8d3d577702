"""What every column of every plan table means, its unit, and how it is written.

One place for the definitions sheet of plan.xlsx, the number formats there, the rounding of
the CSV files and the report's glossary. A column's *kind* decides all three:

========  ==================  ==========================  ====================================
kind      CSV (decimals)      Excel number format         used for
========  ==================  ==========================  ====================================
gbp       2 (to the penny)    £#,##0.00                   money
hours     4                   #,##0.00                    staff-hours, care hours, loads
share     6                   0.0%                        fractions 0-1 (shown as percentages)
count     0 (integer)         #,##0                       whole numbers: staff, schemes, ranks
people    3                   #,##0.### / #,##0           residents, which a split can divide
score     2                   0.00                        satisfaction (0-100) and scores
text      as is               text                        ids, names, words
========  ==================  ==========================  ====================================

The rounding keeps every table exact enough for ``optimiser verify`` (money within a penny,
shares within 1e-6, staff required within 1e-3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DECIMALS: dict[str, int] = {"gbp": 2, "hours": 4, "share": 6, "count": 0, "people": 3,
                            "score": 2}
EXCEL_FORMATS: dict[str, str] = {
    "gbp": "£#,##0.00", "hours": "#,##0.00", "share": "0.0%", "count": "#,##0",
    "people": "#,##0.###", "score": "0.00", "text": "@",
}


@dataclass(frozen=True)
class Column:
    meaning: str
    unit: str = ""
    kind: str = "text"


C = Column
# Columns that mean the same in every table they appear in.
COMMON: dict[str, Column] = {
    "scheme_id": C("Short code of the Extra Care Housing scheme (schemes.csv).", "", "text"),
    "scheme_name": C("Name of the scheme.", "", "text"),
    "zone": C("Commissioning zone (locality) of the scheme.", "", "text"),
    "provider_id": C("Short code of the care provider (providers.csv).", "", "text"),
    "provider_name": C("Trading name of the provider.", "", "text"),
    "resident_id": C("Pseudonymous resident id (no names are held).", "", "text"),
    "day": C("Day of the week.", "", "text"),
    "cqc_rating": C("Current CQC rating of the provider.", "", "text"),
    "zones": C("Zones the provider serves, separated by '|'.", "", "text"),
    "flats": C("Flats in the scheme.", "flats", "count"),
}

TABLES: dict[str, tuple[str, dict[str, Column]]] = {
    "summary": ("The run in figures: status, gap, cost and the headline figures.", {
        "metric": C("Name of the figure (see the rows of the 'Summary figures' section)."),
        "value": C("Its value."),
        "unit": C("Its unit: GBP/week, GBP/year, share (0-1), hours/week, ..."),
    }),
    "cost_lines": ("Each cost line of the plan, weekly and annual.", {
        "line": C("Short name of the cost line; 'total' is their sum."),
        "description": C("What the line pays for."),
        "weekly_gbp": C("Cost in a representative week.", "GBP/week", "gbp"),
        "annual_gbp": C("Weekly cost times the weeks in a year (costs.csv weeks_per_year).",
                        "GBP/year", "gbp"),
    }),
    "block_contracts": ("One row per scheme given an on-site block contract.", {
        "min_block_hours": C("Smallest block the provider will run at one scheme.",
                             "hours/week", "hours"),
        "weekly_management_cost": C("Council cost of letting and managing this contract.",
                                    "GBP/week", "gbp"),
        "weekly_staff_hours": C("On-site staff-hours guaranteed under the block (all rota "
                                "shifts).", "hours/week", "hours"),
        "day_hours": C("Of which weekday daytime.", "hours/week", "hours"),
        "night_hours": C("Of which at night (waking staff).", "hours/week", "hours"),
        "weekend_hours": C("Of which weekend daytime.", "hours/week", "hours"),
        "weekly_staff_cost": C("Price of those staff-hours at the provider's block rates.",
                               "GBP/week", "gbp"),
        "residents_block": C("Residents whose planned care the on-site team delivers under the "
                             "block (a split package counts by its share).", "residents",
                             "people"),
        "residents_spot": C("Residents whose care the on-site provider delivers paid from their "
                            "personal budgets.", "residents", "people"),
    }),
    "rota": ("The on-site rota: how many staff work each shift pattern on each day.", {
        "pattern": C("Number of the shift pattern (start and length) in the model file."),
        "start": C("Shift start, 24-hour clock.", "HH:MM"),
        "hours": C("Shift length.", "hours", "hours"),
        "staff": C("Staff on this shift.", "staff", "count"),
        "staff_hours": C("Staff times shift length.", "hours/week", "hours"),
        "day_hours": C("Of which weekday daytime.", "hours/week", "hours"),
        "night_hours": C("Of which at night.", "hours/week", "hours"),
        "weekend_hours": C("Of which weekend daytime.", "hours/week", "hours"),
        "weekly_cost": C("Cost of the shift's staff-hours at the block rates.", "GBP/week",
                         "gbp"),
    }),
    "cover": ("Every scheme, every time slot of the week: staff required and on duty.", {
        "slot": C("Number of the time slot in the week, Monday 00:00 = 0.", "", "count"),
        "time": C("Start of the slot, 24-hour clock.", "HH:MM"),
        "band": C("Pay band of the slot: day, night or weekend."),
        "min_staff": C("Fewest staff on duty the scheme needs whatever the planned care "
                       "(0 without a block contract).", "staff", "count"),
        "planned_load": C("Most carers busy at one moment of the slot with planned visits "
                          "under the block (a share of a split package counts in part).",
                          "staff", "hours"),
        "double_up_carers": C("Carers needed at once for a double-up visit in the slot.",
                              "staff", "count"),
        "reserve": C("Staff kept free for pendant and pull-cord calls (Erlang C).", "staff",
                     "count"),
        "check_visits": C("Staff busy with support-tier check visits, on average.", "staff",
                          "hours"),
        "required": C("Staff the rules require: the largest of the minimum, planned care plus "
                      "reserve plus check visits, and a double-up plus reserve.", "staff",
                      "hours"),
        "on_duty": C("Staff the rota puts on duty.", "staff", "count"),
        "slack": C("On duty minus required: staff free beyond what the rules need.", "staff",
                   "hours"),
    }),
    "framework": ("Framework providers admitted, with their residents, hours and costs.", {
        "residents": C("Residents whose care the provider delivers (a split package counts by "
                       "its share).", "residents", "people"),
        "weekly_paid_hours": C("Care hours paid, including paid travel.", "hours/week",
                               "hours"),
        "weekly_care_cost": C("Price of those hours at the provider's rates.", "GBP/week",
                              "gbp"),
        "weekly_fixed_cost": C("Admission (spread over the framework term) and monitoring.",
                               "GBP/week", "gbp"),
    }),
    "allocations": ("Every resident with care: who delivers it, by which route, at what cost.", {
        "route_kind": C("Route: block (on-site team under the block), spot (on-site provider "
                        "paid from the budget), framework, or direct (direct payment)."),
        "route_description": C("The route in words."),
        "share": C("Share of the resident's package on this route (1 = all of it).",
                   "share (0-1)", "share"),
        "package_hours": C("Assessed contact hours of the whole package.", "hours/week",
                           "hours"),
        "weekly_cost": C("What the council pays for this share of the package.", "GBP/week",
                         "gbp"),
        "budget_draw": C("What this share of the package draws on the personal budget.",
                         "GBP/week", "gbp"),
        "weekly_budget": C("The resident's personal budget.", "GBP/week", "gbp"),
        "preferred_provider": C("Provider the resident asked for; empty if none."),
        "preferred_provider_name": C("Name of the provider the resident asked for."),
        "preference_strength": C("How strongly the preference is held: none, weak, strong."),
        "preference_honoured": C("yes if this share goes to the provider asked for, no if not; "
                                 "empty if no preference."),
        "wants_direct_payment": C("Whether the resident asked for a direct payment."),
        "satisfaction": C("Satisfaction score of whoever delivers the care.", "0-100",
                          "score"),
    }),
    "providers": ("Hours each provider supplies against its capacity, and its market share.", {
        "block_staff_hours": C("On-site staff-hours under block contracts.", "hours/week",
                               "hours"),
        "package_paid_hours": C("Care hours paid from budgets or as framework care.",
                                "hours/week", "hours"),
        "total_hours": C("All hours the provider supplies.", "hours/week", "hours"),
        "weekly_capacity_hours": C("Hours the provider can supply a week.", "hours/week",
                                   "hours"),
        "commissioned_hours": C("Hours commissioned from the provider, by need: cover and "
                                "care hours under its blocks, plus paid hours bought by the "
                                "hour (idle rota hours are not counted).", "hours/week",
                                "hours"),
        "market_share": C("Share of all commissioned hours (the market-share rule's measure).",
                          "share (0-1)", "share"),
    }),
    "tiers": ("Support tiers: who is on each and what its check visits cost.", {
        "tier": C("Support tier, 1* to 5*.", "", "count"),
        "description": C("What the tier gives."),
        "residents": C("Residents on the tier.", "residents", "count"),
        "emergency_response": C("Whether the tier includes on-site emergency response."),
        "check_visits_per_week": C("Check visits a week, all residents on the tier.",
                                   "visits/week", "hours"),
        "check_hours_per_week": C("Staff time of those visits.", "hours/week", "hours"),
        "weekly_check_cost": C("Those hours at the on-site holder's daytime rate.", "GBP/week",
                               "gbp"),
    }),
    "ranking": ("The framework ranking on price and quality, best first.", {
        "price": C("Hourly rate weighted by the hours residents need in each band.",
                   "GBP/hour", "gbp"),
        "price_score": C("100 x cheapest price / own price.", "0-100", "score"),
        "quality_score": C("100 x (CQC points / 4 + satisfaction / 100) / 2.", "0-100",
                           "score"),
        "score": C("Weighted price and quality score.", "0-100", "score"),
        "rank": C("Place in the ranking, 1 = best.", "", "count"),
        "admitted": C("Whether the provider was admitted to the framework."),
        "residents": C("Residents it serves.", "residents", "people"),
        "weekly_paid_hours": C("Care hours paid.", "hours/week", "hours"),
        "full": C("Whether the provider is at capacity (so work passes down the ranking)."),
    }),
    "cover_funding": ("Cover paid from residents' pooled budgets, scheme by scheme.", {
        "pooled_budgets": C("Residents' budgets pooled at the scheme.", "GBP/week", "gbp"),
        "has_24h_cover": C("Whether the scheme keeps an on-site team round the clock."),
        "care_drawn": C("What residents' own care draws on the pool.", "GBP/week", "gbp"),
        "team_cost": C("Cost of the on-site team in the plan.", "GBP/week", "gbp"),
        "team_cost_if_kept": C("Cost of an on-site team if cover were kept.", "GBP/week",
                               "gbp"),
        "restore_cost_weekly": C("What restoring cover would cost the council.", "GBP/week",
                                 "gbp"),
        "restore_cost_annual": C("The same a year.", "GBP/year", "gbp"),
        "finding": C("The finding in words."),
    }),
}

# The rows of summary.csv: meaning and unit of each figure (kind drives formats).
SUMMARY_FIGURES: dict[str, Column] = {
    "model": C("Commissioning model (the model file's name)."),
    "status": C("How the solver finished, in words."),
    "gap": C("Largest share by which a better plan could still be cheaper.", "share", "share"),
    "weekly_cost": C("Cost of the plan in a representative week.", "GBP/week", "gbp"),
    "annual_cost": C("The same over a year.", "GBP/year", "gbp"),
    "solver_objective": C("The solver's own figure for the weekly cost.", "GBP/week", "gbp"),
    "solver_bound": C("No plan can cost less than this a week.", "GBP/week", "gbp"),
    "schemes": C("Schemes in the dataset.", "schemes", "count"),
    "schemes_with_block": C("Schemes given an on-site block contract (24-hour cover).",
                            "schemes", "count"),
    "residents_with_care": C("Residents with a care package.", "residents", "count"),
    "package_hours_per_week": C("Assessed contact hours of all packages.", "hours/week",
                                "hours"),
    "block_staff_hours_per_week": C("On-site staff-hours bought under block contracts.",
                                    "hours/week", "hours"),
    "onsite_share_of_planned_care": C("Share of planned care hours delivered by the on-site "
                                      "provider (block or paid from budgets).", "share",
                                      "share"),
    "framework_providers": C("Framework providers admitted.", "providers", "count"),
    "direct_payments": C("Residents taking a direct payment.", "residents", "people"),
    "night_cover_cost_per_flat_per_week": C("Block night staff cost per flat covered.",
                                            "GBP/flat/week", "gbp"),
    "preferences_stated": C("Residents who named a provider they want.", "residents",
                            "count"),
    "preferences_eligible": C("Of those, preferences that this model's rules allow to be met.",
                              "residents", "count"),
    "preferences_honoured": C("Preferences honoured.", "residents", "people"),
    "mean_satisfaction": C("Mean satisfaction score, weighted by care hours.", "0-100",
                           "score"),
    "providers_per_scheme": C("Mean number of providers active in a scheme.", "providers",
                              "people"),
}


def column(table: str, name: str) -> Column:
    """The definition of a column (a generic one if the column is not documented)."""
    own = TABLES.get(table, ("", {}))[1]
    if name in own:
        return own[name]
    if name in COMMON:
        return COMMON[name]
    if name.endswith("_name"):
        return C(f"Name for {name[:-5]}.")
    return C("", "", "text")


def table_doc(table: str) -> str:
    return TABLES.get(table, ("",))[0]


def definitions(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per column of every table given: table, column, meaning, unit."""
    rows = []
    for name, frame in tables.items():
        for col in frame.columns:
            spec = column(name, str(col))
            rows.append((name, str(col), spec.meaning, spec.unit))
    return pd.DataFrame(rows, columns=["table", "column", "meaning", "unit"])


def _round(values: pd.Series, kind: str) -> pd.Series:
    """Round a numeric column for writing; whole numbers become integers."""
    numbers = pd.to_numeric(values, errors="coerce")
    decimals = DECIMALS.get(kind, 6)
    if kind == "count" and not bool(np.allclose(numbers.dropna(), numbers.dropna().round())):
        decimals = DECIMALS["hours"]  # a count that is not whole is never cut to a whole
    numbers = numbers.round(decimals)
    numbers = numbers.where(numbers != 0, 0.0)  # no "-0"
    whole = numbers.dropna()
    if len(whole) and bool(np.all(whole == np.round(whole))) and whole.abs().max() < 2**53:
        return numbers.astype("Int64")
    return numbers


def tidy(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The table as written: numbers rounded by kind, whole numbers as integers."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            continue
        out[col] = _round(series, column(table, str(col)).kind)
    if table == "summary" and "value" in out.columns:
        out["value"] = [_summary_value(m, v) for m, v in zip(out["metric"], out["value"],
                                                            strict=True)]
        if "unit" in out.columns:
            out["unit"] = [u if u else SUMMARY_FIGURES.get(m, C("")).unit
                           for m, u in zip(out["metric"], out["unit"], strict=True)]
    return out


def _summary_value(metric: str, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return value
    kind = SUMMARY_FIGURES.get(metric, C("")).kind
    number = round(float(value), DECIMALS.get(kind, 6))
    return int(number) if number.is_integer() else number
