"""``edwc ui``: start the Streamlit app with its safety settings; stopping it stops everything it started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import click

from planner.cli.common import EXIT_BAD_INPUT, Command, debug_option, fail, terminal_text

#: Settings passed to ``streamlit run`` on the command line, because Streamlit reads
#: ``.streamlit/config.toml`` only from the current directory and the user's home. The server is
#: always headless (it never opens a browser or asks for an e-mail address on its first run:
#: ``edwc ui`` opens the browser itself).
SERVER_FLAGS = {
    "server.maxUploadSize": "1",  # MB: the 1 MB limit of `edwc run FILE` (planner.scenario)
    "server.enableXsrfProtection": "true",
    "server.enableCORS": "true",
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "server.headless": "true",
    "server.showEmailPrompt": "false",
    "browser.gatherUsageStats": "false",
    "client.showErrorDetails": "type",
    "client.toolbarMode": "minimal",
    "theme.base": "light",
    "theme.primaryColor": "#00695c",
}
#: Longest wait for the server to answer before the browser is opened anyway. [s]
START_TIMEOUT_S = 60.0
#: Time the server is given to stop after SIGTERM before it is killed. [s]
STOP_GRACE_S = 10.0
#: Signals that stop the app (Ctrl+C, ``kill``, a closed terminal).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class _Stopped(Exception):
    """A stop signal arrived."""


def app_path() -> Path:
    """Installed location of ``ui/app.py``."""
    return Path(str(resources.files("ui") / "app.py"))


def streamlit_command(port: int, address: str) -> list[str]:
    """The ``python -m streamlit run`` command line of the app (always headless, never prompting)."""
    command = [sys.executable, "-m", "streamlit", "run", str(app_path())]
    flags = {**SERVER_FLAGS, "server.port": str(port), "server.address": address}
    for name, value in flags.items():
        command.append(f"--{name}={value}")
    return command


def _answers(address: str, port: int) -> bool:
    host = "127.0.0.1" if address in ("0.0.0.0", "") else address.strip("[]")
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def stop_server(process: subprocess.Popen, grace_s: float = STOP_GRACE_S) -> None:
    """Stop the server and every process it started (its process group): SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@click.command(cls=Command)
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True,
              help="Port to serve the app on.")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 serves other machines too.")
@click.option("--headless/--browser", default=False,
              help="--browser (default) opens the app in a browser once it answers; --headless does not.")
@debug_option
def ui(port: int, address: str, headless: bool, debug: bool) -> None:
    """Start the planner's web app (Streamlit); Ctrl+C (or SIGTERM) stops it and everything it started."""
    try:
        import streamlit  # noqa: F401
    except ImportError:
        fail("edwc ui | Streamlit is not installed. Run `pip install edwc-planner` again "
             "(it depends on streamlit) or `pip install streamlit`.", EXIT_BAD_INPUT)
    app = app_path()
    url = f"http://{address}:{port}"
    click.echo(f"Starting EDWC Planner on {terminal_text(url)} (Ctrl+C stops it)")

    def on_signal(signum, _frame):
        raise _Stopped(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    # A session of its own: a terminal's Ctrl+C reaches this process only, which then stops the
    # server's whole group, workers included; nothing outlives `edwc ui`.
    process = subprocess.Popen(streamlit_command(port, address), cwd=app.parent, start_new_session=True)
    code = 0
    try:
        if not headless:
            deadline = time.monotonic() + START_TIMEOUT_S
            while process.poll() is None and not _answers(address, port) and time.monotonic() < deadline:
                time.sleep(0.2)
            if process.poll() is None:
                import webbrowser

                webbrowser.open(url)
        code = process.wait()
    except _Stopped:
        code = 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_server(process)
    sys.exit(code)
