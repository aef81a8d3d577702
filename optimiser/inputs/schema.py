"""The input tables: one specification per CSV file, the single source of truth.

Every column is declared once here with its type, its rule and a sentence a commissioner can
read. The loader (:mod:`optimiser.inputs.load`) turns these specifications into pandera schemas,
and ``optimiser validate --describe`` prints them; ``data/shireford/README.md`` documents the
same columns with the sources of the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CQC_RATINGS: tuple[str, ...] = (
    "outstanding",
    "good",
    "requires_improvement",
    "inadequate",
    "unrated",
)
PREFERENCE_STRENGTHS: tuple[str, ...] = ("none", "weak", "strong")
NEEDS_BANDS: tuple[str, ...] = ("none", "low", "moderate", "high")
BOOL_WORDS: dict[str, bool] = {
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "1": True,
    "0": False,
    "y": True,
    "n": False,
}
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
TIME_PATTERN = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of an input table.

    kind is one of: ``id`` (short code, letters/digits/``_.-``), ``text``, ``int``, ``float``,
    ``bool`` (true/false, yes/no, 1/0), ``enum`` (one of ``choices``), ``time`` (HH:MM),
    ``idlist`` (ids separated by ``|``).
    """

    name: str
    kind: str
    doc: str
    unit: str = ""
    required: bool = True
    nullable: bool = False
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    choices: tuple[str, ...] = ()
    default: object = None


@dataclass(frozen=True)
class TableSpec:
    """One input CSV: its columns, its key and what it is for."""

    name: str
    doc: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    optional: bool = False
    min_rows: int = 1
    foreign_keys: dict[str, str] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


SCHEMES = TableSpec(
    name="schemes",
    doc="One row per Extra Care Housing scheme (a block of flats with care on site).",
    key=("scheme_id",),
    columns=(
        ColumnSpec("scheme_id", "id", "Short code of the scheme, unique."),
        ColumnSpec("name", "text", "Name of the scheme as commissioners know it."),
        ColumnSpec("zone", "id", "Commissioning zone (locality) the scheme lies in."),
        ColumnSpec("flats", "int", "Number of flats.", "flats", ge=1, le=1000),
        ColumnSpec(
            "day_min_staff",
            "int",
            "Fewest care staff on duty at any daytime hour, whatever the planned care.",
            "staff",
            ge=0,
            le=50,
        ),
        ColumnSpec(
            "night_min_staff",
            "int",
            "Fewest waking staff on duty at any night hour.",
            "staff",
            ge=0,
            le=50,
        ),
        ColumnSpec(
            "lone_working_at_night",
            "bool",
            "Whether one member of staff may be alone on site at night; if not, the night "
            "minimum is raised to 2.",
        ),
        ColumnSpec(
            "day_calls_per_hour",
            "float",
            "Unplanned and emergency (pendant, pull-cord) calls per daytime hour, whole scheme.",
            "calls/hour",
            ge=0,
            le=100,
        ),
        ColumnSpec(
            "night_calls_per_hour",
            "float",
            "Unplanned and emergency calls per night hour, whole scheme.",
            "calls/hour",
            ge=0,
            le=100,
        ),
        ColumnSpec(
            "mean_call_minutes",
            "float",
            "Mean time a member of staff spends answering one call, including getting there.",
            "minutes",
            gt=0,
            le=240,
        ),
        ColumnSpec(
            "response_target_minutes",
            "float",
            "A call should be reached within this many minutes.",
            "minutes",
            gt=0,
            le=240,
        ),
        ColumnSpec(
            "response_share",
            "float",
            "Share of calls that must be reached within the target (e.g. 0.9 = 90 %).",
            "share",
            gt=0,
            le=0.9999,
        ),
    ),
)

