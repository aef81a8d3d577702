"""The command line: `optimiser solve | compare | validate | verify | generate ...`.

Exit codes: 0 plan written; 1 a mistake in the input data, a model file or the output folder;
2 no plan meets the rules (infeasible); 3 no plan found within the time limit; 4 a written plan
failed verification; 64 a usage mistake on the command line (an unknown option, a bad value,
a malformed --set); 130 interrupted.

This module holds the group, the exit codes and what the commands share; the commands are in
plans (solve, validate, verify, generate, template, report, diff) and studies (compare,
marginal, sweep).
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



def search_state(best: float | None, bound: float | None) -> str:
    """The live line's tail while HiGHS searches: the best plan so far and how far it may be
    from optimal."""
    if best is None:
        return ", no plan found yet"
    text = f", best plan so far GBP {best:,.0f} a week"
    if bound is not None and best > 0:
        text += f", within {100 * max(best - bound, 0) / best:.2f} % of optimal"
    return text


# The commands, one module per family; importing them registers them on `main`.
from optimiser.cli import plans, studies  # noqa: E402, F401
