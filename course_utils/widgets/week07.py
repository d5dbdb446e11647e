"""Week 07 explorers: proper scoring rules, and temperature scaling on a reliability diagram."""

from __future__ import annotations

import numpy as np

from course_utils import calibration as cal
from course_utils.plotting import PALETTE, style_axes

from ._core import Explorer, build_explorer, float_slider, require_finite

#: The smallest temperature the temperature explorer draws: the lower end of cal.fit_temperature's search
#: range, so that any fitted T can be marked (the slider starts at 0.3). Below it the probabilities are
#: one-hot to within rounding, and for T below ~1e-307 logits / T overflows.
T_MIN = cal.T_BOUNDS[0]
#: The four rules of the scoring explorer: key -> (panel title, y-axis limit).
RULES = {
    "log_loss": ("log loss (strictly proper)", 3.0),
    "brier": ("Brier score (strictly proper)", 1.0),
    "abs_error": ("absolute error (not proper)", 1.0),
    "error_rate": ("error rate = 1 − accuracy (not strictly proper)", 1.0),
}


# --------------------------------------------------------------------------- scoring rules
def expected_scores(q: float, r) -> dict[str, np.ndarray]:
    """Week 07: the expected loss of reporting probability ``r`` (K,) for an event of true probability ``q``.

    One yes/no outcome y ~ Bernoulli(q). Returns, for each rule, E[loss] = q · loss(r, 1) + (1 − q) · loss(r, 0):
    log loss −log r / −log(1 − r), Brier (1 − r)² / r², absolute error |1 − r| / r, and the error rate of
    the decision "say yes when r >= 0.5".
    """
    q = require_finite(q, "q")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q (the true probability) must lie in [0, 1], got {q}")
    r = np.asarray(r, dtype=float)
    if np.any((r <= 0) | (r >= 1)) or not np.all(np.isfinite(r)):
        raise ValueError("r (the reported probabilities) must lie strictly between 0 and 1")
    yes = r >= 0.5
    return {
        "log_loss": -(q * np.log(r) + (1 - q) * np.log1p(-r)),
        "brier": q * (1 - r) ** 2 + (1 - q) * r**2,
        "abs_error": q * (1 - r) + (1 - q) * r,
        "error_rate": np.where(yes, 1 - q, q),
    }


def best_reports(q: float) -> dict[str, tuple[float, float]]:
    """Week 07: for each rule, the interval [low, high] of reports r that minimise the expected loss at ``q``."""
    q = require_finite(q, "q")
    if q > 0.5:
        absolute, accuracy = (1.0, 1.0), (0.5, 1.0)
    elif q < 0.5:
        absolute, accuracy = (0.0, 0.0), (0.0, 0.5)
    else:  # q = 0.5: every report is equally good for both
        absolute, accuracy = (0.0, 1.0), (0.0, 1.0)
    return {"log_loss": (q, q), "brier": (q, q), "abs_error": absolute, "error_rate": accuracy}


def scoring_rule_update(q: float, *, n_grid: int = 399) -> dict:
    """Week 07 explorer: expected loss curves of the four rules over reports r in (0, 1) at true probability ``q``.

    Returns ``q``, ``r`` (K,), ``curves`` {rule: (K,)}, ``best`` {rule: (low, high)} from :func:`best_reports`,
    ``best_value`` {rule: the minimum expected loss} and ``at_q`` {rule: the expected loss of reporting q honestly}.
    """
    r = np.linspace(0.0025, 0.9975, n_grid)
    curves = expected_scores(q, r)
    best = best_reports(q)
    rq = np.clip(q, 0.0025, 0.9975)
    at_q = {k: float(v[0]) for k, v in expected_scores(q, [rq]).items()}
    best_value = {k: float(v.min()) for k, v in curves.items()}
    return {"q": float(q), "r": r, "curves": curves, "best": best, "best_value": best_value, "at_q": at_q}


