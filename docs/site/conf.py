"""Sphinx configuration of the static course site (staged and built by scripts/build_site.py; see `make site`).

Pages are built from the committed notebook outputs (nothing is executed here). Everything a page loads
comes from the site itself: MathJax 3 from npm (copied into _static/mathjax by the builder), no widget
manager (explorers become kernel-free frame explorers, see course_utils/site.py), no fonts or scripts
from elsewhere.
"""

import base64
import hashlib
import json
from pathlib import Path

project = "Network outputs & loss functions"
author = "the course authors"
copyright = "the course authors, MIT licence"
html_title = "Network outputs & loss functions"

extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# notebooks: committed outputs only, and no saved widget state (its views need a kernel and a CDN)
nb_execution_mode = "off"
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# MathJax 3 served by the site (relative paths are relative to _static/)
mathjax_path = "mathjax/tex-mml-chtml.js"

html_theme = "sphinx_book_theme"
html_theme_options = {
    "use_download_button": False,
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "navbar_persistent": [],  # search sits in the sidebar already
}
html_context = {"default_mode": "light"}  # the figures are drawn on white
html_static_path = ["_static"]
# the theme's search button with an accessible name that matches its visible text (WCAG 2.5.3)
templates_path = ["_templates"]
html_css_files = ["explorer.css"]
html_js_files = ["explorer.js"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None


# ---------------------------------------------------------------- figures' alt text
# myst-nb names each output image by the SHA-256 of its bytes and gives its <img> no alt. The site builder
# puts each figure's description (course_utils.site.describe_figure: titles, axis labels, legend) in the
# output's metadata, {"image/png": {"alt": ...}}; this hook copies it onto the image. A notebook image left
# without one fails the build (-W).
def _figure_alts(notebook: Path) -> dict[str, str]:
    alts = {}
    for cell in json.loads(notebook.read_text(encoding="utf-8")).get("cells", []):
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            alt = out.get("metadata", {}).get("image/png", {}).get("alt")
            if png and alt:
                png = "".join(png) if isinstance(png, list) else png
                alts[hashlib.sha256(base64.b64decode(png)).hexdigest()] = str(alt)
    return alts


def _give_figures_their_alt(app, doctree) -> None:
    from docutils import nodes
    from sphinx.util import logging

    notebook = Path(app.srcdir) / (app.env.docname + ".ipynb")
    if not notebook.exists():
        return
    alts = _figure_alts(notebook)
    for image in doctree.findall(nodes.image):
        alt = alts.get(Path(image["uri"]).stem)
        if alt:
            image["alt"] = alt
        elif not image.get("alt"):
            logging.getLogger(__name__).warning(
                f"{app.env.docname}: the image {image['uri']} has no alt text (output metadata image/png: alt)",
                location=image)


def setup(app):
    app.connect("doctree-read", _give_figures_their_alt)