RESIDENTS = TableSpec(
    name="residents",
    doc="One row per resident (pseudonymous id only: no names, addresses or NHS numbers).",
    key=("resident_id",),
    foreign_keys={"scheme_id": "schemes", "preferred_provider": "providers"},
    columns=(
        ColumnSpec("resident_id", "id", "Pseudonymous resident id, unique (e.g. R0001)."),
        ColumnSpec("scheme_id", "id", "Scheme the resident lives in."),
        ColumnSpec(
            "needs_band",
            "enum",
            "Assessed level of need: none (no care package), low, moderate or high.",
            choices=NEEDS_BANDS,
        ),
        ColumnSpec(
            "weekly_budget",
            "float",
            "Personal budget for care, GBP per week (0 if no package).",
            "GBP/week",
            ge=0,
            le=20000,
        ),
        ColumnSpec(
            "preferred_provider",
            "id",
            "Provider the resident has asked for; empty if none.",
            nullable=True,
        ),
        ColumnSpec(
            "preference_strength",
            "enum",
            "How strongly the preference is held: none, weak or strong.",
            choices=PREFERENCE_STRENGTHS,
        ),
        ColumnSpec(
            "wants_direct_payment",
            "bool",
            "Whether the resident has asked to take the budget as a direct payment.",
        ),
        ColumnSpec(
            "support_tier",
            "int",
            "Optional: support tier chosen, 1 (monitoring only) to 5 (daily check visit); "
            "read only by models with support tiers; blank: by needs band.",
            "tier",
            required=False,
            nullable=True,
            ge=1,
            le=5,
        ),
    ),
)

VISITS = TableSpec(
    name="visits",
    doc="One row per planned care visit in the representative week.",
    key=("resident_id", "day", "start"),
    foreign_keys={"resident_id": "residents"},
    min_rows=0,
    columns=(
        ColumnSpec("resident_id", "id", "Resident receiving the visit."),
        ColumnSpec("day", "enum", "Day of the week (Mon ... Sun).", choices=DAYS),
        ColumnSpec("start", "time", "Start time, 24-hour clock HH:MM."),
        ColumnSpec("minutes", "int", "Length of the visit.", "minutes", ge=5, le=720),
        ColumnSpec(
            "carers",
            "int",
            "Carers needed at once (2 = double-up visit).",
            "carers",
            ge=1,
            le=2,
        ),
    ),
)

PROVIDERS = TableSpec(
    name="providers",
    doc="One row per care provider the council could contract with.",
    key=("provider_id",),
    columns=(
        ColumnSpec("provider_id", "id", "Short code of the provider, unique."),
        ColumnSpec("name", "text", "Trading name."),
        ColumnSpec("zones", "idlist", "Zones the provider serves, separated by '|'."),
        ColumnSpec(
            "onsite_capable",
            "bool",
            "Whether the provider can run an on-site team (and so hold a block contract).",
        ),
        ColumnSpec("cqc_rating", "enum", "Current CQC rating.", choices=CQC_RATINGS),
        ColumnSpec(
            "satisfaction",
            "float",
            "Share of its service users satisfied with their care, 0-100.",
            "%",
            ge=0,
            le=100,
        ),
        ColumnSpec(
            "block_rate_day",
            "float",
            "Block contract price per on-site staff-hour, weekday daytime.",
            "GBP/hour",
            gt=0,
            le=500,
            nullable=True,
        ),
        ColumnSpec(
            "block_rate_night",
            "float",
            "Block contract price per waking-night staff-hour.",
            "GBP/hour",
            gt=0,
            le=500,
            nullable=True,
        ),
        ColumnSpec(
            "block_rate_weekend",
            "float",
            "Block contract price per staff-hour, weekend daytime.",
            "GBP/hour",
            gt=0,
            le=500,
            nullable=True,
        ),
        ColumnSpec(
            "framework_rate_day",
            "float",
            "Hourly price for planned visits, weekday daytime.",
            "GBP/hour",
            gt=0,
            le=500,
        ),
        ColumnSpec(
            "framework_rate_night",
            "float",
            "Hourly price for planned visits at night.",
            "GBP/hour",
            gt=0,
            le=500,
        ),
        ColumnSpec(
            "framework_rate_weekend",
            "float",
            "Hourly price for planned visits, weekend daytime.",
            "GBP/hour",
            gt=0,
            le=500,
        ),
        ColumnSpec(
            "travel_minutes_per_visit",
            "float",
            "Non-contact (travel) minutes the council pays for each visit by an off-site carer.",
            "minutes",
            ge=0,
            le=120,
        ),
        ColumnSpec(
            "weekly_capacity_hours",
            "float",
            "Care hours (staff-hours) the provider can supply per week across all schemes.",
            "hours/week",
            ge=0,
            le=1_000_000,
        ),
        ColumnSpec(
            "framework_admission_cost",
            "float",
            "One-off cost to the council of admitting the provider to the framework.",
            "GBP",
            ge=0,
            le=10_000_000,
        ),
        ColumnSpec(
            "framework_monitoring_cost",
            "float",
            "Cost to the council of contract monitoring while on the framework.",
            "GBP/year",
            ge=0,
            le=10_000_000,
        ),
        ColumnSpec(
            "min_block_hours",
            "float",
            "Minimum viable block contract size at one scheme (on-site staff-hours per week).",
            "hours/week",
            ge=0,
            le=100_000,
            nullable=True,
        ),
        ColumnSpec(
            "outcome_achievement",
            "float",
            "Optional: share of agreed outcomes the provider is expected to achieve, 0-1; read "
            "only by models paying on outcomes; blank: satisfaction / 100.",
            "share",
            required=False,
            nullable=True,
            ge=0,
            le=1,
        ),
    ),
)

