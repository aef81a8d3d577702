"""What a sweep varies and the scenarios it solves: sweep files and `--vary` specs parsed
and checked against the model file, and the scenarios planned as plain data (Task) that any
process or machine can solve (optimiser.studies.sweep).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

from optimiser.inputs.config import Scenario, load_scenario
from optimiser.inputs.load import InputError, checksum
from optimiser.solving.held import Plan

SUBJECT = "The sweep"
ONE_AT_A_TIME = "one-at-a-time"
FACTORIAL = "factorial"
MODES = (ONE_AT_A_TIME, FACTORIAL)
BASE_ID_LABEL = "base"
RANDOM_LABEL = "random"
DEFAULT_SIGMA = 0.1

# Named scalings of input columns: parameter -> (table, columns multiplied).
_RATE_BANDS = ("day", "night", "weekend")
SCALINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    **{f"rates.{band}*": ("providers", (f"block_rate_{band}", f"framework_rate_{band}"))
       for band in _RATE_BANDS},
    "rates.all*": ("providers", tuple(f"{kind}_rate_{band}" for kind in ("block", "framework")
                                      for band in _RATE_BANDS)),
    "demand*": ("visits", ("minutes",)),
    "budgets*": ("residents", ("weekly_budget",)),
    "capacity*": ("providers", ("weekly_capacity_hours",)),
}


# ---------------------------------------------------------------------------------------------
# Specs: what to vary and how


@dataclass(frozen=True)
class Vary:
    """One varied parameter and the values it takes, in the order given."""

    param: str
    values: tuple

    @property
    def is_scaling(self) -> bool:
        return self.param in SCALINGS


@dataclass(frozen=True)
class SweepSpec:
    """A whole sweep: the model, what moves, how the moves combine, and random draws."""

    model_file: Path
    varies: tuple[Vary, ...] = ()
    mode: str = ONE_AT_A_TIME
    random: int = 0
    seed: int = 0
    sigma: float = DEFAULT_SIGMA
    fixed: dict[str, object] = field(default_factory=dict)
    # Settings for the first scenario only (the base). Every other scenario starts from the
    # base plan, so a longer time limit or a tighter gap for it pays off many times.
    base_fixed: dict[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return Path(self.model_file).stem


def _bad(spec: str, why: str) -> InputError:
    """A spec mistake as a sentence naming the spec, for the commissioner."""
    return InputError([f"'{spec}': {why}"], SUBJECT)


def _decimal(text: str, spec: str) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise _bad(spec, f"'{text.strip()}' is not a number") from None
    if not number.is_finite():
        raise _bad(spec, f"'{text.strip()}' is not a finite number")
    return number


def _as_number(number: Decimal) -> int | float:
    """Whole decimals written without a point stay integers (counts of providers)."""
    return int(number) if number == number.to_integral_value() and "." not in str(number) \
        else float(number)


def _word(text: str) -> object:
    """A list item as the model file would read it: true/false, a number, else a word."""
    item = text.strip().strip("'\"")
    if item.lower() in ("true", "false"):
        return item.lower() == "true"
    try:
        return _as_number(Decimal(item)) if re.fullmatch(r"[+-]?\d+(\.\d*)?", item) else item
    except InvalidOperation:
        return item


def _stepped(spec: str, text: str) -> tuple:
    """start:stop:step, inclusive of stop when the steps land on it, exact in decimal."""
    parts = text.split(":")
    if len(parts) != 3:
        raise _bad(spec, "a range needs start:stop:step, for example 1.0:1.3:0.05")
    start, stop, step = (_decimal(p, spec) for p in parts)
    if step <= 0:
        raise _bad(spec, "the step of a range must be above zero")
    if stop < start:
        raise _bad(spec, "a range must not end before it starts")
    count = int((stop - start) / step) + 1
    return tuple(_as_number(start + i * step) for i in range(count))


def _integers(spec: str, text: str) -> tuple:
    """a..b: every whole number from a to b inclusive."""
    low, _, high = text.partition("..")
    if not re.fullmatch(r"\s*[+-]?\d+\s*", low) or not re.fullmatch(r"\s*[+-]?\d+\s*", high):
        raise _bad(spec, "an integer range needs whole numbers, for example 2..6")
    if int(high) < int(low):
        raise _bad(spec, "an integer range must not end before it starts")
    return tuple(range(int(low), int(high) + 1))


def parse_values(spec: str, text: str) -> tuple:
    """The values of one SPEC: 1.0:1.3:0.05, 0.9,1.0,1.1, 2..6 or [good,outstanding]."""
    text = text.strip()
    if not text:
        raise _bad(spec, "no values given after '='")
    if text.startswith("["):
        if not text.endswith("]"):
            raise _bad(spec, "a list of words must end with ']'")
        values = tuple(_word(w) for w in text[1:-1].split(",") if w.strip())
    elif ".." in text:
        values = _integers(spec, text)
    elif ":" in text:
        values = _stepped(spec, text)
    else:
        values = tuple(_word(w) for w in text.split(","))
    if not values or any(v == "" for v in values):
        raise _bad(spec, "an empty value in the list")
    if len(set(map(repr, values))) != len(values):
        raise _bad(spec, "a value is listed twice")
    return values


def parse_vary(spec: str) -> Vary:
    """One PARAM=SPEC string, checked: scalings must be positive numbers."""
    param, sep, text = spec.partition("=")
    param = param.strip()
    if not sep or not param:
        raise _bad(spec, "write PARAM=VALUES, for example rates.night*=1.0:1.3:0.05")
    if param.endswith("*") and param not in SCALINGS:
        known = ", ".join(SCALINGS)
        raise _bad(spec, f"'{param}' is not a known scaling (known: {known})")
    if not param.endswith("*") and not re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", param):
        raise _bad(spec, f"'{param}' is neither a scaling nor a model-file key like "
                         "policy.cqc_floor")
    values = parse_values(spec, text)
    if param in SCALINGS and any(
            isinstance(v, bool) or not isinstance(v, int | float) or v <= 0 for v in values):
        raise _bad(spec, "a scaling takes factors above zero, for example 0.9,1.0,1.1")
    return Vary(param, values)


def check_spec(spec: SweepSpec) -> Scenario:
    """Refuse a sweep that cannot run before solving anything: bad mode, repeated parameter,
    or a model-file value the model file would refuse. Returns the base scenario."""
    problems: list[str] = []
    if spec.mode not in MODES:
        problems.append(f"mode '{spec.mode}' is not one of {', '.join(MODES)}")
    params = [v.param for v in spec.varies]
    problems += [f"'{p}' is varied twice" for p in sorted({p for p in params
                                                            if params.count(p) > 1})]
    if spec.random < 0 or not 0 < spec.sigma <= 1:
        problems.append("random scenarios need a count >= 0 and a sigma in (0, 1]")
    if not spec.varies and not spec.random:
        problems.append("nothing to vary: give --vary PARAM=VALUES or --random N")
    if problems:
        raise InputError(problems, SUBJECT)
    base = load_scenario(spec.model_file, spec.fixed)
    if spec.base_fixed:
        load_scenario(spec.model_file, {**spec.fixed, **spec.base_fixed})
    for vary in spec.varies:
        if not vary.is_scaling:
            problems += _key_problems(spec, vary)
    if problems:
        raise InputError(problems, SUBJECT)
    return base


def _key_problems(spec: SweepSpec, vary: Vary) -> list[str]:
    """Each value of a model-file key, tried on the model file (cheap: no data is read)."""
    out = []
    for value in vary.values:
        try:
            load_scenario(spec.model_file, {**spec.fixed, vary.param: value})
        except InputError as exc:
            detail = "; ".join(p.split(": ", 1)[-1] for p in exc.problems)
            out.append(f"'{vary.param}={value}' is refused by the model file: {detail}")
    return out


def load_sweep_file(path: Path | str) -> SweepSpec:
    """Read a sweep file (sweeps/*.toml); the model path is relative to the working folder, the
    sweep file's folder or the folder above it (the project root for sweeps/)."""
    path = Path(path)
    if not path.is_file():
        raise InputError([f"sweep file {path} does not exist"], SUBJECT)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError([f"{path.name}: not a valid TOML file ({exc})"], SUBJECT) from None
    known = {"model", "mode", "vary", "random", "seed", "sigma", "set", "base", "description"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InputError([f"{path.name}: unknown key(s) {', '.join(unknown)}"], SUBJECT)
    if "model" not in raw:
        raise InputError([f"{path.name}: 'model' (the model file) is missing"], SUBJECT)
    model = Path(raw["model"])
    if not model.is_absolute() and not model.is_file():
        for base in (path.parent, path.parent.parent):
            if (base / model).is_file():
                model = base / model
                break
    return SweepSpec(model_file=model, varies=tuple(parse_vary(v) for v in raw.get("vary", [])),
                     mode=raw.get("mode", ONE_AT_A_TIME), random=int(raw.get("random", 0)),
                     seed=int(raw.get("seed", 0)), sigma=float(raw.get("sigma", DEFAULT_SIGMA)),
                     fixed=dict(raw.get("set", {})), base_fixed=dict(raw.get("base", {})))


# ---------------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Task:
    """One scenario as plain data, so it can be sent to another process or machine."""

    scenario_id: str
    model_file: str
    overrides: dict[str, object]
    scalings: dict[str, float]
    values: dict[str, object]
    varied: str = ""
    draw: tuple[int, int, float] | None = None  # (seed, index, sigma) of a random demand draw
    spec_hash: str = ""
    # How to solve (not part of the hash: both ways answer the same question). reuse: keep
    # this process's HiGHS model between scenarios and start from `start`, the base plan.
    reuse: bool = False
    start: Plan | None = None
    keep_plan: bool = False  # return the plan (under PLAN_KEY) to start other scenarios from


def _base_value(base: Scenario, vary: Vary) -> object:
    """The value a parameter has when it is not moved: 1 for a scaling, else the model's."""
    if vary.is_scaling:
        return 1.0
    node: object = base
    for part in vary.param.split("."):
        node = getattr(node, part, None)
    return node


def _moves(spec: SweepSpec) -> Iterator[tuple[str, dict[str, object]]]:
    """(label, values moved) for each scenario before random draws, base first."""
    if spec.mode == FACTORIAL:
        for combo in itertools.product(*(v.values for v in spec.varies)):
            yield FACTORIAL, {v.param: x for v, x in zip(spec.varies, combo, strict=True)}
        return
    yield BASE_ID_LABEL, {}
    for vary in spec.varies:
        for value in vary.values:
            yield vary.param, {vary.param: value}


def _fingerprint(spec: SweepSpec, base: Scenario) -> str:
    """What every scenario's result depends on besides its own moves: the model file's text
    and the dataset's files, so a changed input is never mistaken for a finished scenario."""
    digest = hashlib.sha256(Path(spec.model_file).read_bytes())
    folder = Path(base.dataset)
    for csv in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        digest.update(f"{csv.name}:{checksum(csv)}".encode())
    return digest.hexdigest()


def _hash(fingerprint: str, task: Task) -> str:
    payload = json.dumps({"inputs": fingerprint, "overrides": task.overrides,
                          "scalings": task.scalings, "draw": task.draw},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def plan_scenarios(spec: SweepSpec) -> list[Task]:
    """Every scenario of the sweep, in order, with ids that sort in that order."""
    base = check_spec(spec)
    fixed = {"solver.threads": 1, **spec.fixed}  # one HiGHS thread per scenario
    moves = [*_moves(spec)] if spec.varies else []
    moves += [(RANDOM_LABEL, {}) for _ in range(spec.random)]
    width = max(4, len(str(len(moves))))
    fingerprint = _fingerprint(spec, base)
    tasks = []
    draw_index = 0
    for number, (label, moved) in enumerate(moves):
        values = {v.param: moved.get(v.param, _base_value(base, v)) for v in spec.varies}
        draw = None
        if label == RANDOM_LABEL:
            draw_index += 1
            draw = (spec.seed, draw_index, spec.sigma)
            values["random_draw"] = draw_index
        own = {**fixed, **(spec.base_fixed if number == 0 else {})}
        task = Task(
            scenario_id=f"s{number:0{width}d}", model_file=str(spec.model_file),
            overrides={**own, **{k: v for k, v in moved.items() if k not in SCALINGS}},
            scalings={k: float(v) for k, v in moved.items() if k in SCALINGS},
            values=values, varied=label, draw=draw)
        tasks.append(replace(task, spec_hash=_hash(fingerprint, task)))
    return tasks
