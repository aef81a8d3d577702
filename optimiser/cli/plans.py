"""Commands on one plan and its data: solve, validate, verify, generate, template, report and
diff (the group, exit codes and shared options are in optimiser.cli)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from optimiser.cli import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_NO_SOLUTION,
    EXIT_OK,
    EXIT_VERIFY,
    POSITIVE,
    _method_settings,
    _model_name,
    _parse_override,
    _write_report,
    console,
    errors,
    main,
    search_state,
    solve_method_options,
    with_report,
)
from optimiser.inputs.load import InputError


@main.command(short_help="Solve a model file and write its plan.")
@click.argument("model_file", type=click.Path(path_type=Path))
@click.option("--out", "out_root", default="results", show_default=True,
              type=click.Path(path_type=Path), help="Folder that receives results/<model name>/.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Change one setting of the model file, e.g. --set policy.cqc_floor=good.")
@click.option("--time-limit", type=POSITIVE, help="Seconds before the best plan found is taken.")
@click.option("--gap", type=click.FloatRange(0, 1),
              help="Relative optimality gap to stop at (0.001 = 0.1 %).")
@click.option("--threads", type=click.IntRange(0), help="HiGHS threads.")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), help="HiGHS random seed.")
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts.")
@solve_method_options
@with_report(lambda kw: Path(kw["out_root"]) / _model_name(kw["model_file"], kw["overrides"]))
def solve(model_file: Path, out_root: Path, overrides: tuple[str, ...], time_limit: float | None,
          gap: float | None, threads: int | None, seed: int | None, no_charts: bool,
          method: str | None, workers: int | None, scheduler: str | None) -> None:
    """Solve a commissioning model (e.g. models/optimised.toml) and write its plan."""
    from optimiser.inputs.config import load_scenario
    from optimiser.plan.files import check_output_folder
    from optimiser.run import solve_scenario

    settings = dict(_parse_override(o) for o in overrides)
    settings.update(_method_settings(method, workers, scheduler))
    for key, value in (("time_limit", time_limit), ("mip_rel_gap", gap), ("threads", threads),
                       ("seed", seed)):
        if value is not None:
            settings[f"solver.{key}"] = value
    try:
        scenario = load_scenario(model_file, settings)
        check_output_folder(Path(out_root) / scenario.name)
        with console.status(f"Solving {model_file} ...") as status:
            outcome = solve_scenario(scenario, out_root, charts=not no_charts,
                                     progress=_progress_reporter(status))
    except KeyboardInterrupt:
        errors.print("Interrupted: nothing was written; any earlier plan is untouched.")
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(_report(outcome))


def _progress_reporter(status):
    """Live line while HiGHS searches: time, best plan so far, how far from proven optimal."""

    def report(seconds: float, best: float | None, bound: float | None) -> None:
        status.update(f"Solving ... {seconds:,.0f} s{search_state(best, bound)}")

    return report


def _report(outcome) -> int:
    if outcome.reasons:
        errors.print("[bold red]No plan can meet every rule of this model:[/]")
        for reason in outcome.reasons:
            errors.print(f"  - {escape(reason)}")
        errors.print("Nothing was written; any earlier plan is untouched.")
        return EXIT_INFEASIBLE
    result = outcome.result
    if result is not None and result.status == "interrupted":
        errors.print("Interrupted: nothing was written; any earlier plan is untouched.")
        return EXIT_INTERRUPTED
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


@main.command(short_help="Check a dataset (folder or .xlsx) without solving.")
@click.argument("dataset", required=False, type=click.Path(path_type=Path))
@click.option("--describe", is_flag=True,
              help="Print every input table's columns and their rules, then stop.")
def validate(dataset: Path | None, describe: bool) -> None:
    """Check a dataset without solving: a folder of CSV files (schemes, residents, visits,
    providers, costs) or one .xlsx workbook with a sheet per table (optimiser template).

    Every problem is listed with its file (or sheet), row and column. --describe prints the
    tables' columns, units and rules instead.
    """
    from optimiser.inputs.load import load_dataset

    if describe:
        from optimiser.inputs.schema import describe as describe_tables

        console.print(escape(describe_tables()))
        return
    if dataset is None:
        raise click.UsageError("give a DATASET (folder or .xlsx), or --describe")

    try:
        data = load_dataset(dataset)
    except InputError as exc:
        errors.print(f"[bold red]Input error[/]\n{escape(str(exc))}")
        sys.exit(EXIT_INPUT)
    console.print(
        f"{dataset}: valid. {len(data.schemes)} schemes, {len(data.residents)} residents, "
        f"{len(data.visits)} visits, {len(data.providers)} providers."
    )


@main.command(short_help="Re-check a written plan without a solver.")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--model", "model_file", type=click.Path(path_type=Path),
              help="Model file to check against (default: the scenario recorded in run.json).")
def verify(run_dir: Path, model_file: Path | None) -> None:
    """Re-check a written plan against the input data and its model's rules, without a solver."""
    from optimiser.plan.checks import verify_folder

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


