"""The decomposition solve: price rounds over the scheme blocks, plans built between rounds,
and a single-model finish from the best plan when time is left and the gap is still open.

Round k: solve every block at costs c - A_c' y_k (in parallel); their dual bounds summed with
y_k' b(y_k) give a valid lower bound L(y_k); the blocks' rotas and awards, fixed in the full
model and completed by HiGHS, give a plan. Stop when (plan - best bound) / plan is within the
requested gap, on time, or after MAX_ROUNDS (docs/decomposition.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import cached_property

import highspy
import numpy as np

from optimiser.inputs.config import SolverOptions
from optimiser.inputs.params import Params
from optimiser.solving.decompose import prices
from optimiser.solving.decompose.parallel import block_runner
from optimiser.solving.decompose.plan import (
    Completion,
    build_plan,
    fixable,
    free_dearest,
    global_binaries,
    rounded_globals,
)
from optimiser.solving.decompose.structure import GLOBAL, Structure, detect
from optimiser.solving.decompose.subproblems import (
    BlockProblem,
    BlockSolution,
    BlockTask,
    block_problems,
)
from optimiser.solving.highs import (
    FEASIBLE,
    INFEASIBLE,
    INTERRUPTED,
    NO_SOLUTION,
    OPTIMAL,
    Compiled,
    Progress,
    SolveResult,
    run_held,
    set_options,
)

BREAK_TOL = 1e-6  # a coupling row's activity this far outside its bounds is broken
MAX_DEFINITION_PASSES = 5  # global columns defined through others (the total through each
# provider's hours) take one pass per level
GAP_ROUNDING = 1e-9  # relative: a plan and a bound this close are equal
MAX_ROUNDS = 12
ROUNDS_SHARE = 0.6  # of the time limit, for price rounds; the rest builds and finishes plans
BLOCK_GAP_SHARE = 0.5  # each block is solved to this share of the requested gap
TIGHTEN = 4.0  # while the gap is open, the next round solves the blocks this much tighter...
MIN_GAP_SHARE = 0.05  # ...at the best prices, down to this share of the requested gap
BLOCK_TIME_SHARE = 0.25  # of the time limit, the most one block's solve may take
SLACK_SHARE = 0.5  # another round only while the blocks' slack is this share of the open gap
FINISH_LP_FACTOR = 20.0  # ...or while the finish could not reach its root in the time left
MAX_REPAIRS = 3  # price rounds steered towards the coupling rows the blocks break
REPAIR_STEP = 0.25  # ...each moving a broken row's price by this share of it (at least 1)
THETA_START = 0.5  # Polyak step factor, halved (and the step restarted from the best prices)
# after every round without a better bound


@dataclass
class Round:
    """One price round, for run.json."""

    bound: float
    plan: float | None
    seconds: float  # the blocks' solves, wall
    slowest_block_seconds: float
    plan_seconds: float  # building (and repairing) a plan from the round's solutions
    block_slack: float  # sum over blocks of (objective - proven bound): what the blocks' own
    # gaps cost the bound this round
    prices: str = "lp duals"  # where the round's prices came from: "lp duals", "repair" (steered
    # towards broken rows), "tighter blocks" (best prices, tighter block gap), "subgradient"


@dataclass
class State:
    """What the search knows so far."""

    bound: float = -math.inf
    plan: float = math.inf
    values: np.ndarray | None = None
    rounds: list[Round] = field(default_factory=list)
    tried: set[bytes] = field(default_factory=set)
    freed: list[str] = field(default_factory=list)
    lp_bound: float | None = None
    lp_seconds: float = 0.0
    source: str = ""
    proven_infeasible: bool = False  # the single-model finish proved there is no plan

    def gap(self) -> float:
        if not math.isfinite(self.plan) or not math.isfinite(self.bound):
            return math.inf
        return max(self.plan - self.bound, 0.0) / max(abs(self.plan), 1e-9)


@dataclass
class Setup:
    """The model cut into blocks, with the coupling rows' data."""

    compiled: Compiled
    structure: Structure
    problems: list[BlockProblem]
    coupling: object  # scipy CSR: the coupling rows
    lower: np.ndarray
    upper: np.ndarray
    cost: np.ndarray
    offset: float
    defined_by_global: np.ndarray  # per coupling row: holds a continuous global column
    continuous_global: np.ndarray  # per column: continuous and in the global block

    @classmethod
    def build(cls, compiled: Compiled, params: Params) -> Setup:
        structure = detect(compiled, params)
        rows = structure.coupling_rows
        problems = [pb for pb in block_problems(structure, compiled) if len(pb.columns)]
        lp = compiled.lp
        coupling = structure.csr[rows]
        continuous_global = (structure.column_block == structure.schemes) & ~structure.integer
        defined = (abs(coupling) @ continuous_global.astype(float)) > 0
        return cls(compiled, structure, problems, coupling,
                   np.asarray(lp.row_lower_, dtype=float)[rows],
                   np.asarray(lp.row_upper_, dtype=float)[rows],
                   np.asarray(lp.col_cost_, dtype=float), float(compiled.offset),
                   np.asarray(defined, dtype=bool).ravel(), continuous_global)

    def implied_globals(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x with its continuous global columns (a provider's hours, the county's total) set
        to what the schemes' answers imply, and which columns that settles. The global
        block's own values for them mean nothing: they are defined by equality rows such as
        `provider_hours[k] = sum of the schemes' hours`. Each pass settles every column that is
        the only unsettled continuous global column of an equality coupling row."""
        x = x.copy()
        settled = ~self.continuous_global.copy()
        a = self.coupling
        equal = np.isfinite(self.lower) & (self.lower == self.upper)
        for _ in range(MAX_DEFINITION_PASSES):
            progress = False
            for i in np.flatnonzero(equal & self.defined_by_global):
                cols = a.indices[a.indptr[i]:a.indptr[i + 1]]
                vals = a.data[a.indptr[i]:a.indptr[i + 1]]
                open_ = ~settled[cols]
                if open_.sum() != 1:
                    continue
                j, coef = cols[open_][0], vals[open_][0]
                x[j] = (self.lower[i] - float(vals[~open_] @ x[cols[~open_]])) / coef
                settled[j], progress = True, True
            if not progress:
                break
        return x, settled

    def broken_rows(self, x: np.ndarray) -> np.ndarray:
        """Coupling rows the blocks' answers x break, read with the global columns the
        schemes' answers imply (implied_globals); rows still holding an unsettled column are
        left out."""
        filled, settled = self.implied_globals(x)
        activity = self.coupling @ filled
        out = (activity < self.lower - BREAK_TOL) | (activity > self.upper + BREAK_TOL)
        unsettled = (abs(self.coupling) @ (~settled).astype(float)) > 0
        return out & ~np.asarray(unsettled).ravel()

    def lagrangian(self, y: np.ndarray, solutions: list[BlockSolution]) -> float:
        """L(y) = sum of the blocks' dual bounds + y' b(y) + the objective's constant."""
        blocks = sum(s.bound for s in solutions)
        return blocks + float(y @ prices.right_hand_side(y, self.lower, self.upper)) + self.offset

    def assemble(self, solutions: list[BlockSolution]) -> tuple[np.ndarray, np.ndarray]:
        """The blocks' solutions as one vector (0 where a block has none) and a mask of the
        columns of blocks that have one."""
        x = np.zeros(len(self.cost))
        solved = np.zeros(len(self.cost), dtype=bool)
        for pb, s in zip(self.problems, solutions, strict=True):
            if s.values is not None:
                x[pb.columns] = s.values
                solved[pb.columns] = True
        return x, solved


def block_slack(solutions: list[BlockSolution]) -> float:
    """What the blocks' own stopping gaps cost this round's bound: the sum of each block's
    objective less its proven bound (infinite if a block has no plan or no bound)."""
    return float(sum(s.objective - s.bound for s in solutions))


def _tasks(setup: Setup, y: np.ndarray, options: SolverOptions, seconds: float,
           relax: bool = False, deadline: float | None = None,
           share: float = BLOCK_GAP_SHARE) -> list[BlockTask]:
    costs = prices.priced_costs(setup.cost, setup.coupling, y)
    gap = options.mip_rel_gap * share
    return [BlockTask(pb, costs[pb.columns], gap, max(seconds, 1.0), options.seed, relax,
                      deadline) for pb in setup.problems]


def _result(state: State, setup: Setup, status: str, text: str, seconds: float) -> SolveResult:
    result = SolveResult(status=status, solver_status=text, solve_seconds=seconds,
                         size=dict(setup.compiled.size))
    if state.values is not None:
        result.objective = state.plan
        result.bound = min(state.bound, state.plan)
        result.gap = state.gap()
    result.details = {
        "method": "decompose",
        "blocks": setup.structure.schemes,
        "coupling_rows": int(len(setup.lower)),
        "rounds": len(state.rounds),
        "lagrangian_bound": state.bound if math.isfinite(state.bound) else None,
        "lp_bound": state.lp_bound,
        "lp_seconds": round(state.lp_seconds, 3),
        "plan_from": state.source,
        "schemes_freed_in_repair": state.freed,
        "round_history": [vars(r) for r in state.rounds],
    }
    return result


class Search:
    """One decomposition run against a deadline."""

    def __init__(self, setup: Setup, options: SolverOptions, workers: int,
                 scheduler: str | None, progress: Progress | None,
                 start: np.ndarray | None = None):
        self.setup, self.options = setup, options
        self.start_plan = start
        self.workers, self.scheduler, self.progress = workers, scheduler, progress
        self.start = time.perf_counter()
        self.deadline = self.start + options.time_limit
        self.state = State()
        self.fixed = fixable(setup.compiled, setup.structure)
        self.lp_values: np.ndarray | None = None  # the LP relaxation's columns

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def done(self) -> bool:
        # A bound equal to the plan up to rounding (1e-16 here) proves it even at a gap of 0.
        return self.state.gap() <= self.options.mip_rel_gap + GAP_ROUNDING

    def run(self) -> tuple[SolveResult, np.ndarray | None]:
        setup = self.setup
        began = time.perf_counter()
        if self.start_plan is not None:  # a plan known to meet every rule: the incumbent
            cost = float(self.setup.cost @ self.start_plan) + self.setup.offset
            self._keep(Completion(cost, self.start_plan, [], "plan"), "start plan")
        y, self.state.lp_bound = self._start_prices()
        self.state.lp_seconds = time.perf_counter() - began
        try:
            with block_runner(self.workers, self.scheduler) as runner:
                status = self._rounds(runner, y)
            if status is None and not self.done() and self.left() > 1.0:
                self._single_finish()
        except KeyboardInterrupt:
            return self._finish(INTERRUPTED, "interrupted by the user"), None
        if status is not None:
            return self._finish(status, "a scheme's own rules have no plan"), None
        status = OPTIMAL if self.done() else (FEASIBLE if self.state.values is not None
                                              else NO_SOLUTION)
        if self.state.proven_infeasible:
            status = INFEASIBLE
        return (self._finish(status, f"decomposition over {setup.structure.schemes} schemes, "
                                     f"{len(self.state.rounds)} price rounds"),
                self.state.values)

    def _finish(self, status: str, text: str) -> SolveResult:
        return _result(self.state, self.setup, status, text, time.perf_counter() - self.start)

    def _start_prices(self) -> tuple[np.ndarray, float | None]:
        """The full LP's duals on the coupling rows (zero prices if the LP gives none)."""
        setup = self.setup
        duals, value, self.lp_values = prices.lp_relaxation(setup.compiled,
                                                            max(self.left() * 0.3, 1.0))
        if duals is None:
            return np.zeros(len(setup.lower)), None
        y = duals[setup.structure.coupling_rows]
        return prices.project(y, setup.lower, setup.upper), value

    def _rounds(self, runner, y: np.ndarray) -> str | None:
        """Price rounds until the gap closes, the rounds' time is spent or MAX_ROUNDS. The
        blocks of every round must finish by the rounds' end (a block started late gets the
        time left); another round starts only if the last one would fit again."""
        setup, state = self.setup, self.state
        rounds_end = self.start + ROUNDS_SHARE * self.options.time_limit
        deadline = time.time() + (rounds_end - time.perf_counter())
        theta, best_y, last, share = THETA_START, y, 0.0, BLOCK_GAP_SHARE
        repairs, kind = 0, "lp duals" if self.state.lp_bound is not None else "zero"
        for _ in range(MAX_ROUNDS):
            began = time.perf_counter()
            if state.rounds and began + last > rounds_end:
                return None
            block_limit = min(self.left(), BLOCK_TIME_SHARE * self.options.time_limit)
            solutions = runner(_tasks(setup, y, self.options, block_limit, deadline=deadline,
                                      share=share))
            solved = time.perf_counter()
            if any(s.status == "infeasible" for s in solutions):
                return INFEASIBLE
            bound = setup.lagrangian(y, solutions)
            if bound > state.bound:
                state.bound, best_y = bound, y
            else:
                theta /= 2
            x, have = setup.assemble(solutions)
            before = state.plan
            made = self._try_plan(x, have)
            last = time.perf_counter() - began
            slack = block_slack(solutions)
            state.rounds.append(Round(bound, state.plan if state.values is not None else None,
                                      solved - began, max(s.seconds for s in solutions),
                                      time.perf_counter() - solved, slack, kind))
            self._report()
            if self.done() or not have.all():
                return None
            if not self._rounds_pay(slack):
                return None
            broken = setup.broken_rows(x)
            if broken.any() and repairs < MAX_REPAIRS and state.plan < before \
                    and self._plan_excess(made, x) >= SLACK_SHARE * (state.plan - state.bound):
                # The plan, not the bound, holds the gap open, and the blocks' answers break
                # a coupling row: steer them towards meeting it (docs/decomposition.md §3).
                activity = setup.coupling @ setup.implied_globals(x)[0]
                y = prices.repair_step(y, activity, setup.lower, setup.upper, broken,
                                       REPAIR_STEP)
                repairs += 1
                kind = "repair"
                continue
            if share > MIN_GAP_SHARE:  # measured: tighter blocks raise the bound and give
                share, y = max(share / TIGHTEN, MIN_GAP_SHARE), best_y  # better fixings
                kind = "tighter blocks"
                continue
            target = state.plan if math.isfinite(state.plan) else bound + 0.01 * abs(bound)
            g = prices.subgradient(best_y, setup.coupling @ x, setup.lower, setup.upper)
            y = prices.polyak_step(best_y, g, state.bound, target, theta, setup.lower,
                                   setup.upper)
            kind = "subgradient"
        return None

    def _rounds_pay(self, slack: float) -> bool:
        """Whether another round is the better use of the time than the single-model finish.
        A round at the same prices can raise the bound by at most the blocks' own slack, so
        once that slack is under SLACK_SHARE of the open gap, what is left is the Lagrangian
        duality gap or the plan, which HiGHS's cuts and search on the whole model attack and
        price rounds do not (measured: docs/decomposition.md section 5). Models too large for
        the finish to reach its root in the time left keep the rounds."""
        state = self.state
        open_gap = state.plan - state.bound
        if not math.isfinite(open_gap) or slack >= SLACK_SHARE * open_gap:
            return True
        return not self._finish_fits()

    def _finish_fits(self) -> bool:
        """The finish is worth starting when the time left is FINISH_LP_FACTOR times the full
        LP's solve time (its root LP, cuts and a first dive)."""
        return self.left() >= FINISH_LP_FACTOR * max(self.state.lp_seconds, 0.01)

    def _try_plan(self, x: np.ndarray, have: np.ndarray) -> float:
        """Fix-and-complete from x (the integers of blocks with a solution), unless these
        fixings were tried already; the plan's cost (infinite if none was built)."""
        fixed = self.fixed & have
        key = np.round(x[fixed]).astype(np.int64).tobytes() + fixed.tobytes()
        if key in self.state.tried or self.left() < 1.0:
            return math.inf
        self.state.tried.add(key)
        done = build_plan(self.setup.compiled, self.setup.structure, x, self.options,
                          self.left(), fixed, self.target(), self.rounded)
        how = "global binaries rounded from the LP" if done.globals_rounded else "fixings"
        self._keep(done, f"round {len(self.state.rounds) + 1} {how}")
        if done.values is not None and not self.done() and self.left() >= 1.0 \
                and self._plan_excess(done.objective, x) >= SLACK_SHARE * self.open_gap():
            better = free_dearest(self.setup.compiled, self.setup.structure, x, done.values,
                                  fixed, self.options, self.left(), self.target())
            self._keep(better, f"round {len(self.state.rounds) + 1} fixings, dearest "
                               "schemes freed")
        return done.objective if done.values is not None else math.inf

    @cached_property
    def rounded(self) -> np.ndarray | None:
        """The global binaries rounded from the LP within their own rows (computed once, on
        first use; None without an LP solution or global binaries)."""
        setup = self.setup
        binaries = global_binaries(setup.compiled, setup.structure)
        problem = next((pb for pb in setup.problems if pb.name == GLOBAL), None)
        if self.lp_values is None or problem is None or not binaries.any():
            return None
        return rounded_globals(problem, binaries, self.lp_values, self.options.seed)

    def target(self) -> float | None:
        """The plan cost the best bound already proves within the requested gap: a plan at or
        below bound / (1 - gap) is done, so the completions and the finish stop there
        (HiGHS's objective_target) instead of closing their own, weaker gaps."""
        bound, gap = self.state.bound, self.options.mip_rel_gap
        if not math.isfinite(bound) or bound <= 0 or gap >= 1:
            return None
        return bound / (1.0 - gap) * (1.0 - GAP_ROUNDING)

    def open_gap(self) -> float:
        return self.state.plan - self.state.bound

    def _plan_excess(self, made: float, x: np.ndarray) -> float:
        """What the round's plan costs above the blocks' own answers at the true costs: the
        price of making them meet the coupling rows (infinite if no plan was built)."""
        return made - (float(self.setup.cost @ x) + self.setup.offset)

    def _keep(self, done: Completion, source: str) -> None:
        if done.values is not None and done.objective < self.state.plan:
            self.state.plan = done.objective
            self.state.values, self.state.source = done.values, source
            self.state.freed = done.freed

    def _report(self) -> None:
        if self.progress is not None:
            plan = self.state.plan if math.isfinite(self.state.plan) else None
            self.progress(time.perf_counter() - self.start, plan, self.state.bound)

    def _finish_progress(self) -> Progress | None:
        """The finish's progress, with the better of its bound and the Lagrangian one."""
        if self.progress is None:
            return None
        best, report = self.state.bound, self.progress

        def both(seconds: float, plan: float | None, bound: float | None) -> None:
            report(time.perf_counter() - self.start, plan,
                   best if bound is None else max(best, bound))
        return both

    def _single_finish(self) -> None:
        """HiGHS on the whole model from the best plan, with the time left; its bound counts
        too (any valid bound does)."""
        compiled = self.setup.compiled
        h = highspy.Highs()
        set_options(h, self.options.model_copy(update={"time_limit": self.left()}), None)
        if self.target() is not None:
            h.setOptionValue("objective_target", self.target())
        h.passModel(compiled.lp)
        if self.state.values is not None:
            sol = highspy.HighsSolution()
            sol.col_value = list(map(float, self.state.values))
            sol.value_valid = True
            h.setSolution(sol)
        result, values = run_held(h, compiled, self._finish_progress())
        if result.status == INTERRUPTED:  # Ctrl-C during the finish: stop, as anywhere else
            raise KeyboardInterrupt
        self.state.proven_infeasible = result.status == INFEASIBLE
        if result.bound is not None:
            self.state.bound = max(self.state.bound, result.bound)
        if values is not None and result.objective is not None \
                and result.objective < self.state.plan - 1e-9:
            self.state.plan, self.state.values = result.objective, values
            self.state.source = "single-model finish"


def solve_decomposed(compiled: Compiled, params: Params, options: SolverOptions,
                     progress: Progress | None = None, start: np.ndarray | None = None
                     ) -> tuple[SolveResult, np.ndarray | None]:
    """Decomposition solve of a compiled model (minimisation); start, if given, is a plan
    that meets every rule of this model (the caller checks), kept as the first incumbent."""
    setup = Setup.build(compiled, params)
    return Search(setup, options, options.workers, options.scheduler, progress, start).run()
