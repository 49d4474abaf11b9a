"""The package's import structure, read from the source with ``ast`` (nothing is imported).

Every ``import`` counts, also the ones inside functions (lazy imports still couple two
modules). The rules:

(a) **No import cycle** between skseqrec modules (a package counts as its ``__init__``;
    ``from . import x`` is an import of the submodule ``x`` when there is one); in
    particular nothing in ``skseqrec.estimators`` reaches ``skseqrec.persistence``.
(b) **No private names across modules.** A name starting with ``_`` (dunders such as
    ``__version__`` excepted) is never imported from another module, and never read as an
    attribute of an imported skseqrec module, class or function (``params._helper``). A
    private *module* ``pkg._mod`` may be imported only from inside ``pkg`` (``pkg`` itself
    and its submodules); everyone else goes through ``pkg``'s public names.
(c) **Layers import downwards**: each layer below lists the skseqrec modules it may import.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import skseqrec

ROOT = Path(skseqrec.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = ("skseqrec", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: module name -> (source path, is a package)
MODULES = {
    _module_name(path): (path, path.name == "__init__.py") for path in sorted(ROOT.rglob("*.py"))
}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@dataclass(frozen=True)
class Import:
    """One imported skseqrec module (and the name taken from it, if any)."""

    importer: str
    target: str  # the skseqrec module that is imported (or a name is taken from)
    name: str | None  # ``from target import name``; None for ``import target`` / submodules
    bound: str | None  # the local name bound to it (None when nothing usable is bound)
    line: int

    def where(self) -> str:
        return f"{self.importer}:{self.line}"


def _known(module: str) -> str:
    """The longest known skseqrec module that ``module`` is or is inside of."""
    while module not in MODULES and "." in module:
        module = module.rsplit(".", 1)[0]
    return module


def _imports(module: str, tree: ast.AST) -> list[Import]:
    """Every skseqrec import of ``module`` (at any depth of ``tree``)."""
    is_package = MODULES[module][1] if module in MODULES else False
    package = module if is_package else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "skseqrec":
                    # ``import a.b`` binds ``a``; ``import a.b as c`` binds the module
                    bound = alias.asname or alias.name.split(".")[0]
                    found.append(Import(module, _known(alias.name), None, bound, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            if source.split(".")[0] != "skseqrec":
                continue
            for alias in node.names:
                bound = alias.asname or alias.name
                submodule = f"{source}.{alias.name}"
                if submodule in MODULES:  # ``from . import x``: the module x
                    found.append(Import(module, submodule, None, bound, node.lineno))
                else:
                    found.append(Import(module, _known(source), alias.name, bound, node.lineno))
    return found


def _tree(module: str) -> ast.AST:
    path = MODULES[module][0]
    return ast.parse(path.read_text(), str(path))


TREES = {module: _tree(module) for module in MODULES}
IMPORTS = {module: _imports(module, TREES[module]) for module in MODULES}
GRAPH = {
    module: sorted({i.target for i in imports if i.target != module})
    for module, imports in IMPORTS.items()
}


def test_the_parser_sees_the_package():
    # a check that finds nothing because it reads nothing must fail
    assert {"skseqrec.estimators._base", "skseqrec.nn.factory", "skseqrec.params"} <= set(MODULES)
    assert "skseqrec.protocol" in GRAPH["skseqrec.estimators._base"]
    assert "skseqrec.params" in GRAPH["skseqrec.estimators._transformer"]  # from .. import params
    assert "skseqrec.estimators" in GRAPH["skseqrec.persistence"]  # from . import estimators
    # imports inside functions count
    assert "skseqrec.model_selection" in GRAPH["skseqrec.evaluation"]
    assert "skseqrec.training" in GRAPH["skseqrec.params"]


def _cycle(graph: dict) -> list[str] | None:
    """One import cycle of ``graph`` as a path ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_cycle_finder_reports_a_path():
    assert _cycle({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}) == ["a", "b", "c", "a"]
    assert _cycle({"a": ["b"], "b": [], "c": ["a", "b"]}) is None


