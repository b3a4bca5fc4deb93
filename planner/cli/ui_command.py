"""``edwc ui``: start the Streamlit app with its safety settings."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import click

#: Settings passed to ``streamlit run`` on the command line, because Streamlit reads
#: ``.streamlit/config.toml`` only from the current directory and the user's home.
SERVER_FLAGS = {
    "server.maxUploadSize": "1",  # MB: the 1 MB limit of `edwc run FILE` (planner.scenario)
    "server.enableXsrfProtection": "true",
    "server.enableCORS": "true",
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "browser.gatherUsageStats": "false",
    "client.showErrorDetails": "type",
    "client.toolbarMode": "minimal",
    "theme.base": "light",
    "theme.primaryColor": "#00695c",
}


def app_path() -> Path:
    """Installed location of ``ui/app.py``."""
    return Path(str(resources.files("ui") / "app.py"))


def streamlit_command(port: int, headless: bool, address: str) -> list[str]:
    """The ``python -m streamlit run`` command line of the app."""
    command = [sys.executable, "-m", "streamlit", "run", str(app_path())]
    flags = {**SERVER_FLAGS, "server.port": str(port), "server.address": address,
             "server.headless": "true" if headless else "false"}
    for name, value in flags.items():
        command.append(f"--{name}={value}")
    return command


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True,
              help="Port to serve the app on.")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 serves other machines too.")
@click.option("--headless/--browser", default=False,
              help="Do not open a browser window (for servers).")
def ui(port: int, address: str, headless: bool) -> None:
    """Start the planner's web app (Streamlit) and open it in the browser."""
    try:
        import streamlit  # noqa: F401
    except ImportError:
        click.secho("edwc ui | Streamlit is not installed. Run `pip install edwc-planner` again "
                    "(it depends on streamlit) or `pip install streamlit`.", fg="red", err=True)
        sys.exit(2)
    app = app_path()
    command = streamlit_command(port, headless, address)
    click.echo(f"Starting EDWC Planner on http://{address}:{port} (Ctrl+C stops it)")
    try:
        # cwd: Streamlit also reads ui/.streamlit/config.toml (theme) from the app's folder.
        completed = subprocess.run(command, cwd=app.parent, check=False)
    except KeyboardInterrupt:
        sys.exit(0)
    sys.exit(completed.returncode)
