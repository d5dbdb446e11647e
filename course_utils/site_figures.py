"""Figure descriptions for the static site: the alt text of every figure a lecture displays.

A reader who cannot see a figure gets what it shows in words: its kind of panel, title, axis labels and legend,
taken from the matplotlib figure itself (:func:`describe_figure`). At build time the lecture runs with
:func:`describe_displayed_figures` installed, which stores each description in the figure output's metadata
(``ALT_METADATA_KEY``), where ``scripts/build_site.py`` puts it on the page's ``<img>``.
"""

from __future__ import annotations

import re
import sys

ALT_METADATA_KEY = "alt"  # output.metadata["image/png"]["alt"]: the text the site gives the figure's <img>
MAX_LEGEND = 6  # legend entries named per panel; the rest are counted
MAX_PANELS = 4  # panels described one by one; more (a grid of small images) are summarised
_GREEK = {name: chr(code) for name, code in (
    ("alpha", 945), ("beta", 946), ("gamma", 947), ("delta", 948), ("epsilon", 949), ("eta", 951),
    ("theta", 952), ("lambda", 955), ("mu", 956), ("pi", 960), ("rho", 961), ("sigma", 963), ("tau", 964),
    ("phi", 966), ("chi", 967), ("psi", 968), ("omega", 969), ("Delta", 916), ("Sigma", 931))}
_SYMBOLS = {"cdot": "·", "times": "×", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "to": "→",
            "rightarrow": "→", "approx": "≈", "infty": "∞", "pm": "±", "log": "log", "exp": "exp", "ln": "ln"}


