"""Drive the course notebooks in real JupyterLab and headless Chromium (browser test and benchmark).

* :func:`start_lab` / :func:`stop_lab` run ``jupyter lab`` from the project's ``.venv`` on a free
  loopback port with a random token; every Jupyter folder it writes to is temporary.
* :func:`launch_browser` starts Debian's Chromium through Playwright (Playwright cannot
  download a browser here), with networking extras off and a temporary profile.
* :func:`check_notebook` opens one notebook, runs all cells, waits for the kernel to be idle,
  then moves every slider of every explorer (``.course-explorer``) and returns the problems
  it found (empty when everything works).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT = "install Debian's Chromium: sudo apt-get update && sudo apt-get install -y chromium"
ARTEFACTS = ROOT / "artefacts" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]
# JupyterLab settings: no news prompt, no update check, and never save over a course notebook.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # Every cell in the DOM (the default skips off-screen cells), so every explorer can be found.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


@dataclass
class Lab:
    """A running JupyterLab server started by :func:`start_lab`."""

    proc: subprocess.Popen
    port: int
    token: str
    home: Path
    log: Path
    children: set[int] = field(default_factory=set)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "lab") -> str:
        return f"{self.base}/{path}?token={self.token}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _write_settings(settings_dir: Path) -> None:
    for rel, value in LAB_SETTINGS.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def lab_env(home: Path) -> dict[str, str]:
    """Environment for the server and its kernels: every Jupyter/IPython/matplotlib folder under ``home``."""
    env = dict(os.environ)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env[var] = str(home / var.lower())
        Path(env[var]).mkdir(parents=True, exist_ok=True)
    env.pop("MPLBACKEND", None)  # the notebooks choose their own backend, as they do for a student
    env.update(PYDEVD_DISABLE_FILE_VALIDATION="1", PYTHONHASHSEED="0")
    return env


def start_lab(timeout: float = 90.0) -> Lab:
    """Start ``.venv/bin/jupyter lab`` on a free loopback port; wait until its API answers."""
    jupyter = ROOT / ".venv" / "bin" / "jupyter"
    if not jupyter.exists():
        raise FileNotFoundError(f"{jupyter} not found: run `make install` first")
    home = Path(tempfile.mkdtemp(prefix="course-lab-"))
    _write_settings(home / "user-settings")
    port, token = free_port(), secrets.token_hex(24)
    cmd = [
        str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
        f"--LabApp.user_settings_dir={home / 'user-settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", "--LabApp.expose_app_in_browser=True",
        "--ServerApp.terminals_enabled=False", "--ContentsManager.allow_hidden=False",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = home / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=lab_env(home), stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    lab = Lab(proc=proc, port=port, token=token, home=home, log=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{lab.base}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return lab
        time.sleep(0.3)
    stop_lab(lab)
    raise TimeoutError(f"jupyter lab did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _descendants(pid: int) -> set[int]:
    """Process ids below ``pid`` (kernels run in their own session, so a group kill would miss them)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def stop_lab(lab: Lab, timeout: float = 15.0) -> None:
    """Shut the server and its kernels down: API first, then signals to the ids it started."""
    lab.children |= _descendants(lab.proc.pid)
    with contextlib.suppress(OSError):
        req = urllib.request.Request(f"{lab.base}/api/shutdown?token={lab.token}", method="POST", data=b"")
        urllib.request.urlopen(req, timeout=5).close()
    try:
        lab.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(lab.proc.pid, signal.SIGTERM)
        try:
            lab.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(lab.proc.pid, signal.SIGKILL)
            lab.proc.wait(timeout=5)
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in lab.children) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in lab.children:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def leftovers(lab: Lab) -> list[str]:
    """What is still running or listening after :func:`stop_lab` (should be nothing)."""
    left = [f"process {p}" for p in lab.children | {lab.proc.pid} if _alive(p)]
    if port_is_listening(lab.port):
        left.append(f"port {lab.port} still listening")
    return left


def launch_browser(playwright, profile_dir: Path, *, width: int = 1280, height: int = 1600):
    """Headless Debian Chromium with a temporary profile (Playwright takes it as user_data_dir)."""
    return playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        viewport={"width": width, "height": height}, device_scale_factor=1, accept_downloads=False,
        service_workers="block",
    )


if __name__ == "__main__":  # manual use: start a server and print its URL until Ctrl-C
    lab = start_lab()
    print(lab.url(), flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        stop_lab(lab)
        print("leftovers:", leftovers(lab), file=sys.stderr)
