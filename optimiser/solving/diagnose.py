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

from optimiser.inputs.config import Scenario, SolverOptions
from optimiser.inputs.load import Dataset
from optimiser.inputs.params import StaticInfeasibility, derive
from optimiser.model.build import build_model
from optimiser.solving.highs import compile_model, least_violation, solve

FEASIBILITY_TIME_LIMIT = 60.0
MAX_PLACES = 15

# Constraint families allowed to give in the least-violation solve, and how to say it.
SOFT_RULES: dict[str, str] = {
    "minimum_cover": "{scheme}, {slot}: {amount:.1f} more staff on duty than the rota can give",
    "care_and_reserve_cover": "{scheme}, {slot}: {amount:.1f} staff short of planned care plus "
    "the emergency reserve",
    "double_up_cover": "{scheme}, {slot}: {amount:.1f} carers short for a double-up visit",
    "provider_capacity": "provider {key}: {amount:,.0f} hours a week more than its capacity",
    "minimum_viable_volume": "{scheme}, provider {key2}: {amount:,.0f} staff-hours a week "
    "below the provider's minimum viable block",
    "strong_preference_honoured": "resident {key}: the strong preference cannot be honoured",
    "preference_share": "{amount:.0f} fewer preferences honoured than the policy share",
    "mean_satisfaction": "mean satisfaction {amount:.1f} care-hour-points short of the floor",
    "market_share": "provider {key}: {amount:,.0f} hours a week above the market-share cap",
    "min_framework_per_zone": "zone {key}: {amount:.0f} framework provider(s) short",
    "max_framework_per_zone": "zone {key}: {amount:.0f} framework provider(s) too many",
    "direct_payment_request_honoured": "resident {key}: the direct payment asked for cannot "
    "be given",
    "one_block_contract": "{scheme}: no provider can hold the block contract",
    "every_package_delivered_once": "resident {key}: no eligible provider can deliver the "
    "package",
}
# What one unit of violation costs: core rules (a scheme without cover, a package not
# delivered) give only when nothing else can; operational limits (hours) give first.
PENALTIES: dict[str, float] = {
    "one_block_contract": 10_000.0,
    "every_package_delivered_once": 10_000.0,
    "minimum_cover": 100.0,
    "care_and_reserve_cover": 100.0,
    "double_up_cover": 100.0,
    "strong_preference_honoured": 50.0,
    "direct_payment_request_honoured": 50.0,
    "preference_share": 50.0,
    "min_framework_per_zone": 50.0,
    "max_framework_per_zone": 50.0,
    "provider_capacity": 1.0,
    "minimum_viable_volume": 1.0,
    "market_share": 1.0,
    "mean_satisfaction": 1.0,
}


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
    Relaxation(
        "framework work called off in rank order",
        lambda s: s.policy.call_off_in_rank_order,
        {"call_off_in_rank_order": False},
    ),
    Relaxation(
        "on-site teams paid from pooled budgets",
        lambda s: s.policy.cover_funding == "pooled_budgets",
        {"cover_funding": "council"},
    ),
    Relaxation(
        "the cash allocation taken from each budget",
        lambda s: s.policy.cash_allocation_share > 0,
        {"cash_allocation_share": 0.0},
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


def _where(data: Dataset, family: str, key: object, amount: float,
           slot_minutes: int = 60) -> str:
    """One violated row in the commissioner's words."""
    keys = key if isinstance(key, tuple) else (key,)
    names = data.schemes.set_index("scheme_id")["name"]
    scheme = f"{names.get(keys[0], keys[0])} ({keys[0]})" if keys and keys[0] in names else ""
    slot = ""
    if family in ("minimum_cover", "care_and_reserve_cover", "double_up_cover"):
        minutes = (int(keys[2]) if family == "care_and_reserve_cover"
                   else int(keys[1]) * slot_minutes)
        day, minute = divmod(minutes, 1440)
        slot = (f"{['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][day % 7]} "
                f"{minute // 60:02d}:{minute % 60:02d}")
    if family == "mean_satisfaction":
        amount *= 100  # the model holds satisfaction as a share
    return SOFT_RULES[family].format(scheme=scheme, slot=slot, key=keys[0],
                                     key2=keys[-1], amount=amount)


def where_and_how_much(data: Dataset, scenario: Scenario) -> list[str]:
    """Let every rule family give a little, find the plan that breaks them least, and say
    where each rule gives and by how much."""
    try:
        params = derive(data, scenario)
    except StaticInfeasibility as exc:
        return exc.reasons
    compiled = compile_model(build_model(params))
    options = SolverOptions(time_limit=min(scenario.solver.time_limit, FEASIBILITY_TIME_LIMIT),
                            mip_rel_gap=0.01, threads=scenario.solver.threads,
                            seed=scenario.solver.seed)
    found = least_violation(compiled, PENALTIES, options)
    if not found:
        return []
    found.sort(key=lambda item: (-item[2], item[0], str(item[1])))
    lines = [_where(data, family, key, amount, scenario.slot_minutes)
             for family, key, amount in found[:MAX_PLACES]]
    if len(found) > MAX_PLACES:
        lines.append(f"... and {len(found) - MAX_PLACES} more place(s)")
    return ["Where the rules give, in the plan that breaks them least: " + line
            for line in lines]


def explain_infeasible(data: Dataset, scenario: Scenario) -> list[str]:
    """Which single rule family, relaxed, would let a plan exist; then where and by how much
    the rules would have to give."""
    return _which_rule(data, scenario) + where_and_how_much(data, scenario)


def _which_rule(data: Dataset, scenario: Scenario) -> list[str]:
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
