"""Reading a run folder as it is on disk (the CSV tables, run.json, summary.txt).

The report reads the files, not the solver's objects, so any plan can be reported on later.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from optimiser.inputs.load import InputError


class Run:
    """A run folder as written by `optimiser solve`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        path = self.folder / "run.json"
        if not path.is_file():
            raise InputError([f"run.json: not found in {self.folder}; is this a run folder?"])
        try:
            self.record = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError([f"run.json: not valid JSON ({exc})"]) from None
        self._tables: dict[str, pd.DataFrame] = {}

    def table(self, name: str) -> pd.DataFrame:
        if name not in self._tables:
            path = self.folder / f"{name}.csv"
            if not path.is_file():
                self._tables[name] = pd.DataFrame()
            else:
                frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
                for col in frame.columns:  # undo the Excel formula guard on text
                    if frame[col].dtype == object:
                        frame[col] = frame[col].map(
                            lambda v: v[1:] if isinstance(v, str) and v.startswith("'") else v)
                self._tables[name] = frame
        return self._tables[name]

    @property
    def name(self) -> str:
        return str(self.record.get("model", self.folder.name))

    @property
    def figures(self) -> dict[str, object]:
        s = self.table("summary")
        return dict(zip(s["metric"], s["value"], strict=True)) if len(s) else {}

    def figure(self, metric: str, default: float = 0.0) -> float:
        try:
            return float(self.figures.get(metric, default))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return default

    def lines(self) -> pd.DataFrame:
        return self.table("cost_lines")

    def annual(self, line: str = "total") -> float:
        lines = self.lines().set_index("line")
        return float(lines.at[line, "annual_gbp"]) if line in lines.index else 0.0

    def summary_text(self) -> str:
        path = self.folder / "summary.txt"
        return path.read_text(encoding="utf-8") if path.is_file() else ""

