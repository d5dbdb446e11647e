"""Week 04 explorers: the Huber loss and its δ, and one outlier pulling three fits."""

from __future__ import annotations

import numpy as np
from scipy.special import huber

from course_utils.plotting import PALETTE, style_axes

from ._core import Explorer, build_explorer, float_slider, require_finite


def huber_update(delta: float, *, r_max: float = 4.0, n: int = 401, r_probe: float = 3.0) -> dict:
    """Week 04 explorer: Huber loss and its derivative over residuals r in [-r_max, r_max] (n,).

    Also returns the references r²/2 (half the squared error) and |r| (absolute error) with
    their slopes, and the loss and slope at the residual ``r_probe``.
    """
    if not (np.isfinite(delta) and delta > 0):
        raise ValueError(f"delta must be a positive finite number, got {delta}")
    r = np.linspace(-r_max, r_max, n)
    probe_loss = float(huber(delta, r_probe))
    return {
        "delta": float(delta),
        "r": r,
        "huber": huber(delta, r),
        "huber_grad": np.clip(r, -delta, delta),
        "half_sq": 0.5 * r**2,
        "half_sq_grad": r,
        "abs": np.abs(r),
        "abs_grad": np.sign(r),
        "r_probe": float(r_probe),
        "probe_loss": probe_loss,
        "probe_grad": float(np.clip(r_probe, -delta, delta)),
        "probe_smooth_l1": probe_loss / delta,
    }


def huber_explorer(*, delta: float = 1.0, live: bool = True) -> Explorer:
    """Week 04: a δ slider for the Huber loss, with the loss (left) and its slope (right)."""

    def setup(fig, d):
        ax_l, ax_g = fig.subplots(1, 2)
        (hl,) = ax_l.plot(d["r"], d["huber"], color=PALETTE["blue"], lw=2.5, label="Huber(r; δ)")
        ax_l.plot(d["r"], d["half_sq"], color=PALETTE["orange"], ls="--", label="r²/2 (half squared error)")
        ax_l.plot(d["r"], d["abs"], color=PALETTE["green"], ls=":", lw=2, label="|r| (absolute error)")
        (hg,) = ax_g.plot(d["r"], d["huber_grad"], color=PALETTE["blue"], lw=2.5, label="slope of Huber")
        ax_g.plot(d["r"], d["half_sq_grad"], color=PALETTE["orange"], ls="--", label="slope of r²/2 = r")
        ax_g.plot(d["r"], d["abs_grad"], color=PALETTE["green"], ls=":", lw=2, label="slope of |r| = sign(r)")
        edges = [ax.axvline(s * d["delta"], color=PALETTE["vermillion"], lw=1, ls="-.") for ax in (ax_l, ax_g)
                 for s in (-1, 1)]
        edges[0].set_label("±δ")
        ax_l.set_ylim(0, 0.5 * d["r"][-1] ** 2)
        ax_g.set_ylim(-d["r"][-1], d["r"][-1])
        style_axes(ax_l, title="Huber loss", xlabel="residual r = prediction − target (target units)",
                   ylabel="loss (target units²; |r|: target units)")
        style_axes(ax_g, title="Its derivative", xlabel="residual r = prediction − target (target units)",
                   ylabel="d loss / d r (target units)")
        ax_l.legend(loc="upper center", fontsize=8)
        ax_g.legend(loc="upper left", fontsize=8)
        text = ax_g.text(0.97, 0.03, "", transform=ax_g.transAxes, ha="right", va="bottom", fontsize=8)

        def redraw(d):
            hl.set_ydata(d["huber"])
            hg.set_ydata(d["huber_grad"])
            for line, s in zip(edges, (-1, 1, -1, 1), strict=True):
                line.set_xdata([s * d["delta"]] * 2)
            text.set_text(f"δ = {d['delta']:.2f}\nat r = {d['r_probe']:g}: loss {d['probe_loss']:.2f}, "
                          f"slope {d['probe_grad']:.2f}")

        redraw(d)
        return redraw

    sliders = {"delta": float_slider("δ (delta)", delta, 0.1, 4.0, 0.1)}
    return build_explorer("Huber loss and its slope", huber_update, sliders, setup, figsize=(9.0, 3.4), live=live)


