"""Sphinx configuration (pip install -e ".[docs]"; sphinx-build -W -b html docs docs/_build)."""

import skseqrec

project = "skseqrec"
release = skseqrec.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
autosummary_generate = True
numpydoc_show_class_members = False
exclude_patterns = ["_build", "results_tables.rst"]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
}
html_theme = "alabaster"
