"""Week 02 explorers: softmax temperature, and adding Δ to one logit."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch
from scipy.special import entr, logsumexp, softmax

from course_utils.plotting import PALETTE, style_axes

from ._core import Explorer, build_explorer, float_slider, require_finite, require_logits


def _bits(p: np.ndarray) -> np.ndarray:
    """Entropy in bits of probabilities along the last axis, with 0 · log 0 = 0 (scipy.special.entr)."""
    return entr(p).sum(axis=-1) / np.log(2)


def _require_temperature(T) -> float:
    """A positive finite temperature as a float; anything else is refused, naming the slider."""
    try:
        t = float(T)
    except (TypeError, ValueError):
        raise TypeError(f"T (temperature) must be a number, got {type(T).__name__}") from None
    if not (np.isfinite(t) and t > 0):
        raise ValueError(f"T (temperature) must be a positive finite number, got {T!r}")
    return t


def _cooled(z: np.ndarray, t) -> np.ndarray:
    """(z - max z) / T: the largest entry is exactly 0, so any T > 0, however small, gives finite or -inf values."""
    with np.errstate(over="ignore"):
        return (z - z.max(axis=-1, keepdims=True)) / t


def temperature_update(T: float, logits) -> dict:
    """Week 02 explorer: probabilities softmax(z / T) of logits (C,) and their entropy in bits.

    Returns ``T``, ``probs`` (C,), ``entropy_bits``, ``max_entropy_bits`` (log2 C, the uniform case),
    ``top_prob`` and ``top_class``. Shift invariance lets it subtract the max first, so a tiny T gives
    the one-hot limit rather than inf / inf.
    """
    z = require_logits(logits)
    T = _require_temperature(T)
    p = softmax(_cooled(z, T))
    return {
        "T": T,
        "probs": p,
        "entropy_bits": float(_bits(p)),
        "max_entropy_bits": float(np.log2(z.size)),
        "top_prob": float(p.max()),
        "top_class": int(p.argmax()),
    }


def temperature_curve(logits, temperatures) -> tuple[np.ndarray, np.ndarray]:
    """Week 02: probabilities (K, C) and entropies in bits (K,) for K temperatures at once."""
    z = require_logits(logits)
    t = np.asarray(temperatures, dtype=float).ravel()
    if not np.all(np.isfinite(t) & (t > 0)):
        raise ValueError("temperatures must all be positive finite numbers")
    p = softmax(_cooled(z[None, :], t[:, None]), axis=-1)
    return p, _bits(p)


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


_LOG_MAX = float(np.log(np.finfo(float).max))


def one_logit_update(delta: float, logits, index: int) -> dict:
    """Week 02 explorer: add ``delta`` to logit ``index`` of logits (C,) and re-apply softmax.

    Returns the new ``logits`` and ``probs`` (C,), the starting ``base_probs`` (delta 0), ``p_index``
    and ``others_factor``: the one factor by which every *other* class's probability was multiplied,
    exp(logsumexp(z) - logsumexp(z')) — their ratios to each other never change. Finite for any
    finite input (the factor is capped at the largest float where the others started at a probability of 0).
    """
    z = require_logits(logits)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -z.size <= index < z.size:
        raise ValueError(f"index must be an int in [0, {z.size}), got {index!r}")
    delta = require_finite(delta, "delta (added to the logit)")
    index = int(index) % z.size
    new = z.copy()
    with np.errstate(over="ignore"):
        moved = z[index] + delta
    new[index] = np.clip(moved, -np.finfo(float).max, np.finfo(float).max)  # a sum can overflow; its softmax cannot
    p, base = softmax(new), softmax(z)
    return {
        "delta": delta,
        "logits": new,
        "probs": p,
        "base_probs": base,
        "p_index": float(p[index]),
        "others_factor": float(np.exp(min(logsumexp(z) - logsumexp(new), _LOG_MAX))),
    }


def one_logit_explorer(logits, index: int, labels=None, *, delta: float = 0.0, live: bool = True) -> Explorer:
    """Week 02: a slider adding Δ to one logit of logits (C,): the logits and the probabilities, side by side."""
    z = require_logits(logits)
    labels = list(labels) if labels is not None else [str(i) for i in range(z.size)]
    colors = [PALETTE["vermillion"] if k == index else PALETTE["sky"] for k in range(z.size)]
    lo, hi = -4.0, 4.0

    def update(delta):
        return one_logit_update(delta, z, index)

    def setup(fig, d):
        ax_z, ax_p = fig.subplots(1, 2)
        ax_z.bar(range(z.size), z, color="none", edgecolor=PALETTE["black"], ls=":", lw=1.2, label="at Δ = 0")
        zbars = ax_z.bar(range(z.size), d["logits"], color=colors, alpha=0.85, label="now")
        ax_z.axhline(0, color="grey", lw=0.8)
        # room for every value the slider can give the moved logit
        top = max(z.max(), z[index] + hi, 0.0)
        bottom = min(z.min(), z[index] + lo, 0.0)
        pad = 0.1 * (top - bottom)
        ax_z.set_ylim(bottom - pad, top + pad)
        ax_z.set_xticks(range(z.size), labels, fontsize=8)
        style_axes(ax_z, title=f"Logits (Δ added to {labels[index]})", xlabel="class", ylabel="logit (unitless score)")
        # the legend names both bar colours: the class Δ is added to (highlighted) and the others
        now = [Patch(color=PALETTE["sky"], alpha=0.85, label="now: other classes"),
               Patch(color=PALETTE["vermillion"], alpha=0.85, label=f"now: {labels[index]} (Δ added)")]
        ax_z.legend(handles=[ax_z.containers[0], *now], fontsize=8, loc="upper right")
        pbars = ax_p.bar(range(z.size), d["probs"], color=colors)
        (base,) = ax_p.plot(range(z.size), d["base_probs"], "_", color=PALETTE["black"], ms=28, mew=2, label="at Δ = 0")
        ax_p.set_ylim(0, 1.05)
        ax_p.set_xticks(range(z.size), labels, fontsize=8)
        style_axes(ax_p, title="softmax probabilities", xlabel="class", ylabel="probability")
        # the "at Δ = 0" marker is 28 pt wide: shrink it in the legend so it does not run into its label
        ax_p.legend(handles=[*now, base], fontsize=8, loc="upper right", handlelength=2.0, markerscale=0.5)
        # bottom right of the logits panel: below the last class's bar whatever Δ does
        text = ax_z.text(0.98, 0.03, "", transform=ax_z.transAxes, ha="right", va="bottom", fontsize=9)

        def redraw(d):
            for bar, v in zip(zbars, d["logits"], strict=True):
                bar.set_height(v)
            for bar, v in zip(pbars, d["probs"], strict=True):
                bar.set_height(v)
            text.set_text(f"Δ = {d['delta']:+.2f}\np[{labels[index]}] = {d['p_index']:.3f}\n"
                          f"others × {d['others_factor']:.3f}")

        redraw(d)
        return redraw

    sliders = {"delta": float_slider(f"Δ added to the logit of {labels[index]}", delta, lo, hi, 0.1)}
    return build_explorer("adding Δ to one logit", update, sliders, setup, figsize=(8.0, 3.2), live=live)