def scoring_rule_explorer(*, q: float = 0.7, live: bool = True) -> Explorer:
    """Week 07: a slider for the true probability q; the expected loss of every report r under four rules."""

    def setup(fig, d):
        axes = fig.subplots(2, 2).ravel()
        artists = {}
        for ax, (rule, (title, top)) in zip(axes, RULES.items(), strict=True):
            (curve,) = ax.plot(d["r"], d["curves"][rule], color=PALETTE["blue"], label="expected loss")
            truth = ax.axvline(d["q"], color=PALETTE["black"], ls=":", lw=1.2, label="true probability q")
            (best,) = ax.plot([], [], color=PALETTE["vermillion"], lw=5, alpha=0.6, solid_capstyle="butt",
                              label="best report(s)")
            (dot,) = ax.plot([], [], "o", color=PALETTE["vermillion"], ms=7)
            text = ax.text(0.5, 0.97, "", transform=ax.transAxes, ha="center", va="top", fontsize=8)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, top)
            style_axes(ax, title=title, xlabel="reported probability r", ylabel="expected loss")
            artists[rule] = (curve, truth, best, dot, text)
        axes[1].legend(loc="upper right", bbox_to_anchor=(1.0, 0.88), fontsize=7, frameon=False)

        def redraw(d):
            for rule, (curve, truth, best, dot, text) in artists.items():
                curve.set_ydata(d["curves"][rule])
                truth.set_xdata([d["q"], d["q"]])
                lo, hi = d["best"][rule]
                y = d["best_value"][rule]
                best.set_data([lo, hi], [y, y])
                dot.set_data([(lo + hi) / 2], [y])
                where = f"r = {lo:.2f}" if lo == hi else f"any r in [{lo:.2f}, {hi:.2f}]"
                text.set_text(f"q = {d['q']:.2f}: best report {where}")

        redraw(d)
        return redraw

    sliders = {"q": float_slider("true probability q", q, 0.0, 1.0, 0.01)}
    return build_explorer("expected loss of every reported probability", scoring_rule_update, sliders, setup,
                          figsize=(8.0, 5.2), live=live)


# --------------------------------------------------------------------------- reliability diagrams
def reliability_legend_handles() -> list:
    """Week 07: legend entries for :func:`draw_reliability`, the darker under-confident gap included."""
    from matplotlib.colors import to_rgb
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    # a gap drawn over the accuracy bar: the translucent vermillion on top of the blue
    darker = tuple(0.35 * v + 0.65 * b for v, b in zip(to_rgb(PALETTE["vermillion"]), to_rgb(PALETTE["blue"]),
                                                        strict=True))
    return [Line2D([], [], ls="--", color=PALETTE["black"], lw=1, label="perfectly calibrated"),
            Patch(facecolor=PALETTE["blue"], edgecolor="white", label="accuracy in the bin"),
            Patch(facecolor=PALETTE["vermillion"], alpha=0.35, edgecolor=PALETTE["vermillion"], hatch="//",
                  label="over-confident: gap up to the mean confidence"),
            Patch(facecolor=darker, edgecolor=PALETTE["vermillion"], hatch="//",
                  label="under-confident: gap down to the mean confidence")]


def draw_reliability(ax, bins: cal.ReliabilityBins, *, title: str, ax_hist=None, legend: bool = True) -> dict:
    """Week 07: a reliability diagram of equal-width ``bins`` on ``ax`` (and the samples per bin, log axis, on ``ax_hist``).

    Bars: the accuracy in each bin; hatched: the gap up (over-confident) or down (under-confident, drawn
    darker over the bar) to the bin's mean confidence; dashed: perfect calibration. ``legend=False`` leaves
    the legend to the caller (:func:`reliability_legend_handles`, e.g. below the figure, clear of the bars).
    Returns the artists, for :func:`update_reliability`.
    """
    edges = bins.edges.numpy()
    centres, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    ax.plot([0, 1], [0, 1], ls="--", color=PALETTE["black"], lw=1)
    acc_bars = ax.bar(centres, np.zeros_like(centres), width=width, color=PALETTE["blue"], edgecolor="white")
    gap_bars = ax.bar(centres, np.zeros_like(centres), width=width, color=PALETTE["vermillion"], alpha=0.35,
                      edgecolor=PALETTE["vermillion"], hatch="//")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    style_axes(ax, title=title, xlabel="confidence (bin)" if ax_hist is None else "",
               ylabel="accuracy (fraction right)")
    if legend:
        ax.legend(handles=reliability_legend_handles(), loc="upper left", fontsize=7, frameon=False)
    text = ax.text(0.03, 0.70 if legend else 0.97, "", transform=ax.transAxes, ha="left", va="top", fontsize=8,
                   bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5})
    artists = {"acc": acc_bars, "gap": gap_bars, "text": text, "hist": None}
    if ax_hist is not None:
        # counts on a log axis: a bin of 3 samples stays visible beside one of 700 (a linear share hides it)
        artists["hist"] = ax_hist.bar(centres, bins.counts.numpy(), width=width, color="0.6", edgecolor="white")
        ax_hist.set_xlim(0, 1)
        ax_hist.set_yscale("log")
        top = max(10.0, 2.0 * bins.n)
        ax_hist.set_ylim(0.7, top)
        ticks = [t for t in (1, 10, 100, 1_000, 10_000, 100_000) if t <= top]
        ax_hist.set_yticks(ticks, [f"{t:,}" for t in ticks])
        ax_hist.set_yticks([], minor=True)
        style_axes(ax_hist, title="", xlabel="confidence (largest probability)", ylabel="samples\n(log scale)")
    update_reliability(artists, bins)
    return artists


