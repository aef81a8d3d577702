"""Where block solves run: in this process, in spawned worker processes, or on a Dask cluster.

Every runner returns the solutions in the order of the tasks, and a block's solve depends only
on its task (one HiGHS thread, fixed seed), so the plan does not depend on where or in which
order the blocks ran.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from optimiser.solving.decompose.subproblems import BlockSolution, BlockTask, solve_block

Runner = Callable[[list[BlockTask]], list[BlockSolution]]


def _in_process(tasks: list[BlockTask]) -> list[BlockSolution]:
    return [solve_block(task) for task in tasks]


def _longest_first(tasks: list[BlockTask], seconds: dict[str, float]) -> list[int]:
    """Submit the blocks that took longest last round first, so the last to finish is short."""
    return sorted(range(len(tasks)), key=lambda i: -seconds.get(tasks[i].problem.name, 0.0))


@contextlib.contextmanager
def block_runner(workers: int = 1, scheduler: str | None = None) -> Iterator[Runner]:
    """A runner for the whole decomposition, so worker processes start once. No fork: HiGHS
    and threads do not survive a fork cleanly."""
    seconds: dict[str, float] = {}

    def ordered(submit: Callable, gather: Callable) -> Runner:
        def run(tasks: list[BlockTask]) -> list[BlockSolution]:
            order = _longest_first(tasks, seconds)
            futures = {i: submit(tasks[i]) for i in order}
            out = [gather(futures[i]) for i in range(len(tasks))]
            seconds.update({s.name: s.seconds for s in out})
            return out
        return run

    if scheduler:
        from distributed import Client

        client = Client(scheduler)
        try:
            yield ordered(lambda task: client.submit(solve_block, task, pure=False),
                          lambda future: future.result())
        finally:
            client.close()
    elif workers > 1:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        try:
            yield ordered(lambda task: pool.submit(solve_block, task),
                          lambda future: future.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        yield _in_process
