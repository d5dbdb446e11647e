"""The static course site: every explorer's figure at a grid of slider positions, so its sliders work without a kernel.

A reader of the site has no Python behind the page. At build time (``scripts/build_site.py``) each lecture
runs in a kernel with ``COURSE_SITE_FRAMES`` set; every explorer it displays is registered here
(:mod:`course_utils.widgets._core` calls :func:`register`), and the run ends with :func:`write_registered`,
which draws each explorer -- its own ``update`` and ``redraw`` -- at every step of a one-slider range (a
capped grid for several sliders) and stores the frames as palette PNGs with the text the figure shows.
:func:`explorer_html` turns that into range inputs with the explorer's labels, values and steps; the
site's ``explorer.js`` swaps in the matching frame and text as a slider moves. Nothing here knows a week.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from course_utils.site_figures import (  # noqa: F401  (re-exported: the site's figure descriptions)
    ALT_METADATA_KEY,
    describe_displayed_figures,
    describe_figure,
    plain_text,
)

MAX_GRID = 121  # frames at most for an explorer with two or more sliders (11 x 11)
MAX_STEPS = 401  # positions of a one-slider explorer; beyond this its step is coarsened
BUDGET = 3_000_000  # bytes of frames per explorer at most (the site check enforces it)
PALETTE_COLOURS = 256  # line art has a few hundred colours (most of them antialiased edges): a palette PNG is small

_displayed: list = []


def register(explorer) -> None:
    """Note an explorer as displayed (called while the site is built); duplicates keep the display order."""
    _displayed.append(explorer)


def slider_positions(value: float, lo: float, hi: float, step: float, max_positions: int) -> tuple[list[float], float]:
    """Positions ``value + k * grid_step`` inside [lo, hi] and that grid step: the smallest round multiple of
    ``step`` (1, 2, 5, 10 ... times) that leaves at most ``max_positions``. The starting value is one of them."""
    if not (step > 0 and lo <= hi and max_positions >= 1):
        raise ValueError(f"need step > 0, lo <= hi and max_positions >= 1, got step={step}, [{lo}, {hi}], {max_positions}")
    if not lo - 1e-9 * max(1.0, abs(lo)) <= value <= hi + 1e-9 * max(1.0, abs(hi)):
        raise ValueError(f"value {value} lies outside [{lo}, {hi}]")
    # the finest grid that fits, every step if the range allows, else a round multiple (2, 5, 10, 20 ... steps)
    for factor in (m * 10**e for e in range(12) for m in (1, 2, 5)):
        grid_step = step * factor
        eps = 1e-9 * grid_step
        k_lo, k_hi = math.ceil((lo - value - eps) / grid_step), math.floor((hi - value + eps) / grid_step)
        if k_hi - k_lo + 1 <= max_positions:
            break
    positions = [round(value + k * grid_step, 10) + 0.0 for k in range(k_lo, k_hi + 1)]
    return positions, round(grid_step, 10)


def slider_grid(sliders: dict[str, Any], *, max_grid: int = MAX_GRID, max_steps: int = MAX_STEPS) -> list[dict]:
    """One entry per slider (name, label, grid step, positions and their read-outs, index of the current value).

    One slider: every step (up to ``max_steps``). Several: at most ``max_grid`` positions in all, shared
    out from the slider with the fewest steps up, so a short slider keeps every step.
    """
    if not sliders:
        raise ValueError("an explorer needs at least one slider")

    def positions(s, cap):
        return slider_positions(float(s.value), float(s.min), float(s.max), float(s.step), cap)

    caps = {name: max_steps for name in sliders}
    if len(sliders) > 1:
        budget, left = float(max_grid), len(sliders)
        for name in sorted(sliders, key=lambda n: len(positions(sliders[n], 10**6)[0])):
            caps[name] = max(2, int(budget ** (1.0 / left) + 1e-9))
            budget, left = budget / len(positions(sliders[name], caps[name])[0]), left - 1
    axes = []
    for name, s in sliders.items():
        pos, step = positions(s, caps[name])
        fmt = getattr(s, "readout_format", "") or ""
        axes.append({
            "name": name, "label": str(getattr(s, "description", name) or name), "step": step,
            "positions": pos, "labels": [_format(v, fmt) for v in pos],
            "start": int(np.argmin([abs(v - float(s.value)) for v in pos])),
        })
    return axes


def _format(value: float, fmt: str) -> str:
    """A slider readout as ipywidgets shows it (``readout_format`` such as ".2f"), else ``:g``."""
    for v in (value, int(round(value))):
        try:
            return format(v, fmt) if fmt else f"{value:g}"
        except (ValueError, TypeError):
            continue
    return f"{value:g}"


def texts(figure) -> list[str]:
    """The text of every text artist in the figure's axes, in order ("" for a hidden one)."""
    return [t.get_text() if t.get_visible() else "" for ax in figure.axes for t in ax.texts]


