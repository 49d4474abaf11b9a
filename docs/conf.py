"""Sphinx configuration (pip install -e ".[docs]"; sphinx-build -W -b html docs docs/_build).

The build never needs the network: intersphinx reads the inventories kept in
``docs/_inventories/`` and fetches the others only when ``SKSEQREC_DOCS_ONLINE=1`` is set (or
on Read the Docs); see "Building the documentation" in ``contributing.rst``.
"""

import os
import re
from pathlib import Path

import skseqrec
import skseqrec.estimators

project = "skseqrec"
release = skseqrec.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
autosummary_generate = True
numpydoc_show_class_members = False
# Parameter types become cross-references (to numpy, pandas... through intersphinx when its
# inventories are there, plain text otherwise). This also keeps a fitted attribute in a
# type, such as "shape (n_items_ + 1,)", from being read as a reST link target. The
# aliases replace numpydoc's defaults that use :ref:/:term: roles, which warn when the
# inventory is missing (offline builds); :obj: falls back to plain text silently.
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "bool": "bool",
    "boolean": "bool",
    "array-like": "numpy.typing.ArrayLike",
    "array_like": "numpy.typing.ArrayLike",
    "generator": "collections.abc.Generator",
    "iterable": "collections.abc.Iterable",
    "sequence": "collections.abc.Sequence",
    "scalar": "numpy.generic",
    "DataFrame": "pandas.DataFrame",
    "Series": "pandas.Series",
}
numpydoc_xref_ignore = set(
    "of or and to in a an the with without per each shape default optional instance like any"
    " one two none".split()
)
exclude_patterns = ["_build", "results_tables.rst", "_templates"]

# -- intersphinx, offline by default ------------------------------------------------------
# Each mapping reads docs/_inventories/<name>.inv when that file exists; without it, the
# inventory is fetched from the site only when SKSEQREC_DOCS_ONLINE=1 (or on Read the
# Docs, which sets READTHEDOCS=True). Otherwise the project is left out, so an offline
# build (CI) makes no network request and gets no "failed to reach" warning; references
# to that project are then plain text.
INTERSPHINX_SITES = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "pandas": "https://pandas.pydata.org/docs/",
    "sklearn": "https://scikit-learn.org/stable/",
    "torch": "https://docs.pytorch.org/docs/stable/",
}
INVENTORY_DIR = Path(__file__).resolve().parent / "_inventories"
DOCS_ONLINE = (
    os.environ.get("SKSEQREC_DOCS_ONLINE") == "1" or os.environ.get("READTHEDOCS") == "True"
)
intersphinx_mapping = {}
for _name, _url in INTERSPHINX_SITES.items():
    _local = INVENTORY_DIR / f"{_name}.inv"
    if _local.is_file():
        intersphinx_mapping[_name] = (_url, str(_local))
    elif DOCS_ONLINE:
        intersphinx_mapping[_name] = (_url, None)
intersphinx_timeout = 10

# -- sphinx-gallery -----------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    # "Examples using X" on every API page (see _templates/autosummary/)
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skseqrec",),
}
html_theme = "furo"
html_title = f"skseqrec {release}"
html_static_path = ["_static"]
html_css_files = ["tables.css"]


def _resolve_reexport(app, env, node, contnode):
    """Resolve ``skseqrec.X`` (and ``skseqrec.X.method``) to ``skseqrec.estimators.X``.

    The estimators are documented once, as ``skseqrec.estimators.X`` (the page the HTML
    repr of an estimator links to), and are importable as ``skseqrec.X`` too; docstrings
    and examples that write ``:class:`~skseqrec.X``` link to that one page.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if "." not in target and node.get("py:module") == "skseqrec":
        target = f"skseqrec.{target}"
    parts = target.split(".")
    if parts[0] != "skseqrec" or len(parts) < 2 or parts[1] not in skseqrec.estimators.__all__:
        return None
    return env.get_domain("py").resolve_xref(
        env,
        node["refdoc"],
        app.builder,
        node["reftype"],
        ".".join(["skseqrec.estimators", *parts[1:]]),
        node,
        contnode,
    )


def _skip_foreign_member(app, what, name, obj, skip, options):
    """Document the members skseqrec defines, not those inherited from scikit-learn, torch
    or builtins (``get_params``, ``set_fit_request``, ``torch.nn.Module.apply``,
    ``tuple.count``...): they are documented by their projects, and their docstrings link
    to labels that an offline build cannot resolve."""
    if what != "class" or skip:
        return None
    target = getattr(obj, "fget", obj)  # properties
    owner = getattr(target, "__objclass__", None)  # methods of builtin types
    module = getattr(owner, "__module__", None) or getattr(target, "__module__", None) or ""
    if module.split(".")[0] in ("sklearn", "torch", "builtins"):
        return True
    return None


def setup(app):
    from docutils import nodes
    from docutils.transforms import Transform

    class MetricsAreNotEmails(Transform):
        """Keep ``NDCG@10`` and ``HR@10`` text: docutils takes them for e-mail addresses."""

        default_priority = 500

        def apply(self):
            for reference in list(self.document.findall(nodes.reference)):
                if re.fullmatch(r"mailto:[\w.-]+@\d+", reference.get("refuri", "")):
                    reference.replace_self(nodes.Text(reference.astext()))

    app.add_transform(MetricsAreNotEmails)
    app.connect("missing-reference", _resolve_reexport)
    app.connect("autodoc-skip-member", _skip_foreign_member)
