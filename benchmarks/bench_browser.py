"""How fast do the slider explorers respond, in the kernel and in the browser?

Usage: python benchmarks/bench_browser.py [NOTEBOOK ...]   (default: every notebooks/week*.ipynb)

For every explorer of every lecture notebook it prints two medians:

* update: the pure update function alone, timed in the kernel that ran the notebook (the
  browser's kernel, or a fresh one without Chromium); explorers are found as the ``Explorer``
  objects alive there. Over >= 20 slider positions spread across each slider's range; also
  update + redraw + Agg render for reference (most of what the kernel does per step).
* browser: slider key press (from the moment the page receives it) -> first changed pixels on the
  ipympl canvas, in JupyterLab and headless Chromium, over >= 20 single-step key presses per
  explorer. The notebook runs the cells its explorers need, as in the browser test.

The browser latency is measured three times in the same run: as the explorers redraw now (only what
changed, blitted over a cached background, unchanged legends and texts from their own layers, and the
finished frame of slider values shown before put back as it is); with no finished frame kept, so that
every step is a first visit (the "new" columns); and with a full redraw of the figure at every step
(what every explorer did before blitting: the "full" columns). The kernel step is always a first visit.

Goals: kernel step (update + redraw of what changed) <= 30 ms median; browser <= 100 ms median and
<= 150 ms p90. The browser part needs Debian's Chromium.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import browser_utils as bu  # noqa: E402
from tests.notebook_utils import cells_explorers_need, read  # noqa: E402

STEPS = 20
GOAL_STEP_MS, GOAL_BROWSER_MS, GOAL_BROWSER_P90_MS = 30.0, 100.0, 150.0
MARK = "@@bench@@"
# Runs in the notebook's kernel after its last cell: times every live Explorer without a browser.
KERNEL_BENCH = f'''
import gc as _gc, json as _json, statistics as _st, time as _time, warnings as _warnings
import numpy as _np
from course_utils.widgets import Explorer as _Explorer
from course_utils.widgets._core import Blitter as _Blitter
from matplotlib.backends.backend_agg import FigureCanvasAgg as _Agg

def _bench(exp, steps={STEPS}):
    start, live = exp.values(), exp.figure.canvas
    agg = _Agg(exp.figure)  # render off-screen while timing, so nothing is sent to the page
    blitter = _Blitter(exp.figure, agg)  # what a slider step does: redraw only the changed content
    agg.draw()
    t_update, t_full, t_whole = [], [], []
    for name, s in exp.sliders.items():
        for v in _np.linspace(s.min, s.max, max(2, -(-steps // len(exp.sliders)))):
            values = dict(start, **{{name: type(s.value)(v)}})
            t0 = _time.perf_counter()
            data = exp.update(**values)
            t1 = _time.perf_counter()
            exp.redraw(data)
            blitter.step()
            t2 = _time.perf_counter()
            t_update.append(1e3 * (t1 - t0))
            t_full.append(1e3 * (t2 - t0))
    for a in blitter.dynamic:  # the same steps with the whole figure rendered each time (before blitting)
        a.set_animated(False)
    for name, s in exp.sliders.items():
        for v in _np.linspace(s.min, s.max, max(2, -(-steps // len(exp.sliders)))):
            t0 = _time.perf_counter()
            exp.redraw(exp.update(**dict(start, **{{name: type(s.value)(v)}})))
            agg.draw()
            t_whole.append(1e3 * (_time.perf_counter() - t0))
    exp.figure.set_canvas(live)
    exp.set(**start)
    return {{"title": exp.title, "sliders": [s.description for s in exp.sliders.values()], "n": len(t_update),
             "update_ms": _st.median(t_update), "full_ms": _st.median(t_full), "whole_ms": _st.median(t_whole)}}

def _is_explorer(o):
    try:  # isinstance() on lazy torch objects warns, on dead weak proxies raises
        return isinstance(o, _Explorer)
    except ReferenceError:
        return False

with _warnings.catch_warnings():
    _warnings.simplefilter("ignore")
    _found = [o for o in _gc.get_objects() if _is_explorer(o)]
print("{MARK}" + _json.dumps([_bench(o) for o in _found]))
'''


def kernel_times(path: Path) -> list[dict]:
    """Run ``path`` in a fresh kernel, then time each of its explorers' update (one dict per explorer)."""
    import nbformat
    from nbclient import NotebookClient

    os.environ.update(bu.lab_env(Path(tempfile.mkdtemp(prefix="course-bench-"))))  # no writes to the home folder
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(KERNEL_BENCH))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "".join(o.text for o in nb.cells[-1].outputs if o.output_type == "stream" and o.name == "stdout")
    try:
        return json.loads(text.rsplit(MARK, 1)[1].splitlines()[0])
    except (IndexError, ValueError) as err:
        raise RuntimeError(f"no timings from {path.name}; the kernel printed:\n{text[:2000]}") from err


