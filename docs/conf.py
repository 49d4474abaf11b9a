"""Sphinx configuration (pip install -e ".[docs]"; sphinx-build -W -b html docs docs/_build)."""

import shutil
from pathlib import Path

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
exclude_patterns = ["_build", "_gallery_src", "results_tables.rst"]

# sphinx-gallery wants a header file next to the scripts; examples/ holds only the
# scripts, so the gallery is built from a copy of them with the header written here.
_HERE = Path(__file__).parent
_GALLERY_SRC = _HERE / "_gallery_src"
_GALLERY_HEADER = """\
Examples
========

Scripts in ``examples/``. The ``plot_*`` scripts are run when the documentation is built;
``quickstart.py`` is shown without being run (``python examples/quickstart.py`` runs it).
"""
_GALLERY_SRC.mkdir(exist_ok=True)
for _script in sorted((_HERE.parent / "examples").glob("*.py")):
    _copy = _GALLERY_SRC / _script.name
    if not _copy.exists() or _copy.read_bytes() != _script.read_bytes():
        shutil.copyfile(_script, _copy)
for _stale in _GALLERY_SRC.glob("*.py"):
    if not (_HERE.parent / "examples" / _stale.name).exists():
        _stale.unlink()
(_GALLERY_SRC / "GALLERY_HEADER.rst").write_text(_GALLERY_HEADER)

sphinx_gallery_conf = {
    "examples_dirs": "_gallery_src",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
}
html_theme = "alabaster"
