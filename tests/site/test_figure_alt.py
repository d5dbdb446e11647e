"""Does every figure of the site get an alt text that says what it shows, from the figure's own text?"""

import base64
import hashlib
import importlib.util
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import site  # noqa: E402
from tests.notebook_utils import ROOT  # noqa: E402

spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
build_site = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_site)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_a_panel_is_described_by_its_kind_title_axes_and_legend():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="sigmoid(z)")
    ax.axhline(0.5, label="threshold 0.5")
    ax.set(title="One logit → probability", xlabel="logit $z$", ylabel=r"$\hat{y} = \sigma(z)$")
    ax.legend()
    assert site.describe_figure(fig) == (
        "Line plot “One logit → probability”: y\u0302 = σ(z) against logit z; "
        "legend: sigmoid(z), threshold 0.5.")


def test_panels_are_numbered_twins_join_their_panel_and_colour_bars_are_named():
    fig, (a, b) = plt.subplots(1, 2)
    fig.suptitle("Two views")
    a.bar([1, 2, 3], [3, 1, 2])
    a.set(title="Counts", xlabel="class", ylabel="leaves")
    a.twinx().set_ylabel("share")
    fig.colorbar(b.imshow(np.eye(3)), ax=b, label="probability")
    b.set_title("Confusion")
    assert site.describe_figure(fig) == (
        "Two views. 2 panels. 1. Bar chart “Counts”: leaves and share against class. "
        "2. Image “Confusion”; colour scale: probability.")


def test_a_grid_of_small_images_is_summarised_by_its_titles():
    fig, axes = plt.subplots(2, 8)
    for k, ax in enumerate(axes.flat):
        ax.imshow(np.zeros((8, 8)))
        ax.set_title(f"label {k % 10}")
        ax.axis("off")
    fig.suptitle("Sixteen training digits")
    text = site.describe_figure(fig)
    assert text.startswith("Sixteen training digits. 16 images, titled label 0, label 1, ")
    assert text.endswith("and 8 more.")


def test_a_figure_with_no_text_has_no_description_and_bad_input_is_named():
    assert site.describe_figure(plt.figure()) == ""
    with pytest.raises(TypeError, match="figure must be a matplotlib Figure"):
        site.describe_figure("a figure")
    with pytest.raises(TypeError, match="text must be a str"):
        site.plain_text(None)
    assert site.plain_text(r"$\frac{1}{T}$ and \$5, $\mathrm{MSE} \leq \infty$") == "(1)/(T) and $5, MSE ≤ ∞"


def test_figures_a_kernel_displays_carry_their_description_in_the_output_metadata():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats

    shell = InteractiveShell.instance()
    with pytest.raises(RuntimeError, match="shell=None"):
        site.describe_displayed_figures(object())
    select_figure_formats(shell, {"retina"})  # a formatter that sets metadata of its own
    site.describe_displayed_figures(shell)
    site.describe_displayed_figures(shell)  # twice: still one description
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    ax.set(title="T", xlabel="x", ylabel="y")
    data, metadata = shell.display_formatter.format(fig)
    assert "image/png" in data and metadata["image/png"]["alt"] == "Line plot “T”: y against x."
    assert metadata["image/png"]["width"] > 0
    assert shell.display_formatter.format(3)[1] == {}


def _figure_output(png: bytes, metadata=None):
    return nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(png).decode(),
                                                        "text/plain": "<Figure>"}, metadata=metadata or {})


def test_the_builder_gives_each_saved_figure_its_recorded_alt_and_keeps_one_the_notebook_gives(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Week"),
                nbformat.v4.new_code_cell("plot()", outputs=[_figure_output(b"a"), _figure_output(b"b", {
                    "image/png": {"alt": "Given by hand."}})])]
    (tmp_path / "figures.json").write_text(json.dumps({"1": ["Line plot “A”.", "Line plot “B”."]}))
    build_site.describe_figures(nb, tmp_path / "week01.ipynb", tmp_path)
    assert [o.metadata["image/png"]["alt"] for o in nb.cells[1].outputs] == ["Line plot “A”.", "Given by hand."]


def test_the_builder_refuses_figures_the_run_did_not_show_or_could_not_describe(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("plot()", outputs=[_figure_output(b"a")])]
    (tmp_path / "figures.json").write_text(json.dumps({}))
    with pytest.raises(build_site.BuildError, match="re-execute it"):
        build_site.describe_figures(nb, tmp_path / "week01.ipynb", tmp_path)
    (tmp_path / "figures.json").write_text(json.dumps({"0": [""]}))
    with pytest.raises(build_site.BuildError, match="cell 0 has no title, axis label or legend"):
        build_site.describe_figures(nb, tmp_path / "week01.ipynb", tmp_path)


def test_the_sphinx_hook_finds_a_figures_alt_by_the_hash_of_its_image(tmp_path):
    spec = importlib.util.spec_from_file_location("site_conf", ROOT / "docs" / "site" / "conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("plot()", outputs=[
        _figure_output(b"png bytes", {"image/png": {"alt": "Line plot “A”."}}), _figure_output(b"other")])]
    nbformat.write(nb, tmp_path / "week.ipynb")
    digest = hashlib.sha256(b"png bytes").hexdigest()
    assert conf._figure_alts(tmp_path / "week.ipynb") == {digest: "Line plot “A”."}


def test_an_explorers_frame_is_described_by_its_title_its_figure_and_its_read_out():
    manifest = {"title": "Huber loss and its slope", "alt": "Line plot “Huber loss”: loss against residual.",
                "files": ["f000.png"], "frames": [0], "readouts": ["delta = 1.0"], "start": 0,
                "width": 10, "height": 10,
                "sliders": [{"name": "delta", "label": "delta", "step": 1.0, "positions": [1.0], "labels": ["1"],
                             "start": 0}]}
    page = site.explorer_html(manifest, "frames/", "x")
    assert ('alt="Huber loss and its slope. Line plot “Huber loss”: loss against residual. delta = 1.0"' in page)
    assert site.frame_alt({"title": "T"}, "") == "T."
