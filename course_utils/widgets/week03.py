"""Week 03 explorers: the loss against the probability of the true class, and the CE gradient as one logit moves."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, softmax

from course_utils.plotting import PALETTE, style_axes

from ._core import Explorer, build_explorer, float_slider, require_finite, require_index, require_logits


def true_class_update(p: float) -> dict:
    """Week 03 explorer: cross-entropy -ln p for the true class's probability p, and its gradients.

    Returns ``p``, ``loss`` (nats), ``loss_bits``, ``dloss_dp`` (= -1/p) and ``dloss_dz``
    (= p - 1, the gradient with respect to the true class's logit, through softmax or sigmoid).
    """
    p = require_finite(p, "p (probability of the true class)")
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p (probability of the true class) must lie in (0, 1], got {p}")
    if p < np.finfo(float).tiny:  # -1/p would overflow to -inf
        raise ValueError(f"p (probability of the true class) must be at least {np.finfo(float).tiny:.3g}, got {p}")
    loss = -np.log(p) + 0.0  # + 0.0 turns -0.0 (at p = 1) into 0.0, so the text never shows "-0.000"
    return {"p": float(p), "loss": float(loss), "loss_bits": float(loss / np.log(2.0)),
            "dloss_dp": float(-1.0 / p), "dloss_dz": float(p - 1.0)}


def true_class_explorer(*, p: float = 0.5, live: bool = True) -> Explorer:
    """Week 03: a slider for p(true class): the loss -ln p and its gradients w.r.t. p and the logit."""
    grid = np.linspace(0.01, 1.0, 300)

    def setup(fig, d):
        ax_l, ax_g = fig.subplots(1, 2)
        ax_l.plot(grid, -np.log(grid), color=PALETTE["blue"], label="loss = −ln p")
        (dot_l,) = ax_l.plot([], [], "o", color=PALETTE["vermillion"], label="current p")
        ax_l.set_ylim(0, 4.8)
        style_axes(ax_l, title="Cross-entropy of one sample", xlabel="p = predicted probability of the true class",
                   ylabel="loss (nats)")
        ax_l.legend(fontsize=8, loc="upper right")
        ax_g.plot(grid, -1.0 / grid, color=PALETTE["orange"], label="d loss / d p = −1/p  (nats per unit of p)")
        ax_g.plot(grid, grid - 1.0, color=PALETTE["green"], ls="--",
                  label="d loss / d z = p − 1  (nats per unit of the logit z)")
        (dot_p,) = ax_g.plot([], [], "o", color=PALETTE["orange"])
        (dot_z,) = ax_g.plot([], [], "s", color=PALETTE["green"])
        ax_g.axhline(0, color="grey", lw=0.8)
        ax_g.set_ylim(-10.5, 0.8)
        style_axes(ax_g, title="Its gradient, with respect to p and to the logit z",
                   xlabel="p = predicted probability of the true class", ylabel="gradient (units in the legend)")
        ax_g.legend(fontsize=8, loc="lower right")
        text = ax_l.text(0.35, 0.55, "", transform=ax_l.transAxes, fontsize=9)

        def redraw(d):
            dot_l.set_data([d["p"]], [d["loss"]])
            dot_p.set_data([d["p"]], [max(d["dloss_dp"], -10.4)])  # stays on the axes at tiny p
            dot_z.set_data([d["p"]], [d["dloss_dz"]])
            text.set_text(f"p = {d['p']:.2f}\nloss = {d['loss']:.3f} nats = {d['loss_bits']:.3f} bits\n"
                          f"d/dp = {d['dloss_dp']:.2f},  d/dz = {d['dloss_dz']:.2f}")

        redraw(d)
        return redraw

    sliders = {"p": float_slider("p(true class)", p, 0.01, 1.0, 0.01)}
    return build_explorer("loss and gradient against the probability of the true class", true_class_update,
                          sliders, setup, figsize=(8.5, 3.4), live=live)


def logit_gradient_update(z: float, logits, target: int, index: int) -> dict:
    """Week 03 explorer: set logit ``index`` of logits (C,) to ``z``; CE for class ``target`` and its gradient.

    Returns ``logits``, ``probs`` and ``grad`` = softmax - one_hot (each (C,)), ``loss`` in nats,
    ``p_target`` and ``z``.
    """
    base = require_logits(logits)
    target = require_index(target, base.size, "target")
    index = require_index(index, base.size, "index")
    z = require_finite(z, "z (the logit being moved)")
    new = base.copy()
    new[index] = z
    p = softmax(new)
    loss = logsumexp(new) - new[target]
    grad = p.copy()
    grad[target] -= 1.0
    return {"z": float(z), "logits": new, "probs": p, "grad": grad, "loss": float(loss),
            "p_target": float(p[target])}


def logit_gradient_curve(zs, logits, target: int, index: int) -> np.ndarray:
    """Week 03: cross-entropy (K,) when logit ``index`` of logits (C,) takes each of the K values ``zs``."""
    base = require_logits(logits)
    zs = np.asarray(zs, dtype=float).ravel()
    if not np.all(np.isfinite(zs)):
        raise ValueError("zs (the values of the moved logit) must all be finite")
    all_z = np.repeat(base[None, :], zs.size, axis=0)
    all_z[:, index] = zs
    return logsumexp(all_z, axis=1) - all_z[:, target]


def logit_gradient_explorer(logits, target: int, index: int | None = None, labels=None, *,
                            z_range: tuple[float, float] = (-6.0, 6.0), live: bool = True) -> Explorer:
    """Week 03: a slider over one logit of logits (C,): probabilities, CE and the gradient softmax − one-hot."""
    base = require_logits(logits)
    target = require_index(target, base.size, "target")
    index = target if index is None else require_index(index, base.size, "index")
    labels = list(labels) if labels is not None else [str(i) for i in range(base.size)]
    grid = np.linspace(z_range[0], z_range[1], 241)
    colors = [PALETTE["vermillion"] if k == target else PALETTE["sky"] for k in range(base.size)]

    def update(z):
        return logit_gradient_update(z, base, target, index)

    def setup(fig, d):
        ax_p, ax_g, ax_l = fig.subplots(1, 3)
        pbars = ax_p.bar(range(base.size), d["probs"], color=colors)
        ax_p.set_xticks(range(base.size), labels, fontsize=8)
        ax_p.set_ylim(0, 1.05)
        style_axes(ax_p, title="softmax(logits)", xlabel=f"class (true: {labels[target]}, red)", ylabel="probability")
        gbars = ax_g.bar(range(base.size), d["grad"], color=colors)
        ax_g.set_xticks(range(base.size), labels, fontsize=8)
        ax_g.axhline(0, color="grey", lw=0.8)
        ax_g.set_ylim(-1.05, 1.05)
        style_axes(ax_g, title="gradient = softmax − one-hot", xlabel="class", ylabel="d loss / d logit")
        ax_l.plot(grid, logit_gradient_curve(grid, base, target, index), color=PALETTE["blue"], label="cross-entropy")
        (dot,) = ax_l.plot([], [], "o", color=PALETTE["vermillion"], label="current logit")
        style_axes(ax_l, title="Loss as this logit moves", xlabel=f"logit of {labels[index]}", ylabel="loss (nats)")
        ax_l.legend(fontsize=8, loc="upper right")
        text = ax_l.text(0.04, 0.04, "", transform=ax_l.transAxes, fontsize=8)

        def redraw(d):
            for bar, p in zip(pbars, d["probs"], strict=True):
                bar.set_height(p)
            for bar, g in zip(gbars, d["grad"], strict=True):
                bar.set_height(g)
            dot.set_data([d["z"]], [d["loss"]])
            text.set_text(f"loss = {d['loss']:.3f}\np(true) = {d['p_target']:.3f}")

        redraw(d)
        return redraw

    sliders = {"z": float_slider(f"logit of {labels[index]}", float(np.clip(base[index], *z_range)),
                                 z_range[0], z_range[1], 0.1)}
    return build_explorer("cross-entropy and its gradient as one logit moves", update, sliders, setup,
                          figsize=(9.5, 3.3), live=live)
