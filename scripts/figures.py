"""Write the figures a notebook shows to PNG files, so that each can be looked at on its own.

Usage: python scripts/figures.py NOTEBOOK.ipynb [OUT_DIR]     (make figures NB=notebooks/week04_...ipynb)

Writes OUT_DIR/<notebook>-cell<NN>-<k>.png for every image/png output of the committed notebook
(default OUT_DIR: artefacts/figures/), and lists each file with its cell's first line and the
figure's size in pixels. Slider explorers are widgets, not images: it counts them, to be moved in
JupyterLab or on the static site.
"""

from __future__ import annotations

import base64
import json
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (IHDR), without an imaging library."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", data[16:24])


def extract(notebook: Path, out_dir: Path) -> tuple[list[tuple[Path, str, tuple[int, int]]], int]:
    """Save every PNG output; returns (path, first source line, size) per figure and the widget count."""
    cells = json.loads(notebook.read_text())["cells"]
    out_dir.mkdir(parents=True, exist_ok=True)
    saved, widgets = [], 0
    for n, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        first = next((line.strip() for line in "".join(cell["source"]).splitlines() if line.strip()), "")
        k = 0
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            widgets += "application/vnd.jupyter.widget-view+json" in data
            if "image/png" not in data:
                continue
            raw = base64.b64decode(data["image/png"])
            k += 1
            path = out_dir / f"{notebook.stem}-cell{n:02d}-{k}.png"
            path.write_bytes(raw)
            saved.append((path, first, png_size(raw)))
    return saved, widgets


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or len(argv) > 2:
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    notebook = Path(argv[0])
    if notebook.suffix != ".ipynb" or not notebook.is_file():
        print(f"error: NOTEBOOK must be an existing .ipynb file, got {argv[0]}", file=sys.stderr)
        return 2
    out_dir = Path(argv[1]) if len(argv) > 1 else ROOT / "artefacts" / "figures"
    saved, widgets = extract(notebook, out_dir)
    for path, first, (w, h) in saved:
        print(f"{path}  {w}x{h}  {first[:70]}")
    print(f"{len(saved)} figure(s) written to {out_dir}; {widgets} widget output(s) (move them in JupyterLab)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
