"""Property-based tests: whatever malformed table a commissioner's spreadsheet produces, the
loader answers with InputError messages that name the file (and, for a cell, its row and
column), and never with any other exception.

Each example starts from a valid tiny dataset and applies one random mutation: a column
dropped, added or renamed; a cell replaced by text, NaN, a negative, a huge number, unicode or
a formula; a row duplicated or blanked; the file emptied, given a byte-order mark, written with
semicolons or re-encoded as Latin-1.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from factory import offsite, provider, resident, visit, write_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimiser.inputs.load import InputError, load_dataset
from optimiser.inputs.schema import TABLES

EXAMPLES = 300
TABLE_NAMES = [spec.name for spec in TABLES]
WEIRD_CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "nan", "NaN", "-1", "-0.5", "1e308", "1e400", "inf", "=1+1", "@SUM(A1)",
                     "true", "maybe", "Mon", "25:00", "2.5", "P99", "S99", "R99", "é", "日本",
                     "[/bold]", "  ", "0", "999999999999", "North|Nowhere"]),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _write(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


@st.composite
def mutation(draw) -> tuple[str, str, int, int, str]:
    table = draw(st.sampled_from(TABLE_NAMES))
    kind = draw(st.sampled_from(["cell", "cell", "cell", "drop_column", "add_column",
                                 "rename_column", "duplicate_row", "blank_row", "empty", "bom",
                                 "semicolons", "latin1", "truncate_row", "extra_cells"]))
    return table, kind, draw(st.integers(0, 40)), draw(st.integers(0, 40)), draw(WEIRD_CELLS)


def _mutate(folder: Path, table: str, kind: str, i: int, j: int, value: str) -> None:
    path = folder / f"{table}.csv"
    rows = _rows(path)
    header, body = rows[0], rows[1:]
    r = i % max(len(body), 1)
    c = j % len(header)
    if kind == "cell" and body:
        body[r][c] = value
    elif kind == "drop_column":
        rows = [row[:c] + row[c + 1:] for row in rows]
        header, body = rows[0], rows[1:]
    elif kind == "add_column":
        header = [*header, value or "extra"]
        body = [[*row, value] for row in body]
    elif kind == "rename_column":
        header[c] = value
    elif kind == "duplicate_row" and body:
        body.append(list(body[r]))
    elif kind == "blank_row":
        body.insert(r, [""] * len(header))
    elif kind == "truncate_row" and body:
        body[r] = body[r][: c]
    elif kind == "extra_cells" and body:
        body[r] = [*body[r], value, value]
    if kind == "empty":
        path.write_bytes(b"")
        return
    _write(path, [header, *body])
    if kind == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    elif kind == "semicolons":
        path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    elif kind == "latin1":
        path.write_bytes(path.read_text(encoding="utf-8").replace(
            header[0], header[0] + "é", 1).encode("latin-1", errors="replace"))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz") / "data"
    return write_dataset(
        folder,
        providers=[provider(), offsite(provider_id="P2")],
        residents=[resident(), resident(resident_id="R2", preferred_provider="P2",
                                        preference_strength="weak")],
        visits=[visit(), visit(resident_id="R2", day="Tue", carers=2, minutes=30)],
    )


def _copy(base: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for file in base.iterdir():
        (target / file.name).write_bytes(file.read_bytes())
    return target


COUNTER = {"cases": 0, "rejected": 0}


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(change=mutation())
def test_malformed_tables_get_clear_messages(base: Path, tmp_path_factory, change) -> None:
    folder = _copy(base, tmp_path_factory.mktemp("case") / "data")
    _mutate(folder, *change)
    COUNTER["cases"] += 1
    try:
        load_dataset(folder)
    except InputError as exc:
        COUNTER["rejected"] += 1
        assert exc.problems, "an InputError must say what is wrong"
        for problem in exc.problems:
            assert problem.split(":")[0].endswith(".csv"), problem
            if re.search(r"\brow \d+, column", problem):
                assert re.search(r"row \d+, column '[^']*'", problem), problem
        assert "Traceback" not in str(exc)


def test_report_how_many_cases_ran() -> None:
    """Runs after the property test (file order): the count goes into the test log."""
    if COUNTER["cases"] == 0:
        pytest.skip("the property test did not run first")
    print(f"\nloader fuzz: {COUNTER['cases']} malformed datasets, "
          f"{COUNTER['rejected']} rejected with a clear message, the rest valid")
    assert COUNTER["cases"] >= EXAMPLES
