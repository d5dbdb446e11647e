"""Does scripts/figures.py write every figure of a notebook to a PNG, and refuse what is no notebook?"""

import base64
import json
import subprocess
import sys

from tests.notebook_utils import ROOT

# the smallest valid PNG: 1 x 1 pixel
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "figures.py"), *map(str, args)],
                          capture_output=True, text=True)


def test_every_png_output_becomes_a_file(tmp_path):
    image = {"output_type": "display_data", "metadata": {},
             "data": {"image/png": base64.b64encode(PNG).decode(), "text/plain": "<Figure>"}}
    widget = {"output_type": "display_data", "metadata": {},
              "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "x"}}}
    nb = {"cells": [{"cell_type": "markdown", "source": "# t", "metadata": {}},
                    {"cell_type": "code", "source": "# first plot\nplt.show()", "outputs": [image, image],
                     "metadata": {}, "execution_count": 1},
                    {"cell_type": "code", "source": "explorer()", "outputs": [widget], "metadata": {},
                     "execution_count": 2}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "demo.ipynb"
    path.write_text(json.dumps(nb))
    proc = run(path, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["demo-cell01-1.png", "demo-cell01-2.png"]
    assert (tmp_path / "out" / files[0]).read_bytes() == PNG
    assert "1x1  # first plot" in proc.stdout and "1 widget output(s)" in proc.stdout


def test_refuses_a_path_that_is_no_notebook(tmp_path):
    proc = run(tmp_path / "missing.ipynb")
    assert proc.returncode == 2 and "NOTEBOOK must be an existing .ipynb file" in proc.stderr
