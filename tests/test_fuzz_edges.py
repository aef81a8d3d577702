"""A generated fuzz suite at the edges: malformed datasets, model files and command lines.

Every case must end in one of three ways: accepted (and then it must really satisfy the
schema, re-checked here independently of the loader), refused with a message in words (file,
row and column for a cell) and a documented exit code, or stopped before any output. Counted:
tracebacks (any exception other than the tool's own InputError or a clean exit), partial
outputs (a folder or file left by a refused command) and silent acceptances (something the
schema forbids that got through). All three must be 0; the counts are printed for the README.

Solving is replaced by a stub that raises ``Reached`` (a command that gets that far was
accepted), so the suite runs in about a minute.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from factory import offsite, provider, resident, scheme, visit, write_dataset, write_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimiser.cli import EXIT_INPUT, EXIT_USAGE, main
from optimiser.inputs.config import MODEL_NAME, load_scenario
from optimiser.inputs.load import InputError, load_dataset
from optimiser.inputs.queueing import reserve_staff
from optimiser.inputs.schema import DAYS, ID_PATTERN, TABLES

DATASETS, MODELS, COMMANDS = 250, 450, 400
COUNTS = {"datasets": 0, "models": 0, "commands": 0, "refused": 0, "accepted": 0,
          "tracebacks": 0, "partial outputs": 0, "silent acceptances": 0}
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


class Reached(Exception):
    """Raised by the stubbed solver: the command was accepted and got as far as solving."""


# --------------------------------------------------------------------------- datasets

WEIRD = st.one_of(
    st.text(max_size=10),
    st.sampled_from(["", "nan", "-1", "0", "1e308", "inf", "=1+1", "true", "maybe", "Mon",
                     "25:00", "8:15", "08:15:00", "8:60", "08:15:30", "2.5", "P99", "S99", "R99",
                     "é", "North|Nowhere", "999999999", "0.99999", "1", "2", "240"]),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
CLOCKS = st.one_of(
    st.tuples(st.integers(0, 30), st.integers(0, 70), st.sampled_from([None, 0, 0, 30]),
              st.booleans()).map(
        lambda t: (f"{t[0]:02d}" if t[3] else f"{t[0]}") + f":{t[1]:02d}"
        + ("" if t[2] is None else f":{t[2]:02d}")),
    st.sampled_from(["8.15", "815", "8:5", " 8:15", "08h15", "12:00 PM"]),
)


@st.composite
def dataset_case(draw) -> dict:
    """A valid tiny dataset's tables with one mutation, as keyword arguments for
    factory.write_dataset, or a raw cell change (table, row, column, text)."""
    kind = draw(st.sampled_from(["cell", "cell", "cell", "time", "overlap", "weeks", "calls",
                                 "duplicate_time"]))
    tables = {
        "schemes": [scheme()],
        "providers": [provider(), offsite(provider_id="P2")],
        "residents": [resident(), resident(resident_id="R2", preferred_provider="P2",
                                           preference_strength="weak")],
        "visits": [visit(), visit(resident_id="R2", day="Tue", carers=2, minutes=30)],
        "costs": {},
    }
    if kind == "cell":
        table = draw(st.sampled_from(["schemes", "providers", "residents", "visits"]))
        row = draw(st.integers(0, len(tables[table]) - 1))
        column = draw(st.sampled_from(sorted(tables[table][row])))
        tables[table][row] = {**tables[table][row], column: draw(WEIRD)}
    elif kind == "time":
        tables["visits"][0] = visit(start=draw(CLOCKS))
    elif kind == "overlap":
        start = draw(st.integers(0, 7 * 24 * 60 - 1))
        minutes = draw(st.integers(5, 720))
        gap = draw(st.integers(-minutes, 600))
        later = (start + minutes + gap) % (7 * 1440)
        tables["visits"] = [
            visit(day=DAYS[start // 1440], start=f"{start % 1440 // 60:02d}:{start % 60:02d}",
                  minutes=minutes),
            visit(day=DAYS[later // 1440], start=f"{later % 1440 // 60:02d}:{later % 60:02d}")]
    elif kind == "weeks":
        tables["costs"] = {"weeks_per_year": draw(st.sampled_from(
            [0, -1, 0.5, 1, 52, 52.143, 53, 54, 1000]))}
    elif kind == "calls":
        tables["schemes"] = [scheme(
            day_calls_per_hour=draw(st.sampled_from([0, 0.5, 3, 20, 60, 100])),
            mean_call_minutes=draw(st.sampled_from([1, 10, 60, 240])),
            response_target_minutes=draw(st.sampled_from([0.1, 1, 10, 240])),
            response_share=draw(st.sampled_from([0.5, 0.9, 0.9999])))]
    else:
        clock = draw(st.sampled_from(["8:15", "08:15", "08:15:00"]))
        tables["visits"] = [visit(start="08:15"), visit(start=clock)]
    return tables


def _violations(data) -> list[str]:
    """Everything in an accepted dataset that the schema forbids, re-checked from the table
    specifications (not by the loader's code)."""
    out = []
    frames = {"schemes": data.schemes, "residents": data.residents, "visits": data.visits,
              "providers": data.providers}
    ids = {"schemes": set(data.schemes["scheme_id"]),
           "residents": set(data.residents["resident_id"]),
           "providers": set(data.providers["provider_id"])}
    for spec in TABLES:
        if spec.name not in frames:
            continue
        frame = frames[spec.name]
        for col in spec.columns:
            values = frame[col.name]
            present = values[values.notna()]
            if not col.nullable and len(present) < len(values):
                out.append(f"{spec.name}.{col.name}: empty")
            if col.kind in ("int", "float"):
                nums = present.astype(float)
                if not np.isfinite(nums).all():
                    out.append(f"{spec.name}.{col.name}: not finite")
                if col.kind == "int" and (nums != nums.round()).any():
                    out.append(f"{spec.name}.{col.name}: not whole")
                for bound, bad in ((col.ge, nums < (col.ge or 0)), (col.gt, nums <= (col.gt or 0)),
                                   (col.le, nums > (col.le or 0))):
                    if bound is not None and bad.any():
                        out.append(f"{spec.name}.{col.name}: out of range")
            elif col.kind == "enum" and not present.isin(col.choices).all():
                out.append(f"{spec.name}.{col.name}: not a choice")
            elif col.kind == "id" and not present.map(
                    lambda v: re.fullmatch(ID_PATTERN, str(v)) is not None).all():
                out.append(f"{spec.name}.{col.name}: not an id")
            elif col.kind == "time" and not present.map(
                    lambda v: re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(v)) is not None).all():
                out.append(f"{spec.name}.{col.name}: not HH:MM")
            elif col.kind == "bool" and not present.isin([True, False]).all():
                out.append(f"{spec.name}.{col.name}: not a yes/no")
        if spec.key and frame.duplicated(list(spec.key)).any():
            out.append(f"{spec.name}: key repeated")
        for column, target in spec.foreign_keys.items():
            values = frame[column].dropna()
            if not values.isin(ids[target]).all():
                out.append(f"{spec.name}.{column}: unknown id")
    weeks = data.costs["weeks_per_year"]
    if not 1 <= weeks <= 53:
        out.append("costs: weeks_per_year outside 1-53")
    for row in data.schemes.itertuples():
        for band in ("day", "night"):
            try:
                reserve_staff(getattr(row, f"{band}_calls_per_hour"), row.mean_call_minutes,
                              row.response_target_minutes, row.response_share)
            except ValueError:
                out.append(f"schemes: {band} calls cannot be answered")
    v = data.visits
    at = v["day"].map(DAYS.index) * 1440 + v["start"].map(lambda t: int(t[:2]) * 60 + int(t[3:]))
    for _, group in v.assign(at=at).sort_values("at").groupby("resident_id"):
        starts, ends = list(group["at"]), list(group["at"] + group["minutes"])
        for k in range(len(starts)):
            following = starts[k + 1] if k + 1 < len(starts) else starts[0] + 7 * 1440
            if len(starts) > 1 and ends[k] > following:
                out.append("visits: one resident's visits overlap")
    return out


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@settings(FUZZ, max_examples=DATASETS)
@given(case=dataset_case())
def test_malformed_datasets(case: dict, tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("data") / "data"
    write_dataset(folder, **case)
    COUNTS["datasets"] += 1
    before = sorted(p.name for p in folder.iterdir())
    try:
        data = load_dataset(folder)
    except InputError as exc:
        COUNTS["refused"] += 1
        assert exc.problems and all(re.match(r"\w+\.csv: ", p) for p in exc.problems), exc
        data = None
    except Exception:
        COUNTS["tracebacks"] += 1
        raise
    if sorted(p.name for p in folder.iterdir()) != before:
        COUNTS["partial outputs"] += 1
    if data is not None:
        COUNTS["accepted"] += 1
        problems = _violations(data)
        COUNTS["silent acceptances"] += bool(problems)
        assert problems == []
    shutil.rmtree(folder.parent)


# --------------------------------------------------------------------------- model files

MODEL_CHANGES = st.one_of(
    st.tuples(st.just("name"), st.sampled_from(
        ["", "..", ".", "../escaped", "a/b", "a b", "ok-name", "x" * 70, "compare", "sweep-a",
         "Ünïcode", "results", "-dash", "model.v2"])),
    st.tuples(st.sampled_from(
        ["policy.cqc_floor", "policy.budget_topup_share", "policy.min_framework_per_zone",
         "policy.max_framework_per_zone", "policy.max_provider_share", "policy.night_start_hour",
         "policy.night_end_hour", "policy.allow_framework", "policy.allow_block_care",
         "policy.allow_onsite_spot", "policy.direct_payments", "policy.tier_visits_per_week",
         "policy.tier_by_needs_band", "policy.reablement_no_care", "policy.unknown_key",
         "shifts.patterns", "shifts.starts", "shifts.lengths", "solver.time_limit",
         "solver.mip_rel_gap", "solver.threads", "slot_minutes", "dataset", "extra"]),
        st.one_of(st.integers(-5, 30), st.floats(-2, 2, allow_nan=False), st.booleans(),
                  st.sampled_from(["good", "never", "always", "", "x", [[7, 8]], [[7, 30]],
                                   [], [7], {"low": 9}, [0, 0, 0, 0, 0], "/nowhere"]))),
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


@pytest.fixture(scope="module")
def model_base(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("models")
    model = write_model(root, write_dataset(root / "data"), shifts={"patterns": [[7, 15],
                                                                                  [22, 9]]})
    return model, tomllib.loads(model.read_text())


def _render(tree: dict) -> str:
    top = [f"{k} = {_toml_value(v)}" for k, v in tree.items() if not isinstance(v, dict)]
    sections = [f"[{k}]\n" + "\n".join(f"{kk} = {_toml_value(vv)}" for kk, vv in v.items())
                for k, v in tree.items() if isinstance(v, dict)]
    return "\n".join(top + sections) + "\n"


@settings(FUZZ, max_examples=MODELS)
@given(changes=st.lists(MODEL_CHANGES, min_size=1, max_size=3), garbage=st.booleans())
def test_malformed_model_files(model_base, tmp_path_factory, changes, garbage) -> None:
    model, tree = model_base
    tree = {k: dict(v) if isinstance(v, dict) else v for k, v in tree.items()}
    for key, value in changes:
        *parents, leaf = key.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    path = tmp_path_factory.mktemp("model") / "fuzzed.toml"
    path.write_text(_render(tree) + ("[[[not toml\n" if garbage else ""), encoding="utf-8")
    COUNTS["models"] += 1
    try:
        scenario = load_scenario(path)
    except InputError as exc:
        COUNTS["refused"] += 1
        assert all(p.startswith(("fuzzed.toml", "model file")) for p in exc.problems), exc
        return
    except Exception:
        COUNTS["tracebacks"] += 1
        raise
    COUNTS["accepted"] += 1
    forbidden = []
    if not MODEL_NAME.fullmatch(scenario.name) or scenario.name in ("compare",):
        forbidden.append("unsafe name")
    p = scenario.policy
    if p.min_framework_per_zone and not p.allow_framework:
        forbidden.append("framework minimum without framework")
    if p.night_start_hour == p.night_end_hour:
        forbidden.append("empty night")
    if garbage:
        forbidden.append("not TOML")
    COUNTS["silent acceptances"] += bool(forbidden)
    assert forbidden == []


# --------------------------------------------------------------------------- command lines

GOOD_SETS = ["policy.cqc_floor=good", "solver.time_limit=5", "shifts.patterns=[[7, 15], [22, 9]]",
             "policy.max_framework_per_zone=", "policy.allow_splits=true"]
USAGE_SETS = ["no-equals", "bad key=1", "shifts.patterns=[[7,"]
NESTED_SETS = ["solver.time_limit.x=3", "policy.cqc_floor.y=1"]  # seen once the file is read
INPUT_SETS = ["name=", "name=../x", "name=..", "policy.cqc_floor=great", "solver.time_limit=-1",
              "policy.nonsense=1", "slot_minutes=7"]


@st.composite
def command_case(draw) -> tuple[list[str], str]:
    """(argv template, expected): 'ok' (gets to solving), 'usage' (64) or 'input' (1).
    {model}, {missing}, {folder}, {file} and {out} are filled in by the test."""
    command = draw(st.sampled_from(["solve", "solve", "marginal", "compare", "generate",
                                    "validate", "verify", "sweep"]))
    args, expected = [command], "ok"

    def worse(kind: str) -> None:
        nonlocal expected
        if expected == "ok" or (kind == "usage" and expected == "input"):
            expected = kind

    if command in ("solve", "marginal", "compare", "sweep"):
        target = draw(st.sampled_from(["{model}", "{model}", "{missing}", "{folder}"]))
        args.append(target)
        readable = target == "{model}"
        if not readable:
            worse("input")
        if command == "sweep":
            args += ["--vary", draw(st.sampled_from(
                ["policy.cqc_floor=[good]", "rates.night*=1.0:1.1:0.1"]))]
        out = draw(st.sampled_from(["{out}", "{out}", "{file}"]))
        args += ["--out", out]
        if out == "{file}":
            worse("input")
        if command != "compare":
            for _ in range(draw(st.integers(0, 2))):
                kind = draw(st.sampled_from(["good", "good", "usage", "nested", "input"]))
                args += ["--set", draw(st.sampled_from({
                    "good": GOOD_SETS, "usage": USAGE_SETS, "nested": NESTED_SETS,
                    "input": INPUT_SETS}[kind]))]
                if kind == "nested":
                    worse("usage" if readable else "input")
                elif kind != "good":
                    worse(kind)
        limit = draw(st.sampled_from([None, "5", "soon", "-1"]))
        if limit is not None:
            args += ["--time-limit", limit]
            worse({"5": "ok", "soon": "usage", "-1": "usage"}[limit])
    elif command == "generate":
        args.append(draw(st.sampled_from(["{out}", "{file}"])))
        if args[-1] == "{file}":
            worse("input")
        for option, good, bad in (("--schemes", ["1", "3"], ["0", "-2", "x", "100000"]),
                                  ("--providers", ["5", "12"], ["0", "4", "-5", "y"]),
                                  ("--seed", ["0", "7"], ["-1", "z"])):
            if draw(st.booleans()):
                ok = draw(st.booleans())
                args += [option, draw(st.sampled_from(good if ok else bad))]
                if not ok:
                    worse("usage")
    else:
        args.append(draw(st.sampled_from(["{missing}", "{folder}", "{file}"])))
        worse("input")
    if draw(st.integers(0, 9)) == 0:
        args.append(draw(st.sampled_from(["--bogus", "-z", "extra-argument"])))
        worse("usage")
    return args, expected


@pytest.fixture()
def stubs(monkeypatch: pytest.MonkeyPatch) -> None:
    import optimiser.inputs.generate
    import optimiser.run
    import optimiser.studies.compare
    import optimiser.studies.marginal
    import optimiser.studies.sweep

    def reached(*_args, **_kwargs):
        raise Reached

    for module, name in ((optimiser.run, "solve_scenario"),
                         (optimiser.studies.compare, "compare_models"),
                         (optimiser.studies.marginal, "marginal_costs"),
                         (optimiser.studies.sweep, "run_sweep"),
                         (optimiser.inputs.generate, "generate_dataset")):
        monkeypatch.setattr(module, name, reached)


@settings(FUZZ, max_examples=COMMANDS)
@given(case=command_case())
def test_malformed_command_lines(case, model_base, stubs, tmp_path_factory,
                                 runner: CliRunner) -> None:
    template, expected = case
    model, _ = model_base
    root = tmp_path_factory.mktemp("cli")
    (root / "a-folder").mkdir()
    (root / "a-file").write_text("keep")
    places = {"{model}": str(model), "{missing}": str(root / "nowhere.toml"),
              "{folder}": str(root / "a-folder"), "{file}": str(root / "a-file"),
              "{out}": str(root / "out")}
    argv = [places.get(a, a) for a in template]
    COUNTS["commands"] += 1
    result = runner.invoke(main, argv)
    error = result.exception
    if isinstance(error, Reached):
        got = "ok"
    elif error is None or isinstance(error, SystemExit):
        got = {EXIT_USAGE: "usage", EXIT_INPUT: "input"}.get(result.exit_code, "other")
        assert "Traceback" not in result.output
    else:
        COUNTS["tracebacks"] += 1
        raise error
    if got != "ok":
        COUNTS["refused"] += 1
        left = sorted(p.name for p in root.iterdir())
        if left != ["a-file", "a-folder"] or (root / "a-file").read_text() != "keep":
            COUNTS["partial outputs"] += 1
        assert left == ["a-file", "a-folder"], (argv, left)
    else:
        COUNTS["accepted"] += 1
        COUNTS["silent acceptances"] += expected != "ok"
    assert got == expected, (argv, result.output)


def test_fuzz_counts() -> None:
    """Runs after the three fuzz tests (file order): the counts for the README."""
    cases = COUNTS["datasets"] + COUNTS["models"] + COUNTS["commands"]
    if min(COUNTS["datasets"], COUNTS["models"], COUNTS["commands"]) == 0:
        pytest.skip("the three fuzz tests did not all run first")
    print(f"\nedge fuzz: {cases} cases ({COUNTS['datasets']} datasets, {COUNTS['models']} "
          f"model files, {COUNTS['commands']} command lines): {COUNTS['refused']} refused in "
          f"words, {COUNTS['accepted']} accepted; {COUNTS['tracebacks']} tracebacks, "
          f"{COUNTS['partial outputs']} partial outputs, {COUNTS['silent acceptances']} silent "
          "acceptances")
    assert cases >= 1000
    assert COUNTS["tracebacks"] == COUNTS["partial outputs"] == 0
    assert COUNTS["silent acceptances"] == 0
