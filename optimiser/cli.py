"""The command line: `optimiser solve | compare | validate | verify | generate ...`.

Exit codes: 0 plan written; 1 a mistake in the input data, a model file or the output folder;
2 no plan meets the rules (infeasible); 3 no plan found within the time limit; 4 a written plan
failed verification; 64 a usage mistake on the command line (an unknown option, a bad value,
a malformed --set); 130 interrupted.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from optimiser.inputs.load import CommandLineError, InputError

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_VERIFY = 0, 1, 2, 3, 4
EXIT_USAGE = 64  # as sysexits' EX_USAGE; click's own 2 would read as "no plan meets the rules"
EXIT_INTERRUPTED = 130
POSITIVE = click.FloatRange(min=0, min_open=True)
EXIT_CODES = (
    "Exit codes: 0 done (plan written); 1 a mistake in the input data, a model file or the "
    "output folder; 2 no plan meets the rules; 3 no plan found within the time limit; 4 a "
    "plan failed verification; 64 a usage mistake on the command line; 130 interrupted."
)

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def _parse_override(text: str) -> tuple[str, object]:
    """`policy.cqc_floor=good` -> ('policy.cqc_floor', 'good'): the value read as TOML
    (optimiser.inputs.config.parse_setting); `KEY=` returns the setting to its default."""
    from optimiser.inputs.config import parse_setting

    return parse_setting(text)


def _usage(exc: CommandLineError) -> None:
    errors.print(f"[bold red]Usage error[/]\n{escape(str(exc))}")
    sys.exit(EXIT_USAGE)


class _Commands(click.Group):
    """Click's group, with usage mistakes answered with EXIT_USAGE (click's default, 2, is
    this tool's "no plan meets the rules") and a file-system error in words, not a traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            exc.show()
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            errors.print("Aborted.")
            sys.exit(EXIT_INTERRUPTED)
        except CommandLineError as exc:
            _usage(exc)
        except InputError as exc:
            errors.print(f"[bold red]Input error[/]\n{escape(str(exc))}")
            sys.exit(EXIT_INPUT)
        except OSError as exc:
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            errors.print(f"[bold red]File error:[/] cannot read or write{escape(where)}: "
                         f"{escape(exc.strerror or str(exc))}. Any earlier plan is untouched.")
            sys.exit(EXIT_INPUT)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(cls=_Commands, epilog=EXIT_CODES,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="optimiser")
def main() -> None:
    """Find the cheapest commissioning mix for Extra Care Housing that keeps 24-hour cover,
    every resident's assessed care, choice and quality."""


def solve_method_options(command):
    """--method, --workers and --scheduler: how each solve runs (docs/decomposition.md)."""
    command = click.option(
        "--scheduler", metavar="ADDRESS",
        help="Solve the schemes' own problems on this Dask scheduler (decomposition).")(command)
    command = click.option(
        "--workers", type=int,
        help="Worker processes for the schemes' own problems (decomposition).")(command)
    return click.option(
        "--method", type=click.Choice(["auto", "decompose", "single"]),
        help="Solve scheme by scheme coordinated by prices (decompose), the whole model at once "
             "(single), or decompose unless the model is tiny (auto, the default).")(command)


def _method_settings(method: str | None, workers: int | None,
                     scheduler: str | None) -> dict[str, object]:
    pairs = (("method", method), ("workers", workers), ("scheduler", scheduler))
    return {f"solver.{key}": value for key, value in pairs if value is not None}


def with_report(folder_of):
    """Add --report to a command: when it succeeds, write report.html for what it wrote
    (folder_of(command arguments) names the folder)."""

    def decorate(command):
        @functools.wraps(command)
        def run(*args, report: bool = False, **kwargs):
            try:
                command(*args, **kwargs)
            except SystemExit as done:
                if report and done.code in (0, None):
                    _write_report(folder_of(kwargs))
                raise
            if report:
                _write_report(folder_of(kwargs))

        return click.option("--report", is_flag=True, help="Also write report.html (optimiser "
                            "report) into the folder written.")(run)

    return decorate


