"""Mistakes at the edges: each defect a new user met, answered in words, nothing lost.

One test (or a few) per defect of the list in the README's trust section: model names that
would replace or escape the results folder, times as a spreadsheet writes them, values allowed
one by one but impossible together, file-system problems found before solving, command-line
odds and ends with their own exit code, and concurrent or permission-bound plan folders.
"""

from __future__ import annotations

import os
import socket
import stat
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from factory import scheme, visit, write_dataset, write_model

from optimiser.cli import EXIT_INPUT, EXIT_USAGE, main
from optimiser.inputs.config import load_scenario
from optimiser.inputs.load import InputError, load_dataset
from optimiser.plan import files

DAY_NIGHT = {"patterns": [[7, 15], [22, 9]]}


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture()
def model(tmp_path: Path) -> Path:
    return write_model(tmp_path, write_dataset(tmp_path / "data"), shifts=DAY_NIGHT)


def _named(model: Path, name: str) -> Path:
    text = model.read_text().replace('name = "test"', f'name = "{name}"')
    model.write_text(text)
    return model


# --------------------------------------------------------------------------- 1. data loss


@pytest.mark.parametrize("name", ["", "..", "../escaped", "a/b", ".hidden", "compare",
                                  "sweep-x", "marginal-x", "x" * 65])
def test_unsafe_model_names_are_refused_and_nothing_is_lost(model: Path, tmp_path: Path,
                                                            name: str) -> None:
    out = tmp_path / "results"
    (out / "earlier").mkdir(parents=True)
    (out / "earlier" / "summary.csv").write_text("kept\n")
    result = run("solve", _named(model, name), "--out", out, "--no-charts")
    assert result.exit_code == EXIT_INPUT, result.output
    assert "cannot be a model name" in flat(result.output)
    assert (out / "earlier" / "summary.csv").read_text() == "kept\n"
    assert sorted(p.name for p in out.iterdir()) == ["earlier"]
    assert not (tmp_path / "escaped").exists()


def test_set_name_empty_cannot_replace_the_results_folder(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    (out / "earlier").mkdir(parents=True)
    result = run("solve", model, "--out", out, "--set", "name=", "--no-charts")
    assert result.exit_code == EXIT_INPUT, result.output
    assert (out / "earlier").is_dir()


# --------------------------------------------------------------------------- 3. times


def test_time_as_excel_writes_it_validates_and_solves(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data", visits=[visit(start="8:15"),
                                                    visit(day="Tue", start="09:30:00")])
    assert run("validate", data).exit_code == 0
    assert list(load_dataset(data).visits["start"]) == ["08:15", "09:30"]
    model = write_model(tmp_path, data, shifts=DAY_NIGHT)
    result = run("solve", model, "--out", tmp_path / "results", "--no-charts")
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- 4. combinations


@pytest.mark.parametrize(("changes", "words"), [
    ({"costs": {"weeks_per_year": 0}}, "weeks_per_year is 0"),
    ({"schemes": [scheme(day_calls_per_hour=100, mean_call_minutes=240,
                         response_target_minutes=0.1, response_share=0.9999)]},
     "cannot have 99.99 % reached within 0.1 minutes by any number of staff"),
    ({"visits": [visit(start="08:00", minutes=90), visit(start="09:00")]},
     "rows 2 and 3: resident R1's visit on Mon at 08:00 (90 minutes) overlaps the one on Mon "
     "at 09:00"),
])
def test_values_allowed_alone_but_impossible_together(tmp_path: Path, changes: dict,
                                                      words: str) -> None:
    data = write_dataset(tmp_path / "data", **changes)
    result = run("validate", data)
    assert result.exit_code == EXIT_INPUT
    assert words in flat(result.output)
    model = write_model(tmp_path, data, shifts=DAY_NIGHT)
    solved = run("solve", model, "--out", tmp_path / "results", "--no-charts")
    assert solved.exit_code == EXIT_INPUT and words in flat(solved.output)
    assert not (tmp_path / "results" / "test").exists()


@pytest.mark.parametrize(("policy", "shifts", "words"), [
    ({"min_framework_per_zone": 2, "allow_framework": False}, DAY_NIGHT,
     "asks for framework providers in every zone, but allow_framework = false"),
    ({"allow_block_care": False, "allow_onsite_spot": False, "allow_framework": False},
     DAY_NIGHT, "no way is left to deliver planned care"),
    ({"night_start_hour": 6, "night_end_hour": 6}, DAY_NIGHT, "the night band is empty"),
    ({}, {"starts": [7, 19]}, "shifts.starts is given without shifts.lengths"),
])
def test_model_file_that_contradicts_itself(tmp_path: Path, policy: dict, shifts: dict,
                                            words: str) -> None:
    model = write_model(tmp_path, write_dataset(tmp_path / "data"), policy=policy,
                        shifts=shifts)
    with pytest.raises(InputError, match="The model file") as caught:
        load_scenario(model)
    assert words in str(caught.value)


# --------------------------------------------------------------------------- 5. file system


