"""The HTML report in a real browser (headless Chromium from Debian's packages): it renders
with no console error, holds the key figures, needs no network, and a screenshot is saved as a
test artefact; and the diff of two hand-made plans lists the hand-listed changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from factory import provider, resident, scheme, visit, write_dataset, write_model

from optimiser.cli import main
from optimiser.plan.browser import Chromium, find_chromium
from optimiser.plan.diff import diff_runs
from optimiser.plan.report import CSP, report_html, write_report
from optimiser.run import solve_file

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = Path(os.environ.get("OPTIMISER_ARTEFACTS", ROOT / "test-artefacts"))


def _browser_or_skip() -> str:
    exe = find_chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have chromium: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return exe


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two plans of the same two-scheme data: everything open, and no framework."""
    folder = tmp_path_factory.mktemp("runs")
    data = write_dataset(
        folder / "data",
        schemes=[scheme(), scheme(scheme_id="S2", name="Willow House")],
        providers=[provider(name="Kestrel Vale Care"),
                   provider(provider_id="P2", name="Brightwater Care", onsite_capable="false",
                            block_rate_day="", block_rate_night="", block_rate_weekend="",
                            min_block_hours="", framework_rate_day=15,
                            framework_rate_weekend=15)],
        residents=[resident(), resident(resident_id="R2", scheme_id="S2")],
        visits=[visit(), visit(resident_id="R2", start="12:00", minutes=120)])
    out = {}
    for name, policy in (("open", {}), ("noframework", {"allow_framework": False})):
        model = write_model(folder, data, policy=policy, name=name)
        outcome = solve_file(model, folder / "results")
        assert outcome.written_to is not None, outcome.reasons or outcome.problems
        out[name] = outcome.written_to
    return out


def test_report_renders_in_chromium_without_errors(runs: dict[str, Path]) -> None:
    exe = _browser_or_skip()
    path = write_report(runs["open"], reference=runs["noframework"])
    text = path.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text  # nothing to fetch
    assert CSP in text
    annual = pd.read_csv(runs["open"] / "cost_lines.csv").set_index("line").at[
        "total", "annual_gbp"]
    with Chromium(exe) as browser:
        page = browser.load(path)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "report.png").write_bytes(page.screenshot)
    assert page.errors == [], page.errors
    assert page.console == [], page.console
    assert page.title.startswith("Extra Care Housing commissioning plan")
    assert page.screenshot.startswith(b"\x89PNG") and page.height > 1500
    for figure in (f"£{annual:,.0f} a year", "Oakfield Court", "Willow House",
                   "Kestrel Vale Care", "The question and the answer", "Cost lines",
                   "Block contracts per scheme", "Framework providers", "Choice and quality",
                   "Hourly cover per scheme", "Assumptions and data sources",
                   "noframework"):
        assert figure in page.text, figure
    assert "Every scheme keeps 24-hour cover" in page.text


def test_report_catches_a_page_that_fetches_or_fails(tmp_path: Path) -> None:
    """The browser check itself: a page that loads from the network (blocked by the policy)
    or throws is reported."""
    exe = _browser_or_skip()
    bad = tmp_path / "bad.html"
    bad.write_text(f'<html><head><meta http-equiv="Content-Security-Policy" content="{CSP}">'
                   '</head><body><img src="https://example.invalid/x.png" alt="x">'
                   "<script>throw new Error('boom')</script></body></html>")
    with Chromium(exe) as browser:
        page = browser.load(bad, screenshot=False)
    assert page.errors


def test_report_prints_to_pdf(runs: dict[str, Path]) -> None:
    _browser_or_skip()
    result = CliRunner().invoke(main, ["report", str(runs["noframework"]), "--pdf"])
    assert result.exit_code == 0, result.output
    pdf = runs["noframework"] / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000


def test_charts_have_text_alternatives(runs: dict[str, Path]) -> None:
    html = report_html(runs["open"])
    images = html.count("<img ")
    assert images >= 2
    assert html.count('alt="') == images
    assert "Bar chart of the annual cost of each line" in html
    assert "staff on duty" in html.lower()
    assert 'src="data:image/svg+xml;base64,' in html