def readouts(per_frame: list[list[str]]) -> list[str]:
    """Each frame's read-out: the texts that change from frame to frame (accuracy, loss ...), not the labels."""
    varying = [i for i in range(len(per_frame[0])) if len({t[i] for t in per_frame}) > 1] if per_frame else []
    return ["\n".join(t[i] for i in varying if t[i].strip()) for t in per_frame]


def _pack(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)[..., :3].astype(np.uint32)
    return ((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]).ravel()


def _unpack(keys: np.ndarray) -> np.ndarray:
    return np.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], axis=-1).astype(np.int32)


def palette_for(images: list[np.ndarray], colours: int = PALETTE_COLOURS) -> np.ndarray:
    """A palette (K, 3) for frames (H, W, 3|4): their most frequent colours, exactly (the white background,
    the lines, the text), plus the colours farthest from those (a small marker), so no colour is far off."""
    uniq, counts = np.unique(np.concatenate([_pack(i) for i in images]), return_counts=True)
    order = np.argsort(-counts, kind="stable")
    n_top = min(len(uniq), colours - colours // 8)
    chosen, rest = list(order[:n_top]), order[n_top:]
    if len(rest):
        rgb = _unpack(uniq)
        far = ((rgb[rest][:, None, :] - rgb[chosen][None, :, :]) ** 2).sum(-1).min(axis=1)
        for _ in range(min(colours - n_top, len(rest))):
            k = int(far.argmax())
            chosen.append(rest[k])
            far = np.minimum(far, ((rgb[rest] - rgb[rest[k]]) ** 2).sum(-1))
    return _unpack(uniq[np.array(chosen)])


class PaletteEncoder:
    """Palette PNGs of an explorer's frames: colours of the palette stay exact, others take the nearest entry.

    A table from every 24-bit colour to its palette index is filled as colours turn up, so a frame costs a
    lookup per pixel. A frame with a colour far from every entry (more than ``max_error`` levels in a
    channel) gets a palette of its own.
    """

    def __init__(self, palette: np.ndarray, max_error: int = 48, compress_level: int = 6):
        self.palette, self.max_error = np.asarray(palette, dtype=np.int32), max_error
        self.compress_level = compress_level  # 9: about 7% smaller files, six times the time
        self.table = np.full(1 << 24, -1, dtype=np.int16)
        self.table[_pack(self.palette[None])] = np.arange(len(self.palette))

    def encode(self, rgba: np.ndarray) -> bytes:
        from PIL import Image

        keys = _pack(rgba)
        index = self.table[keys]
        if (index < 0).any():
            new = np.unique(keys[index < 0])
            dist = np.abs(_unpack(new)[:, None, :] - self.palette[None, :, :]).max(axis=-1)
            if dist.min(axis=1).max() > self.max_error:
                return PaletteEncoder(palette_for([rgba]), 255, self.compress_level).encode(rgba)
            self.table[new] = dist.argmin(axis=1)
            index = self.table[keys]
        img = Image.fromarray(index.astype(np.uint8).reshape(np.shape(rgba)[:2]), mode="P")
        img.putpalette(self.palette.astype(np.uint8).ravel().tolist())
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=self.compress_level)
        return buf.getvalue()


