"""Sphinx configuration of the static course site (staged and built by scripts/build_site.py; see `make site`).

Pages are built from the committed notebook outputs (nothing is executed here). Everything a page loads
comes from the site itself: MathJax 3 from npm (copied into _static/mathjax by the builder), no widget
manager (explorers become kernel-free frame explorers, see course_utils/site.py), no fonts or scripts
from elsewhere.
"""

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
html_css_files = ["explorer.css"]
html_js_files = ["explorer.js"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
