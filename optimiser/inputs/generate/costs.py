"""The council-wide costs table (costs.csv): each value with its unit and where it comes from.
"""

from __future__ import annotations

from optimiser.inputs.generate.figures import NLW_2023, NLW_2026
from optimiser.inputs.schema import COST_NAMES


def _costs() -> list[dict[str, str]]:
    """Council-wide costs, each with its unit and source ."""
    uprate = NLW_2026 / NLW_2023
    dp_rate = round(19.55 * uprate, 2)
    rows = [
        (
            "direct_payment_hourly_rate",
            dp_rate,
            f"Merton agency DP rate from 21 Aug 2023 GBP 19.55/h (merton.gov.uk; facts 1.4) "
            f"uprated by NLW growth Apr 2023 to Apr 2026: 19.55 x {NLW_2026}/{NLW_2023} "
            f"= 19.55 x {uprate:.4f} = {dp_rate:.2f}",
        ),
        (
            "direct_payment_admin_per_year",
            1200.0,
            "Assumption: no published cost found (facts 2.7); DPs are labour-intensive to "
            "administer (Oxfordshire SP paper, seed 002). About 1 day a month of officer time.",
        ),
        (
            "direct_payment_satisfaction",
            80.0,
            "Assumption: between the requires-improvement and good provider ranges used here.",
        ),
        (
            "coordination_per_provider_scheme_per_week",
            45.0,
            "Assumption: about 1.5 h/week of handovers and reviews at a GBP 30/h officer cost; "
            "fragmentation raises coordination cost (APSE, seed 001).",
        ),
        (
            "block_contract_management_per_year",
            6000.0,
            "Assumption: letting and monitoring one on-site contract, about 0.1 FTE officer.",
        ),
        (
            "framework_term_years",
            4.0,
            "84.7 % of domiciliary care contracts run between 2 and 5 years (LGiU/Mears, "
            "Outcomes Matter, chart 7, seed 004); Waltham Forest framework 4 years from Oct "
            "2022 (facts 3.3).",
        ),
        ("weeks_per_year", 52.143, "365 / 7 = 52.143 (COST_NAMES default)."),
        (
            "employer_oncost_rate",
            0.25,
            "Employer NI 15 % above the threshold from Apr 2025 (HCA 18 Dec 2024; about 10 % of "
            "a part-time carer's pay) + holiday 12.07 % (UKHCA Costing Model) + pension 3 % "
            "(auto-enrolment minimum, assumption): 0.10 + 0.12 + 0.03 = 0.25.",
        ),
    ]
    assert [r[0] for r in rows] == list(COST_NAMES)
    return [
        {"name": n, "value": f"{v:g}", "unit": COST_NAMES[n][1], "source": src}
        for n, v, src in rows
    ]
