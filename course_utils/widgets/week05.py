"""Week 05 explorer: training curves across learning rates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from course_utils.plotting import PALETTE, style_axes
from course_utils.training import lr_sweep  # noqa: F401  (re-exported: built in week 05 with fit)

from ._core import Explorer, build_explorer, float_slider, require_finite


def lr_update(log10_lr: float, runs: Mapping[float, Any]) -> dict:
    """Week 05 explorer: the precomputed run whose learning rate is nearest ``10**log10_lr``.

    ``runs``: ``{lr: History}`` (from :func:`lr_sweep`). Returns the selected run's
    per-epoch train/validation loss (E,) with non-finite values as NaN, its final
    validation accuracy and best epoch, and every run's final accuracy (R,) for the overview.
    """
    log10_lr = require_finite(log10_lr, "log10_lr")
    if not runs:
        raise ValueError("runs must hold at least one precomputed run")
    lrs = np.array(sorted(runs), dtype=float)
    lr = float(lrs[np.abs(np.log10(lrs) - log10_lr).argmin()])
    h = runs[lr]

    def clean(values):
        v = np.asarray(values, dtype=float)
        return np.where(np.isfinite(v), v, np.nan)

    train_loss, val_loss = clean(h.train_loss), clean(h.val_loss)
    return {
        "lr": lr, "epochs": np.arange(1, len(train_loss) + 1), "train_loss": train_loss, "val_loss": val_loss,
        "final_val_loss": float(val_loss[-1]), "final_val_acc": float(h.val_metric[-1]),
        "best_epoch": h.best_epoch(),
        # "learns": the validation loss ends clearly below where it started (chance level).
        "learns": bool(np.isfinite(val_loss[-1]) and val_loss[-1] < 0.8 * val_loss[0]),
        "all_lrs": lrs, "all_final_acc": np.array([runs[k].val_metric[-1] for k in lrs], dtype=float),
    }


def lr_explorer(runs: Mapping[float, Any], *, log10_lr: float = -1.0, live: bool = True) -> Explorer:
    """Week 05: a log10(learning rate) slider over precomputed runs; loss curves and final accuracy per lr."""
    lrs = np.array(sorted(runs), dtype=float)
    if len(lrs) < 2:
        raise ValueError("runs must hold at least two learning rates for the slider to move between")
    logs = np.log10(lrs)
    step = float(np.round(np.min(np.diff(logs)), 6))
    finite = np.concatenate([np.asarray(runs[k].train_loss + runs[k].val_loss, dtype=float) for k in lrs])
    finite = finite[np.isfinite(finite)]
    ylim = (max(finite.min() / 1.5, 1e-3), min(finite.max() * 1.5, 10.0))

    def update(log10_lr):
        return lr_update(log10_lr, runs)

    def setup(fig, d):
        ax_l, ax_a = fig.subplots(1, 2)
        for k in lrs:  # every run's validation loss, faint, for context
            ax_l.plot(d["epochs"], lr_update(np.log10(k), runs)["val_loss"], color="0.8", lw=1)
        (lt,) = ax_l.plot(d["epochs"], d["train_loss"], color=PALETTE["blue"], lw=2, label="train (selected lr)")
        (lv,) = ax_l.plot(d["epochs"], d["val_loss"], color=PALETTE["vermillion"], lw=2, ls="--",
                          label="validation (selected lr)")
        ax_l.plot([], [], color="0.8", label="validation, other lrs")
        ax_l.set_yscale("log")
        ax_l.set_ylim(*ylim)
        style_axes(ax_l, title="Loss curves for one learning rate", xlabel="epoch",
                   ylabel="cross-entropy (nats, log scale)")
        ax_l.legend(loc="lower left", fontsize=8, frameon=False)
        ax_a.plot(d["all_lrs"], d["all_final_acc"], marker="o", color=PALETTE["green"], label="all runs")
        (dot,) = ax_a.plot([d["lr"]], [d["final_val_acc"]], marker="o", ms=11, ls="none", mfc="none",
                           mec=PALETTE["vermillion"], mew=2, label="selected")
        ax_a.set_xscale("log")
        ax_a.set_ylim(0, 1.05)
        style_axes(ax_a, title="Validation accuracy after the last epoch", xlabel="learning rate (log scale)",
                   ylabel="validation accuracy", legend=True)
        text = ax_a.text(0.03, 0.95, "", transform=ax_a.transAxes, va="top", fontsize=9)

        def redraw(d):
            lt.set_ydata(d["train_loss"])
            lv.set_ydata(d["val_loss"])
            dot.set_data([d["lr"]], [d["final_val_acc"]])
            text.set_text(f"lr = {d['lr']:.3g}\nval. accuracy {d['final_val_acc']:.2f}")

        redraw(d)
        return redraw

    sliders = {"log10_lr": float_slider("log10(learning rate)", log10_lr, float(logs[0]), float(logs[-1]), step,
                                        readout_format=".1f")}
    return build_explorer("learning rate and the loss curves (precomputed runs)", update, sliders, setup,
                          figsize=(9.5, 3.4), live=live)
