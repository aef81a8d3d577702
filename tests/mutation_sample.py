"""Mutation score of the whole mutation scope, estimated from a seeded random sample.

Why: `make mutate` over the model, the parameter derivation, the loader and the checker is
10,000+ mutants, days of CPU on a 2-core machine. A stratified random sample (each module in
proportion to its mutants, drawn with a fixed seed) gives an unbiased estimate of the kill rate
of the whole scope with a stated confidence interval, in hours; every survivor of the sample is
then killed by a new test or explained as equivalent in `tests/mutation_equivalent.toml`.

Run by `make mutate-sample` (after `mutmut run` has generated the mutants and collected which
tests reach which function):

    python tests/mutation_sample.py draw --size 300 --seed 1     # names to run, one per line
    python tests/mutation_sample.py report                        # the score, from mutants/

A second sample with another seed (`--seed 2 --out mutants/sample-2.txt`, then `report
--sample mutants/sample-2.txt`) measures the score again after new tests were written for
the first sample's survivors: the first sample's own score is then no longer an unbiased
estimate, since the tests were aimed at it.

The score counts killed and timed-out mutants as killed; a survivor or a mutant no selected
test reaches counts against the score unless it is listed as equivalent (then it leaves the
denominator: no test can tell it from the original).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
SAMPLE = MUTANTS / "sample-1.txt"
EQUIVALENT = ROOT / "tests" / "mutation_equivalent.toml"

KILLED = {1, 3, 36, -24, 24, 152, 255, -11, -9, 37}  # killed, timeout, crash, type check
SURVIVED = {0, 5, 33}  # survived, or no selected test reaches the function


def all_mutants() -> dict[str, list[str]]:
    """Mutant names by module, from mutmut's per-file metadata."""
    out: dict[str, list[str]] = {}
    for meta in sorted(MUTANTS.glob("optimiser/**/*.py.meta")):
        names = sorted(json.loads(meta.read_text())["exit_code_by_key"])
        if names:
            out[str(meta.relative_to(MUTANTS))[: -len(".meta")]] = names
    if not out:
        sys.exit("no mutants found under mutants/: run `mutmut run` first (make mutate-sample)")
    return out


def draw(size: int, seed: int) -> list[str]:
    """A stratified sample: each module gets its share of `size` (largest remainders), drawn
    with one seeded generator in module order, so the same seed and code give the same
    sample."""
    modules = all_mutants()
    total = sum(len(v) for v in modules.values())
    exact = {m: size * len(v) / total for m, v in modules.items()}
    counts = {m: math.floor(q) for m, q in exact.items()}
    for m in sorted(exact, key=lambda m: (counts[m] - exact[m], m))[: size - sum(counts.values())]:
        counts[m] += 1
    rng = random.Random(seed)
    sample: list[str] = []
    for m, names in modules.items():
        sample += sorted(rng.sample(names, min(counts[m], len(names))))
    return sample


def equivalent() -> dict[str, str]:
    """Mutants explained as equivalent: name -> why no test can tell them apart."""
    if not EQUIVALENT.exists():
        return {}
    return {k: v["why"] for k, v in tomllib.loads(EQUIVALENT.read_text()).items()}


def exit_codes() -> dict[str, int | None]:
    codes: dict[str, int | None] = {}
    for meta in MUTANTS.glob("optimiser/**/*.py.meta"):
        codes.update(json.loads(meta.read_text())["exit_code_by_key"])
    return codes


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for a proportion k/n (95 % by default)."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def module_of(name: str) -> str:
    return name.split(".x_")[0].split(".xǁ")[0]


def report(names: list[str]) -> str:
    codes, known = exit_codes(), equivalent()
    rows: dict[str, Counter] = defaultdict(Counter)
    survivors: list[str] = []
    for name in names:
        code = codes.get(name)
        if name in known:
            kind = "equivalent"
        elif code in KILLED:
            kind = "killed"
        elif code in SURVIVED:
            kind = "survived"
            survivors.append(name)
        else:
            kind = "not run"
        rows[module_of(name)][kind] += 1
    lines = ["| module | sampled | killed | equivalent | survived | not run |",
             "|---|---|---|---|---|---|"]
    total: Counter = Counter()
    for module in sorted(rows):
        c = rows[module]
        total.update(c)
        lines.append(f"| `{module}` | {sum(c.values())} | {c['killed']} | {c['equivalent']} | "
                     f"{c['survived']} | {c['not run']} |")
    scored = total["killed"] + total["survived"]
    low, high = wilson(total["killed"], scored)
    rate = total["killed"] / scored if scored else float("nan")
    lines += ["", f"sampled {sum(total.values())}, scored {scored} (equivalent "
              f"{total['equivalent']}, not run {total['not run']}): kill rate "
              f"{rate:.1%} (95 % Wilson interval {low:.1%} to {high:.1%})"]
    if survivors:
        lines += ["", "survivors (kill with a test, or explain in tests/mutation_equivalent.toml):"]
        lines += [f"  {s}" for s in survivors]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("draw", help="draw the sample and write it (mutants/sample-1.txt)")
    d.add_argument("--size", type=int, default=300)
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--out", type=Path, default=SAMPLE)
    r = sub.add_parser("report", help="the sample's kill rate")
    r.add_argument("--sample", type=Path, default=SAMPLE)
    args = parser.parse_args()
    if args.command == "draw":
        names = draw(args.size, args.seed)
        args.out.write_text("\n".join(names) + "\n")
        print("\n".join(names))
    else:
        if not args.sample.exists():
            sys.exit(f"no sample at {args.sample}: python tests/mutation_sample.py draw")
        print(report(args.sample.read_text().split()))


if __name__ == "__main__":
    main()
