"""Week 07 benchmark: fitting a temperature, the noise of ECE, and the cost of one explorer step.

Run: ``python benchmarks/bench_calibration.py`` (about a minute on one CPU core). Prints

1. ``cal.fit_temperature`` (golden-section search on log T) against torch's L-BFGS on log T, on
   simulated logits that are 2.5 times too large: the T each finds, its validation NLL, and CPU seconds;
2. the ECE (15 equal-width bins) of a perfectly calibrated simulated 10-class model for test sets of
   100 to 10 000 samples: mean and standard deviation over 200 test sets — the noise level against
   which an ECE has to be read;
3. CPU milliseconds per slider step of the two explorers, without a browser: the update and in-place
   redraw alone, and with a full Agg draw of the figure (the live explorers redraw only the axes'
   content, which costs less; ``bench_browser.py`` measures that in JupyterLab).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.backends.backend_agg import FigureCanvasAgg

from course_utils import calibration as cal
from course_utils.widgets import recalibration_explorer, scoring_rule_explorer


def cpu_seconds(fn, repeat: int = 5) -> tuple[float, object]:
    """Median CPU seconds of ``fn()`` over ``repeat`` calls, and its last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return float(np.median(times)), out


def lbfgs_temperature(logits, targets) -> float:
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=1.0, max_iter=100, line_search_fn="strong_wolfe", tolerance_grad=1e-12)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), targets)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.detach().exp())


def main() -> None:
    torch.set_num_threads(1)
    print("1. fitting T (logits 2.5 x too large, 10 classes)")
    for n in (800, 20_000):
        p, y = cal.simulate_calibrated(n, 10, scale=3.0, seed=0)
        z = 2.5 * torch.log(p)
        for name, fit in (("golden section", cal.fit_temperature), ("L-BFGS on log T", lbfgs_temperature)):
            sec, T = cpu_seconds(lambda fit=fit, z=z, y=y: fit(z, y))
            print(f"   N = {n:6d}  {name:<16} T = {T:.5f}  NLL = {cal.nll_at_temperature(z, y, T):.6f}  "
                  f"{1000 * sec:7.1f} ms CPU")
    print("2. ECE of a perfectly calibrated model (15 bins, 200 test sets each)")
    for n in (100, 300, 1000, 3000, 10_000):
        e = [cal.expected_calibration_error(*cal.simulate_calibrated(n, 10, scale=4.0, seed=s)) for s in range(200)]
        print(f"   N = {n:6d}: mean {np.mean(e):.4f}, sd {np.std(e):.4f}")
    print("3. one slider step (update + redraw), CPU ms")
    p, y = cal.simulate_calibrated(809, 10, scale=4.0, seed=1)
    z = 2.2 * torch.log(p)
    for name, exp, key, values in (("scoring rules", scoring_rule_explorer(live=False), "q", np.linspace(0, 1, 21)),
                                   ("temperature", recalibration_explorer(z, y, 2.2, live=False), "T",
                                    np.linspace(0.3, 6.0, 21))):
        canvas = FigureCanvasAgg(exp.figure)  # a real renderer: the figure of live=False has none
        t0 = time.process_time()
        for v in values:
            exp.set(**{key: float(v)})
        t1 = time.process_time()
        for v in values:
            exp.set(**{key: float(v)})
            canvas.draw()
        t2 = time.process_time()
        print(f"   {name:<14}: update + redraw {1000 * (t1 - t0) / len(values):6.1f} ms; with a full Agg draw of the "
              f"figure {1000 * (t2 - t1) / len(values):6.1f} ms")


if __name__ == "__main__":
    main()
