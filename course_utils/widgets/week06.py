"""Week 06 explorer: a slice through the loss landscape."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from course_utils.plotting import PALETTE, style_axes

from ._core import Explorer, build_explorer, float_slider, require_finite


def landscape_update(scale: float, slices: Mapping[float, dict]) -> dict:
    """Week 06 explorer: the precomputed 2-D loss slice whose half-width is nearest ``scale``.

    ``slices``: ``{half_width: {"coords": (n,), "loss": (n, n)}}`` from
    ``course_utils.experiments.landscape_slices``. Returns the slice, log10 of the loss for
    colouring, the two cross-sections through the trained model (centre) and summary numbers.
    """
    scale = require_finite(scale, "scale")
    if not slices:
        raise ValueError("slices must hold at least one precomputed slice")
    keys = np.array(sorted(slices))
    s = float(keys[np.abs(keys - scale).argmin()])
    coords, loss = np.asarray(slices[s]["coords"]), np.asarray(slices[s]["loss"])
    n = len(coords)
    if loss.shape != (n, n) or n % 2 == 0:
        raise ValueError(f"slice {s}: loss must be (n, n) with odd n = len(coords), got {loss.shape} for n = {n}")
    c = n // 2
    centre = float(loss[c, c])
    return {
        "scale": s, "coords": coords, "loss": loss, "log_loss": np.log10(np.maximum(loss, 1e-12)),
        "extent": (coords[0], coords[-1], coords[0], coords[-1]),
        "section_a": loss[c, :], "section_b": loss[:, c],
        "centre_loss": centre, "max_loss": float(loss.max()), "edge_ratio": float(loss.max() / centre),
        "frac_within_2x": float((loss <= 2 * centre).mean()),
    }


def landscape_explorer(slices: Mapping[float, dict], *, scale: float | None = None, what: str = "training loss",
                       live: bool = True) -> Explorer:
    """Week 06: a slider for the half-width of a precomputed 2-D loss-landscape slice."""
    keys = sorted(slices)
    if len(keys) < 2:
        raise ValueError("slices must hold at least two half-widths for the slider to move between")
    steps = np.diff(keys)
    if not np.allclose(steps, steps[0], rtol=1e-6):
        raise ValueError(f"the half-widths of slices must be equally spaced so that every slider step shows a new "
                         f"slice, got {keys}")
    step = float(steps[0])
    scale = keys[len(keys) // 2] if scale is None else scale

    def update(scale):
        return landscape_update(scale, slices)

    def setup(fig, d):
        from matplotlib.ticker import FormatStrFormatter, MaxNLocator

        ax_map, ax_cut = fig.subplots(1, 2)
        im = ax_map.imshow(d["log_loss"], origin="lower", extent=d["extent"], cmap="viridis", aspect="equal")
        ax_map.plot([0], [0], marker="*", color=PALETTE["orange"], ms=12, ls="none")
        # A label beside the star, not a legend: a legend's own star inside the map reads as a second point.
        ax_map.annotate("trained model", xy=(0, 0), xytext=(6, -12), textcoords="offset points", fontsize=8,
                        color="white", fontweight="bold")
        cbar = fig.colorbar(im, ax=ax_map, label=f"log10({what})")
        cbar.locator, cbar.formatter = MaxNLocator(4), FormatStrFormatter("%.2f")  # narrow ranges stay legible
        cbar.update_ticks()
        style_axes(ax_map, title="Loss on a random 2-D slice", xlabel="step a along direction 1 (filter-normalised)",
                   ylabel="step b along direction 2")
        ax_map.grid(False)
        (la,) = ax_cut.plot(d["coords"], np.log10(d["section_a"]), color=PALETTE["blue"], label="along direction 1 (b = 0)")
        (lb,) = ax_cut.plot(d["coords"], np.log10(d["section_b"]), color=PALETTE["vermillion"], ls="--",
                            label="along direction 2 (a = 0)")
        for ax in (ax_map, ax_cut):
            ax.xaxis.set_major_locator(MaxNLocator(4))
        ax_map.yaxis.set_major_locator(MaxNLocator(4))
        style_axes(ax_cut, title="Cross-sections through the trained model", xlabel="step along the direction",
                   ylabel=f"log10({what})")
        ax_cut.yaxis.tick_right()  # keeps the axis label clear of the colour bar at every half-width
        ax_cut.yaxis.set_major_formatter(FormatStrFormatter("%.2f"))  # same label width at every half-width
        ax_cut.yaxis.set_label_position("right")
        ax_cut.spines["right"].set_visible(True)
        ax_cut.spines["left"].set_visible(False)
        ax_cut.legend(loc="upper center", bbox_to_anchor=(0.5, 0.84), fontsize=8)
        text = ax_cut.text(0.5, 0.97, "", transform=ax_cut.transAxes, ha="center", va="top", fontsize=8)

        def redraw(d):
            im.set_data(d["log_loss"])
            im.set_extent(d["extent"])
            im.set_clim(d["log_loss"].min(), d["log_loss"].max())
            ax_map.set_xlim(d["extent"][:2])
            ax_map.set_ylim(d["extent"][2:])
            # The layout is frozen after the first draw: log10 with "%.2f" keeps tick labels the same width.
            la.set_data(d["coords"], np.log10(d["section_a"]))
            lb.set_data(d["coords"], np.log10(d["section_b"]))
            lo = np.log10(min(d["section_a"].min(), d["section_b"].min()))
            hi = np.log10(max(d["section_a"].max(), d["section_b"].max()))
            ax_cut.set_xlim(d["coords"][0], d["coords"][-1])
            ax_cut.set_ylim(lo - 0.05 * (hi - lo), hi + 0.45 * (hi - lo))  # head room for the legend
            text.set_text(f"half-width {d['scale']:.2f}\nmax / centre = {d['edge_ratio']:.1f}")

        redraw(d)
        return redraw

    sliders = {"scale": float_slider("slice half-width", scale, keys[0], keys[-1], step)}
    return build_explorer("loss landscape slice", update, sliders, setup, figsize=(9.0, 3.6), live=live)
