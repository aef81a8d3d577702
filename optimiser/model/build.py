"""Wire the model's concerns into one Pyomo ConcreteModel, in the order data flows.

contracts -> allocation (routes need the award variables) -> staffing (cover needs the
routes) -> framework (admission and capacity) -> policy (choice, quality, market) -> objective.
"""

from __future__ import annotations

import pyomo.environ as pyo

from optimiser.inputs.params import Params
from optimiser.model.allocation import add_allocation
from optimiser.model.contracts import add_contracts
from optimiser.model.framework import add_framework
from optimiser.model.index import Index
from optimiser.model.objective import add_objective
from optimiser.model.policy import add_policy
from optimiser.model.staffing import add_staffing


def build_model(p: Params) -> pyo.ConcreteModel:
    """The commissioning-mix MIP for one dataset and commissioning model."""
    m = pyo.ConcreteModel(name=p.scenario.name)
    m.ix = Index.build(p)
    add_contracts(m, p)
    add_allocation(m, p)
    add_staffing(m, p)
    add_framework(m, p)
    add_policy(m, p)
    add_objective(m, p)
    return m