@main.command(short_help="Write a synthetic dataset of any size.")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--schemes", "n_schemes", type=click.IntRange(1, 1000), default=25,
              show_default=True, help="Number of schemes (1 = S, 25 = M county, 80 = L "
              "metropolitan; at most 1000).")
@click.option("--providers", "n_providers", type=click.IntRange(5, 10000),
              help="Number of providers, at least 5 (default scales with the schemes).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=1, show_default=True,
              help="Random seed.")
def generate(out_dir: Path, n_schemes: int, n_providers: int | None, seed: int) -> None:
    """Write a synthetic dataset with the bundled data's schema and distributions."""
    from optimiser.inputs.generate import generate_dataset

    if out_dir.exists() and not out_dir.is_dir():
        raise InputError([f"{out_dir} is a file; give a folder for the dataset"], "The output")
    counts = generate_dataset(out_dir, n_schemes=n_schemes, seed=seed, n_providers=n_providers)
    console.print(f"Wrote {out_dir}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@main.command(short_help="Write the blank Excel input workbook.")
@click.argument("out_file", type=click.Path(path_type=Path))
@click.option("--from", "dataset", type=click.Path(path_type=Path),
              help="Fill it from a dataset folder's CSV files instead of leaving it blank.")
def template(out_file: Path, dataset: Path | None) -> None:
    """Write an Excel workbook to fill in with your council's data: a sheet per table, drop-down
    lists for ratings, days and yes/no columns, and a Definitions sheet (docs/your-data.md).
    `validate` and `solve` accept the filled workbook wherever a dataset folder is expected."""
    from optimiser.inputs.workbook import write_template

    if out_file.suffix.lower() != ".xlsx":
        raise click.BadParameter("the workbook's name must end in .xlsx", param_hint="OUT_FILE")
    try:
        path = write_template(out_file, dataset)
    except InputError as exc:
        errors.print(f"[bold red]Input error[/]\n{escape(str(exc))}")
        sys.exit(EXIT_INPUT)
    console.print(f"Template written to {path}" + (f" (filled from {dataset})" if dataset
                                                   else ""))


@main.command(short_help="Write the HTML report of a plan, comparison or sweep.")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--reference", type=click.Path(path_type=Path),
              help="Another plan's folder to set the cost lines against, e.g. results/block.")
@click.option("--pdf", is_flag=True, help="Also print the page to report.pdf (needs chromium).")
def report(run_dir: Path, reference: Path | None, pdf: bool) -> None:
    """Write RUN_DIR/report.html: one self-contained page (no network needed, charts embedded)
    for a cabinet paper: the question and the answer, cost lines, block contracts, framework,
    choice and quality, hourly cover, assumptions and sources. RUN_DIR is a plan folder
    (results/<model>), a comparison (results/compare) or a sweep folder."""
    _write_report(run_dir, reference, pdf)


@main.command(short_help="What changed between two plans.")
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Also write diff.md and the tables as CSV files to this folder.")
@click.option("--residents", "max_residents", type=int, default=50, show_default=True,
              help="Residents listed on the terminal (the --out files list them all).")
def diff(run_a: Path, run_b: Path, out_dir: Path | None, max_residents: int) -> None:
    """What changed from the plan in RUN_A to the plan in RUN_B, in words and as tables: cost
    lines, blocks that changed hands or size, framework providers in and out, residents whose
    provider or route changed (by pseudonymous id), preferences honoured, quality figures."""
    from optimiser.plan.diff import diff_runs, markdown, write_diff

    try:
        result = diff_runs(run_a, run_b)
    except InputError as exc:
        errors.print(f"[bold red]Input error[/]\n{escape(str(exc))}")
        sys.exit(EXIT_INPUT)
    console.print(escape(markdown(result, max_residents)))
    if out_dir is not None:
        console.print(f"Diff written to {write_diff(result, out_dir)}/")
