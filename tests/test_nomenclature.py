"""docs/model.md gives every symbol one meaning, and names every symbol the code's docstrings use.

A symbol in a docstring is a letter or a Greek letter's name, with optional decoration
(``^word`` or ``*``), followed by an index (``[s,k]`` or ``_k``), or a decorated one on its
own (``C^rota``), or a bare Greek name (``sigma``). Its key drops the index: ``pi^blk[k,b]``
-> ``pi^blk``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "model.md"
MODULES = sorted((ROOT / "optimiser" / "model").glob("*.py")) + [
    ROOT / "optimiser" / "inputs" / name for name in ("params.py", "routes.py", "peaks.py")
]
GREEK_NAMES = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
    "sigma tau upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega"
)
GREEK = GREEK_NAMES.split()
_BASE = r"(?:" + "|".join(sorted(GREEK, key=len, reverse=True)) + r"|[A-Za-z])"
_DECOR = r"(?:\^[A-Za-z]+|\*)?"
_INDEX = r"(\[[^\]\s]*\]|_[A-Za-z0-9*]+\b)"
_GREEK_WORD = r"\b(?:" + "|".join(GREEK) + r")\b"
SYMBOL = re.compile(
    rf"(?<![\w.^])(?P<indexed>{_BASE}{_DECOR}){_INDEX}"  # y[j], H_k, k*_r, pi^blk[k,b]
    rf"|(?<![\w.^])(?P<decorated>{_BASE}\^[A-Za-z]+)\b"  # on its own: C^rota, q^min
    rf"|(?<![\w.^`])(?P<greek>{_GREEK_WORD})(?![\w(\[])"  # a Greek name on its own: sigma
)


def symbol_forms(text: str) -> set[tuple[str, int]]:
    """The symbols a piece of prose names: (symbol without its index, number of indices)."""
    forms = set()
    for match in SYMBOL.finditer(text):
        if match["indexed"]:
            index = match.group(2)
            arity = index.count(",") + 1 if index.startswith("[") else 1
            forms.add((match["indexed"], arity))
        else:
            forms.add((match["decorated"] or match["greek"], 0))
    return forms


def nomenclature() -> list[tuple[str, set[int]]]:
    """One (symbol, its index counts) per row of the nomenclature table, in order. The text
    cell holds the forms code may write, comma-separated; a bare letter is an index."""
    section = DOC.read_text().split("## Nomenclature", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[1] or cells[1] in {"text", "---"}:
            continue
        forms = symbol_forms(cells[1]) or {(form.strip(), 0) for form in cells[1].split(",")}
        symbols = {symbol for symbol, _ in forms}
        assert len(symbols) == 1, f"one symbol per row of the nomenclature: {cells[1]}"
        rows.append((symbols.pop(), {arity for _, arity in forms}))
    return rows


def docstrings(path: Path) -> str:
    tree = ast.parse(path.read_text())
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef))]
    return "\n".join(ast.get_docstring(n) or "" for n in nodes)


def test_symbol_pattern_reads_the_forms_the_code_writes():
    text = "y[j] route, H_k hours, k*_r asked for, pi^blk[k,b] rate, C^rota, sigma the cap, "
    text += "weekly_budget, m.block_rate, theta_k travel, g[s,k,b]"
    assert symbol_forms(text) == {
        ("y", 1), ("H", 1), ("k*", 1), ("pi^blk", 2), ("C^rota", 0), ("sigma", 0),
        ("theta", 1), ("g", 3),
    }


def test_each_symbol_has_one_row():
    symbols = [symbol for symbol, _ in nomenclature()]
    assert len(symbols) > 80
    repeated = sorted({s for s in symbols if symbols.count(s) > 1})
    assert not repeated, f"symbols defined twice in docs/model.md: {repeated}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_docstring_symbols_are_defined_in_the_doc(path):
    defined = {(symbol, arity) for symbol, arities in nomenclature() for arity in arities}
    missing = sorted(symbol_forms(docstrings(path)) - defined)
    assert not missing, f"{path.name} names symbols docs/model.md does not define: {missing}"