def browser_times(paths: list[Path]) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """Per notebook: the explorers' browser latencies, and their update times in the page's own kernel."""
    from playwright.sync_api import sync_playwright

    found: dict[str, list[dict]] = {}
    kernel: dict[str, list[dict]] = {}
    lab = bu.start_lab()
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
            context = bu.launch_browser(pw, Path(profile))
            try:
                for path in paths:
                    print(f"  {path.name}", flush=True)
                    page = context.new_page()
                    try:
                        found[path.name] = _notebook_latencies(page, lab, path)
                        kernel[path.name] = _times_in_page_kernel(page)
                    except Exception as err:  # one broken notebook must not hide the others' numbers
                        print(f"  {path.name} failed: {str(err)[:500]}", flush=True)
                    finally:
                        page.close()
                        bu.shutdown_sessions(lab)
            finally:
                context.close()
    finally:
        bu.stop_lab(lab)
    if bu.leftovers(lab):
        raise RuntimeError(f"left behind: {bu.leftovers(lab)}")
    return found, kernel


def _times_in_page_kernel(page) -> list[dict]:
    """Run KERNEL_BENCH in the kernel the page just used (saves running the notebook a second time)."""
    text = _run_in_kernel(page, KERNEL_BENCH)
    try:
        return json.loads(text.rsplit(MARK, 1)[1].splitlines()[0])
    except (IndexError, ValueError) as err:
        raise RuntimeError(f"no timings from the kernel; it printed:\n{text[-3000:]}") from err


#: Run in the page's kernel: every explorer redraws its whole figure at each slider step (the comparison arm).
FULL_REDRAW = """
from course_utils.widgets._core import Explorer as _E
_E._course_bench_refresh = getattr(_E, "_course_bench_refresh", _E.refresh)
_E.refresh = lambda self, *, blit=False: _E._course_bench_refresh(self, blit=False)
"""
BLIT_AGAIN = "_E.refresh = _E._course_bench_refresh"
#: Run in the page's kernel: no finished frames kept, so every step is a first visit (the "new" columns).
NO_FRAMES = """
import gc as _gc
from course_utils.widgets._core import Blitter as _B, Explorer as _E
_B.max_frames = 0
for _o in _gc.get_objects():
    try:
        if isinstance(_o, _E) and _o._blitter is not None:
            _o._blitter.frames.clear()
    except ReferenceError:
        pass
"""
FRAMES_AGAIN = "_B.max_frames = 16"


def _run_in_kernel(page, code: str) -> str:
    """Execute ``code`` in the kernel of the open notebook (not as a cell); its stdout."""
    return page.evaluate("""async code => {
        const kernel = window.__course.panel().sessionContext.session.kernel;
        let out = '';
        const future = kernel.requestExecute({code, store_history: false});
        future.onIOPub = m => {
            if (m.header.msg_type === 'stream' && m.content.name === 'stdout') out += m.content.text;
            if (m.header.msg_type === 'error') out += m.content.ename + ': ' + m.content.evalue;
        };
        await future.done;
        return out;
    }""", code)


def _latencies(page, i: int, n: int) -> dict:
    times = [bu.move_slider(page, i, k % n)[1] for k in range(STEPS)]
    ok = [t for t in times if t is not None]
    return {"n": len(ok), "unchanged": len(times) - len(ok), "median": statistics.median(ok) if ok else float("nan"),
            "p90": statistics.quantiles(ok, n=10)[-1] if len(ok) > 1 else float("nan")}


