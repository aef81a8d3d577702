"""Headless Chromium, driven over the DevTools protocol on a pipe: no driver, no extra package.

Used to print the report to PDF and, in the tests, to load it as a reader's browser would:
collect console messages and uncaught errors, read the rendered text and take a screenshot.
Chromium comes from the system (Debian's ``chromium`` package); the network is never needed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--mute-audio", "--no-default-browser-check")


def find_chromium() -> str | None:
    """Path of a Chromium (or Chrome) executable, or None. CHROMIUM overrides the search."""
    given = os.environ.get("CHROMIUM")
    if given:
        return shutil.which(given) or (given if Path(given).is_file() else None)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageLoad:
    """What a page did when loaded: console messages, errors, rendered text, screenshot."""

    console: list[tuple[str, str]] = field(default_factory=list)  # (level, text)
    errors: list[str] = field(default_factory=list)  # uncaught exceptions, failed loads, CSP
    text: str = ""
    title: str = ""
    height: int = 0
    screenshot: bytes = b""


class Chromium:
    """One headless Chromium process, driven over --remote-debugging-pipe."""

    def __init__(self, executable: str | None = None, width: int = 1200, height: int = 900,
                 timeout: float = 60.0):
        exe = executable or find_chromium()
        if exe is None:
            raise FileNotFoundError("no chromium found (apt-get install chromium)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="optimiser-chromium-")
        to_browser, self._ours_w = os.pipe()
        self._ours_r, from_browser = os.pipe()

        def pipes() -> None:  # the protocol pipes must be fds 3 (read) and 4 (write)
            a, b = os.dup(to_browser), os.dup(from_browser)  # may already be 3 or 4
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)  # a no-op dup2 leaves a dup's close-on-exec flag set
            os.set_inheritable(4, True)

        args = [exe, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
                f"--window-size={width},{height}", "about:blank"]
        self.proc = subprocess.Popen(args, preexec_fn=pipes, close_fds=False,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []

    # -- protocol
    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        message: dict = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._ours_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._ours_r], [], [], left)
            if ready:
                chunk = os.read(self._ours_r, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(self._receive(deadline))

    # -- pages
    def open(self, url: str) -> str:
        """Open url in a new tab with console and log capture on; returns the session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.send(domain, session=session)
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired")
        return session

    def evaluate(self, session: str, expression: str) -> object:
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True}, session=session)
        return result.get("result", {}).get("value")

    def load(self, path: Path, screenshot: bool = True) -> PageLoad:
        """Load a local file and report what happened."""
        session = self.open(Path(path).resolve().as_uri())
        time.sleep(0.3)  # let late console messages (image decoding, CSP reports) arrive
        self.evaluate(session, "1")
        out = PageLoad()
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", "")))
                                for a in params.get("args", []))
                out.console.append((params.get("type", ""), text))
                if params.get("type") in ("error", "assert"):
                    out.errors.append(text)
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                out.errors.append(details.get("exception", {}).get("description")
                                  or details.get("text", "exception"))
            elif method == "Log.entryAdded":
                entry = params.get("entry", {})
                out.console.append((entry.get("level", ""), entry.get("text", "")))
                if entry.get("level") == "error":
                    out.errors.append(entry.get("text", ""))
        out.text = str(self.evaluate(session, "document.body.innerText") or "")
        out.title = str(self.evaluate(session, "document.title") or "")
        out.height = int(self.evaluate(session, "document.documentElement.scrollHeight") or 0)
        broken = self.evaluate(session, "Array.from(document.images).filter("
                                        "i => !i.complete || i.naturalWidth === 0).length")
        if broken:
            out.errors.append(f"{broken} image(s) did not render")
        if screenshot:
            shot = self.send("Page.captureScreenshot", {"format": "png",
                                                        "captureBeyondViewport": True},
                             session=session)
            out.screenshot = base64.b64decode(shot["data"])
        return out

    def pdf(self, path: Path, out: Path) -> Path:
        """Print a local page to PDF (A4, backgrounds on)."""
        session = self.open(Path(path).resolve().as_uri())
        data = self.send("Page.printToPDF", {"printBackground": True, "paperWidth": 8.27,
                                             "paperHeight": 11.69, "preferCSSPageSize": True},
                         session=session)["data"]
        Path(out).write_bytes(base64.b64decode(data))
        return Path(out)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._ours_r, self._ours_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