def update_reliability(artists: dict, bins: cal.ReliabilityBins) -> None:
    """Week 07: move the bars drawn by :func:`draw_reliability` to new ``bins`` (same edges), in place."""
    acc = np.nan_to_num(bins.accuracy.numpy())
    conf = np.nan_to_num(bins.confidence.numpy())
    for bar, a in zip(artists["acc"], acc, strict=True):
        bar.set_height(a)
    for bar, a, c in zip(artists["gap"], acc, conf, strict=True):
        bar.set_y(min(a, c))
        bar.set_height(abs(c - a))
    if artists["hist"] is not None:
        for bar, n in zip(artists["hist"], bins.counts.numpy(), strict=True):
            bar.set_height(n)
    artists["text"].set_text(f"ECE = {bins.ece():.3f}\nMCE = {bins.mce():.3f}")


def plot_reliability_panels(panels: dict, *, suptitle: str, width: float = 8.0):
    """Week 07: reliability diagrams side by side, {panel title: ReliabilityBins}, each over its confidence
    histogram; a pyplot Figure in the course style."""
    import matplotlib.pyplot as plt

    from course_utils.plotting import course_style

    if not panels:
        raise ValueError("panels must hold at least one {title: ReliabilityBins} entry")
    with course_style():
        fig = plt.figure(figsize=(width, 4.8), layout="constrained")
        grid = fig.add_gridspec(2, len(panels), height_ratios=[3, 1])
        for k, (title, bins) in enumerate(panels.items()):
            draw_reliability(fig.add_subplot(grid[0, k]), bins, title=title, ax_hist=fig.add_subplot(grid[1, k]),
                             legend=False)
        fig.legend(handles=reliability_legend_handles(), loc="outside lower center", ncol=2, fontsize=7,
                   frameon=False)
        fig.suptitle(suptitle)
    return fig


# --------------------------------------------------------------------------- temperature scaling
def temperature_scan(logits, targets, temperatures, *, n_bins: int = 15) -> dict[str, np.ndarray]:
    """Week 07: NLL (nats), ECE and accuracy (K,) of softmax(logits / T) for K temperatures."""
    t = np.asarray(temperatures, dtype=float).ravel()
    if t.size == 0 or not np.all(np.isfinite(t) & (t > 0)):
        raise ValueError("temperatures must be positive finite numbers")
    nll, ece, acc = [], [], []
    for T in t:
        p = cal.temperature_scale(logits, float(T))
        nll.append(cal.nll_at_temperature(logits, targets, float(T)))
        ece.append(cal.expected_calibration_error(p, targets, n_bins))
        acc.append(cal.accuracy(p, targets))
    return {"T": t, "nll": np.array(nll), "ece": np.array(ece), "accuracy": np.array(acc)}


