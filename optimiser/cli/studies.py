"""Commands for studies built on solving: compare, marginal and sweep (the group, exit codes
and shared options are in optimiser.cli)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from optimiser.cli import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_VERIFY,
    POSITIVE,
    _method_settings,
    _parse_override,
    _sweep_folder,
    _usage,
    console,
    errors,
    main,
    search_state,
    solve_method_options,
    with_report,
)
from optimiser.inputs.load import CommandLineError, InputError


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
            bar.update(task, description=f"Solving {current['name']}: {seconds:,.0f} s"
                                         f"{search_state(best, bound)}")

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
    except ValueError as exc:
        errors.print(f"[bold red]No marginal costs:[/] {escape(str(exc))}")
        sys.exit(EXIT_INFEASIBLE)
    except KeyboardInterrupt:
        errors.print("Interrupted: nothing was written.")
        sys.exit(EXIT_INTERRUPTED)
    write_table(table, path)
    console.print(escape("\n".join(summary)))
    console.print(f"Written to {path}")


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
