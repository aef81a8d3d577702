"""Rows, targets judged, and the output files (results.csv, results.md).
"""

import csv
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from optimiser.bench.parent import ChildRun
from optimiser.bench.spec import (
    COLUMNS,
    FAILED_STATUSES,
    OPTIMISER,
    ROOT,
    SWEEP,
    Row,
    SweepBench,
    Target,
    _num,
    _pct,
)

# --- Rows, targets and output files -------------------------------------------------------------


def _fill(row: Row, run: ChildRun) -> Row:
    """Copy a child's result into a row and derive the totals and the build share."""
    if run.result is None:
        row.status, row.note = run.status, run.note
        return row
    r = run.result
    row.status, row.solver_status = r["status"], r.get("solver_status", "")
    row.note = r.get("note", "")
    for key in ("objective", "bound", "gap", "nodes", "peak_mib", "total_s"):
        setattr(row, key, r.get(key))
    for key, value in r.get("size", {}).items():
        setattr(row, key, value)
    times = r.get("times", {})
    row.import_s, row.load_s = times.get("import"), times.get("load")
    row.derive_s, row.build_s = times.get("derive"), times.get("build")
    row.solve_s = times.get("solve")
    if "compile" in times:
        row.handoff_s = times["compile"] + times.get("pass", 0.0)
    outside = [t for t in (row.load_s, row.derive_s, row.build_s, row.handoff_s) if t is not None]
    if row.total_s:
        row.build_share = sum(outside) / row.total_s
    return row


def judge(row: Row, target: Target) -> str:
    """'yes', 'no: <which target missed>', or '' when the issue sets no target for the size."""
    if not target.describe():
        return ""
    if row.status in FAILED_STATUSES:
        return f"no: {row.status}"
    missed = []
    if target.gap is not None and (row.gap is None or row.gap > target.gap * (1 + 1e-9)):
        missed.append("gap " + ("none" if row.gap is None else _pct(row.gap, 2)))
    if target.seconds is not None and (row.total_s is None or row.total_s >= target.seconds):
        missed.append(f"total {_num(row.total_s)} s")
    if target.peak_mib is not None and (row.peak_mib is None or row.peak_mib >= target.peak_mib):
        missed.append(f"peak {_num(row.peak_mib, 0)} MiB")
    if (target.build_share is not None and row.method == OPTIMISER
            and (row.build_share is None or row.build_share >= target.build_share)):
        missed.append("build share " + _pct(row.build_share or 0, 0))
    if target.speedup is not None and (row.speedup is None or row.speedup < target.speedup):
        missed.append("speed-up " + ("none" if row.speedup is None else f"{row.speedup:.2f}x"))
    return "yes" if not missed else "no: " + ", ".join(missed)


