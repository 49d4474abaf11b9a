"""The documentation lists every public name, and estimators link to their page.

Fast checks on the sources (no Sphinx run): the public API is read at test time, from the
``__all__`` of ``skseqrec`` and of every public module (a dotted name without a
``_``-prefixed part), and compared with the entries of ``docs/api.rst``.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import io
import pkgutil
import re
import runpy
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils import estimator_html_repr

import skseqrec

DOCS = Path(__file__).resolve().parents[1] / "docs"
API = DOCS / "api.rst"
#: where an estimator's HTML representation links to (``_doc_link_template``)
DOC_ROOT = "https://skseqrec.readthedocs.io/en/latest/"

_DIRECTIVE = re.compile(r"^\.\. (?P<name>[\w:-]+)::\s*(?P<argument>\S*)")


def public_modules() -> list[str]:
    """``skseqrec`` and every module below it whose dotted name has no private part."""
    names = ["skseqrec"]
    for info in pkgutil.walk_packages(skseqrec.__path__, "skseqrec."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def public_names() -> list[tuple[str, str]]:
    """(module, name) for every name of every public ``__all__`` but dunders."""
    pairs = []
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            if not (name.startswith("__") and name.endswith("__")):
                pairs.append((module_name, name))
    return pairs


def api_entries(text: str | None = None) -> list[dict]:
    """Entries of api.rst: autosummary rows and ``py:data`` directives.

    Each is ``{"module", "name", "kind", "page", "line"}``: ``module`` is the current
    module (``currentmodule`` or ``automodule``), ``kind`` "autosummary" or "data", and
    ``page`` the file autosummary writes under ``generated/`` (None without ``:toctree:``).
    """
    lines = (API.read_text(encoding="utf-8") if text is None else text).splitlines()
    entries, module, index = [], None, 0
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index])
        index += 1
        if match is None:
            continue
        directive, argument = match["name"], match["argument"]
        if directive in ("currentmodule", "automodule", "py:module"):
            module = argument
        elif directive in ("py:data", "autodata"):
            entries.append(
                {"module": module, "name": argument, "kind": "data", "page": None, "line": index}
            )
        elif directive == "autosummary":
            toctree = False
            while index < len(lines) and (not lines[index].strip() or lines[index][0] == " "):
                row = lines[index].strip()
                index += 1
                if row.startswith(":"):
                    toctree = toctree or row.startswith(":toctree:")
                elif row:
                    name = row.lstrip("~")
                    full = name if name.startswith("skseqrec.") else f"{module}.{name}"
                    module_of, _, short = full.rpartition(".")
                    entries.append(
                        {
                            "module": module_of,
                            "name": short,
                            "kind": "autosummary",
                            "page": full if toctree else None,
                            "line": index,
                        }
                    )
    return entries


def resolve(module: str, name: str):
    return getattr(importlib.import_module(module), name)


def resolved_entries() -> list[tuple[dict, object]]:
    """(entry, object) for the entries of api.rst that import (the others are reported by
    :func:`test_every_api_entry_exists`)."""
    pairs = []
    for entry in api_entries():
        try:
            pairs.append((entry, resolve(entry["module"], entry["name"])))
        except (ImportError, AttributeError):
            continue
    return pairs


def documented_objects() -> dict[str, list]:
    """Name -> the objects api.rst documents under that name."""
    found: dict[str, list] = {}
    for entry, obj in resolved_entries():
        found.setdefault(entry["name"], []).append(obj)
    return found


def test_parser_reads_modules_toctrees_and_data():
    text = """
.. currentmodule:: pkg

.. autosummary::
   :toctree: generated/

   ~Thing
   other.func

.. autosummary::

   Loose

