"""Week 02 explorers: softmax temperature, and moving one logit."""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from scipy.stats import entropy

from course_utils.plotting import PALETTE, style_axes

from ._core import Explorer, build_explorer, float_slider, require_logits


def temperature_update(T: float, logits) -> dict:
    """Week 02 explorer: probabilities softmax(z / T) of logits (C,) and their entropy in bits.

    Returns ``T``, ``probs`` (C,), ``entropy_bits``, ``max_entropy_bits`` (log2 C, the uniform case),
    ``top_prob`` and ``top_class``.
    """
    z = require_logits(logits)
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"T (temperature) must be a positive finite number, got {T}")
    p = softmax(z / T)
    return {
        "T": float(T),
        "probs": p,
        "entropy_bits": float(entropy(p, base=2, axis=-1)),
        "max_entropy_bits": float(np.log2(z.size)),
        "top_prob": float(p.max()),
        "top_class": int(p.argmax()),
    }


def temperature_curve(logits, temperatures) -> tuple[np.ndarray, np.ndarray]:
    """Week 02: probabilities (K, C) and entropies in bits (K,) for K temperatures at once."""
    z = require_logits(logits)
    t = np.asarray(temperatures, dtype=float).ravel()
    if not np.all(t > 0):
        raise ValueError("temperatures must all be positive")
    p = softmax(z[None, :] / t[:, None], axis=-1)
    return p, entropy(p, base=2, axis=-1)


def temperature_explorer(logits, labels=None, *, T: float = 1.0, live: bool = True) -> Explorer:
    """Week 02: a temperature slider over softmax(z / T) for logits (C,): bars + entropy curve."""
    z = require_logits(logits)
    labels = list(labels) if labels is not None else [str(i) for i in range(z.size)]
    grid = np.geomspace(0.05, 20.0, 200)
    _, h_grid = temperature_curve(z, grid)

    def update(T):
        return temperature_update(T, z)

    def setup(fig, d):
        ax_p, ax_h = fig.subplots(1, 2, width_ratios=[1.2, 1])
        bars = ax_p.bar(range(z.size), d["probs"], color=PALETTE["sky"])
        ax_p.set_xticks(range(z.size), labels, fontsize=8)
        ax_p.set_ylim(0, 1.05)
        style_axes(ax_p, title="softmax(z / T)", xlabel="class", ylabel="probability")
        ax_h.plot(grid, h_grid, color=PALETTE["blue"], label="entropy H(T)")
        ax_h.axhline(d["max_entropy_bits"], color="grey", ls=":", label=f"uniform: log2 {z.size}")
        (dot,) = ax_h.plot([], [], "o", color=PALETTE["vermillion"], label="current T")
        ax_h.set_xscale("log")
        ax_h.set_ylim(0, d["max_entropy_bits"] * 1.1)
        style_axes(ax_h, title="Entropy of the probabilities", xlabel="temperature T (log scale)", ylabel="entropy (bits)")
        ax_h.legend(fontsize=8, loc="lower right")
        text = ax_p.text(0.98, 0.95, "", transform=ax_p.transAxes, ha="right", va="top", fontsize=9)

        def redraw(d):
            for bar, p, k in zip(bars, d["probs"], range(z.size), strict=True):
                bar.set_height(p)
                bar.set_color(PALETTE["vermillion"] if k == d["top_class"] else PALETTE["sky"])
            dot.set_data([d["T"]], [d["entropy_bits"]])
            text.set_text(f"T = {d['T']:.2f}\nH = {d['entropy_bits']:.3f} bits")

        redraw(d)
        return redraw

    sliders = {"T": float_slider("temperature T", T, 0.05, 10.0, 0.05)}
    return build_explorer("softmax temperature", update, sliders, setup, figsize=(8.0, 3.2), live=live)


def one_logit_update(scale: float, logits, index: int) -> dict:
    """Week 02 explorer: multiply logit ``index`` of logits (C,) by ``scale`` and re-apply softmax.

    Returns the new ``logits`` and ``probs`` (C,), the starting ``base_probs`` (scale 1),
    ``p_index`` and ``others_factor``: the one factor by which every *other* class's
    probability was multiplied (their ratios to each other never change).
    """
    z = require_logits(logits)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -z.size <= index < z.size:
        raise ValueError(f"index must be an int in [0, {z.size}), got {index!r}")
    if not np.isfinite(scale):
        raise ValueError(f"scale must be a finite number, got {scale}")
    index = int(index) % z.size
    new = z.copy()
    new[index] = scale * z[index]
    p, base = softmax(new), softmax(z)
    return {
        "scale": float(scale),
        "logits": new,
        "probs": p,
        "base_probs": base,
        "p_index": float(p[index]),
        "others_factor": float((1.0 - p[index]) / (1.0 - base[index])),
    }


def one_logit_explorer(logits, index: int, labels=None, *, scale: float = 1.0, live: bool = True) -> Explorer:
    """Week 02: a slider scaling one logit of logits (C,): the logits and the probabilities, side by side."""
    z = require_logits(logits)
    labels = list(labels) if labels is not None else [str(i) for i in range(z.size)]
    colors = [PALETTE["vermillion"] if k == index else PALETTE["sky"] for k in range(z.size)]

    def update(scale):
        return one_logit_update(scale, z, index)

    def setup(fig, d):
        ax_z, ax_p = fig.subplots(1, 2)
        zbars = ax_z.bar(range(z.size), d["logits"], color=colors)
        ax_z.axhline(0, color="grey", lw=0.8)
        # room for every value the slider can give the scaled logit (scale in [-2, 4])
        lim = 1.1 * max(abs(z).max(), 4.0 * abs(z[index]), 1.0)
        ax_z.set_ylim(-lim, lim)
        ax_z.set_xticks(range(z.size), labels, fontsize=8)
        style_axes(ax_z, title=f"Logits (class {labels[index]} scaled)", xlabel="class", ylabel="logit (unitless score)")
        pbars = ax_p.bar(range(z.size), d["probs"], color=colors, label="now")
        ax_p.plot(range(z.size), d["base_probs"], "_", color=PALETTE["black"], ms=28, mew=2, label="at scale 1")
        ax_p.set_ylim(0, 1.05)
        ax_p.set_xticks(range(z.size), labels, fontsize=8)
        style_axes(ax_p, title="softmax probabilities", xlabel="class", ylabel="probability")
        # the "at scale 1" marker is 28 pt wide: shrink it in the legend so it does not run into its label
        ax_p.legend(fontsize=8, loc="upper right", handlelength=2.0, markerscale=0.5)
        # in the logits panel, clear of the probability bars (which can reach 1 on either side)
        text = ax_z.text(0.98, 0.03, "", transform=ax_z.transAxes, ha="right", va="bottom", fontsize=9)

        def redraw(d):
            for bar, v in zip(zbars, d["logits"], strict=True):
                bar.set_height(v)
            for bar, v in zip(pbars, d["probs"], strict=True):
                bar.set_height(v)
            text.set_text(f"scale = {d['scale']:.2f}\np[{labels[index]}] = {d['p_index']:.3f}\n"
                          f"others × {d['others_factor']:.3f}")

        redraw(d)
        return redraw

    sliders = {"scale": float_slider(f"scale of logit {labels[index]}", scale, -2.0, 4.0, 0.05)}
    return build_explorer("scaling one logit", update, sliders, setup, figsize=(8.0, 3.2), live=live)
