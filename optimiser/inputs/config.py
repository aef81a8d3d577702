"""Commissioning-model files (``models/*.toml``): a dataset plus policy switches and solver options.

A model file is small and declarative. Every key is validated (pydantic, unknown keys refused)
so a typo in a policy switch is an error naming the file and the key, never a silent default.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from optimiser.inputs.load import CommandLineError, InputError
from optimiser.inputs.schema import NEEDS_BANDS

CqcLevel = Literal["outstanding", "good", "requires_improvement", "inadequate"]
CQC_POINTS: dict[str, int] = {
    "outstanding": 4,
    "good": 3,
    "requires_improvement": 2,
    "inadequate": 1,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Policy(_Strict):
    """The commissioning rules. Defaults describe 'everything allowed, the optimiser chooses'."""

    require_24h_cover: bool = Field(
        True, description="Every scheme must have an on-site block contract giving 24-hour cover."
    )
    allow_block_care: bool = Field(
        True, description="Planned care may be delivered by the on-site team under the block."
    )
    allow_onsite_spot: bool = Field(
        True,
        description="Planned care may be bought from the on-site provider at its hourly rate, "
        "paid from the personal budget (core and add-on).",
    )
    allow_framework: bool = Field(True, description="Framework providers may be admitted.")
    direct_payments: Literal["never", "on_request", "always"] = Field(
        "on_request",
        description="never: no direct payments; on_request: for residents who ask; "
        "always: open to every resident.",
    )
    allow_splits: bool = Field(
        False, description="A resident's package may be split between organisations."
    )
    budget_rule: Literal["individual", "pooled", "none"] = Field(
        "individual",
        description="individual: each package within its budget plus top-up; pooled: the "
        "scheme's packages within the scheme's pooled budgets plus top-up; none: no cap.",
    )
    budget_topup_share: float = Field(
        0.10, ge=0, le=5, description="Top-up allowed above a budget, as a share of it."
    )
    cqc_floor: CqcLevel = Field(
        "requires_improvement", description="Lowest CQC rating a provider may have to deliver care."
    )
    unrated_as: CqcLevel | Literal["excluded"] = Field(
        "requires_improvement",
        description="How a provider not yet rated by CQC is treated against the floor.",
    )
    onsite_cqc_floor: CqcLevel = Field(
        "good", description="Lowest CQC rating for the on-site (block) provider."
    )
    min_mean_satisfaction: float = Field(
        0.0, ge=0, le=100, description="Hours-weighted mean satisfaction of planned care, floor."
    )
    honour_strong_preferences: bool = Field(
        True, description="A strong preference is honoured whenever the provider is eligible."
    )
    min_preference_share: float = Field(
        0.0, ge=0, le=1, description="Share of stated preferences (eligible ones) to honour."
    )
    min_framework_per_zone: int = Field(
        0, ge=0, description="At least this many framework providers serving each zone."
    )
    max_framework_per_zone: int | None = Field(
        None, ge=0, description="At most this many framework providers serving each zone."
    )
    max_provider_share: float = Field(
        1.0, gt=0, le=1, description="No provider above this share of all commissioned hours."
    )
    single_framework_rate: float | None = Field(
        None,
        gt=0,
        le=500,
        description="One hourly rate (GBP) paid to every provider for care bought by the hour "
        "(framework and on-site paid from budgets), day, night and weekend alike; unset: each "
        "provider's own rates.",
    )
    framework_monitoring_factor: float = Field(
        1.0,
        ge=0,
        le=5,
        description="Multiplies every provider's framework monitoring cost: below 1 for fewer, "
        "larger contracts monitored on outcomes (seed 004, Wiltshire); above 1 for frequent "
        "re-assessment (seed 004, Essex).",
    )
    outcome_payment_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of every payment for care bought by the hour that is paid only when "
        "outcomes are achieved (seed 004, Sutton: 0.25); expected at the provider's "
        "achievement rate.",
    )
    reablement_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of packages bought on outcomes that start the year with a reablement "
        "period (0: no reablement modelled).",
    )
    reablement_no_care: float = Field(
        0.52, ge=0, le=1, description="Share reabled who need no ongoing care (Hertfordshire)."
    )
    reablement_reduced: float = Field(
        0.21, ge=0, le=1, description="Share reabled who need a reduced package (Hertfordshire)."
    )
    reablement_reduction: float = Field(
        0.5, ge=0, le=1, description="How much smaller a reduced package is, as a share."
    )
    reablement_weeks: float = Field(
        6.0, ge=0, le=52, description="Length of the reablement period, weeks."
    )
    reablement_bonus: float = Field(
        0.0,
        ge=0,
        le=100000,
        description="Bonus (GBP) paid to the provider for each resident who needs no ongoing "
        "care after reablement (seed 004, Essex).",
    )
    cash_allocation_share: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="Share of each personal budget paid to the resident as a cash allocation "
        "(seed 002, Look Ahead core and flexi); the rest buys flexible support hours.",
    )
    call_off_in_rank_order: bool = Field(
        False,
        description="Framework work is called off in rank order: a provider gets a package only "
        "if every better-ranked admitted provider able to take it is full (seed 004, Essex); a "
        "resident's own named provider is exempt.",
    )
    rank_price_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Weight of price in the framework ranking; quality has the rest.",
    )
    support_tiers: bool = Field(
        False,
        description="Tiered support levels 1* to 5* per resident (seed 002, Cheshire Peaks and "
        "Plains): 1* monitoring only, 2* emergency response, 3*-5* add monthly, weekly, daily "
        "check visits by the on-site team.",
    )
    tier_by_needs_band: dict[str, int] = Field(
        default_factory=lambda: {"none": 1, "low": 2, "moderate": 3, "high": 4},
        description="Tier of a resident whose support_tier cell is blank, by needs band.",
    )
    tier_visits_per_week: tuple[float, float, float, float, float] = Field(
        (0.0, 0.0, 12 / 52, 1.0, 7.0),
        description="Check visits a week for tiers 1* to 5*.",
    )
    tier_visit_minutes: float = Field(
        15.0, gt=0, le=120, description="Length of one check visit, minutes."
    )
    cover_funding: Literal["council", "pooled_budgets"] = Field(
        "council",
        description="council: the council pays each on-site team; pooled_budgets: a scheme's "
        "team exists only if its residents' pooled budgets pay for it, at the provider's rates "
        "(seed 000, micro-commissioning).",
    )
    schemes_without_cover: tuple[str, ...] = Field(
        (), description="Schemes given no on-site team at all (no block, no 24-hour cover)."
    )
    min_schemes_with_cover: int = Field(
        0, ge=0, description="At least this many schemes keep an on-site team. With cover paid "
        "from pooled budgets the solve sets it to the most schemes any plan can keep.",
    )
    night_start_hour: int = Field(22, ge=0, le=23, description="First hour of the night band.")
    night_end_hour: int = Field(7, ge=0, le=23, description="First hour after the night band.")

    def passes(self, rating: str, floor: str) -> bool:
        """Whether a CQC rating meets a floor, applying the rule for unrated providers."""
        if rating == "unrated":
            if self.unrated_as == "excluded":
                return False
            rating = self.unrated_as
        return CQC_POINTS[rating] >= CQC_POINTS[floor]

    @model_validator(mode="after")
    def _tiers_valid(self) -> Policy:
        unknown = sorted(set(self.tier_by_needs_band) - set(NEEDS_BANDS))
        if unknown:
            raise ValueError(f"tier_by_needs_band: unknown needs band(s) {unknown}; the bands "
                             f"are {', '.join(NEEDS_BANDS)}")
        bad = {band: tier for band, tier in self.tier_by_needs_band.items() if not 1 <= tier <= 5}
        if bad:
            raise ValueError(f"tier_by_needs_band: tiers must be 1 to 5, got {bad}")
        if any(v < 0 for v in self.tier_visits_per_week):
            raise ValueError("tier_visits_per_week must not be negative")
        if self.reablement_no_care + self.reablement_reduced > 1:
            raise ValueError("reablement_no_care + reablement_reduced is above 1")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        """Rules that each pass on their own but contradict one another."""
        if self.min_framework_per_zone > 0 and not self.allow_framework:
            raise ValueError(
                f"min_framework_per_zone = {self.min_framework_per_zone} asks for framework "
                "providers in every zone, but allow_framework = false admits none")
        if not (self.allow_block_care or self.allow_onsite_spot or self.allow_framework) \
                and self.direct_payments != "always":
            raise ValueError(
                "no way is left to deliver planned care: allow_block_care, allow_onsite_spot "
                "and allow_framework are all false and direct payments are not open to every "
                "resident (direct_payments = \"always\")")
        if self.night_start_hour == self.night_end_hour:
            raise ValueError(
                f"night_start_hour and night_end_hour are both {self.night_start_hour}, so the "
                "night band is empty (or the whole day); give the first hour of the night and "
                "the first hour after it")
        return self

    @model_validator(mode="after")
    def _min_below_max(self) -> Policy:
        if (
            self.max_framework_per_zone is not None
            and self.max_framework_per_zone < self.min_framework_per_zone
        ):
            raise ValueError("max_framework_per_zone is below min_framework_per_zone")
        return self


class Shifts(_Strict):
    """Rules generating the on-site rota's shift patterns, repeated every day of the week.

    Either explicit ``patterns`` ([start hour, length in hours] pairs), or every one of
    ``starts`` combined with every one of ``lengths``.
    """

    patterns: tuple[tuple[int, int], ...] = Field(
        ((7, 8), (15, 7), (22, 9), (7, 3), (17, 4)),
        description="Explicit [start hour, hours] shifts: early, late, waking night and the "
        "morning and teatime peaks.",
    )
    starts: tuple[int, ...] = Field((), description="Start hours (combined with lengths).")
    lengths: tuple[int, ...] = Field((), description="Lengths in hours (combined with starts).")

    @model_validator(mode="after")
    def _valid(self) -> Shifts:
        if bool(self.starts) != bool(self.lengths):
            given, missing = ("starts", "lengths") if self.starts else ("lengths", "starts")
            raise ValueError(f"shifts.{given} is given without shifts.{missing}: every start "
                             "is combined with every length, so both are needed")
        pairs = self.shift_list()
        if not pairs:
            raise ValueError("shifts need at least one pattern")
        if any(not 0 <= s <= 23 for s, _ in pairs):
            raise ValueError("shift starts must be hours 0-23")
        if any(not 1 <= h <= 24 for _, h in pairs):
            raise ValueError("shift lengths must be 1-24 hours")
        return self

    def shift_list(self) -> list[tuple[int, int]]:
        """The daily shifts as (start hour, hours), without duplicates, in a fixed order."""
        if self.starts or self.lengths:
            pairs = [(s, h) for s in self.starts for h in self.lengths]
        else:
            pairs = [tuple(p) for p in self.patterns]
        return list(dict.fromkeys(pairs))


class SolverOptions(_Strict):
    """HiGHS options; all optional."""

    time_limit: float = Field(300.0, gt=0, description="Seconds before the best plan is taken.")
    mip_rel_gap: float = Field(0.001, ge=0, le=1, description="Relative gap to stop at.")
    threads: int = Field(1, ge=0, description="HiGHS threads (0 = HiGHS chooses).")
    seed: int = Field(
        0, ge=0, le=2**31 - 1, description="HiGHS random seed, for reproducible runs."
    )
    method: Literal["auto", "decompose", "single"] = Field(
        "auto", description="'decompose' solves scheme by scheme, coordinated by prices on the "
        "rows that couple schemes (docs/decomposition.md); 'single' hands HiGHS the whole model; "
        "'auto' decomposes models with more than one scheme unless they are tiny.")
    workers: int = Field(
        1, ge=1, description="Worker processes for the schemes' own solves (decomposition).")
    scheduler: str | None = Field(
        None, description="Dask scheduler address for the schemes' own solves (decomposition).")


class Scenario(_Strict):
    """One commissioning model: what data, which rules, which solver settings."""

    name: str
    description: str = ""
    dataset: Path
    slot_minutes: int = Field(60, description="Length of one time slot; 168 hourly slots a week.")
    policy: Policy = Policy()
    shifts: Shifts = Shifts()
    solver: SolverOptions = SolverOptions()

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        """The name is the plan's folder under --out: a plain folder name, so a run can neither
        replace the results folder itself nor write outside it."""
        return check_model_name(name)

    @model_validator(mode="after")
    def _slot(self) -> Scenario:
        if self.slot_minutes <= 0 or 60 % self.slot_minutes:
            raise ValueError("slot_minutes must divide an hour (60, 30, 20, 15, ...)")
        return self

    @property
    def slots_per_week(self) -> int:
        return 7 * 1440 // self.slot_minutes


MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Folders other commands write beside the plans (compare/, sweep-<model>/, marginal-<model>/).
RESERVED_NAMES = ("compare",)
RESERVED_PREFIXES = ("sweep-", "marginal-")


def check_model_name(name: str) -> str:
    """A model name must be a safe folder name: letters, digits, '_', '.' and '-', starting with
    a letter or digit, at most 64 characters, and not a folder other commands write."""
    if not MODEL_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} cannot be a model name: the plan is written to a folder of that name, so "
            "it must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit "
            "(no spaces, slashes or '..')")
    if name.lower() in RESERVED_NAMES or name.lower().startswith(RESERVED_PREFIXES):
        raise ValueError(
            f"{name!r} cannot be a model name: 'compare' and names starting 'sweep-' or "
            "'marginal-' are the folders of comparisons, sweeps and marginal costs")
    return name


UNSET = object()  # `--set KEY=` (nothing after '='): the setting returns to its default


def parse_setting(text: str) -> tuple[str, object]:
    """``policy.cqc_floor=good`` -> ('policy.cqc_floor', 'good'). The value is read as TOML
    (numbers, true/false, lists such as [[7, 8], [22, 9]], quoted strings); a bare word that
    is not TOML is taken as text; nothing after '=' unsets the key (back to its default)."""
    if "=" not in text:
        raise CommandLineError([f"--set {text!r}: should look like KEY=VALUE, e.g. "
                                "policy.cqc_floor=good"])
    key, raw = (part.strip() for part in text.split("=", 1))
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key):
        raise CommandLineError([f"--set {text!r}: {key!r} is not a model-file key such as "
                                "policy.cqc_floor or solver.time_limit"])
    if raw == "":
        return key, UNSET
    try:
        return key, tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        if raw[:1] in "[{\"'":
            raise CommandLineError([f"--set {text!r}: {raw} is not a valid TOML value"]) \
                from None
        return key, raw


def _messages(path: Path, error: ValidationError) -> list[str]:
    out = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        message = str(item["msg"]).removeprefix("Value error, ")
        out.append(f"{path.name}: key '{where}': {message}")
    return out


def load_scenario(path: Path | str, overrides: dict[str, object] | None = None) -> Scenario:
    """Read a model file; the dataset path is taken relative to the project root or the file."""
    path = Path(path)
    if path.is_dir():
        raise InputError([f"{path} is a folder, not a model file (models/*.toml)"],
                         "The model file")
    if not path.is_file():
        raise InputError([f"model file {path} does not exist"], "The model file")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except PermissionError:
        raise InputError([f"{path}: cannot be read (permission denied)"], "The model file") \
            from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problem = f"{path.name}: not a valid TOML file ({exc})"
        raise InputError([problem], "The model file") from None
    raw.setdefault("name", path.stem)
    for key, value in (overrides or {}).items():
        _set_nested(raw, key, value)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise InputError(_messages(path, exc), "The model file") from None
    return scenario.model_copy(update={"dataset": _resolve(scenario.dataset, path)})


def _resolve(dataset: Path, model_file: Path) -> Path:
    if dataset.is_absolute():
        return dataset
    for base in (Path.cwd(), model_file.parent, model_file.parent.parent):
        if (base / dataset).is_dir():
            return (base / dataset).resolve()
    return dataset


def _set_nested(raw: dict, dotted: str, value: object) -> None:
    """Apply an override such as ``policy.cqc_floor = good`` to the raw TOML tree (UNSET
    removes the key, so its default applies)."""
    node, schema = raw, Scenario
    *parents, leaf = dotted.split(".")
    for depth, part in enumerate(parents):
        node = node.setdefault(part, {})
        field = schema.model_fields.get(part) if schema is not None else None
        kind = field.annotation if field is not None else None
        schema = kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None
        if not isinstance(node, dict) or (field is not None and schema is None):
            where = ".".join(parents[: depth + 1])
            raise CommandLineError([f"--set {dotted}: {where} is a setting, not a section, so "
                                    f"it has no key {'.'.join(dotted.split('.')[depth + 1:])!r}"])
    if value is UNSET:
        node.pop(leaf, None)
    else:
        node[leaf] = value