def plain_text(text: str) -> str:
    """Matplotlib text as a screen reader should get it: mathtext (``$\\sigma(z)$``) becomes plain text (σ(z))."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")

    def math(m):
        s = m.group(1)
        s = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", s)
        s = re.sub(r"\\(?:mathrm|mathbf|mathit|text|operatorname)\{([^{}]*)\}", r"\1", s)
        s = re.sub(r"\\hat\{([^{}]*)\}|\\hat\s*(\w)", lambda g: (g.group(1) or g.group(2)) + "\u0302", s)
        s = re.sub(r"\\([A-Za-z]+)", lambda g: _GREEK.get(g.group(1), _SYMBOLS.get(g.group(1), g.group(1))), s)
        return s.replace("{", "").replace("}", "").replace("\\,", " ").replace("\\", "")

    text = re.sub(r"(?<!\\)\$(.+?)(?<!\\)\$", math, text).replace("\\$", "$")
    return " ".join(text.split())


def _panel_kind(ax) -> str:
    from matplotlib.collections import PathCollection, PolyCollection, QuadMesh
    from matplotlib.container import BarContainer
    from matplotlib.patches import Rectangle

    if ax.images or any(isinstance(c, QuadMesh) for c in ax.collections):
        return "image"
    if any(isinstance(c, BarContainer) for c in ax.containers) or sum(
            isinstance(p, Rectangle) for p in ax.patches) >= 3:
        return "bar chart"
    if any(isinstance(c, PathCollection) for c in ax.collections):
        return "scatter plot" if not ax.lines else "plot of points and lines"
    if ax.lines or any(isinstance(c, PolyCollection) for c in ax.collections):
        return "line plot"
    return "panel"


def _legend(ax) -> list[str]:
    legend = ax.get_legend()
    if legend is None or not legend.get_visible():
        return []
    return [t for t in (plain_text(x.get_text()) for x in legend.get_texts()) if t]


def _names(items: list[str], most: int) -> str:
    shown = ", ".join(items[:most])
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")


def describe_figure(figure) -> str:
    """What a matplotlib figure shows, in words, from its own text: the alt text of its image on the site.

    The figure's title, then each panel: its kind (line plot, bar chart, scatter plot, image), title, what it
    plots against what (the axis labels), its legend and colour bar. Twin axes (``twinx``) join their panel;
    more than ``MAX_PANELS`` panels (a grid of small images) are summarised by their titles. Returns "" for a
    figure with no text at all.
    """
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise TypeError(f"figure must be a matplotlib Figure, got {type(figure).__name__}")
    parts = []
    suptitle = plain_text(figure._suptitle.get_text()) if figure._suptitle is not None else ""
    if suptitle:
        parts.append(suptitle)
    colourbars = {ax for ax in figure.axes if getattr(ax, "_colorbar", None) is not None}
    panels: list[list] = []  # twins share a panel: the same place in the figure
    for ax in figure.axes:
        if ax in colourbars or not ax.get_visible():
            continue
        where = tuple(round(v, 3) for v in ax.get_position().bounds)
        for group in panels:
            if tuple(round(v, 3) for v in group[0].get_position().bounds) == where:
                group.append(ax)
                break
        else:
            panels.append([ax])

    def title(ax):
        return " ".join(t for t in (plain_text(ax.get_title(loc)) for loc in ("left", "center", "right")) if t)

    described = []
    for group in panels:
        ax = group[0]
        kinds = [_panel_kind(a) for a in group]
        kind = next((k for k in kinds if k != "panel"), "panel")
        if kind == "panel" and not title(ax) and not ax.texts:
            continue  # an empty spacer axes
        text = kind.capitalize()
        if title(ax):
            text += f" “{title(ax)}”"
        x = plain_text(ax.get_xlabel())
        ys = [y for y in (plain_text(a.get_ylabel()) for a in group) if y]
        if ys:
            text += f": {' and '.join(ys)}" + (f" against {x}" if x else "")
        elif x:
            text += f" over {x}"
        legend = [entry for a in group for entry in _legend(a)]
        if legend:
            text += f"; legend: {_names(legend, MAX_LEGEND)}"
        for cax in colourbars:
            label = plain_text(cax.get_ylabel() or cax.get_xlabel())
            if label and getattr(getattr(cax._colorbar, "mappable", None), "axes", None) in group:
                text += f"; colour scale: {label}"
        described.append((kind, title(ax), text))
    if len(described) > MAX_PANELS:
        kinds = sorted({k for k, _, _ in described})
        noun = {"image": "images", "line plot": "line plots", "bar chart": "bar charts",
                "scatter plot": "scatter plots"}
        what = noun.get(kinds[0], "panels") if len(kinds) == 1 else "panels"
        titles = [t for _, t, _ in described if t]
        parts.append(f"{len(described)} {what}" + (f", titled {_names(titles, 8)}" if titles else ""))
    elif len(described) > 1:
        parts.append(f"{len(described)} panels. " + " ".join(
            f"{n}. {text}." for n, (_, _, text) in enumerate(described, 1)))
    elif described:
        parts.append(described[0][2])
    text = ". ".join(p.rstrip(".") for p in parts if p)
    return text + "." if text and not text.endswith(".") else text


def describe_displayed_figures(shell=None) -> None:
    """From now on, every matplotlib figure the kernel displays carries its description as alt text.

    ``output.metadata["image/png"]["alt"]`` gets :func:`describe_figure` of the figure (the site builder
    runs this at the start of each lecture and gives each figure's ``<img>`` that text). Works with any
    PNG formatter (inline, retina): the description is added to what IPython's display formatter returns.
    """
    from IPython import get_ipython

    shell = shell if shell is not None else get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        raise RuntimeError("describe_displayed_figures needs an IPython shell (run it in a kernel), got shell=None")
    formatter = shell.display_formatter
    if getattr(formatter.format, "_describes_figures", False):
        return
    original = formatter.format

    def format_with_description(obj, include=None, exclude=None):
        data, metadata = original(obj, include=include, exclude=exclude)
        figure_module = sys.modules.get("matplotlib.figure")
        if "image/png" in data and figure_module is not None and isinstance(obj, figure_module.Figure):
            per_type = metadata.get("image/png")
            per_type = dict(per_type) if isinstance(per_type, dict) else {}
            per_type[ALT_METADATA_KEY] = describe_figure(obj)
            metadata = {**metadata, "image/png": per_type}
        return data, metadata

    format_with_description._describes_figures = True
    formatter.format = format_with_description
