"""`optimiser report`: one self-contained HTML page a commissioner can attach to a cabinet paper.

The page is written from a run folder as it is on disk (the CSV tables, run.json, summary.txt),
so any plan can be reported on later. It needs nothing from the network: styles are inline,
charts are SVG embedded as data URIs, and a Content-Security-Policy forbids loading anything
else. Charts are drawn to survive black-and-white printing and colour-blindness (values written
on bars, hatching and dashes rather than colour alone) and each has a text alternative beside
the table that holds its numbers.

Three kinds of folder are reported on: a plan (run.json), a comparison (comparison.csv, from
`optimiser compare`) and a sweep (sweep.csv, from `optimiser sweep`). A plan's report also
shows the comparison it was part of when OUT/compare/comparison.csv sits beside it, and the
change against a reference plan when one is given.

The package: :mod:`.html` the page's building blocks, :mod:`.run` reading a run folder,
:mod:`.plan` the plan report's sections, :mod:`.studies` the comparison and sweep reports.
"""

from __future__ import annotations

from pathlib import Path

from optimiser.inputs.load import InputError
from optimiser.plan.report.html import CSP
from optimiser.plan.report.plan import plan_report
from optimiser.plan.report.run import Run
from optimiser.plan.report.studies import comparison_report, sweep_report

__all__ = ["CSP", "REPORT_NAME", "Run", "report_html", "write_report"]

REPORT_NAME = "report.html"


def report_html(folder: Path, reference: Path | None = None) -> str:
    """The report of a run, comparison or sweep folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError([f"folder {folder} does not exist"])
    if (folder / "run.json").is_file():
        return plan_report(folder, reference)
    if (folder / "comparison.csv").is_file():
        return comparison_report(folder)
    if (folder / "sweep.csv").is_file():
        return sweep_report(folder)
    raise InputError([f"{folder}: no run.json, comparison.csv or sweep.csv; give a folder "
                      "written by optimiser solve, compare or sweep"])


def write_report(folder: Path, out: Path | None = None, reference: Path | None = None) -> Path:
    """Write report.html (into the folder unless `out` is given) and return its path."""
    from optimiser.plan.files import atomic_write

    text = report_html(folder, reference)
    path = Path(out) if out is not None else Path(folder) / REPORT_NAME
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
    path.chmod(0o644)
    return path