def outlier_update(shift: float, x, y, *, index: int = -1, delta: float = 1.0) -> dict:
    """Week 04 explorer: move point ``index`` of (x, y) (N,) up by ``shift`` and refit under MSE, MAE, Huber.

    Returns the moved data, each loss's best line as (w, b) and on a 2-point grid, and the slopes.
    The fits are computed directly (:func:`course_utils.fitting.best_line`), not by gradient descent.
    """
    from course_utils.fitting import best_line

    shift = require_finite(shift, "shift")
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.shape} and {y.shape}")
    if not -len(x) <= index < len(x):
        raise IndexError(f"index {index} is out of range for {len(x)} points")
    y_moved = y.copy()
    y_moved[index] += shift
    grid = np.array([x.min(), x.max()])
    out = {"shift": float(shift), "x": x, "y": y_moved, "moved": (float(x[index]), float(y_moved[index])), "grid": grid}
    for loss in ("mse", "mae", "huber"):
        fit = best_line(x, y_moved, loss, delta=delta)
        out[loss] = (fit.w, fit.b)
        out[f"{loss}_line"] = fit.w * grid + fit.b
        out[f"slope_{loss}"] = fit.w
    return out


def outlier_explorer(x=None, y=None, *, shift: float = 0.0, shift_range: tuple[float, float] = (-10.0, 30.0),
                     delta: float = 1.0, true_line: tuple[float, float] | None = None,
                     xlabel: str = "dose (mg/L)", ylabel: str = "response (units)", live: bool = True) -> Explorer:
    """Week 04: a slider moves the last point of (x, y) (N,) up or down; the MSE, MAE and Huber lines refit."""
    if x is None or y is None:
        from course_utils.data import make_line_with_outliers

        x, y = make_line_with_outliers(n=30, n_outliers=0, seed=0)
        true_line = true_line or (2.0, 1.0)
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()

    def update(shift):
        return outlier_update(shift, x, y, delta=delta)

    def setup(fig, d):
        ax = fig.add_subplot()
        ax.scatter(d["x"][:-1], d["y"][:-1], s=14, color=PALETTE["sky"], label="measurements")
        (pt,) = ax.plot(*d["moved"], "o", ms=9, color=PALETTE["vermillion"], label="the point you move")
        styles = {"mse": ("MSE fit", PALETTE["orange"], "-"), "mae": ("MAE fit", PALETTE["green"], "--"),
                  "huber": (f"Huber fit (δ = {delta:g})", PALETTE["blue"], "-.")}
        lines = {k: ax.plot(d["grid"], d[f"{k}_line"], color=c, ls=ls, lw=2, label=lab)[0]
                 for k, (lab, c, ls) in styles.items()}
        if true_line is not None:
            ax.plot(d["grid"], true_line[0] * d["grid"] + true_line[1], color="grey", ls=":", label="true line")
        lo, hi = y.min() + min(0.0, shift_range[0]), y.max() + max(0.0, shift_range[1])
        ax.set_ylim(lo - 1, hi + 1)
        style_axes(ax, title="One point moves: which line follows it?", xlabel=xlabel, ylabel=ylabel)
        ax.legend(loc="upper left", fontsize=8)
        text = ax.text(0.98, 0.03, "", transform=ax.transAxes, ha="right", va="bottom", fontsize=8)

        def redraw(d):
            pt.set_data([d["moved"][0]], [d["moved"][1]])
            for k, line in lines.items():
                line.set_ydata(d[f"{k}_line"])
            text.set_text(f"shift {d['shift']:+.0f}: slopes MSE {d['slope_mse']:.2f}, "
                          f"MAE {d['slope_mae']:.2f}, Huber {d['slope_huber']:.2f}")

        redraw(d)
        return redraw

    sliders = {"shift": float_slider("shift of the last point", shift, shift_range[0], shift_range[1], 1.0,
                                     readout_format=".0f")}
    return build_explorer("outlier and three fitted lines", update, sliders, setup, figsize=(7.0, 4.0), live=live)
