"""The plan report: the question and the answer, costs, contracts, choice, cover, assumptions.

One function per section, each returning its HTML blocks from a :class:`Run`, so the page's
order is read in one place (:func:`plan_report`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from optimiser.plan.report.html import (
    esc,
    figure_html,
    gbp,
    num,
    page,
    pct,
    shown_path,
    signed_gbp,
    table_html,
)
from optimiser.plan.report.run import Run


def _question(run: Run) -> list[str]:
    scenario = run.record.get("scenario", {})
    blocks = run.table("block_contracts")
    schemes = int(run.figure("schemes", len(blocks)))
    residents = int(run.figure("residents_with_care"))
    fw = run.table("framework")
    status = str(run.record.get("status_text", run.record.get("status", "")))
    total = run.annual()
    weekly = run.lines().set_index("line").at["total", "weekly_gbp"] if len(run.lines()) else 0
    held = blocks["provider_name"].value_counts() if len(blocks) else pd.Series(dtype=int)
    holders = ", ".join(f"{name} ({n} scheme{'s' if n != 1 else ''})" for name, n in held.items())
    uncovered = schemes - len(blocks)
    answer = [
        f'<p class="big">{gbp(total)} a year ({gbp(weekly)} a week).</p>',
        f"<p>On-site block contracts at {len(blocks)} of {schemes} schemes"
        + (f", held by {esc(holders)}" if holders else "") + ", buying "
        f"{num(run.figure('block_staff_hours_per_week'))} staff-hours a week. "
        + (f'<span class="warn">{uncovered} scheme(s) have no 24-hour cover.</span> '
           if uncovered > 0 else "Every scheme keeps 24-hour cover. ")
        + f"{len(fw)} framework provider(s) admitted; "
        f"{num(run.figure('direct_payments'), 'g')} direct payment(s).</p>",
        f"<p>The on-site provider delivers {pct(run.figure('onsite_share_of_planned_care'))} of "
        f"planned care; {num(run.figure('preferences_honoured'), 'g')} of "
        f"{num(run.figure('preferences_stated'))} residents' named preferences are honoured; "
        f"hours-weighted satisfaction {num(run.figure('mean_satisfaction'), '.1f')} "
        "out of 100.</p>",
    ]
    return [
        "<h2 id='question'>The question and the answer</h2>",
        f"<p><strong>Question.</strong> What is the cheapest way to commission care for the "
        f"{residents} residents with care in {schemes} Extra Care Housing schemes that keeps "
        "round-the-clock cover, every resident's assessed care, choice and good-quality care, "
        f"under the rules of the commissioning model <strong>{esc(run.name)}</strong>"
        + (f" ({esc(scenario.get('description', ''))})" if scenario.get("description") else "")
        + "?</p>",
        '<div class="answer"><p><strong>Answer.</strong></p>', *answer, "</div>",
        f"<p><strong>Status.</strong> {esc(status)}. {_gap_words(run.record)}</p>",
    ]


def _gap_words(record: dict) -> str:
    gap, bound = record.get("gap"), record.get("bound_weekly_gbp")
    if not isinstance(gap, int | float):
        return ""
    words = (f"The gap is {100 * gap:.2f} %: no plan under these rules can cost less than "
             f"{gbp(bound)} a week" if isinstance(bound, int | float) else
             f"The gap is {100 * gap:.2f} %")
    return words + ", so this plan is at most that far from the cheapest possible."


def _cost_section(run: Run, reference: Run | None) -> list[str]:
    from optimiser.plan.charts import cost_lines_figure, svg

    lines = run.lines()
    if lines.empty:
        return []
    headers = ["Cost line", "£ a week", "£ a year"]
    ref_lines = reference.lines().set_index("line") if reference is not None else None
    if ref_lines is not None:
        headers += [f"£ a year, {reference.name}", "change a year"]
    rows, classes = [], []
    for line in lines.itertuples(index=False):
        if abs(float(line.annual_gbp)) < 0.5 and line.line != "total" and (
                ref_lines is None or abs(float(ref_lines["annual_gbp"].get(line.line, 0))) < 0.5):
            continue
        row = [esc(line.description), gbp(line.weekly_gbp), gbp(line.annual_gbp)]
        if ref_lines is not None:
            ref = float(ref_lines["annual_gbp"].get(line.line, 0.0))
            row += [gbp(ref), signed_gbp(float(line.annual_gbp) - ref)]
        rows.append(row)
        classes.append("total" if line.line == "total" else "")
    out = ["<h2 id='costs'>Cost lines</h2>"]
    if reference is not None:
        change = run.annual() - reference.annual()
        more = "more" if change > 0 else "less"
        out.append(f"<p>This plan costs {gbp(abs(change))} a year {more} than the reference "
                   f"model <strong>{esc(reference.name)}</strong> ({gbp(reference.annual())} a "
                   "year) on the same data.</p>" if abs(change) >= 0.5 else
                   f"<p>This plan costs the same as <strong>{esc(reference.name)}</strong>.</p>")
    out.append(table_html(headers, rows, "Cost of the plan by line", range(1, len(headers)),
                          classes))
    shown = lines[(lines["line"] != "total") & (lines["annual_gbp"].abs() >= 0.5)]
    alt = "Bar chart of the annual cost of each line: " + "; ".join(
        f"{d} {gbp(v)}" for d, v in zip(shown["description"], shown["annual_gbp"], strict=True))
    out.append(figure_html(svg(cost_lines_figure(lines)), alt,
                           "Annual cost by line (the table above gives the same figures)."))
    return out


def _blocks_section(run: Run) -> list[str]:
    blocks = run.table("block_contracts")
    out = ["<h2 id='blocks'>Block contracts per scheme</h2>"]
    if blocks.empty:
        return out + ["<p>No scheme has an on-site block contract in this plan.</p>"]
    rows = [[esc(r.scheme_name), esc(r.provider_name), num(r.weekly_staff_hours),
             num(r.day_hours), num(r.night_hours), num(r.weekend_hours),
             gbp(float(r.weekly_staff_cost) * _weeks(run)), num(r.residents_block, "g"),
             num(r.residents_spot, "g")] for r in blocks.itertuples(index=False)]
    out.append(table_html(
        ["Scheme", "Block holder", "Staff-hours a week", "of which day", "night", "weekend",
         "Staff cost a year", "Residents' care under the block",
         "Residents paying the on-site provider from budgets"],
        rows, "On-site block contracts", range(2, 9)))
    covered = set(blocks["scheme_id"])
    cover = run.table("cover")
    if len(cover) and "scheme_name" in cover.columns:
        missing = sorted(set(cover.loc[~cover["scheme_id"].isin(covered), "scheme_name"]))
        if missing:
            out.append(f'<p class="warn">No block contract and so no 24-hour cover at: '
                       f"{esc(', '.join(missing))}.</p>")
    return out


def _weeks(run: Run) -> float:
    lines = run.lines().set_index("line")
    if "total" in lines.index and float(lines.at["total", "weekly_gbp"]):
        return float(lines.at["total", "annual_gbp"]) / float(lines.at["total", "weekly_gbp"])
    return 52.143


def _framework_section(run: Run) -> list[str]:
    fw = run.table("framework")
    out = ["<h2 id='framework'>Framework providers</h2>"]
    if fw.empty:
        return out + ["<p>No framework provider is admitted in this plan.</p>"]
    rows = [[esc(r.provider_name), esc(r.provider_id), esc(str(r.cqc_rating).replace("_", " ")),
             esc(str(r.zones).replace("|", ", ")), num(r.residents, "g"),
             num(r.weekly_paid_hours, ",.1f"), gbp(r.weekly_care_cost),
             gbp(r.weekly_fixed_cost)] for r in fw.itertuples(index=False)]
    out.append(table_html(["Provider", "Id", "CQC rating", "Zones", "Residents",
                           "Paid hours a week", "Care £ a week", "Admission and monitoring "
                           "£ a week"], rows, "Framework providers admitted", range(4, 8)))
    return out


def _choice_section(run: Run) -> list[str]:
    alloc = run.table("allocations")
    rows = [
        ["Residents with care", num(run.figure("residents_with_care"))],
        ["Assessed care hours a week", num(run.figure("package_hours_per_week"), ",.1f")],
        ["Residents who named a provider", num(run.figure("preferences_stated"))],
        ["of whom this model's rules could serve with it",
         num(run.figure("preferences_eligible"))],
        ["Preferences honoured", num(run.figure("preferences_honoured"), "g")],
        ["Direct payments", num(run.figure("direct_payments"), "g")],
        ["On-site share of planned care", pct(run.figure("onsite_share_of_planned_care"))],
        ["Satisfaction, hours-weighted (0-100)", num(run.figure("mean_satisfaction"), ".2f")],
        ["Providers active per scheme, mean", num(run.figure("providers_per_scheme"), ".2f")],
        ["Night cover cost per flat a week",
         gbp(run.figure("night_cover_cost_per_flat_per_week"), pence=True)],
    ]
    out = ["<h2 id='choice'>Choice and quality</h2>",
           table_html(["Figure", "Value"], rows, "Choice and quality figures", [1])]
    if len(alloc) and "route_kind" in alloc.columns:
        routes = alloc.groupby("route_description", sort=False).agg(
            residents=("share", "sum"), cost=("weekly_cost", "sum"))
        out.append(table_html(
            ["Route", "Residents", "£ a week"],
            [[esc(k), num(r.residents, "g"), gbp(r.cost)] for k, r in routes.iterrows()],
            "How residents' care is bought", [1, 2]))
    if len(alloc) and "provider_name" in alloc.columns:
        by = alloc[alloc["provider_name"].notna()].groupby("provider_name")["share"].sum()
        by = by.sort_values(ascending=False)
        out.append(table_html(["Provider", "Residents served"],
                              [[esc(k), num(v, "g")] for k, v in by.items()],
                              "Residents by provider", [1]))
    return out


def _cover_section(run: Run) -> list[str]:
    from optimiser.plan.charts import cover_figure, svg

    cover = run.table("cover")
    out = ["<h2 id='cover'>Hourly cover per scheme</h2>"]
    if cover.empty:
        return out + ["<p>This plan has no on-site cover.</p>"]
    key = "scheme_name" if "scheme_name" in cover.columns else "scheme_id"
    slot_hours = _slot_hours(cover)
    rows, alt = [], []
    for name, part in cover.groupby(key, sort=False):
        short = int((part["on_duty"] < part["required"] - 1e-6).sum())
        spare = part["slack"] > 1e-6 if "slack" in part.columns else part["on_duty"] > 0
        rows.append([esc(name), num(part["on_duty"].sum() * slot_hours),
                     num(part["required"].sum() * slot_hours, ",.1f"),
                     f"{num(part['on_duty'].min())} to {num(part['on_duty'].max())}",
                     num(part["required"].max(), ",.2f"),
                     num(spare.sum() * slot_hours), "none" if short == 0 else
                     f'<span class="warn">{short}</span>'])
        alt.append(f"{name}: {part['on_duty'].min():g} to {part['on_duty'].max():g} staff on "
                   f"duty, at most {part['required'].max():.2g} required, "
                   + ("never short" if short == 0 else f"short in {short} slots"))
    out.append("<p>Staff on duty against the staff the rules require (the minimum on site, "
               "planned care under the block, double-up visits and the reserve kept free for "
               "pendant calls), every hour of the week.</p>")
    out.append(table_html(["Scheme", "Staff-hours on duty a week", "Staff-hours required",
                           "Staff on duty (range)", "Most staff required at once",
                           "Hours with staff to spare", "Slots short of cover"], rows,
                          "Cover through the week", range(1, 7)))
    out.append(figure_html(svg(cover_figure(cover)), "Charts of staff on duty (hatched area) "
                           "and staff required (dashed line) through the week. " +
                           "; ".join(alt) + ".", "Staff on duty against staff required, scheme "
                           "by scheme, Monday to Sunday."))
    monday = cover[cover["day"] == "Mon"]
    if len(monday):
        times = list(dict.fromkeys(monday["time"]))
        grid = [[esc(name)] + [f"{d:g}/{r:.2g}" for d, r in zip(part["on_duty"], part["required"],
                                                              strict=True)]
                for name, part in monday.groupby(key, sort=False)]
        out.append("<details><summary>Monday hour by hour (on duty / required)</summary>"
                   + table_html(["Scheme", *times], grid, "Monday: staff on duty / required",
                                range(1, len(times) + 1)) + "</details>")
    return out


def _slot_hours(cover: pd.DataFrame) -> float:
    per_day = max(int((cover["day"] == cover["day"].iloc[0]).sum()
                      / max(cover["scheme_id"].nunique(), 1)), 1)
    return 24.0 / per_day


def _extras_section(run: Run) -> list[str]:
    out = []
    funding = run.table("cover_funding")
    if len(funding):
        out.append("<h2 id='funding'>Cover paid from pooled budgets</h2>")
        out.append(table_html(
            ["Scheme", "24-hour cover", "Pooled budgets £ a week", "Cost of restoring cover "
             "£ a year", "Finding"],
            [[esc(r.scheme_name), "yes" if str(r.has_24h_cover) == "True" else
              '<span class="warn">no</span>', gbp(r.pooled_budgets),
              gbp(r.restore_cost_annual), esc(r.finding)] for r in funding.itertuples()],
            "Pooled budgets and cover", [2, 3]))
    tiers = run.table("tiers")
    if len(tiers):
        out.append("<h2 id='tiers'>Support tiers</h2>")
        out.append(table_html(["Tier", "Residents", "Check visits a week", "£ a week"],
                              [[esc(r.description), num(r.residents), num(
                                  r.check_visits_per_week, ",.1f"), gbp(r.weekly_check_cost)]
                               for r in tiers.itertuples()], "Support tiers", [1, 2, 3]))
    return out


def _assumptions_section(run: Run) -> list[str]:
    from optimiser.inputs.config import Policy

    scenario = run.record.get("scenario", {})
    policy = scenario.get("policy", {})
    rows = []
    for key, value in policy.items():
        field = Policy.model_fields.get(key)
        shown = value if not isinstance(value, list | dict) else json.dumps(value)
        rows.append([esc(field.description if field and field.description else key),
                     f"<code>{esc(key)}</code>", esc(shown)])
    out = ["<h2 id='assumptions'>Assumptions and data sources</h2>",
           f"<p>Dataset: <code>{esc(shown_path(run.record.get('dataset', '')))}</code>. The rules "
           "below are "
           "the model file's settings as the run used them.</p>",
           "<details open><summary>Commissioning rules of this model</summary>"
           + table_html(["Rule", "Setting", "Value"], rows, "Model settings") + "</details>"]
    costs_path = Path(str(run.record.get("dataset", ""))) / "costs.csv"
    if costs_path.is_file():
        costs = pd.read_csv(costs_path, keep_default_na=False)
        if {"name", "value"} <= set(costs.columns):
            out.append("<details><summary>Council-wide costs and their sources</summary>"
                       + table_html(["Cost", "Value", "Unit", "Source"],
                                    [[esc(r.get("name")), esc(r.get("value")),
                                      esc(r.get("unit", "")), esc(r.get("source", ""))]
                                     for r in costs.to_dict("records")],
                                    "costs.csv", [1]) + "</details>")
    sums = run.record.get("input_checksums_sha256", {})
    if sums:
        out.append("<details><summary>Input files (SHA-256)</summary>"
                   + table_html(["File", "SHA-256"], [[esc(k), f"<code>{esc(v)}</code>"]
                                                      for k, v in sorted(sums.items())],
                                "Input checksums") + "</details>")
    versions = run.record.get("versions", {})
    if versions:
        out.append("<p>Solved with " + esc(", ".join(f"{k} {v}" for k, v in
                                                     sorted(versions.items()))) + ".</p>")
    return out


def _comparison_for(run: Run) -> list[str]:
    path = run.folder.parent / "compare" / "comparison.csv"
    if not path.is_file():
        return []
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    if run.name not in set(table["model"]):
        return []
    return ["<h2 id='comparison'>Commissioning models compared</h2>",
            "<p>Every model in the comparison, on its own dataset; this plan is marked.</p>",
            comparison_table(table, highlight=run.name)]


def comparison_table(table: pd.DataFrame, highlight: str | None = None) -> str:
    rows, classes = [], []
    for r in table.to_dict("records"):
        plan = pd.notna(r.get("annual_cost"))
        mark = " (this plan)" if r["model"] == highlight else ""
        if plan:
            rows.append([esc(r["model"]) + mark, esc(r["status"]), gbp(r["annual_cost"]),
                         num(r.get("block_staff_hours_per_week")),
                         pct(r.get("onsite_share_of_planned_care")),
                         num(r.get("framework_providers")),
                         f"{num(r.get('preferences_honoured'), 'g')}/"
                         f"{num(r.get('preferences_stated'))}",
                         num(r.get("mean_satisfaction"), ".1f"),
                         num(r.get("providers_per_scheme"), ".2f")])
        else:
            reason = r.get("reason") if isinstance(r.get("reason"), str) else ""
            rows.append([esc(r["model"]) + mark, esc(r["status"]) + (": " + esc(reason[:300])
                                                                     if reason else ""),
                         "no plan", "–", "–", "–", "–", "–", "–"])
        classes.append("this" if mark else "")
    return table_html(["Model", "Status", "£ a year", "Block staff-hours a week",
                       "On-site share", "Framework providers", "Preferences met",
                       "Satisfaction", "Providers per scheme"], rows,
                      "Commissioning models side by side", range(2, 9), classes)


def plan_report(folder: Path, reference: Path | None = None) -> str:
    run = Run(folder)
    ref = Run(reference) if reference is not None else None
    title = f"Extra Care Housing commissioning plan: {run.name}"
    body = [f"<h1>{esc(title)}</h1>",
            f"<p class='meta'>Dataset {esc(shown_path(run.record.get('dataset', '')))}; "
            f"run folder {esc(shown_path(run.folder))}.</p>"]
    body += _question(run)
    body += _cost_section(run, ref)
    body += _blocks_section(run)
    body += _framework_section(run)
    body += _choice_section(run)
    body += _cover_section(run)
    body += _extras_section(run)
    body += _comparison_for(run)
    body += _assumptions_section(run)
    text = run.summary_text()
    if text:
        body.append("<h2 id='summary'>The summary as printed</h2><pre>" + esc(text) + "</pre>")
    return page(title, body)