def test_no_import_cycle():
    cycle = _cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in GRAPH[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_estimators_never_reach_persistence():
    estimators = [m for m in MODULES if m.split(".")[:2] == ["skseqrec", "estimators"]]
    assert len(estimators) > 5
    for module in estimators:
        assert "skseqrec.persistence" not in _reachable(module), module
        assert "skseqrec.model_selection" not in _reachable(module), module


# ------------------------------------------------------------------ (b) private names
def _private_modules_owner(module: str) -> str | None:
    """The package a private module belongs to (``a.b._c`` -> ``a.b``), else None."""
    parts = module.split(".")
    for depth, part in enumerate(parts):
        if _is_private(part):
            return ".".join(parts[:depth])
    return None


def _private_name_imports(imports: list[Import]) -> list[str]:
    return [
        f"{i.where()}: from {i.target} import {i.name}"
        for i in imports
        if i.name is not None and _is_private(i.name)
    ]


def _private_module_imports(imports: list[Import]) -> list[str]:
    bad = []
    for i in imports:
        owner = _private_modules_owner(i.target)
        if owner and not (i.importer == owner or i.importer.startswith(owner + ".")):
            bad.append(f"{i.where()}: imports {i.target}, private to {owner}")
    return bad


def _private_attributes(module: str, tree: ast.AST, imports: list[Import]) -> list[str]:
    """``name._private`` (also ``name.a._private``) where ``name`` was bound by an import."""
    bound = {i.bound for i in imports if i.bound}
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                bad.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    return bad


def test_private_rules_catch_violations():
    source = (
        "from .estimators._base import BaseRecommender\n"
        "from .protocol import _SHOWN, __all__\n"
        "from . import params as P\n"
        "import skseqrec.data\n"
        "def f(self):\n"
        "    from .data import Sequences\n"
        "    return P._secret, skseqrec.data._hidden, Sequences._items, self._mine\n"
    )
    tree = ast.parse(source)
    imports = _imports("skseqrec.evaluation", tree)
    assert _private_name_imports(imports) == [
        "skseqrec.evaluation:2: from skseqrec.protocol import _SHOWN"
    ]
    assert _private_module_imports(imports) == [
        "skseqrec.evaluation:1: imports skseqrec.estimators._base, private to skseqrec.estimators"
    ]
    assert _private_attributes("skseqrec.evaluation", tree, imports) == [
        "skseqrec.evaluation:7: P._secret",
        "skseqrec.evaluation:7: skseqrec.data._hidden",
        "skseqrec.evaluation:7: Sequences._items",
    ]
    # inside its own package a private module is fine
    inside = _imports("skseqrec.estimators.sasrec", ast.parse("from ._base import BaseRecommender"))
    assert _private_module_imports(inside) == []


def test_no_private_name_is_imported_from_another_module():
    bad = [line for imports in IMPORTS.values() for line in _private_name_imports(imports)]
    assert not bad, "\n".join(bad)


def test_private_modules_are_imported_only_inside_their_package():
    bad = [line for imports in IMPORTS.values() for line in _private_module_imports(imports)]
    assert not bad, "\n".join(bad)


def test_no_private_attribute_of_an_imported_skseqrec_name():
    bad = [
        line
        for module, imports in IMPORTS.items()
        for line in _private_attributes(module, TREES[module], imports)
    ]
    assert not bad, "\n".join(bad)


def _private_library_imports(module: str, tree: ast.AST) -> list[str]:
    """Imports of another library's private modules or names (``sklearn.utils._x``)."""
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            paths = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            paths = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for path in paths:
            top = path.split(".")[0]
            if top not in ("skseqrec", "__future__") and any(map(_is_private, path.split("."))):
                bad.append(f"{module}:{node.lineno}: {path}")
    return bad


def test_private_library_rule_catches_violations():
    tree = ast.parse(
        "from sklearn.utils._available_if import available_if\n"
        "from sklearn.utils.metaestimators import available_if\n"
        "from torch import _C\n"
    )
    assert _private_library_imports("m", tree) == [
        "m:1: sklearn.utils._available_if",
        "m:1: sklearn.utils._available_if.available_if",
        "m:3: torch._C",
    ]


def test_no_private_api_of_other_libraries():
    """scikit-learn's private modules move between releases (``sklearn.utils._available_if``
    -> use ``sklearn.utils.metaestimators.available_if``)."""
    bad = [line for module in MODULES for line in _private_library_imports(module, TREES[module])]
    assert not bad, "\n".join(bad)


# ----------------------------------------------------------------------- (c) layers
def _layer(module: str) -> str:
    """``skseqrec.nn.blocks`` -> ``nn``; ``skseqrec.protocol`` -> ``protocol``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


#: layer -> the layers it may import (itself always)
ALLOWED = {
    "exceptions": set(),
    "nn": set(),
    "metrics": set(),
    "data": {"exceptions", "params"},
    "training": {"nn", "exceptions", "params"},
}
#: layer -> layers it must not import
FORBIDDEN = {
    "protocol": {"estimators", "model_selection", "evaluation", "persistence"},
    "estimators": {"persistence", "model_selection", "evaluation"},
}


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_is_below(layer):
    modules = [m for m in MODULES if _layer(m) == layer]
    assert modules
    bad = [
        f"{i.where()}: imports {i.target}"
        for module in modules
        for i in IMPORTS[module]
        if _layer(i.target) not in ALLOWED[layer] | {layer}
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_above_itself(layer):
    modules = [m for m in MODULES if _layer(m) == layer]
    assert modules
    bad = [
        f"{i.where()}: imports {i.target}"
        for module in modules
        for i in IMPORTS[module]
        if _layer(i.target) in FORBIDDEN[layer]
    ]
    assert not bad, "\n".join(bad)


def test_params_imports_training_only_lazily():
    """``params`` sits at the bottom; only its Callbacks checker reads ``training``, at call time."""
    path = MODULES["skseqrec.params"][0]
    top_level = [
        node for node in ast.parse(path.read_text()).body if isinstance(node, ast.ImportFrom)
    ]
    assert {node.module for node in top_level if node.level} == {"exceptions"}
    assert {_layer(i.target) for i in IMPORTS["skseqrec.params"]} <= {"exceptions", "training"}
