"""Writing a run: Excel-safe CSV tables, run.json, charts, and the plain-English summary.

A run is written into a temporary folder next to its destination and renamed into place only
when it is complete and verified, so a failed or interrupted run never damages a good plan.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import pandas as pd

from optimiser.inputs.load import InputError
from optimiser.inputs.params import Params
from optimiser.plan.checks.tables import MANIFEST_KEY, table_checksums
from optimiser.plan.columns import tidy
from optimiser.plan.tables import Plan
from optimiser.solving.highs import SolveResult

try:
    import fcntl
except ImportError:  # not a POSIX system: the swap is still two renames, unlocked
    fcntl = None

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SUMMARY_TEXT = "summary.txt"
OPTIONAL = ("distributed", "dask", "pyarrow")  # extras: recorded where installed
PACKAGES = ("optimiser", "pyomo", "highspy", "pandas", "numpy", "pandera", "click")


def excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix any text cell that Excel would read as a formula with an apostrophe."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v
            )
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Deterministic, Excel-safe CSV: fixed float format, LF line ends, UTF-8."""
    excel_safe(frame).to_csv(path, index=False, lineterminator="\n", float_format="%.10g")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary file beside the target and rename it into place, so a reader
    never sees half a file and an interrupted run leaves the previous file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        write(Path(temp))
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes it readable by its owner only
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def versions() -> dict[str, str]:
    """Python and every installed package a run can use: everything the optimiser requires
    (recursively) and the optional extras (Dask, pyarrow) where installed. Not what this process
    happened to import, so that two runs of the same model record the same versions."""
    out = {"python": platform.python_version()}
    names = {n.lower() for n in PACKAGES} | _required_distributions("optimiser")
    names |= {n for n in OPTIONAL if _installed(n)}
    for name in sorted(names):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _required_distributions(root: str) -> set[str]:
    """The installed distributions root needs, recursively (extras left out)."""
    import re

    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop()
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            if "extra ==" in requirement:
                continue
            dep = re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0]
            if dep and dep.lower() not in seen:
                seen.add(dep.lower())
                todo.append(dep)
    return {name for name in seen if _installed(name)}


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def run_record(
    p: Params, result: SolveResult, timings: dict[str, float], plan: Plan | None
) -> dict:
    """Everything needed to trace a plan back to its inputs and settings."""
    record = {
        "model": p.scenario.name,
        "status": result.status,
        "status_text": result.describe(),
        "solver_status": result.solver_status,
        "objective_weekly_gbp": result.objective,
        "bound_weekly_gbp": result.bound,
        "gap": result.gap,
        "nodes": result.nodes,
        "size": result.size,
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        "versions": versions(),
        "input_checksums_sha256": p.data.checksums,
        "dataset": str(p.data.path),
        "scenario": json.loads(p.scenario.model_dump_json()),
    }
    if plan is not None:
        total = plan.cost_lines.set_index("line")["weekly_gbp"]
        record["plan_weekly_cost_gbp"] = float(total["total"])
        record["plan_annual_cost_gbp"] = float(total["total"] * p.weeks_per_year)
    return record