def _write_report(folder: Path, reference: Path | None = None, pdf: bool = False) -> None:
    from optimiser.plan.report import write_report

    try:
        path = write_report(folder, reference=reference)
    except InputError as exc:
        errors.print(f"[bold red]No report:[/] {escape(str(exc))}")
        sys.exit(EXIT_INPUT)
    console.print(f"Report written to {path}")
    if pdf:
        from optimiser.plan.browser import Chromium, find_chromium

        if find_chromium() is None:
            errors.print("No PDF: chromium is not installed (apt-get install chromium).")
            sys.exit(EXIT_INPUT)
        with Chromium() as browser:
            console.print(f"PDF written to {browser.pdf(path, path.with_suffix('.pdf'))}")


def _model_name(model_file: Path, overrides: tuple[str, ...]) -> str:
    from optimiser.inputs.config import load_scenario

    return load_scenario(model_file, dict(_parse_override(o) for o in overrides)).name


def _sweep_folder(kw: dict) -> Path:
    from optimiser.studies import sweep as sweeps

    if kw.get("out_dir") is not None:
        return Path(kw["out_dir"])
    if kw.get("sweep_file") is not None:
        return sweeps.default_out(sweeps.load_sweep_file(kw["sweep_file"]))
    return sweeps.default_out(sweeps.SweepSpec(model_file=kw["model_file"]))


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
    except CommandLineError as exc:
        _usage(exc)
    except InputError as exc:
        errors.print(f"[bold red]Input error[/]\n{escape(str(exc))}")
        sys.exit(EXIT_INPUT)
    except KeyboardInterrupt:
        errors.print("Interrupted: nothing was written; any earlier plan is untouched.")
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(_report(outcome))


def _progress_reporter(status):
    """Live line while HiGHS searches: time, best plan so far, how far from proven optimal."""

    def report(seconds: float, best: float | None, bound: float | None) -> None:
        text = f"Solving ... {seconds:,.0f} s"
        if best is not None:
            text += f", best plan so far GBP {best:,.0f} a week"
            if bound is not None and best > 0:
                text += f", within {100 * max(best - bound, 0) / best:.2f} % of optimal"
        else:
            text += ", no plan found yet"
        status.update(text)

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


@main.command(short_help="Solve several models and put them side by side.")
@click.argument("model_files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", "out_root", default="results", show_default=True,
              type=click.Path(path_type=Path),
              help="Folder that receives each model's plan and compare/ with the comparison.")
@click.option("--time-limit", type=POSITIVE,
              help="Seconds per model before its best plan is taken.")
@solve_method_options
@with_report(lambda kw: Path(kw["out_root"]) / "compare")
def compare(model_files: tuple[Path, ...], out_root: Path, time_limit: float | None,
            method: str | None, workers: int | None, scheduler: str | None) -> None:
    """Solve several commissioning models and put them side by side.

    MODEL_FILES default to every models/*.toml. Each plan is written to OUT/<model>/ as by
    `optimiser solve`; OUT/compare/comparison.csv has one row per model (cost and its lines,
    block hours, on-site share, framework, direct payments, night cover per flat, choice,
    quality, providers per scheme) and OUT/compare/cost_lines.png charts the costs. A model
    that cannot meet the rules is a row saying why. Exit code 0 when the comparison is
    written, 1 if a model file has a mistake, 4 if a plan failed verification, 130 if
    interrupted (Ctrl-C: plans already written stay, no comparison is written).
    """
    from optimiser.studies.compare import default_models

    files = list(model_files) or default_models()
    if not files:
        errors.print("[bold red]No model files given and none found in models/.[/]")
        sys.exit(EXIT_INPUT)
    missing = [f"model file {f} does not exist" if not f.exists() else
               f"{f} is a folder, not a model file" for f in files if not Path(f).is_file()]
    if missing:
        errors.print(f"[bold red]Input error[/]\n{escape(str(InputError(missing, 'The models')))}"
                     "\nNothing was solved; no comparison was written.")
        sys.exit(EXIT_INPUT)
    from optimiser.plan.files import check_output_folder

    check_output_folder(Path(out_root) / "compare")
    overrides = {} if time_limit is None else {"solver.time_limit": time_limit}
    overrides.update(_method_settings(method, workers, scheduler))
    sys.exit(_compare(files, out_root, overrides))