def recalibration_update(T: float, logits, targets, *, n_bins: int = 15) -> dict:
    """Week 07 explorer: the reliability bins, ECE, NLL and accuracy of softmax(logits / T).

    ``logits`` (N, C) and ``targets`` (N,) of held-out data; ``T`` at least :data:`T_MIN`. Returns ``T``,
    ``bins`` (:class:`~course_utils.calibration.ReliabilityBins`), ``ece``, ``mce``, ``nll``, ``brier``,
    ``accuracy`` and ``mean_confidence``.
    """
    T = require_finite(T, "T")
    if T < T_MIN:
        raise ValueError(f"T (temperature) must be at least {T_MIN} (the lower end of the range a temperature is "
                         f"fitted in), got {T}")
    p = cal.temperature_scale(logits, T)
    bins = cal.reliability_bins(p, targets, n_bins)
    return {
        "T": T, "bins": bins, "ece": bins.ece(), "mce": bins.mce(), "nll": cal.nll_at_temperature(logits, targets, T),
        "brier": cal.brier_score(p, targets), "accuracy": cal.accuracy(p, targets),
        "mean_confidence": float(p.max(dim=1).values.mean()),
    }


def recalibration_explorer(logits, targets, fitted_T: float, *, T: float = 1.0, n_bins: int = 15,
                           shown_on: str = "the test set", fitted_on: str = "validation",
                           live: bool = True) -> Explorer:
    """Week 07: a temperature slider over held-out logits (N, C): reliability diagram, NLL(T) and ECE(T).

    ``shown_on`` names the data of ``logits`` in the panel titles, ``fitted_on`` the data ``fitted_T`` was
    fitted on, in the legend."""
    fitted_T = require_finite(fitted_T, "fitted_T")
    grid = np.geomspace(0.3, 6.0, 60)
    scan = temperature_scan(logits, targets, grid, n_bins=n_bins)
    fitted = recalibration_update(fitted_T, logits, targets, n_bins=n_bins)

    def update(T):
        return recalibration_update(T, logits, targets, n_bins=n_bins)

    def setup(fig, d):
        grid_spec = fig.add_gridspec(2, 3, height_ratios=[3, 1], width_ratios=[1.25, 1, 1])
        ax_rel, ax_hist = fig.add_subplot(grid_spec[0, 0]), fig.add_subplot(grid_spec[1, 0])
        ax_nll, ax_ece = fig.add_subplot(grid_spec[:, 1]), fig.add_subplot(grid_spec[:, 2])
        rel = draw_reliability(ax_rel, d["bins"], title="Reliability of softmax(z / T)", ax_hist=ax_hist,
                               legend=False)
        fig.legend(handles=reliability_legend_handles(), loc="outside lower center", ncol=4, fontsize=7,
                   frameon=False)
        dots = []
        for ax, key, name in ((ax_nll, "nll", "NLL (nats)"), (ax_ece, "ece", "ECE")):
            ax.plot(grid, scan[key], color=PALETTE["blue"], label=f"{name} at each T")
            ax.axvline(fitted_T, color=PALETTE["green"], ls="--", label=f"fitted T = {fitted_T:.2f} ({fitted_on})")
            ax.plot([fitted_T], [fitted[key]], "s", color=PALETTE["green"], ms=6)
            (dot,) = ax.plot([], [], "o", color=PALETTE["vermillion"], ms=8, label="slider T")
            ax.set_xscale("log")
            ax.set_xticks([0.5, 1, 2, 4], ["0.5", "1", "2", "4"])
            ax.set_xticks([], minor=True)
            style_axes(ax, title=f"{name} on {shown_on}", xlabel="temperature T (log scale)", ylabel=name)
            ax.legend(fontsize=7, loc="upper center", frameon=False)
            dots.append((dot, key))
        ax_nll.set_ylim(0, max(1.0, float(np.nanmax(scan["nll"][grid <= 4])) * 1.1))
        ax_ece.set_ylim(0, max(0.2, float(np.nanmax(scan["ece"])) * 1.1))

        def redraw(d):
            update_reliability(rel, d["bins"])
            rel["text"].set_text(f"T = {d['T']:.2f}\nECE = {d['ece']:.3f}\nNLL = {d['nll']:.3f}\n"
                                 f"accuracy = {d['accuracy']:.3f}")
            for dot, key in dots:
                dot.set_data([d["T"]], [d[key]])

        redraw(d)
        return redraw

    sliders = {"T": float_slider("temperature T", T, 0.3, 6.0, 0.05)}
    return build_explorer("temperature scaling on held-out data", update, sliders, setup, figsize=(10.0, 4.5),
                          live=live)
