"""The parent's side of a child: run it with a hard limit and a live status line, and read
what it reports.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimiser.bench.spec import PROGRESS, ROOT

# --- Parent: run children with a hard limit and a live status line -------------------------------


@dataclass
class ChildRun:
    """What the parent saw of one child: its result, or why there is none."""

    result: dict[str, Any] | None
    status: str = ""
    note: str = ""


def _reader(stream: Any, state: dict[str, Any], tail: deque[str]) -> None:
    """Collect the child's progress lines (stage names) and keep the last lines of any output."""
    for line in stream:
        line = line.rstrip("\n")
        if line.startswith(PROGRESS):
            state["stage"] = json.loads(line[len(PROGRESS):])["stage"]
            state["since"] = time.monotonic()
        elif line.strip():
            tail.append(line)


def _kill(proc: subprocess.Popen[str]) -> None:
    """Kill the child's own process group (it was started in a new session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _watch(proc: subprocess.Popen[str], label: str, hard_limit: float,
           state: dict[str, Any], say: Callable[[str], None]) -> bool:
    """Wait for the child, updating the status line; return False if it hit the hard limit."""
    from rich.console import Console

    console = Console(stderr=True)
    start = last_beat = time.monotonic()
    with console.status(f"{label}: starting") as status:
        while True:
            try:
                proc.wait(timeout=1.0)
                return True
            except subprocess.TimeoutExpired:
                pass
            elapsed = time.monotonic() - start
            if elapsed > hard_limit:
                _kill(proc)
                return False
            status.update(f"{label}: {state['stage']} · {elapsed:.0f} s elapsed "
                          f"(hard limit {hard_limit:.0f} s)")
            if not console.is_terminal and time.monotonic() - last_beat >= 60:
                last_beat = time.monotonic()
                say(f"  {label}: still in {state['stage']}, {elapsed:.0f} s elapsed")


def run_child(kind: str, job: dict[str, Any], hard_limit: float, label: str,
              say: Callable[[str], None]) -> ChildRun:
    """Run one measurement in a fresh Python process; never raises on a crash or a hang."""
    result_file = Path(job["result_file"])
    result_file.unlink(missing_ok=True)
    job_file = result_file.with_suffix(".job.json")
    job_file.write_text(json.dumps(job), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "optimiser.bench", "_child", kind, str(job_file)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
        start_new_session=True,
    )
    state: dict[str, Any] = {"stage": "starting", "since": time.monotonic()}
    tail: deque[str] = deque(maxlen=20)
    reader = threading.Thread(target=_reader, args=(proc.stdout, state, tail), daemon=True)
    reader.start()
    finished = _watch(proc, label, hard_limit, state, say)
    reader.join(timeout=5)
    if not finished:
        return ChildRun(None, "timed out", f"killed after {hard_limit:.0f} s in {state['stage']}")
    if proc.returncode != 0 or not result_file.is_file():
        last = " | ".join(list(tail)[-3:])[-300:]
        return ChildRun(None, "crashed", f"exit {proc.returncode} in {state['stage']}: {last}")
    return ChildRun(json.loads(result_file.read_text(encoding="utf-8")))