def _compare(files: list[Path], out_root: Path, overrides: dict[str, object]) -> int:
    from optimiser.studies import compare as side_by_side

    try:
        runs = _solve_models(files, out_root, overrides)
    except KeyboardInterrupt:
        runs = None
    if runs is None or any(run.interrupted for run in runs):
        errors.print("Interrupted: no comparison written; any earlier comparison is untouched.")
        return EXIT_INTERRUPTED
    table = side_by_side.comparison_table(runs)
    folder = side_by_side.write_comparison(table, out_root)
    console.print(side_by_side.terminal_table(table))
    if table["annual_cost"].notna().any():
        console.print(side_by_side.cost_lines_table(table))
    for line in side_by_side.reasons_text(runs):
        console.print(escape(line))
    console.print(f"Comparison written to {folder}/")
    statuses = {run.status for run in runs}
    if side_by_side.FAILED_VERIFICATION in statuses:
        return EXIT_VERIFY
    return EXIT_INPUT if side_by_side.INPUT_ERROR in statuses else EXIT_OK


def _solve_models(files: list[Path], out_root: Path, overrides: dict[str, object]) -> list:
    """Solve each model under a progress bar: one line per finished model, and the live
    search of the current one (best plan so far, distance from optimal) on the bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from optimiser.studies.compare import compare_models

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Comparing models", total=len(files))
        current = {"name": ""}

        def start(path: Path) -> None:
            current["name"] = escape(path.name)
            bar.update(task, description=f"Solving {current['name']}")

        def searching(seconds: float, best: float | None, bound: float | None) -> None:
            text = f"Solving {current['name']}: {seconds:,.0f} s"
            if best is not None:
                text += f", best GBP {best:,.0f} a week"
                if bound is not None and best > 0:
                    text += f", within {100 * max(best - bound, 0) / best:.2f} %"
            bar.update(task, description=text)

        def done(run) -> None:
            bar.advance(task)
            bar.console.print(f"  {escape(run.name)}: {escape(run.status)} ({run.seconds:.0f} s)")

        return compare_models(files, out_root, overrides, on_start=start, on_done=done,
                              progress=searching)


@main.command(short_help="What each rule costs (marginal costs).")
@click.argument("model_file", type=click.Path(path_type=Path))
@click.option("--out", "out_root", default="results", show_default=True,
              type=click.Path(path_type=Path),
              help="marginal_costs.csv goes in <out>/marginal-<model>/, where a later solve of "
              "the model does not remove it.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Change one setting of the model file first.")
@click.option("--time-limit", type=POSITIVE, help="Seconds per solve.")
@solve_method_options
def marginal(model_file: Path, out_root: Path, overrides: tuple[str, ...],
             time_limit: float | None, method: str | None, workers: int | None,
             scheduler: str | None) -> None:
    """What each rule costs: one more night member of staff per scheme, a higher CQC floor,
    one more preference honoured, one more framework provider per zone, GBP 1/h on each rate.

    A run solves the model 1 + schemes + 3 times (10 on the bundled data), each up to the
    model's solver.time_limit (or --time-limit): with the bundled models' 300 s, up to 50
    minutes. A change is reported as proven only when both its solves were proven optimal;
    otherwise it is marked UNPROVEN with the range the true change lies in, never below 0."""
    from optimiser.inputs.config import load_scenario
    from optimiser.plan.files import check_output_folder
    from optimiser.studies.marginal import FOLDER_PREFIX, marginal_costs, solves_needed, write_table

    settings = dict(_parse_override(o) for o in overrides)
    if time_limit is not None:
        settings["solver.time_limit"] = time_limit
    settings.update(_method_settings(method, workers, scheduler))
    try:
        scenario = load_scenario(model_file, settings)
        path = Path(out_root) / f"{FOLDER_PREFIX}{scenario.name}" / "marginal_costs.csv"
        check_output_folder(path.parent)
        solves, limit = solves_needed(scenario), scenario.solver.time_limit
        console.print(f"{solves} solves of up to {limit:g} s each: at most about "
                      f"{solves * limit / 60:,.0f} minutes.")
        with console.status("Solving the base plan ...") as status:
            table, summary = marginal_costs(
                scenario, progress=lambda text: status.update(f"Re-solving: {text} ..."))
    except CommandLineError as exc:
        _usage(exc)
    except InputError as exc:
        errors.print(f"[bold red]Input error[/]\n{escape(str(exc))}")
        sys.exit(EXIT_INPUT)
    except ValueError as exc:
        errors.print(f"[bold red]No marginal costs:[/] {escape(str(exc))}")
        sys.exit(EXIT_INFEASIBLE)
    except KeyboardInterrupt:
        errors.print("Interrupted: nothing was written.")
        sys.exit(EXIT_INTERRUPTED)
    write_table(table, path)
    console.print(escape("\n".join(summary)))
    console.print(f"Written to {path}")


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


@main.command(short_help="Solve one model under many what-ifs.")
@click.argument("model_file", required=False, type=click.Path(path_type=Path))
@click.option("--file", "sweep_file", type=click.Path(path_type=Path),
              help="A sweep file (sweeps/*.toml) instead of MODEL_FILE and --vary.")
@click.option("--vary", "varies", multiple=True, metavar="PARAM=VALUES",
              help="A setting to move: a model-file key (policy.cqc_floor=[good,outstanding],"
              " policy.min_framework_per_zone=2..6) or a scaling (rates.night*=1.0:1.3:0.05,"
              " rates.day*, rates.weekend*, rates.all*, demand*, budgets*, capacity*).")
@click.option("--factorial", is_flag=True,
              help="Every combination of the values (default: one setting at a time).")
@click.option("--random", "random_draws", type=int, default=0,
              help="Add N scenarios with each resident's visit minutes drawn around the "
              "assessed minutes.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the draws.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Change a model-file setting in every scenario.")
@click.option("--time-limit", type=POSITIVE, help="Seconds per scenario.")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Scenarios solved at once, each in its own process.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Send scenarios to a running Dask cluster, e.g. tcp://10.0.0.5:8786.")
@click.option("--base-set", "base_overrides", multiple=True, metavar="KEY=VALUE",
              help="Change a model-file setting for the first (base) scenario only, e.g. a "
              "longer solver.time_limit: every other scenario starts from its plan.")
@click.option("--rebuild", is_flag=True,
              help="Build and solve every scenario from scratch (default: reuse each "
              "process's HiGHS model where only numbers change, starting from the base plan).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path),
              help="Output folder (default results/sweep-<model>).")
@with_report(lambda kw: _sweep_folder(kw))
def sweep(model_file: Path | None, sweep_file: Path | None, varies: tuple[str, ...],
          factorial: bool, random_draws: int, seed: int, overrides: tuple[str, ...],
          time_limit: float | None, workers: int, scheduler: str | None,
          base_overrides: tuple[str, ...], rebuild: bool, out_dir: Path | None) -> None:
    """Solve one model under many what-ifs and say how robust the plan is.

    Writes OUT/sweep.csv (one row per scenario: the values moved, status, cost and its lines,
    headline figures, block holder and hours per scheme), a chart per setting, a tornado
    chart of cost sensitivity and summary.txt. Finished scenarios are kept: run the same
    command again after an interruption and only the rest are solved. Exit code 0 when the
    sweep is written, 1 if the sweep or model file has a mistake, 130 if interrupted.
    """
    from dataclasses import replace

    from optimiser.studies import sweep as sweeps

    try:
        if sweep_file is not None:
            spec = sweeps.load_sweep_file(sweep_file)
        elif model_file is not None:
            spec = sweeps.SweepSpec(model_file=model_file,
                                    varies=tuple(sweeps.parse_vary(v) for v in varies),
                                    mode=sweeps.FACTORIAL if factorial else sweeps.ONE_AT_A_TIME,
                                    random=random_draws, seed=seed)
        else:
            raise InputError(["give a MODEL_FILE with --vary, or --file SWEEP_FILE"], "The sweep")
        fixed = dict(_parse_override(o) for o in overrides)
        if time_limit is not None:
            fixed["solver.time_limit"] = time_limit
        base_fixed = dict(_parse_override(o) for o in base_overrides)
        spec = replace(spec, fixed={**spec.fixed, **fixed},
                       base_fixed={**spec.base_fixed, **base_fixed})
        _check_sweep(sweeps, spec, out_dir)
        if scheduler is not None:
            _check_scheduler(scheduler)
        outcome = _run_sweep(sweeps, spec, out_dir, workers, scheduler, reuse=not rebuild)
    except CommandLineError as exc:
        _usage(exc)
    except InputError as exc:
        errors.print(f"[bold red]{escape(str(exc))}[/]")
        sys.exit(EXIT_INPUT)
    except KeyboardInterrupt:
        errors.print("Interrupted: finished scenarios are kept; run again to resume.")
        sys.exit(EXIT_INTERRUPTED)
    console.print(escape((outcome.folder / sweeps.SUMMARY_NAME).read_text(encoding="utf-8")))
    console.print(f"Sweep written to {outcome.folder}/ ({len(outcome.solved)} solved, "
                  f"{len(outcome.skipped)} already done)")
    sys.exit(EXIT_OK)


def _check_sweep(sweeps, spec, out_dir: Path | None) -> None:
    """Before any scenario is solved: the model file with the sweep's settings (every scenario
    and the base's own) must be valid, and the sweep's folder writable."""
    from optimiser.inputs.config import load_scenario
    from optimiser.plan.files import check_output_folder

    load_scenario(spec.model_file, {**spec.fixed, **spec.base_fixed})
    check_output_folder(Path(out_dir) if out_dir is not None else sweeps.default_out(spec))


def _check_scheduler(address: str, seconds: float = 5.0) -> None:
    """Refuse at once, in words, a Dask scheduler address where nothing answers (the client
    would otherwise wait 30 s and raise OSError)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls"):
        return
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise CommandLineError([f"--scheduler {address}: expected an address such as "
                                "tcp://10.0.0.5:8786"])
    try:
        socket.create_connection((host, port), timeout=seconds).close()
    except OSError as exc:
        raise InputError([f"no Dask scheduler answers at {address} ({exc.strerror or exc}); "
                          "start one (dask scheduler) or leave out --scheduler"],
                         "The sweep") from None


def _run_sweep(sweeps, spec, out_dir: Path | None, workers: int, scheduler: str | None,
               reuse: bool = True):
    """Run the sweep under a progress bar with the time left."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"Sweeping {escape(spec.name)}", total=None)

        def done(row: dict, finished: int, total: int) -> None:
            bar.update(task, completed=finished, total=total)
            if row:
                bar.console.print(f"  {row['scenario_id']}: {escape(str(row['status']))}"
                                  f" ({row['seconds']:.0f} s)")

        return sweeps.run_sweep(spec, out_dir, workers=workers, scheduler=scheduler,
                                on_done=done, reuse=reuse)


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


if __name__ == "__main__":
    main()