.. py:data:: LIMIT
"""
    rows = [(e["module"], e["name"], e["kind"], e["page"]) for e in api_entries(text)]
    assert rows == [
        ("pkg", "Thing", "autosummary", "pkg.Thing"),
        ("pkg.other", "func", "autosummary", "pkg.other.func"),
        ("pkg", "Loose", "autosummary", None),
        ("pkg", "LIMIT", "data", None),
    ]


def test_public_modules_are_found():
    modules = public_modules()
    for expected in ("skseqrec", "skseqrec.estimators", "skseqrec.nn", "skseqrec.training"):
        assert expected in modules
    assert not [m for m in modules if "._" in m]


@pytest.mark.parametrize("module_name", public_modules())
def test_every_public_name_is_in_the_api_reference(module_name):
    """A name in a public ``__all__`` appears in docs/api.rst as the same object: an
    autosummary entry (classes and functions) or a ``py:data`` directive (constants).
    A name exported by several modules (``skseqrec.save`` is
    ``skseqrec.persistence.save``) is documented once."""
    module = importlib.import_module(module_name)
    documented = documented_objects()
    missing = []
    for name in getattr(module, "__all__", ()):
        if name.startswith("__") and name.endswith("__"):
            continue
        obj = getattr(module, name)
        if not any(candidate is obj for candidate in documented.get(name, ())):
            missing.append(f"{module_name}.{name}")
    assert not missing, (
        f"docs/api.rst does not document {missing}: add each to the autosummary of its "
        "module's section (a constant: a '.. py:data::' directive)."
    )


def test_every_api_entry_exists():
    """An entry of api.rst that no longer imports (a removed or renamed name) fails here,
    before Sphinx would fail on it."""
    broken = []
    for entry in api_entries():
        try:
            resolve(entry["module"], entry["name"])
        except (ImportError, AttributeError) as exc:
            broken.append(f"line {entry['line']}: {entry['module']}.{entry['name']} ({exc})")
    assert not broken, broken


def test_constants_are_data_and_the_rest_has_a_page():
    """Classes and functions get their own page (autosummary with ``:toctree:``); a
    ``py:data`` entry is only for values."""
    wrong = []
    for entry, obj in resolved_entries():
        is_code = inspect.isclass(obj) or callable(obj)
        if entry["kind"] == "data" and is_code:
            wrong.append(f"{entry['name']} is code: give it an autosummary entry")
        if entry["kind"] == "autosummary" and entry["page"] is None:
            wrong.append(f"{entry['name']} has no page: put it under ':toctree: generated/'")
        if entry["kind"] == "autosummary" and not is_code:
            wrong.append(f"{entry['name']} is a value: document it with '.. py:data::'")
    assert not wrong, wrong


def test_no_page_is_generated_twice():
    pages = [e["page"] for e in api_entries() if e["page"]]
    assert len(pages) == len(set(pages))


def _summary_problems(summary: str) -> list[str]:
    nodes = pytest.importorskip("docutils.nodes")  # docutils comes with the docs extra
    from docutils.core import publish_doctree

    tree = publish_doctree(
        summary, settings_overrides={"halt_level": 5, "warning_stream": io.StringIO()}
    )
    found = [
        f"{node.astext()!r} is read as a link target"
        for node in tree.findall(nodes.problematic)
        if not re.match(r":[\w:]+:`", node.astext())  # a Sphinx role, unknown to docutils
    ]
    for message in tree.findall(nodes.system_message):
        text = message.astext()
        if message["level"] >= 2 and "interpreted text role" not in text:  # Sphinx's roles
            found.append(text.splitlines()[0])
    return found


def test_summary_problems_are_found():
    assert _summary_problems("Return ``classes_``, the ids.") == []
    assert _summary_problems("Return classes_, the ids.")
    assert _summary_problems("Cut ``a.")
    assert _summary_problems("Read :func:`save` back.") == []


def test_autosummary_first_sentences_are_valid_rst():
    """The first sentence of each docstring, as autosummary cuts it for the tables of
    api.rst, must be valid on its own: a name ending in ``_`` outside a literal is a link
    target, and a ". " inside a literal cuts it (both fail the -W build)."""
    extract_summary = pytest.importorskip("sphinx.ext.autosummary").extract_summary
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser

    settings = get_default_settings(Parser)
    wrong = []
    for entry, obj in resolved_entries():
        doc = inspect.getdoc(obj) if entry["kind"] == "autosummary" else None
        if doc:
            summary = extract_summary(doc.splitlines(), settings)
            for problem in _summary_problems(summary):
                wrong.append(f"{entry['module']}.{entry['name']}: {summary!r}: {problem}")
    assert not wrong, wrong


def estimator_classes() -> list[type]:
    classes = {}
    for module_name, name in public_names():
        obj = resolve(module_name, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            classes[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [classes[key] for key in sorted(classes)]


# Estimators that do not set skseqrec's documentation link yet (their module must declare
# ``_doc_link_module = "skseqrec"`` and the ``_doc_link_template`` of BaseRecommender).
_NO_DOC_LINK: set[str] = set()


@pytest.mark.parametrize(
    "cls",
    [
        pytest.param(
            cls,
            id=cls.__name__,
            marks=pytest.mark.xfail(
                strict=True, reason=f"{cls.__name__} sets no skseqrec documentation link"
            )
            if cls.__name__ in _NO_DOC_LINK
            else (),
        )
        for cls in estimator_classes()
    ],
)
def test_html_repr_links_to_the_page_autosummary_writes(cls):
    """The link in an estimator's notebook repr names a page that api.rst produces, and
    that page documents this very class."""
    pages = {e["page"] for e in api_entries() if e["page"]}
    html = estimator_html_repr(cls())
    # pages only: sklearn also links each parameter, to a text fragment of the same page
    links = set(re.findall(r'href="(https://skseqrec\.readthedocs\.io/[^"#]*)', html))
    own = [
        f"{DOC_ROOT}generated/{entry['page']}.html"
        for entry, obj in resolved_entries()
        if entry["page"] and obj is cls
    ]
    assert own, f"{cls.__name__} has no page in docs/api.rst"
    assert set(own) & links, f"{cls.__name__} links to {sorted(links)}, its page is {own}"
    for link in links:
        assert link.startswith(f"{DOC_ROOT}generated/") and link.endswith(".html"), link
        assert link[len(f"{DOC_ROOT}generated/") : -len(".html")] in pages, link


def test_offline_build_fetches_no_inventory(monkeypatch):
    """Without SKSEQREC_DOCS_ONLINE=1 (and off Read the Docs) intersphinx reads local
    inventory files only: a build in CI, which is offline, never reaches the network."""
    monkeypatch.delenv("SKSEQREC_DOCS_ONLINE", raising=False)
    monkeypatch.delenv("READTHEDOCS", raising=False)
    conf = runpy.run_path(str(DOCS / "conf.py"))
    assert "sphinx.ext.intersphinx" in conf["extensions"]
    for name, (_url, inventory) in conf["intersphinx_mapping"].items():
        assert inventory is not None and Path(inventory).is_file(), name
    monkeypatch.setenv("SKSEQREC_DOCS_ONLINE", "1")
    online = runpy.run_path(str(DOCS / "conf.py"))["intersphinx_mapping"]
    assert set(online) == {"python", "numpy", "pandas", "sklearn", "torch"}


def test_user_guide_pages_are_in_a_toctree():
    """Every page under docs/ is reachable from the index (Sphinx warns otherwise, and
    the CI build turns warnings into errors)."""
    pages = {p.stem for p in DOCS.glob("*.rst")} - {"index", "results_tables"}
    linked = set()
    for path in DOCS.glob("*.rst"):
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"\.\. toctree::\n((?:\n|   .*\n)*)", text):
            linked.update(row.strip() for row in block.splitlines() if row.strip())
    orphans = {page for page in pages if page not in linked and page != "sg_execution_times"}
    assert not orphans, f"pages in no toctree: {sorted(orphans)}"


def test_preset_table_matches_the_presets():
    """The table "What each preset sets" of docs/components.rst lists, for every preset,
    exactly the defaults that differ from TransformerRecommender's."""
    from skseqrec.estimators import TransformerRecommender

    base = TransformerRecommender().get_params()
    text = (DOCS / "components.rst").read_text(encoding="utf-8")
    table = text[text.index("What each preset sets") :]
    rows = {row.split("``")[0]: row for row in re.split(r"\n   \* - ``", table)[1:] if "``" in row}
    presets = [
        name
        for name in skseqrec.estimators.__all__
        if inspect.isclass(getattr(skseqrec.estimators, name))
        and issubclass(getattr(skseqrec.estimators, name), TransformerRecommender)
        and name != "TransformerRecommender"
    ]
    assert sorted(rows) == sorted(presets)
    for name in presets:
        params = getattr(skseqrec.estimators, name)().get_params()
        differ = {k: v for k, v in params.items() if k not in base or base[k] != v}
        documented = {
            key: eval(value)  # noqa: S307 - literals of our own table
            for key, value in re.findall(r"``(\w+)=([^`]+)``", rows[name])
        }
        assert documented == differ, name


DOCTESTED_PAGES = sorted(
    path for path in DOCS.glob("*.rst") if ">>>" in path.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("page", DOCTESTED_PAGES, ids=lambda path: path.name)
def test_examples_of_the_page_run(page, tmp_path, monkeypatch, capsys):
    """The ``>>>`` examples of each page run and print what the page shows (in a fresh
    namespace per page, from an empty working directory)."""
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    report = capsys.readouterr().out
    assert result.failed == 0, report


def test_every_public_class_has_a_doctest_example():
    """Every class of a public ``__all__`` has a ``>>>`` example in its own docstring (not
    one inherited from a base class), which pytest runs as a doctest (``--doctest-modules``
    in setup.cfg)."""
    missing = set()
    for module_name, name in public_names():
        obj = resolve(module_name, name)
        if inspect.isclass(obj) and ">>>" not in (vars(obj).get("__doc__") or ""):
            missing.add(f"{obj.__module__}.{obj.__qualname__}")
    assert not missing, (
        f"public classes without a docstring example: {sorted(missing)}; add an 'Examples' "
        "section with a short doctest to each."
    )
