"""The benchmark machinery on a tiny size: children run, files are written, numbers are sane.

Why: ``make bench`` takes many minutes and nobody runs it before a commit, so this checks the
plumbing (fresh subprocesses, result files, row filling, the tables) in seconds. Wall-clock
targets are never asserted here; they depend on the machine.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from optimiser.bench import (
    COLUMNS,
    HIGHS_MPS,
    MD_HEADER,
    OPTIMISER,
    ChildRun,
    Row,
    SizeSpec,
    Target,
    _fill,
    judge,
    run_benchmark,
)

TINY = SizeSpec("T", n_schemes=1, time_limit=3.0, mip_rel_gap=0.01,
                target=Target(gap=0.01, seconds=1e6, peak_mib=1e6, build_share=1.0))
SOLVED = {"optimal", "feasible", "no_solution"}


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Row]]:
    """One tiny benchmark run shared by the tests below (two child processes, a few seconds)."""
    out = tmp_path_factory.mktemp("bench")
    rows = run_benchmark([TINY], out, seed=3, say=lambda _: None)
    return out, rows


def _csv_rows(out: Path) -> list[dict[str, str]]:
    with (out / "results.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def test_files_have_expected_columns(bench: tuple[Path, list[Row]]) -> None:
    out, _ = bench
    rows = _csv_rows(out)
    assert [(r["size"], r["method"]) for r in rows] == [("T", OPTIMISER), ("T", HIGHS_MPS)]
    text = (out / "results.md").read_text(encoding="utf-8")
    assert MD_HEADER in text
    assert text.count("| T | ") == 2
    assert (out / "out" / "T" / "model.mps").is_file()


def test_optimiser_numbers_are_sane(bench: tuple[Path, list[Row]]) -> None:
    row = bench[1][0]
    assert row.status in SOLVED, row.note
    assert row.schemes == 1 and row.residents > 0 and row.providers > 0
    assert min(row.variables, row.integer_variables, row.constraints, row.nonzeros) > 0
    stages = [row.import_s, row.load_s, row.derive_s, row.build_s, row.handoff_s, row.solve_s]
    assert all(t is not None and t > 0 for t in stages)
    assert row.total_s >= sum(stages) * 0.999
    assert 0 < row.build_share < 1
    assert row.peak_mib > 50  # Python with Pyomo and HiGHS loaded
    assert row.target_met == "yes" or row.target_met.startswith("no: gap")


def test_floor_solves_the_same_model(bench: tuple[Path, list[Row]]) -> None:
    optimiser, floor = bench[1]
    assert floor.status in SOLVED, floor.note
    for key in ("variables", "integer_variables", "constraints", "nonzeros"):
        assert getattr(floor, key) == getattr(optimiser, key)
    assert floor.solve_s > 0 and floor.total_s > 0 and floor.peak_mib > 0
    assert 0 <= floor.build_share < 1
    if optimiser.status == floor.status == "optimal":
        both_gaps = optimiser.mip_rel_gap * abs(optimiser.objective) * 2.01
        assert abs(floor.objective - optimiser.objective) <= both_gaps


def test_failed_child_becomes_a_row_not_an_exception() -> None:
    row = _fill(Row("T", OPTIMISER), ChildRun(None, "timed out", "killed after 9 s in solve"))
    assert row.status == "timed out" and "killed" in row.note
    assert judge(row, TINY.target) == "no: timed out"
    assert judge(row, Target()) == ""


def _sweep_row(method: str, total: float, gap: float = 0.004, plans: int = 100) -> Row:
    return Row("M", method, total_s=total, scenarios=100, plans=plans, gap=gap,
               workers=int(method[-2]), status="done")


def test_sweep_speedups_are_judged_against_their_reference() -> None:
    from optimiser.bench import REUSE_TARGET, WORKERS_TARGET, _speedups, sweep_table

    rows = [_sweep_row("sweep rebuild 1w", 1200.0, 0.004),
            _sweep_row("sweep reuse 1w", 300.0, 0.003),
            _sweep_row("sweep reuse 2w", 200.0, 0.006, plans=98)]
    _speedups(rows)
    assert rows[0].speedup is None and rows[0].target == "gap ≤0.5 %"
    assert rows[0].target_met == "yes"  # every scenario within 0.5 %: the worst is 0.4 %
    assert rows[1].speedup == pytest.approx(4.0)  # 1200 / 300
    assert rows[1].target_met == "yes" and f"{REUSE_TARGET:g}x" in rows[1].target
    assert rows[2].speedup == pytest.approx(1.5)  # 300 / 200: below 1.7
    assert rows[2].target_met == "no: gap 0.60 %, speed-up 1.50x, plans 98/100"
    assert f"{WORKERS_TARGET:g}x" in rows[2].target
    table = sweep_table(rows)
    assert "| sweep reuse 1w | M | 100 | 100 | 300.0 | 3.0 | 4.00x |" in table


def test_a_partial_run_keeps_the_other_rows(tmp_path: Path) -> None:
    from optimiser.bench import merged, read_rows, write_csv

    old = [Row("M", OPTIMISER, total_s=62.5, gap=0.07, status="feasible"),
           _sweep_row("sweep reuse 1w", 300.0)]
    write_csv(old, tmp_path / "results.csv")
    again = read_rows(tmp_path / "results.csv")
    assert again[0].total_s == 62.5 and again[0].gap == 0.07 and again[0].status == "feasible"
    assert again[1].scenarios == 100 and again[1].workers == 1
    new = [_sweep_row("sweep reuse 1w", 250.0)]
    rows = merged(again, new)
    assert [(r.method, r.total_s) for r in rows] == [(OPTIMISER, 62.5), ("sweep reuse 1w", 250.0)]