def write_run(
    destination: Path,
    plan: Plan,
    record: dict,
    verify: Callable[[Path], list[str]] | None = None,
    charts: bool = True,
    summary: str = "",
) -> list[str]:
    """Write all files to a temporary folder, verify them, then move them into place: the
    tidied CSV tables, run.json, summary.txt, plan.xlsx (the same tables) and the charts.

    Returns the verifier's problems; if there are any, nothing is moved into place.
    """
    from optimiser.plan.workbook import WORKBOOK_NAME, write_plan_workbook

    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        tables = written_tables(plan)
        for name, frame in tables.items():
            write_csv(frame, staging / f"{name}.csv")
        record = {**record, MANIFEST_KEY: table_checksums(staging)}
        (staging / "run.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        problems = verify(staging) if verify else []
        if problems:
            return problems
        if summary:
            (staging / SUMMARY_TEXT).write_text(summary + "\n", encoding="utf-8")
        write_plan_workbook(staging / WORKBOOK_NAME, tables, summary, record)
        if charts:
            from optimiser.plan.charts import plan_charts

            plan_charts(plan, staging)
        _swap_into_place(staging, destination)
        return []
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def written_tables(plan: Plan) -> dict[str, pd.DataFrame]:
    """The plan tables as written to CSV and plan.xlsx: rounded by unit (money to the penny),
    whole numbers as integers (optimiser.plan.columns)."""
    return {name: tidy(name, frame) for name, frame in plan.tables().items()}


def _swap_into_place(staging: Path, destination: Path) -> None:
    """Replace the destination folder by the staging folder with two renames, holding an OS
    lock on the destination so that two runs writing the same plan take turns."""
    _open_up(staging)
    with folder_lock(destination):
        old = None
        if destination.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{destination.name}.old.",
                                        dir=destination.parent))
            os.replace(destination, old / destination.name)
        os.replace(staging, destination)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def folder_lock(destination: Path) -> Iterator[None]:
    """An exclusive OS lock (fcntl.flock) on the folder that holds the plan folders, held while
    a plan folder is replaced: runs writing into one results folder take turns, and no lock
    file is left behind."""
    if fcntl is None:
        yield
        return
    handle = os.open(destination.parent, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _open_up(folder: Path) -> None:
    """Give a folder made by mkdtemp (readable by its owner only) and its files the user's
    normal permissions, as if made with mkdir and open."""
    mask = _umask()
    os.chmod(folder, 0o777 & ~mask)
    for path in folder.rglob("*"):
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def check_output_folder(destination: Path) -> None:
    """Before any solving: refuse, in words, a destination that cannot receive the plan (its
    parent is a file, it is itself a file, or the parent cannot be written), so no solve's
    work is lost to a file-system error at the end."""
    destination = Path(destination)
    problems: list[str] = []
    ancestor = destination.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        problems.append(f"{ancestor} is a file, so the folder {destination.parent} cannot be "
                        "made there; choose another --out")
    elif destination.exists() and not destination.is_dir():
        problems.append(f"{destination} is a file, so the plan folder cannot be written there; "
                        "move the file or choose another --out")
    elif not os.access(ancestor, os.W_OK | os.X_OK):
        problems.append(f"{ancestor} cannot be written (permission denied); choose another "
                        "--out")
    else:
        problems += _probe(destination.parent if destination.parent.exists() else ancestor)
    if problems:
        raise InputError(problems, "The output folder")


def _probe(folder: Path) -> list[str]:
    """Make and remove a folder where the plan will be staged: the one sure test of writing."""
    try:
        Path(tempfile.mkdtemp(prefix=".probe.", dir=folder)).rmdir()
    except OSError as exc:
        return [f"{folder} cannot be written ({exc.strerror or exc}); choose another --out"]
    return []


def money(x: float) -> str:
    return f"GBP {x:,.0f}"


def summary_text(p: Params, plan: Plan, result: SolveResult) -> str:
    """The plain-English summary printed after a solve."""
    lines = plan.cost_lines.set_index("line")
    heads = dict(zip(plan.summary["metric"], plan.summary["value"], strict=True))
    total = lines.at["total", "annual_gbp"]
    out = [
        f"Commissioning model '{p.scenario.name}': {result.describe()}.",
        f"Annual cost {money(total)} ({money(lines.at['total', 'weekly_gbp'])} a week).",
    ]
    for _line, row in lines.drop(index="total").iterrows():
        if abs(row["annual_gbp"]) >= 0.5:
            out.append(f"  - {row['description']}: {money(row['annual_gbp'])} a year")
    out.append("Block contracts:")
    for row in plan.block_contracts.itertuples():
        out.append(
            f"  - {row.scheme_name}: {row.provider_name} ({row.provider_id}), "
            f"{row.weekly_staff_hours:,.0f} staff-hours a week "
            f"({row.night_hours:,.0f} at night), {row.residents_block:g} residents' care "
            "under the block"
        )
    missing = sorted(set(p.data.schemes["scheme_id"]) - set(plan.block_contracts["scheme_id"]))
    if missing:
        out.append(f"  - no block contract (no 24-hour cover) at: {', '.join(missing)}")
    fw = plan.framework
    out.append(
        f"Framework: {len(fw)} provider(s) admitted"
        + (f" ({', '.join(fw['provider_id'])})" if len(fw) else "")
        + f"; direct payments: {heads['direct_payments']:g}."
    )
    out.append(
        f"Preferences honoured: {heads['preferences_honoured']:g} of "
        f"{heads['preferences_stated']} stated ({heads['preferences_eligible']} could be met "
        "under this model's rules); hours-weighted mean satisfaction "
        f"{heads['mean_satisfaction']:g}; on-site share of planned care "
        f"{100 * float(heads['onsite_share_of_planned_care']):.0f} %."
    )
    return "\n".join(out)
