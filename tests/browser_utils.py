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
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.jupyter_env import isolated_env

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
    env = isolated_env(home)
    env.pop("MPLBACKEND", None)  # the notebooks choose their own backend, as they do for a student
    return env


def _lab_command(home: Path, port: int, token: str) -> list[str]:
    jupyter = ROOT / ".venv" / "bin" / "jupyter"
    if not jupyter.exists():
        raise FileNotFoundError(f"{jupyter} not found: run `make install` first")
    cmd = [
        str(jupyter), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
        f"--LabApp.user_settings_dir={home / 'user-settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly", "--LabApp.expose_app_in_browser=True",
        "--ServerApp.terminals_enabled=False", f"--FileContentsManager.checkpoints_kwargs=root_dir={home / 'checkpoints'}",
    ]
    return cmd + (["--allow-root"] if os.geteuid() == 0 else [])


def start_lab(timeout: float = 90.0, attempts: int = 3, extra_env: dict[str, str] | None = None) -> Lab:
    """Start ``.venv/bin/jupyter lab`` on a free loopback port; wait until its API answers.

    ``extra_env`` is added to the server's environment (e.g. a role's ``JUPYTER_CONFIG_PATH``).

    A port taken between choosing and binding it makes the server exit; then a new port is tried.
    """
    for attempt in range(attempts):
        home = Path(tempfile.mkdtemp(prefix="course-lab-"))
        _write_settings(home / "user-settings")
        port, token, log = free_port(), secrets.token_hex(24), home / "server.log"
        with open(log, "wb") as fh:
            proc = subprocess.Popen(_lab_command(home, port, token), cwd=ROOT, env={**lab_env(home), **(extra_env or {})},
                                    stdout=fh,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        lab = Lab(proc=proc, port=port, token=token, home=home, log=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{lab.base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        return lab
            time.sleep(0.3)
        code, text = proc.poll(), log.read_text(errors="replace")[-3000:]
        stop_lab(lab)
        if code is None or "already in use" not in text or attempt == attempts - 1:
            raise RuntimeError(f"jupyter lab did not start within {timeout:.0f} s (exit code {code}):\n{text}")
    raise AssertionError("unreachable")


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
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # keep the server log for reading after a failure
        shutil.copy(lab.log, ARTEFACTS / "server.log")
    shutil.rmtree(lab.home, ignore_errors=True)


def leftovers(lab: Lab) -> list[str]:
    """What is still running or listening after :func:`stop_lab` (should be nothing)."""
    left = [f"process {p}" for p in lab.children | {lab.proc.pid} if _alive(p)]
    if port_is_listening(lab.port):
        left.append(f"port {lab.port} still listening")
    return left


def saved_files(lab: Lab) -> list[str]:
    """Files the server wrote through its API (its log names each save); the test must save nothing."""
    lines = lab.log.read_text(errors="replace").splitlines()
    return [line.split("Saving file at", 1)[1].strip() for line in lines if "Saving file at" in line]


def browser_processes(profile_dir: Path) -> list[int]:
    """Ids of processes still running with ``profile_dir`` on their command line (should be none after close)."""
    needle = str(profile_dir).encode()
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if needle in cmdline.read_bytes() and _alive(int(cmdline.parent.name)):
                found.append(int(cmdline.parent.name))
    return found


def launch_browser(playwright, profile_dir: Path, *, width: int = 1280, height: int = 1600):
    """Headless Debian Chromium with a temporary profile (Playwright takes it as user_data_dir)."""
    return playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        viewport={"width": width, "height": height}, device_scale_factor=1, accept_downloads=False,
        service_workers="block",
    )


# --------------------------------------------------------------------------- in the page
# Installed into each page; reads JupyterLab's notebook model (window.jupyterapp, exposed by
# --LabApp.expose_app_in_browser) and the explorers' ipympl canvases.
PAGE_JS = r"""
window.__course = {
  panel() { return window.jupyterapp.shell.currentWidget; },
  idle() {
    return [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(e => /\|\s*Idle$/.test(e.textContent.trim()));
  },
  progress() {
    const cells = [...this.panel().content.model.cells];
    const code = cells.filter(c => c.type === 'code');
    const errors = code.filter(c => [...Array(c.outputs.length).keys()].some(k => c.outputs.get(k).type === 'error'));
    const busy = [...document.querySelectorAll('.jp-InputPrompt')].some(e => e.textContent.includes('*'));
    return {code: code.length, executed: code.filter(c => c.executionCount).length, errors: errors.length, busy};
  },
  outputs() {
    const found = {errors: [], stderr: [], explorers: 0};
    [...this.panel().content.model.cells].filter(c => c.type === 'code').forEach((c, i) => {
      for (let k = 0; k < c.outputs.length; k++) {
        const o = c.outputs.get(k).toJSON();
        if (o.output_type === 'error') found.errors.push(`code cell ${i + 1}: ${o.ename}: ${o.evalue}`);
        if (o.output_type === 'stream' && o.name === 'stderr' && String(o.text).trim())
          found.stderr.push(`code cell ${i + 1}: ${String(o.text).trim().slice(0, 300)}`);
        const text = o.data && o.data['text/plain'];
        if (text && [].concat(text).join('').startsWith('Explorer:')) found.explorers += 1;
      }
    });
    found.renderErrors = [...document.querySelectorAll('.jp-OutputArea-output')]
      .map(e => e.innerText).filter(t => /Error (displaying|rendering) widget|model not found/i.test(t))
      .map(t => t.slice(0, 300));
    return found;
  },
  canvases(i) {
    const ex = document.querySelectorAll('.course-explorer')[i];
    return ex ? [...ex.querySelectorAll('.jupyter-matplotlib-canvas-div > canvas:first-child')] : [];
  },
  hash(i) {  // FNV-1a over the figure canvases' pixels: changes when any pixel does
    let h = 0x811c9dc5;
    for (const c of this.canvases(i)) {
      if (!c.width || !c.height) continue;
      const px = new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.buffer);
      for (let k = 0; k < px.length; k++) h = Math.imul(h ^ px[k], 16777619);
    }
    return h >>> 0;
  },
  drawn(i) {  // every figure canvas holds something other than blank pixels
    const cs = this.canvases(i);
    return cs.length > 0 && cs.every(c => {
      const blank = document.createElement('canvas');
      blank.width = c.width; blank.height = c.height;
      return c.width > 0 && c.toDataURL() !== blank.toDataURL();
    });
  },
  watch(i) {  // time from the next key press in the page until the figure first differs; read with watched()
    const armed = performance.now(), before = this.hash(i);
    let start = null;
    this._latency = null;
    document.addEventListener('keydown', () => { start = performance.now(); }, {capture: true, once: true});
    const tick = () => {
      if (start !== null && this.hash(i) !== before) this._latency = performance.now() - start;
      else if (performance.now() - armed < 30000) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  },
  watched() { return this._latency; },
  runCells(indices) {  // run these cells (indices into the notebook's cells) one after the other
    const nb = this.panel().content;
    this.ran = null;
    (async () => {
      for (const i of indices) {
        nb.deselectAll();
        nb.activeCellIndex = i;
        await window.jupyterapp.commands.execute('notebook:run-cell');
      }
    })().then(() => { this.ran = 'done'; }, e => { this.ran = `failed: ${e}`; });
  },
  progressOf(indices) {
    const cells = this.panel().content.model.cells;
    const chosen = indices.map(i => cells.get(i));
    const errors = chosen.filter(c => [...Array(c.outputs.length).keys()].some(k => c.outputs.get(k).type === 'error'));
    const busy = [...document.querySelectorAll('.jp-InputPrompt')].some(e => e.textContent.includes('*'));
    return {code: chosen.length, executed: chosen.filter(c => c.executionCount).length, errors: errors.length, busy,
            ran: this.ran};
  },
};
"""


def api(lab: Lab, path: str, method: str = "GET"):
    """Call the server's REST API with the token; returns decoded JSON (or None)."""
    req = urllib.request.Request(f"{lab.base}/api/{path}", method=method,
                                 headers={"Authorization": f"token {lab.token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
    return json.loads(body) if body else None


def shutdown_sessions(lab: Lab) -> None:
    """Stop every kernel the page started, so the next notebook has the CPU to itself."""
    for session in api(lab, "sessions"):
        api(lab, f"sessions/{session['id']}", method="DELETE")


def poll(page, expression: str, *, timeout: float, what: str, interval: float = 0.1):
    """Evaluate ``expression`` in the page until it is truthy; TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def wait_settled(page, explorer: int | None = None, *, timeout: float = 30.0, polls: int = 3) -> None:
    """Kernel idle in the status bar and (if given) the explorer's image unchanged over ``polls`` polls."""
    probe = f"[window.__course.idle(), {'0' if explorer is None else f'window.__course.hash({explorer})'}]"
    deadline, last, same = time.monotonic() + timeout, None, 0
    while same < polls:
        state = page.evaluate(probe)
        same = same + 1 if state[0] and state == last else 0
        last = state
        if time.monotonic() > deadline:
            raise TimeoutError(f"kernel/figure did not settle within {timeout:.0f} s")
        time.sleep(0.1)


def open_notebook(page, lab: Lab, rel: str, *, timeout: float = 60.0) -> None:
    """Show ``rel`` in JupyterLab and wait for its kernel to report idle.

    The first notebook of a page loads JupyterLab (fresh workspace); later ones open in the same
    JupyterLab after :func:`close_notebooks`, which saves loading the whole application again.
    """
    if page.evaluate("!!(window.jupyterapp && window.__course)"):
        page.evaluate(f"window.jupyterapp.commands.execute('docmanager:open', {{path: {json.dumps(rel)}}})")
        poll(page, f"(w => !!(w && w.context && w.context.path === {json.dumps(rel)} && w.content.widgets.length))"
             "(window.jupyterapp.shell.currentWidget)", timeout=timeout, what=f"JupyterLab to show {rel}")
    else:
        page.goto(lab.url(f"lab/tree/{rel}") + "&reset", wait_until="domcontentloaded")
        poll(page, "!!(window.jupyterapp && document.querySelector('.jp-NotebookPanel .jp-Cell'))",
             timeout=timeout, what=f"JupyterLab to show {rel}")
        page.evaluate(PAGE_JS)
    dismiss_news(page)
    poll(page, "window.__course.idle() && (k => !!k && k.connectionStatus === 'connected' && k.status === 'idle')"
         "(window.__course.panel().sessionContext.session?.kernel)",
         timeout=timeout, what="the kernel to start ('| Idle' in the status bar)")


def close_notebooks(page) -> None:
    """Close every open document without saving (the page stays, for the next :func:`open_notebook`)."""
    page.evaluate("""() => {
        for (const w of [...window.jupyterapp.shell.widgets('main')]) {
            if (w.context) w.context.model.dirty = false;
            w.dispose();
        }
    }""")


def dismiss_news(page) -> None:
    """Close the 'get notified about Jupyter news?' toast if it shows despite the settings."""
    for name in ("No", "Dismiss"):
        button = page.locator(".Toastify__toast").get_by_role("button", name=name)
        if button.count():
            button.first.click()


def run_all(page, *, timeout: float = 480.0) -> dict:
    """Clear outputs, Run All, and wait until every cell ran (or one failed) and the kernel is idle."""
    page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    done = ("(p => (p.executed === p.code || p.errors > 0) && !p.busy && window.__course.idle())"
            "(window.__course.progress())")
    poll(page, done, timeout=timeout, what="Run All to finish", interval=0.25)
    wait_settled(page, timeout=timeout)
    return page.evaluate("window.__course.progress()")


def run_cells(page, cells: list[int], *, timeout: float = 480.0) -> dict:
    """Clear outputs, run only ``cells`` (indices into the notebook's cells) in order, wait until idle."""
    page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.evaluate(f"window.__course.runCells({json.dumps(cells)})")
    done = (f"(p => p.ran !== null && !p.busy && window.__course.idle())(window.__course.progressOf({json.dumps(cells)}))")
    poll(page, done, timeout=timeout, what="the cells to run", interval=0.25)
    wait_settled(page, timeout=timeout)
    return page.evaluate(f"window.__course.progressOf({json.dumps(cells)})")


def _slider_state(slider) -> dict:
    handle = slider.locator(".noUi-handle").first
    return {
        "label": slider.locator(".widget-label").first.inner_text().strip() or "slider",
        **{k: float(handle.get_attribute(f"aria-value{k}")) for k in ("min", "now", "max")},
        "readout": slider.locator(".widget-readout").first.inner_text().strip(),
    }


def move_slider(page, explorer: int, index: int, *, presses: int = 1, timeout: float = 8.0) -> tuple[dict, float | None]:
    """Press an arrow key ``presses`` times on a slider, towards its farther end; returns (state before, ms).

    The milliseconds run from the first key press to the first changed image (None when the
    image did not change within ``timeout``). Afterwards the kernel is idle and the image stable,
    so an intermediate image (after the first of several presses) is never the one compared.
    """
    slider = page.locator(".course-explorer").nth(explorer).locator(".widget-slider").nth(index)
    state = _slider_state(slider)
    slider.locator(".noUi-handle").first.focus()
    key = "ArrowLeft" if state["now"] - state["min"] > state["max"] - state["now"] else "ArrowRight"
    page.evaluate(f"window.__course.watch({explorer})")
    for _ in range(presses):
        page.keyboard.press(key)
    deadline = time.monotonic() + timeout
    latency = page.evaluate("window.__course.watched()")
    while latency is None and time.monotonic() < deadline:
        time.sleep(0.02)
        latency = page.evaluate("window.__course.watched()")
    wait_settled(page, explorer, timeout=timeout + 20)
    return state, latency


def _safe(text: str) -> str:
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in text).strip("-").lower() or "x"


def check_notebook(page, lab: Lab, rel: str, shots: Path, cells: list[int] | None = None, *,
                   wait: float = 10.0) -> list[str]:
    """Open ``rel``, Run All (or only ``cells``), move every explorer slider; the problems found (empty when all works).

    ``wait``: seconds to wait, once the kernel is idle, for something that should happen at once (the
    explorers to render, a figure to change after a slider step) before reporting that it did not.
    Screenshots of each explorer before and after each slider step go to ``shots``.
    """
    problems: list[str] = []
    page_errors: list[str] = []

    def on_error(e):
        page_errors.append(str(e)[:300])

    page.on("pageerror", on_error)
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    try:
        problems += _check_open_notebook(page, lab, rel, shots, cells, wait)
    finally:  # the page as it was when the check ended, also after a timeout
        with contextlib.suppress(Exception):
            page.screenshot(path=str(shots / "page.png"))
    page.remove_listener("pageerror", on_error)
    problems += [f"JavaScript error in the page: {e}" for e in page_errors]
    return problems


def _check_open_notebook(page, lab: Lab, rel: str, shots: Path, cells: list[int] | None, wait: float) -> list[str]:
    problems = []
    t0 = time.monotonic()
    open_notebook(page, lab, rel)
    t1 = time.monotonic()
    progress = run_all(page) if cells is None else run_cells(page, cells)
    t2 = time.monotonic()
    if progress["executed"] < progress["code"] and not progress["errors"]:
        problems.append(f"only {progress['executed']} of {progress['code']} code cells ran")
    if progress.get("ran", "done") != "done":
        problems.append(f"running the cells {progress['ran']}")
    with contextlib.suppress(TimeoutError):  # the count comparison below reports what is missing
        poll(page, "document.querySelectorAll('.course-explorer').length >= window.__course.outputs().explorers",
             timeout=wait, what="the explorers to render")
    found = page.evaluate("window.__course.outputs()")
    problems += [f"error output in {e}" for e in found["errors"]]
    problems += [f"stderr output in {e}" for e in found["stderr"]]
    problems += [f"widget failed to render: {e}" for e in found["renderErrors"]]
    rendered = page.locator(".course-explorer").count()
    if rendered < found["explorers"]:
        problems.append(f"{found['explorers'] - rendered} of {found['explorers']} explorers did not render as "
                        "live widgets (no .course-explorer in the page: is the ipywidgets front end installed?)")
    for i in range(rendered):
        problems += _check_explorer(page, i, shots, wait)
    ran = "run all" if cells is None else f"ran {len(cells)} cells"
    print(f"{rel}: open {t1 - t0:.1f} s, {ran} {t2 - t1:.1f} s, {rendered} explorer(s) checked in "
          f"{time.monotonic() - t2:.1f} s")
    return problems


def _check_explorer(page, i: int, shots: Path, wait: float) -> list[str]:
    explorer = page.locator(".course-explorer").nth(i)
    try:
        poll(page, f"window.__course.drawn({i})", timeout=15, what=f"explorer {i + 1}'s figure to be drawn")
    except TimeoutError:
        return [f"explorer {i + 1}: no figure drawn on an ipympl canvas inside it"]
    n = explorer.locator(".widget-slider").count()
    if n == 0:
        return [f"explorer {i + 1}: has no slider"]
    problems = []
    for j in range(n):
        before = page.evaluate(f"window.__course.hash({i})")
        name = f"explorer{i + 1}-{_safe(_slider_state(explorer.locator('.widget-slider').nth(j))['label'])}"
        explorer.screenshot(path=str(shots / f"{name}-before.png"))
        state, latency = move_slider(page, i, j, presses=5, timeout=wait)
        explorer.screenshot(path=str(shots / f"{name}-after.png"))
        readout = _slider_state(explorer.locator(".widget-slider").nth(j))["readout"]
        where = f"explorer {i + 1}, slider {state['label']!r}"
        if readout == state["readout"]:
            problems.append(f"{where}: the slider did not move (readout stayed {readout})")
        elif latency is None or page.evaluate(f"window.__course.hash({i})") == before:
            problems.append(f"{where}: moving it from {state['readout']} to {readout} did not change the figure")
    return problems


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
