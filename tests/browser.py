"""Headless Chromium driven over the Chrome DevTools Protocol, with every other host unreachable.

Debian's ``chromium`` is started with a new empty profile, no background
networking, and a resolver that maps every host name except 127.0.0.1 to
"not found", so a page that tries to reach a CDN fails visibly instead of
silently working online. Every request the page makes is recorded from the
``Network.requestWillBeSent`` events, so a test can assert where they went, and so is
every error the page's console shows (a script's ``console.error``, an uncaught
exception, and the browser's own messages: a refused or failed load, a CSP violation).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from websockets.sync.client import ClientConnection, connect

if TYPE_CHECKING:
    from tests.server import ServerProcess

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--window-size=1280,1600",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One browser tab: send CDP commands, evaluate JavaScript, record requests."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.requested: list[str] = []  # every URL the page asked for, in order
        self.request_urls: dict[str, str] = {}  # CDP requestId → URL
        self.blocked: dict[str, str] = {}  # URL → why the browser refused to send it (e.g. "csp")
        self.console_errors: list[str] = []  # every error the console shows, as its text

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Run one CDP command and return its result; events that arrive meanwhile are recorded."""
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            self._record(message)
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def _record(self, message: dict[str, Any]) -> None:
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            self.requested.append(params["request"]["url"])
            self.request_urls[params["requestId"]] = params["request"]["url"]
        elif message.get("method") == "Network.loadingFailed" and params.get("blockedReason"):
            self.blocked[self.request_urls.get(params["requestId"], "?")] = params["blockedReason"]
        elif message.get("method") == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif message.get("method") == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.console_errors.append(details.get("exception", {}).get("description") or details.get("text", "uncaught exception"))
        elif message.get("method") == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(f"{entry.get('source', '')}: {entry.get('text', '')} {entry.get('url', '')}".strip())

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def settle(self, seconds: float = 1.0) -> None:
        """Let the page run for ``seconds`` more (late requests, console messages), recording its events."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.evaluate("0")
            time.sleep(0.1)

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"still falsy after {timeout} s: {expression}")

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))


def _devtools_port(profile: Path, process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """Chromium writes the port it chose to <profile>/DevToolsActivePort."""
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode}")
        if port_file.exists() and (lines := port_file.read_text().split()):
            return int(lines[0])
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A fresh headless Chromium with one blank tab, Network and Page events on."""
    binary = chromium_path()
    assert binary is not None, "chromium is not installed (apt-get install chromium)"
    # Chromium's helper processes may still write into the profile as it is removed: remove what can be removed
    with tempfile.TemporaryDirectory(prefix="chromium-profile-", ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the helpers (renderer, GPU, utility) end with it
        )
        try:
            port = _devtools_port(Path(profile), process)
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            with connect(url, max_size=None, open_timeout=10) as ws:
                page = Page(ws)
                page.send("Network.enable")
                page.send("Page.enable")
                page.send("Runtime.enable")
                page.send("Log.enable")
                yield page
        finally:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
            time.sleep(0.2)  # let the helpers exit before the profile is removed


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to Chromium and every helper process it started (its process group); nothing if it is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def foreign_requests(page: Page, server: ServerProcess) -> list[str]:
    """Every request to another host the page tried (data: and blob: URLs stay in the page), also those that the
    page's Content-Security-Policy refused: a page that asks for one is broken offline (and shows a console error)."""
    own = urlsplit(server.url).netloc
    return [u for u in page.requested if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != own]


def js(value: str) -> str:
    return json.dumps(value)