def _notebook_latencies(page, lab, path: Path) -> list[dict]:
    bu.open_notebook(page, lab, str(path.relative_to(ROOT)))
    bu.run_cells(page, cells_explorers_need(read(path)))  # the cells the explorers need, as the browser test runs
    rows = []
    for i in range(page.locator(".course-explorer").count()):
        bu.poll(page, f"window.__course.drawn({i})", timeout=15, what="the figure")
        sliders = page.locator(".course-explorer").nth(i).locator(".widget-slider")
        n = sliders.count()
        labels = [sliders.nth(j).locator(".widget-label").first.inner_text().strip() for j in range(n)]
        now = _latencies(page, i, n)
        _run_in_kernel(page, NO_FRAMES)
        try:
            first = _latencies(page, i, n)
        finally:
            _run_in_kernel(page, FRAMES_AGAIN)
        _run_in_kernel(page, FULL_REDRAW)
        try:
            before = _latencies(page, i, n)
        finally:
            _run_in_kernel(page, BLIT_AGAIN)
        rows.append({"sliders": labels, "n": now["n"], "unchanged": now["unchanged"], "browser_ms": now["median"],
                     "browser_p90_ms": now["p90"], "new_ms": first["median"], "new_p90_ms": first["p90"],
                     "full_ms": before["median"], "full_p90_ms": before["p90"]})
    return rows


def report(kernel: dict[str, list[dict]], browser: dict[str, list[dict]] | None) -> None:
    print(f"goals: kernel step median <= {GOAL_STEP_MS:.0f} ms, browser median <= {GOAL_BROWSER_MS:.0f} ms "
          f"and p90 <= {GOAL_BROWSER_P90_MS:.0f} ms")
    print("kernel: update alone, step (update + redraw of what changed), full (update + whole-figure render);")
    print("browser: median and p90 now; the same with no finished frame kept, every step a first visit (new);")
    print("         and with a whole-figure redraw at every step (full, what the explorers did before blitting)")
    print(f"{'notebook':30} {'explorer (sliders)':40} {'update':>8} {'step':>7} {'full':>7} {'browser':>8} {'p90':>6}"
          f" {'new':>6} {'p90':>6} {'full':>6} {'p90':>6}  steps")
    for name, rows in kernel.items():
        in_page = list((browser or {}).get(name, []))
        for r in rows:
            match = next((b for b in in_page if b["sliders"] == r["sliders"]), None)
            if match:
                in_page.remove(match)
            shown = (f"{match['browser_ms']:6.0f}ms {match['browser_p90_ms']:4.0f}ms {match['new_ms']:4.0f}ms "
                     f"{match['new_p90_ms']:4.0f}ms {match['full_ms']:4.0f}ms {match['full_p90_ms']:4.0f}ms"
                     if match else "     n/a    n/a    n/a    n/a    n/a    n/a")
            steps = f"{r['n']}/{match['n']}" + (f" ({match['unchanged']} unchanged)" if match["unchanged"] else "") \
                if match else f"{r['n']}/-"
            ok = r["full_ms"] <= GOAL_STEP_MS and (not match or (match["browser_ms"] <= GOAL_BROWSER_MS
                                                                  and match["browser_p90_ms"] <= GOAL_BROWSER_P90_MS))
            flag = "" if ok else "  <- over goal"
            label = f"{r['title'][:22]} ({', '.join(r['sliders'])})"[:40]
            print(f"{name[:30]:30} {label:40} {r['update_ms']:6.2f}ms {r['full_ms']:5.1f}ms {r['whole_ms']:5.1f}ms "
                  f"{shown}  {steps}{flag}")
        for b in in_page:  # rendered in the page but not found in the kernel (should not happen)
            print(f"{name[:30]:30} {'? (' + ', '.join(b['sliders']) + ')':40} {'':>8} {'':>7} {'':>7} "
                  f"{b['browser_ms']:6.0f}ms {b['browser_p90_ms']:4.0f}ms")


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("week*.ipynb"))
    if not paths:
        paths = [ROOT / "tests" / "fixtures" / "browser" / "working_explorer.ipynb"]
        print("no lecture notebooks yet: measuring the test fixture")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    browser = None
    if bu.CHROMIUM.exists():
        print("timing slider steps in JupyterLab + Chromium, then the update functions in the same kernels ...",
              flush=True)
        browser, kernel = browser_times(paths)
    else:
        print(f"browser part skipped: {bu.INSTALL_HINT}")
        kernel = {}
        for p in paths:
            print(f"timing the explorers of {p.name} in a kernel ...", flush=True)
            kernel[p.name] = kernel_times(p)
    report(kernel, browser)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