def write_csv(rows: Sequence[Row], path: Path) -> None:
    """results.csv: every measured number, one row per size and method."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in asdict(row).items()})


MD_HEADER = ("| size | method | schemes / residents / providers | vars / int / cons | build s "
             "| hand-off s | solve s | total s | build share | peak MiB | status | gap "
             "| target met |")


def _md_line(row: Row) -> str:
    """One markdown table line; build s is load + derive + Pyomo build."""
    build = [t for t in (row.load_s, row.derive_s, row.build_s) if t is not None]
    build_s = sum(build) if row.method == OPTIMISER and build else None
    handoff = row.handoff_s if row.method == OPTIMISER else row.load_s  # MPS read for the floor
    cells = [
        row.size, row.method, f"{row.schemes} / {row.residents} / {row.providers}",
        f"{_num(row.variables, 0)} / {_num(row.integer_variables, 0)} / "
        f"{_num(row.constraints, 0)}",
        _num(build_s, 2), _num(handoff, 2), _num(row.solve_s), _num(row.total_s),
        "–" if row.build_share is None else _pct(row.build_share),
        _num(row.peak_mib, 0), row.status, "–" if row.gap is None else _pct(row.gap, 3),
        (f"{row.target_met} ({row.target})" if row.target else "no target"),
    ]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def markdown_table(rows: Sequence[Row]) -> str:
    """The short table for results.md and the terminal."""
    lines = [MD_HEADER, "|" + "---|" * (MD_HEADER.count("|") - 1)]
    return "\n".join(lines + [_md_line(row) for row in rows])


def _context(rows: Sequence[Row], seed: int) -> str:
    """Where and on what the numbers were measured, so they can be compared later."""
    commits = ", ".join(f"`{c}`" for c in dict.fromkeys(row.commit for row in rows))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"Measured at commit {commits} (+dirty: uncommitted changes to optimiser/ or "
            f"models/ when the run started); seed {seed}; "
            f"{platform.python_implementation()} {platform.python_version()} on "
            f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load} at the end; "
            f"{time.strftime('%Y-%m-%d %H:%M')}.")


def write_markdown(rows: Sequence[Row], path: Path, seed: int,
                   sweep: SweepBench | None = None) -> str:
    """results.md: the tables plus what the columns mean."""
    sizes = [row for row in rows if not _is_sweep(row)]
    sweeps = [row for row in rows if _is_sweep(row)]
    table = markdown_table(sizes) if sizes else ""
    if sweeps:
        table += ("\n\n" if table else "") + sweep_table(sweeps)
    text = "\n".join([
        "# Benchmark results", "", _context(rows, seed), "", table, "",
        "build s = load and validate the CSVs + derive parameters + build the Pyomo model; "
        "hand-off s = compile to matrix form + pass to HiGHS (for highs_mps: read the MPS "
        "file); total s includes Python imports; build share = (build + hand-off) / total. "
        "highs_mps is the floor: HiGHS alone on the same model written as MPS. Targets come "
        "from the issue and are reported, not asserted. Every stage is in results.csv.", "",
        f"Sweeps: {(sweep or SWEEP).vary} on {(sweep or SWEEP).size}, one at a time, "
        f"{(sweep or SWEEP).settings()}. total s "
        "is the whole sweep from an empty folder (Python imports excluded); rebuild builds and "
        "solves every scenario from scratch; reuse keeps each process's HiGHS model where "
        "only numbers change and starts every scenario from the base plan. Speed-ups: reuse "
        "1w against rebuild 1w, 2w against 1w the same way.", "",
    ])
    path.write_text(text, encoding="utf-8")
    return table


def git_state() -> tuple[str, bool]:
    """Short commit and whether the code or models differ from it (numbers depend on both)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "optimiser",
                     "models"))
    return commit, dirty



SWEEP_HEADER = ("| sweep | size | scenarios | plans | total s | s per scenario | speed-up "
                "| worst gap | what happened | target met |")


def _sweep_line(row: Row) -> str:
    per = row.total_s / row.scenarios if row.total_s and row.scenarios else None
    cells = [row.method, row.size, _num(row.scenarios, 0), _num(row.plans, 0),
             _num(row.total_s), _num(per), "–" if row.speedup is None else f"{row.speedup:.2f}x",
             "–" if row.gap is None else _pct(row.gap, 2), row.note or row.status,
             f"{row.target_met} ({row.target})" if row.target else "reference"]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def sweep_table(rows: Sequence[Row]) -> str:
    lines = [SWEEP_HEADER, "|" + "---|" * (SWEEP_HEADER.count("|") - 1)]
    return "\n".join(lines + [_sweep_line(row) for row in rows])


def _is_sweep(row: Row) -> bool:
    return row.method.startswith("sweep ")


def read_rows(path: Path) -> list[Row]:
    """Rows of an earlier results.csv (unknown columns ignored, missing ones left empty)."""
    if not path.is_file():
        return []
    kinds = {f.name: f.type for f in fields(Row)}
    out = []
    with path.open(newline="", encoding="utf-8") as handle:
        for raw in csv.DictReader(handle):
            values: dict[str, Any] = {}
            for name, text in raw.items():
                if name not in kinds or text in (None, ""):
                    continue
                kind = str(kinds[name])
                values[name] = (int(float(text)) if kind.startswith("int") else float(text)
                                if kind.startswith("float") else text)
            out.append(Row(**values))
    return out


def merged(previous: Sequence[Row], new: Sequence[Row]) -> list[Row]:
    """New rows replace earlier rows of the same size and method; the rest are kept."""
    measured = {(row.size, row.method) for row in new}
    return [row for row in previous if (row.size, row.method) not in measured] + list(new)
