"""Why is there no plan? Relax one family of rules at a time and see which lets a plan exist.

Static impossibilities (a scheme no provider can cover, a resident with no affordable eligible
provider) are found before solving, in params.py. This module handles the rest: when HiGHS
proves the model infeasible, each rule family is relaxed on its own and the model re-solved
only to feasibility (first plan found), so the commissioner learns which rule is the one that
cannot be met, in their own words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from optimiser.config import Scenario, SolverOptions
from optimiser.data.load import Dataset
from optimiser.model.build import build_model
from optimiser.params import StaticInfeasibility, derive
from optimiser.solve import solve

FEASIBILITY_TIME_LIMIT = 60.0


@dataclasses.dataclass(frozen=True)
class Relaxation:
    """One rule family, how to relax it, and what to tell the commissioner."""

    rule: str
    applies: Callable[[Scenario], bool]
    relax_policy: dict[str, object] = dataclasses.field(default_factory=dict)
    relax_data: Callable[[Dataset], Dataset] | None = None


def _providers(data: Dataset, column: str, value: float) -> Dataset:
    providers = data.providers.copy()
    providers[column] = np.where(providers[column].notna(), value, providers[column])
    return dataclasses.replace(data, providers=providers)


RELAXATIONS: tuple[Relaxation, ...] = (
    Relaxation(
        "providers' weekly capacity",
        lambda s: True,
        relax_data=lambda d: _providers(d, "weekly_capacity_hours", 1e7),
    ),
    Relaxation(
        "providers' minimum viable block volume",
        lambda s: True,
        relax_data=lambda d: _providers(d, "min_block_hours", 0.0),
    ),
    Relaxation(
        "strong preferences honoured",
        lambda s: s.policy.honour_strong_preferences,
        {"honour_strong_preferences": False},
    ),
    Relaxation(
        "share of preferences honoured",
        lambda s: s.policy.min_preference_share > 0,
        {"min_preference_share": 0.0},
    ),
    Relaxation(
        "hours-weighted mean satisfaction floor",
        lambda s: s.policy.min_mean_satisfaction > 0,
        {"min_mean_satisfaction": 0.0},
    ),
    Relaxation(
        "market-share cap per provider",
        lambda s: s.policy.max_provider_share < 1,
        {"max_provider_share": 1.0},
    ),
    Relaxation(
        "minimum framework providers per zone",
        lambda s: s.policy.min_framework_per_zone > 0,
        {"min_framework_per_zone": 0},
    ),
    Relaxation(
        "maximum framework providers per zone",
        lambda s: s.policy.max_framework_per_zone is not None,
        {"max_framework_per_zone": None},
    ),
    Relaxation(
        "budgets (pooled budgets)",
        lambda s: s.policy.budget_rule == "pooled",
        {"budget_rule": "none"},
    ),
)


def _feasible(data: Dataset, scenario: Scenario) -> bool:
    """Whether any plan meets the (relaxed) rules; stops at the first plan found."""
    try:
        params = derive(data, scenario)
    except StaticInfeasibility:
        return False
    options = SolverOptions(
        time_limit=min(scenario.solver.time_limit, FEASIBILITY_TIME_LIMIT),
        mip_rel_gap=1.0,
        threads=scenario.solver.threads,
        seed=scenario.solver.seed,
    )
    return solve(build_model(params), options).has_plan


def explain_infeasible(data: Dataset, scenario: Scenario) -> list[str]:
    """Sentences saying which single rule family, relaxed, would let a plan exist."""
    freeing = []
    for relaxation in RELAXATIONS:
        if not relaxation.applies(scenario):
            continue
        policy = scenario.policy.model_copy(update=relaxation.relax_policy)
        relaxed_data = relaxation.relax_data(data) if relaxation.relax_data else data
        if _feasible(relaxed_data, scenario.model_copy(update={"policy": policy})):
            freeing.append(relaxation.rule)
    if not freeing:
        return [
            "No plan meets every rule of this model, and relaxing any one family of rules on "
            "its own (capacity, minimum block volume, preferences, satisfaction, market share, "
            "framework size, budgets) is not enough: several rules conflict at once."
        ]
    return [
        "No plan meets every rule of this model. A plan exists if this rule is relaxed: "
        f"{rule}." for rule in freeing
    ]