class FrameCanvas:
    """Draws an explorer's figure after each ``redraw``, re-rendering only the axes that ``redraw`` touched.

    As the live explorer does (``widgets._core.Blitter``), but without its draw-event callbacks (blocked
    while frames are drawn) and without sending anything to a front end: the first draw, and any draw
    after axis limits or ticks changed, renders the whole figure with the touched axes' content left out
    and keeps that background; later frames paste it back and draw only that content: two to three
    times faster than a full draw per frame.
    """

    def __init__(self, figure):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        if not isinstance(figure.canvas, FigureCanvasAgg):  # a figure built without a live canvas
            FigureCanvasAgg(figure)
        self.figure, self.canvas = figure, figure.canvas
        self.animated = {a: a.get_animated() for a in figure.findobj()}
        self.live = {ax for ax in figure.axes if any(a.get_animated() for a in self._content(ax))}
        self.background, self.limits = None, None

    @staticmethod
    def _content(ax) -> list:
        from matplotlib.axis import Axis
        from matplotlib.legend import Legend
        from matplotlib.spines import Spine

        inner = [a for a in ax.get_children() if a is not ax.patch and not isinstance(a, (Axis, Spine, Legend))
                 and a not in (ax.title, ax._left_title, ax._right_title)]
        return sorted(inner, key=lambda a: a.get_zorder()) + ([ax.legend_] if ax.legend_ else []) + [ax.title]

    def _limits(self) -> list:
        fig = self.figure
        return [(tuple(ax.viewLim.bounds), tuple(ax.get_xticks()), tuple(ax.get_yticks())) for ax in fig.axes] + [
            a.stale for a in fig.texts + fig.legends + fig.patches + fig.lines + fig.images]

    def rgba(self, *, full: bool = False) -> np.ndarray:
        """The figure as it stands now, (H, W, 4) uint8; ``full=True`` renders everything from scratch."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = self.figure
        touched = [ax for ax in fig.axes if ax not in self.live and any(a.stale for a in self._content(ax))]
        limits = self._limits()
        with self.canvas.callbacks.blocked(signal="draw_event"):
            if full:
                dynamic = [a for a in fig.findobj() if a.get_animated()]
                for a in dynamic:
                    a.set_animated(False)
                FigureCanvasAgg.draw(self.canvas)
                for a in dynamic:
                    a.set_animated(True)
                self.background = None  # the next frame starts over
                return np.asarray(self.canvas.buffer_rgba()).copy()
            if touched or limits != self.limits or self.background is None:
                self.live.update(touched)
                for ax in self.live:
                    for a in self._content(ax):
                        a.set_animated(True)
                FigureCanvasAgg.draw(self.canvas)
                self.background, self.limits = self.canvas.copy_from_bbox(fig.bbox), self._limits()
            else:
                self.canvas.restore_region(self.background)
            for ax in fig.axes:
                if ax in self.live:
                    for a in self._content(ax):
                        fig.draw_artist(a)
        return np.asarray(self.canvas.buffer_rgba()).copy()

    def close(self) -> None:
        """Give every artist back the animated flag it had."""
        for a, was in self.animated.items():
            a.set_animated(was)


def render_frames(explorer, outdir: Path, *, max_grid: int = MAX_GRID, max_steps: int = MAX_STEPS,
                  budget: int = BUDGET) -> dict:
    """Draw ``explorer`` at every grid position into ``outdir`` (frames + manifest.json); returns the manifest.

    Only ``update`` and ``redraw`` run (no slider moves, so nothing is sent to a front end); the explorer is
    drawn back at its current values afterwards. Identical frames share one file. Frames that would come
    near ``budget`` bytes (three samples tell) are compressed harder; frames that still pass it are drawn
    again on a coarser grid. The last frame is drawn a second time from scratch: if the two differ,
    every frame is drawn from scratch.
    """
    from course_utils.plotting import course_style

    t0 = time.perf_counter()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    axes = slider_grid(explorer.sliders, max_grid=max_grid, max_steps=max_steps)
    fig = explorer.figure
    canvas = FrameCanvas(fig)

    def grid():
        return list(np.ndindex(*[len(a["positions"]) for a in axes]))

    def draw(index, full=False):
        values = {a["name"]: a["positions"][i] for a, i in zip(axes, index, strict=True)}
        with course_style():  # as a slider move does
            explorer.redraw(explorer.update(**values))
        return canvas.rgba(full=full)

    try:
        g = grid()
        samples = [draw(g[k]) for k in sorted({0, len(g) // 2, len(g) - 1})]
        encoder = PaletteEncoder(palette_for(samples))
        if np.mean([len(encoder.encode(s)) for s in samples]) * len(g) > 0.9 * budget:
            encoder = PaletteEncoder(encoder.palette, compress_level=9)
        full = False
        while True:
            for f in outdir.glob("f*.png"):
                f.unlink()
            files: dict[str, int] = {}  # PNG digest -> file number
            frames, shown, size = [], [], 0
            for index in grid():
                png = encoder.encode(draw(index, full))
                digest = hashlib.sha1(png).hexdigest()
                if digest not in files:
                    files[digest] = len(files)
                    (outdir / f"f{files[digest]:03d}.png").write_bytes(png)
                    size += len(png)
                frames.append(files[digest])
                shown.append(texts(fig))
            if not full and not _close(canvas.rgba(), canvas.rgba(full=True)):
                full = True
            elif size > budget and len(frames) > 2:
                fit = max(2, int(0.95 * budget / size * len(frames)))
                axes = slider_grid(explorer.sliders, max_grid=min(max_grid, fit), max_steps=min(max_steps, fit))
            else:
                break
    finally:
        canvas.close()
        with course_style():
            explorer.redraw(explorer.update(**explorer.values()))
    described = describe_figure(fig)
    width, height = (round(v) for v in fig.get_size_inches() * fig.dpi)
    manifest = {
        "title": explorer.title, "describe": explorer.describe(), "alt": described, "sliders": axes,
        "files": [f"f{k:03d}.png" for k in range(len(files))], "frames": frames, "readouts": readouts(shown),
        "start": int(np.ravel_multi_index([a["start"] for a in axes], [len(a["positions"]) for a in axes])),
        "width": width, "height": height, "dpi": fig.dpi, "bytes": size,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (outdir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def write_registered(outdir) -> list[str]:
    """Render every registered explorer into ``outdir/<k>/`` and list the displays in ``outdir/explorers.json``.

    Called by the site builder as the last cell of a lecture run, so each explorer starts where its
    sliders ended (the state the saved notebook shows). Returns the descriptions, in display order.
    """
    outdir = Path(outdir)
    unique: list = []
    displays = []
    for exp in _displayed:
        if not any(exp is u for u in unique):
            unique.append(exp)
            render_frames(exp, outdir / str(len(unique) - 1))
        k = next(i for i, u in enumerate(unique) if u is exp)
        displays.append({"describe": exp.describe(), "dir": str(k)})
    (outdir / "explorers.json").write_text(json.dumps(displays, indent=1))
    return [d["describe"] for d in displays]


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    """Two renderings of a frame agree (antialiased edges may differ by a few levels, in a few pixels)."""
    if a.shape != b.shape:
        return False
    diff = np.abs(a.astype(int) - b.astype(int)).max(axis=-1)
    return float((diff > 48).mean()) < 1e-3


def frame_alt(data: dict, readout: str) -> str:
    """An explorer frame's alt text: its title, its figure in words, and the frame's read-out (as explorer.js does)."""
    return " ".join(p for p in (data["title"] + ".", data.get("alt", ""), readout) if p)


def explorer_html(manifest: dict, base_url: str, uid: str) -> str:
    """The site's kernel-free explorer: range inputs, the starting frame and its read-out, and the frame table.

    ``base_url``: where the frame files are, relative to the page (ends in "/"); ``uid``: unique on the page.
    """
    esc = html.escape
    start = manifest["start"]
    rows = []
    for k, a in enumerate(manifest["sliders"]):
        pos, i = a["positions"], a["start"]
        rows.append(
            f'<div class="cse-slider"><label for="{uid}-{k}">{esc(a["label"])}</label>'
            f'<input type="range" id="{uid}-{k}" data-slider="{esc(a["name"])}" min="{pos[0]!r}" max="{pos[-1]!r}" '
            f'step="{a["step"]!r}" value="{pos[i]!r}">'
            f'<output class="cse-value" for="{uid}-{k}">{esc(a["labels"][i])}</output></div>')
    data = {key: manifest[key] for key in ("title", "files", "frames", "readouts")}
    data["alt"] = manifest.get("alt", "")  # the figure in words (describe_figure), as the page starts
    data["sliders"] = [{"positions": a["positions"], "labels": a["labels"], "step": a["step"]}
                       for a in manifest["sliders"]]
    # "</" cannot end the script element early once every "<" is escaped
    payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    text = manifest["readouts"][start]
    return (
        f'<div class="course-site-explorer" data-base="{esc(base_url)}">'
        f'<div class="cse-sliders">{"".join(rows)}</div>'
        f'<img class="cse-frame" src="{esc(base_url + manifest["files"][manifest["frames"][start]])}" '
        f'width="{manifest["width"]}" height="{manifest["height"]}" alt="{esc(frame_alt(data, text))}">'
        f'<div class="cse-readout" aria-live="polite">{esc(text)}</div>'
        f'<script type="application/json" class="cse-data">{payload}</script></div>'
    )
