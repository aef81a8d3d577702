"""The command line: `optimiser solve | validate | verify | generate ...`.

Exit codes: 0 plan written; 1 input mistake; 2 no plan meets the rules (infeasible);
3 no plan found within the time limit; 4 a written plan failed verification.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from optimiser.data.load import InputError

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_VERIFY = 0, 1, 2, 3, 4

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def _parse_override(text: str) -> tuple[str, object]:
    """`policy.cqc_floor=good` -> ('policy.cqc_floor', 'good'), numbers and booleans typed."""
    if "=" not in text:
        raise click.BadParameter(f"'{text}' should look like key=value, e.g. policy.cqc_floor=good")
    key, raw = text.split("=", 1)
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return key.strip(), lowered == "true"
    for cast in (int, float):
        try:
            return key.strip(), cast(raw)
        except ValueError:
            pass
    return key.strip(), raw.strip()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="optimiser")
def main() -> None:
    """Find the cheapest commissioning mix for Extra Care Housing that keeps 24-hour cover,
    every resident's assessed care, choice and quality."""


@main.command()
@click.argument("model_file", type=click.Path(path_type=Path))
@click.option("--out", "out_root", default="results", show_default=True,
              type=click.Path(path_type=Path), help="Folder that receives results/<model name>/.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Change one setting of the model file, e.g. --set policy.cqc_floor=good.")
@click.option("--time-limit", type=float, help="Seconds before the best plan found is taken.")
@click.option("--gap", type=float, help="Relative optimality gap to stop at (0.001 = 0.1 %).")
@click.option("--threads", type=int, help="HiGHS threads.")
@click.option("--seed", type=int, help="HiGHS random seed.")
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts.")
def solve(model_file: Path, out_root: Path, overrides: tuple[str, ...], time_limit: float | None,
          gap: float | None, threads: int | None, seed: int | None, no_charts: bool) -> None:
    """Solve a commissioning model (e.g. models/optimised.toml) and write its plan."""
    from optimiser.run import solve_file

    settings = dict(_parse_override(o) for o in overrides)
    for key, value in (("time_limit", time_limit), ("mip_rel_gap", gap), ("threads", threads),
                       ("seed", seed)):
        if value is not None:
            settings[f"solver.{key}"] = value
    try:
        with console.status("Solving ..."):
            outcome = solve_file(model_file, out_root, settings, charts=not no_charts)
    except InputError as exc:
        errors.print(f"[bold red]Input error[/]\n{escape(str(exc))}")
        sys.exit(EXIT_INPUT)
    sys.exit(_report(outcome))


def _report(outcome) -> int:
    if outcome.reasons:
        errors.print("[bold red]No plan can meet every rule of this model:[/]")
        for reason in outcome.reasons:
            errors.print(f"  - {escape(reason)}")
        errors.print("Nothing was written; any earlier plan is untouched.")
        return EXIT_INFEASIBLE
    result = outcome.result
    if result is not None and not result.has_plan:
        errors.print(f"[bold red]No plan written:[/] {result.describe()} "
                     f"(HiGHS: {result.solver_status}).")
        return EXIT_INFEASIBLE if result.status == "infeasible" else EXIT_NO_SOLUTION
    console.print(escape(outcome.summary))
    if outcome.problems:
        errors.print("[bold red]The plan failed verification and was not written:[/]")
        for problem in outcome.problems:
            errors.print(f"  - {escape(problem)}")
        return EXIT_VERIFY
    if outcome.written_to is not None:
        console.print(f"Plan written to {outcome.written_to}/")
    return EXIT_OK


@main.command()
@click.argument("dataset", type=click.Path(path_type=Path))
def validate(dataset: Path) -> None:
    """Check a dataset folder (schemes, residents, visits, providers, costs) without solving."""
    from optimiser.data.load import load_dataset

    try:
        data = load_dataset(dataset)
    except InputError as exc:
        errors.print(f"[bold red]Input error[/]\n{escape(str(exc))}")
        sys.exit(EXIT_INPUT)
    console.print(
        f"{dataset}: valid. {len(data.schemes)} schemes, {len(data.residents)} residents, "
        f"{len(data.visits)} visits, {len(data.providers)} providers."
    )


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--model", "model_file", type=click.Path(path_type=Path),
              help="Model file to check against (default: the scenario recorded in run.json).")
def verify(run_dir: Path, model_file: Path | None) -> None:
    """Re-check a written plan against the input data and its model's rules, without a solver."""
    from optimiser.checks import verify_folder

    try:
        problems = verify_folder(run_dir, model_file)
    except InputError as exc:
        errors.print(f"[bold red]Input error[/]\n{escape(str(exc))}")
        sys.exit(EXIT_INPUT)
    if problems:
        errors.print(f"[bold red]{len(problems)} rule(s) broken in {run_dir}:[/]")
        for problem in problems:
            errors.print(f"  - {escape(problem)}")
        sys.exit(EXIT_VERIFY)
    console.print(f"{run_dir}: every rule holds and every cost line matches the rates.")


@main.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--schemes", "n_schemes", type=int, default=25, show_default=True,
              help="Number of schemes (1 = S, 25 = M county, 80 = L metropolitan).")
@click.option("--providers", "n_providers", type=int, help="Number of providers (default scales).")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
def generate(out_dir: Path, n_schemes: int, n_providers: int | None, seed: int) -> None:
    """Write a synthetic dataset with the bundled data's schema and distributions."""
    from optimiser.generate import generate_dataset

    if n_schemes < 1:
        raise click.BadParameter("--schemes must be at least 1")
    counts = generate_dataset(out_dir, n_schemes=n_schemes, seed=seed, n_providers=n_providers)
    console.print(f"Wrote {out_dir}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