def test_out_that_is_a_file_is_refused_before_solving(model: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import optimiser.run

    def no_solving(*_args, **_kwargs):
        raise AssertionError("solved before checking where the plan goes")

    monkeypatch.setattr(optimiser.run, "solve_scenario", no_solving)
    blocker = tmp_path / "results"
    blocker.write_text("not a folder")
    result = run("solve", model, "--out", blocker, "--no-charts")
    assert result.exit_code == EXIT_INPUT, result.output
    assert "is a file" in flat(result.output)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "test").write_text("a file where the plan folder goes")
    result = run("solve", model, "--out", tmp_path / "out", "--no-charts")
    assert result.exit_code == EXIT_INPUT, result.output
    assert "so the plan folder cannot be written there" in flat(result.output)
    assert blocker.read_text() == "not a folder"


def test_unwritable_results_folder_is_refused_before_solving(
        model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root may write anywhere, so the folder's refusal is what mkdtemp raises there."""
    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkdtemp", refuse)
    result = run("solve", model, "--out", tmp_path / "results", "--no-charts")
    assert result.exit_code == EXIT_INPUT, result.output
    assert "cannot be written (Permission denied)" in flat(result.output)


def test_folder_where_a_table_should_be(tmp_path: Path) -> None:
    data = write_dataset(tmp_path / "data")
    (data / "visits.csv").unlink()
    (data / "visits.csv").mkdir()
    result = run("validate", data)
    assert result.exit_code == EXIT_INPUT
    assert "visits.csv: is a folder" in flat(result.output)


def test_generate_into_a_file(tmp_path: Path) -> None:
    target = tmp_path / "county"
    target.write_text("keep")
    result = run("generate", target, "--schemes", "1")
    assert result.exit_code == EXIT_INPUT and "is a file" in flat(result.output)
    assert target.read_text() == "keep"


# --------------------------------------------------------------------------- 6. command line


def test_set_values_are_toml(model: Path) -> None:
    scenario = load_scenario(model, dict([
        ("shifts.patterns", [[0, 24]]), ("policy.max_framework_per_zone", 3)]))
    assert scenario.shifts.shift_list() == [(0, 24)]
    from optimiser.inputs.config import parse_setting

    key, value = parse_setting("policy.max_framework_per_zone=")
    assert load_scenario(model, {"policy.max_framework_per_zone": 3, key: value}) \
        .policy.max_framework_per_zone is None
    assert parse_setting("shifts.patterns=[[7, 8], [22, 9]]")[1] == [[7, 8], [22, 9]]
    assert parse_setting("policy.cqc_floor=good")[1] == "good"
    assert parse_setting("solver.time_limit=2.5")[1] == 2.5


@pytest.mark.parametrize("args", [
    ["--set", "solver.time_limit.x=3"], ["--set", "no-equals"], ["--set", "policy.x y=1"],
    ["--set", "shifts.patterns=[[7, 8]"], ["--bogus"], ["--time-limit", "soon"],
])
def test_usage_mistakes_have_their_own_exit_code(model: Path, tmp_path: Path,
                                                 args: list[str]) -> None:
    result = run("solve", model, "--out", tmp_path / "results", *args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("args", [["--providers", "0"], ["--providers", "-5"],
                                  ["--seed", "-1"], ["--schemes", "0"]])
def test_generate_odd_values(tmp_path: Path, args: list[str]) -> None:
    result = run("generate", tmp_path / "county", *args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert not (tmp_path / "county").exists()


def test_sweep_scheduler_where_nothing_listens(model: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run("sweep", model, "--vary", "policy.cqc_floor=[good]", "--scheduler",
                 f"tcp://127.0.0.1:{port}", "--out", tmp_path / "sweep")
    assert result.exit_code == EXIT_INPUT, result.output
    assert f"no Dask scheduler answers at tcp://127.0.0.1:{port}" in flat(result.output)
    assert not (tmp_path / "sweep").exists()


def test_compare_with_a_missing_model_file_writes_nothing(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = run("compare", model, tmp_path / "nowhere.toml", "--out", out)
    assert result.exit_code == EXIT_INPUT, result.output
    assert "nowhere.toml does not exist" in flat(result.output)
    assert not out.exists()


def test_help_lists_the_exit_codes() -> None:
    text = flat(run("--help").output)
    for words in ("0 done", "1 a mistake in the input data", "2 no plan meets the rules",
                  "3 no plan found within the time limit", "4 a plan failed verification",
                  "64 a usage mistake", "130 interrupted"):
        assert words in text


# --------------------------------------------------------------------------- 7. folders


def test_concurrent_swaps_of_one_plan_folder(tmp_path: Path) -> None:
    """Two writers replacing one plan folder over and over: every swap completes and the
    folder always ends whole (before the lock, some raised FileNotFoundError/ENOTEMPTY)."""
    destination = tmp_path / "results" / "plan"
    destination.parent.mkdir()
    failures: list[BaseException] = []

    def writer(tag: str) -> None:
        for i in range(60):
            staging = Path(files.tempfile.mkdtemp(prefix=".plan.", dir=destination.parent))
            (staging / "summary.csv").write_text(f"{tag} {i}\n")
            try:
                files._swap_into_place(staging, destination)
            except OSError as exc:
                failures.append(exc)

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(p.name for p in destination.parent.iterdir()) == ["plan"]
    assert (destination / "summary.csv").read_text().split()[1] == "59"


def test_plan_folders_have_normal_permissions(model: Path, tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        result = run("solve", model, "--out", tmp_path / "results", "--no-charts")
    finally:
        os.umask(mask)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "results" / "test"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o644}