COSTS = TableSpec(
    name="costs",
    doc="Council-wide costs and constants, one per row (name, value, unit, source).",
    key=("name",),
    columns=(
        ColumnSpec("name", "id", "Name of the cost or constant (see the list below)."),
        ColumnSpec("value", "float", "the value of the cost or constant named in this row, in "
                   "its unit", ge=0, le=10_000_000),
        ColumnSpec("unit", "text", "Unit, for the reader.", required=False, nullable=True),
        ColumnSpec("source", "text", "Where the number comes from.", required=False, nullable=True),
    ),
)

# Names that costs.csv must (or may) define, with their meaning and unit.
COST_NAMES: dict[str, tuple[str, str, float | None]] = {
    "direct_payment_hourly_rate": (
        "Hourly rate the council pays into a direct payment (agency or personal assistant).",
        "GBP/hour",
        None,
    ),
    "direct_payment_admin_per_year": (
        "Council cost of setting up, auditing and supporting one direct payment.",
        "GBP/year",
        None,
    ),
    "direct_payment_satisfaction": (
        "Satisfaction score credited to care bought with a direct payment (0-100).",
        "%",
        None,
    ),
    "coordination_per_provider_scheme_per_week": (
        "Cost of coordinating one more provider active in one scheme (handovers, reviews).",
        "GBP/week",
        None,
    ),
    "block_contract_management_per_year": (
        "Council cost of letting and managing one on-site block contract.",
        "GBP/year",
        None,
    ),
    "framework_term_years": (
        "Length of the framework agreement, over which admission costs are spread.",
        "years",
        None,
    ),
    "weeks_per_year": ("Weeks used to annualise weekly costs.", "weeks", 52.143),
    "employer_oncost_rate": (
        "Employer on-costs (NI, pension, holiday) as a share of pay; used to derive rates.",
        "share",
        0.25,
    ),
}

TABLES: tuple[TableSpec, ...] = (SCHEMES, RESIDENTS, VISITS, PROVIDERS, COSTS)


KIND_WORDS: dict[str, str] = {
    "id": "a short code: letters, digits, '_', '.' or '-'",
    "text": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false (yes/no, 1/0)",
    "enum": "one of",
    "time": "a time HH:MM, 24-hour clock",
    "idlist": "codes separated by '|'",
}


def rule_text(col: ColumnSpec) -> str:
    """The rule a column's cells must meet, in words."""
    words = KIND_WORDS[col.kind]
    if col.kind == "enum":
        words += " " + ", ".join(col.choices)
    bounds = []
    if col.ge is not None:
        bounds.append(f"at least {col.ge:g}")
    if col.gt is not None:
        bounds.append(f"greater than {col.gt:g}")
    if col.le is not None:
        bounds.append(f"at most {col.le:g}")
    if bounds:
        words += ", " + " and ".join(bounds)
    if not col.required:
        words += "; optional column"
    elif col.nullable:
        words += "; may be empty"
    else:
        words += "; required"
    return words


def describe() -> str:
    """Every input table, its columns and their rules, and the names costs.csv holds."""
    out = []
    for spec in TABLES:
        key = f" Key: {', '.join(spec.key)} (unique)." if spec.key else ""
        refs = "".join(f" {col} must be an id in {target}.csv." for col, target in
                       spec.foreign_keys.items())
        out += [f"{spec.filename}: {spec.doc}{key}{refs}"]
        for col in spec.columns:
            unit = f" [{col.unit}]" if col.unit else ""
            out.append(f"  {col.name}{unit}: {col.doc}")
            out.append(f"      rule: {rule_text(col)}")
        out.append("")
    out.append("costs.csv rows (name: meaning [unit]):")
    for name, (doc, unit, default) in COST_NAMES.items():
        extra = "required" if default is None else f"optional, default {default:g}"
        out.append(f"  {name}: {doc} [{unit}] ({extra})")
    return "\n".join(out)
