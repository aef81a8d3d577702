"""`python -m optimiser.bench`: the command line.
"""

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from optimiser.bench.children import _child_main
from optimiser.bench.report import _is_sweep, git_state, markdown_table, sweep_table
from optimiser.bench.runs import run_benchmark
from optimiser.bench.spec import (
    DEFAULT_SEED,
    QUICK,
    QUICK_SWEEP,
    SIZES,
    SWEEP,
    SizeSpec,
    SweepBench,
)

# --- Command line -------------------------------------------------------------------------------


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m optimiser.bench",
        description="Time and measure the optimiser on synthetic S/M/L datasets.",
    )
    parser.add_argument("--sizes", default=None,
                        help="comma-separated sizes (default S,Shireford,M,L,XL)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="dataset generator seed")
    parser.add_argument("--quick", action="store_true",
                        help="S and M only with shorter solver limits (a smoke run)")
    parser.add_argument("--no-floor", action="store_true", help="skip the HiGHS-alone runs")
    parser.add_argument("--sweep-only", action="store_true",
                        help="only the sweep measurements (rebuild vs reuse, 1 vs 2 workers)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep measurements")
    parser.add_argument("--sweep-vary", default=None,
                        help="the sweep's moves instead of the 100 night rates, e.g. "
                             "'rates.night*=1.1:1.9:0.1' (10 scenarios)")
    parser.add_argument("--sweep-runs", default=None,
                        help="which sweep runs, e.g. 'rebuild:1,reuse:1,reuse:2' (default)")
    parser.add_argument("--out", type=Path, default=Path("bench"),
                        help="folder for results.csv/results.md; datasets go in OUT/out/")
    return parser.parse_args(argv)


def _specs(sizes: str | None, quick: bool) -> list[SizeSpec]:
    table = QUICK if quick else SIZES
    by_name = {name.upper(): spec for name, spec in table.items()}
    names = [s.strip().upper() for s in (sizes or ",".join(table)).split(",") if s.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(table)}")
    return [by_name[n] for n in names]


def _sweep_spec(quick: bool, runs: str | None, vary: str | None = None) -> SweepBench:
    """The sweep measurement to run: full or quick, its moves, and which of its runs."""
    bench = QUICK_SWEEP if quick else SWEEP
    if vary is not None:
        bench = replace(bench, vary=vary)
    if runs is None:
        return bench
    chosen = []
    for item in runs.split(","):
        way, _, workers = item.strip().partition(":")
        if way not in ("rebuild", "reuse") or not workers.isdigit() or int(workers) < 1:
            raise SystemExit(f"--sweep-runs: '{item}' is not WAY:WORKERS, e.g. reuse:2")
        chosen.append((way == "reuse", int(workers)))
    return replace(bench, runs=tuple(chosen))


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m optimiser.bench [--sizes S,M,L] [--seed N] [--quick] [--out bench/]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_child"]:
        _child_main(argv[1], Path(argv[2]))
        return
    args = _parse(argv)
    specs = [] if args.sweep_only else _specs(args.sizes, args.quick)
    sweep = None if args.no_sweep else _sweep_spec(args.quick, args.sweep_runs,
                                                     args.sweep_vary)
    commit, dirty = git_state()
    print(f"Benchmark at commit {commit}{' (uncommitted changes)' if dirty else ''}, "
          f"sizes {', '.join(s.name for s in specs) or 'none'}, "
          f"sweep {'no' if sweep is None else 'yes'}, seed {args.seed}", flush=True)
    rows = run_benchmark(specs, args.out, args.seed, floor=not args.no_floor,
                         say=lambda text: print(text, flush=True), sweep=sweep)
    print()
    sizes = [row for row in rows if not _is_sweep(row)]
    if sizes:
        print(markdown_table(sizes))
    if sweep is not None:
        print(sweep_table([row for row in rows if _is_sweep(row)]))
    print(f"\nWritten {args.out / 'results.csv'} and {args.out / 'results.md'}")