def test_report_command_and_solve_report_flag(runs: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(runs["open"]), "--reference",
                                       str(runs["noframework"])])
    assert result.exit_code == 0, result.output
    assert (runs["open"] / "report.html").is_file()
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 1
    record = json.loads((runs["open"] / "run.json").read_text())
    model = tmp_path / "again.toml"
    model.write_text(f'name = "again"\ndataset = "{record["dataset"]}"\n[shifts]\n'
                     "starts = [0]\nlengths = [24]\n")
    result = CliRunner().invoke(main, ["solve", str(model), "--out", str(tmp_path / "r"),
                                       "--report"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "again" / "report.html").is_file()


def test_comparison_report(runs: dict[str, Path], tmp_path: Path) -> None:
    from optimiser.studies.compare import CSV_NAME

    folder = tmp_path / "compare"
    folder.mkdir()
    rows = []
    for name, path in runs.items():
        lines = pd.read_csv(path / "cost_lines.csv").set_index("line")
        rows.append({"model": name, "description": f"{name} model", "status": "optimal",
                     "reason": "", "annual_cost": lines.at["total", "annual_gbp"]})
    rows.append({"model": "block", "description": "block", "status": "no plan meets the rules",
                 "reason": "capacity", "annual_cost": None})
    pd.DataFrame(rows).to_csv(folder / CSV_NAME, index=False)
    html = report_html(folder)
    assert "Cheapest: open" in html and "capacity" in html and "no plan" in html
    assert "nan" not in html


def test_sweep_report(tmp_path: Path) -> None:
    """A sweep folder: its summary, and one row per scenario with the setting it moves."""
    pd.DataFrame({"scenario_id": ["s0000", "s0001"], "varied": ["base", "rates.night*"],
                  "rates.night*": [1.0, 1.2], "status": ["optimal", "optimal"],
                  "reason": ["", ""], "annual_cost": [207480.0, 227136.0],
                  "spec_hash": ["a", "a"]}).to_csv(tmp_path / "sweep.csv", index=False)
    (tmp_path / "summary.txt").write_text("Base plan: GBP 207,480 a year.\n")
    html = report_html(tmp_path)
    assert "Base plan: GBP 207,480 a year." in html
    assert '<th scope="col">rates.night*</th>' in html and "227,136" in html
    assert "spec_hash" not in html


# --------------------------------------------------------------------------- diff

def _plan(folder: Path, name: str, blocks: list[tuple], framework: list[str],
          allocations: list[tuple], lines: dict[str, float], figures: dict[str, float]) -> Path:
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"model": name}))
    pd.DataFrame(blocks, columns=["scheme_id", "scheme_name", "provider_id", "provider_name",
                                  "weekly_staff_hours"]).to_csv(folder / "block_contracts.csv",
                                                                index=False)
    pd.DataFrame({"provider_id": framework, "provider_name": [f"Name {p}" for p in framework]}
                 ).to_csv(folder / "framework.csv", index=False)
    pd.DataFrame(allocations, columns=["resident_id", "scheme_id", "route_kind", "provider_id",
                                       "share"]).to_csv(folder / "allocations.csv", index=False)
    weekly = {k: v / 52 for k, v in lines.items()}
    pd.DataFrame({"line": [*lines, "total"], "description": [*[k.title() for k in lines],
                                                             "Total"],
                  "weekly_gbp": [*weekly.values(), sum(weekly.values())],
                  "annual_gbp": [*lines.values(), sum(lines.values())]}).to_csv(
        folder / "cost_lines.csv", index=False)
    pd.DataFrame({"metric": list(figures), "value": list(figures.values()), "unit": ""}).to_csv(
        folder / "summary.csv", index=False)
    return folder


def test_diff_of_two_hand_made_plans(tmp_path: Path) -> None:
    a = _plan(tmp_path / "a", "before",
              blocks=[("S1", "Oak", "P1", "One", 300), ("S2", "Elm", "P1", "One", 200),
                      ("S3", "Ash", "P2", "Two", 250)],
              framework=["P3", "P4"],
              allocations=[("R1", "S1", "block", "P1", 1), ("R2", "S1", "framework", "P3", 1),
                           ("R3", "S2", "direct", None, 1), ("R4", "S3", "spot", "P2", 1)],
              lines={"onsite_staff": 1000.0, "framework_care": 500.0},
              figures={"preferences_honoured": 3, "mean_satisfaction": 85.0})
    b = _plan(tmp_path / "b", "after",
              blocks=[("S1", "Oak", "P2", "Two", 300), ("S2", "Elm", "P1", "One", 260),
                      ("S4", "Yew", "P1", "One", 100)],
              framework=["P3", "P5"],
              allocations=[("R1", "S1", "block", "P2", 1), ("R2", "S1", "framework", "P3", 1),
                           ("R3", "S2", "framework", "P5", 1), ("R4", "S3", "framework", "P3",
                                                                 1)],
              lines={"onsite_staff": 1200.0, "framework_care": 400.0},
              figures={"preferences_honoured": 4, "mean_satisfaction": 86.5})
    d = diff_runs(a, b)
    changes = dict(zip(d.blocks["scheme_id"], d.blocks["change"], strict=True))
    assert changes == {"S1": "changed hands", "S2": "changed size", "S3": "block ended",
                       "S4": "new block"}
    assert d.framework_in == ["P5"] and d.framework_out == ["P4"]
    moved = dict(zip(d.residents["resident_id"], d.residents["change"], strict=True))
    assert moved == {"R1": "provider", "R3": "provider and route", "R4": "provider and route"}
    costs = d.costs.set_index("line")["change"]
    assert costs["onsite_staff"] == 200 and costs["framework_care"] == -100
    assert costs["total"] == 100
    words = "\n".join(d.words)
    assert "'after' costs GBP 100 a year more than 'before'" in words
    assert "Block at Oak changed hands: One (300 h/week) -> Two (300 h/week)." in words
    assert "Block at Ash ended" in words and "New block at Yew" in words
    assert "Framework: Name P5 (P5) joins." in words
    assert "Framework: Name P4 (P4) leaves." in words
    assert "3 resident(s) change provider or route" in words
    assert "Preferences honoured: 3 -> 4." in words
    result = CliRunner().invoke(main, ["diff", str(a), str(b), "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "R3" in result.output
    assert (tmp_path / "d" / "diff.md").is_file()
    assert len(pd.read_csv(tmp_path / "d" / "residents.csv")) == 3
