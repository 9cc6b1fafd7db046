"""Generate the API reference pages (``docs/api/generated/*.rst``) from every public module's ``__all__``.

One page per public module of ``constitutive`` (a module is public when no component of its dotted name starts
with an underscore). A module's public names are its ``__all__``; a module without ``__all__`` exports the
functions and classes it defines whose names do not start with an underscore.

Each object is documented once, at its *canonical* place, so that Sphinx sees no duplicate descriptions:

* the subpackage that re-exports it (``constitutive.driver.drive``, not ``constitutive.driver.core.drive``): the
  stable import paths of ``docs/architecture.md``;
* otherwise the module that defines it (``constitutive.notation.to_voigt``; the top-level package is a facade and
  is never canonical for a name defined below it).

Every other page that exports the name lists it with a link to the canonical entry. :func:`resolve_reexport`
(Sphinx's ``missing-reference`` hook) lets a docstring refer to an object by any of its import paths.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "constitutive"

# dotted import path -> canonical documented path, filled by write_api_pages()
ALIASES: dict[str, str] = {}
# canonical path -> class, to resolve a member inherited from a base class
CLASSES: dict[str, type] = {}


def _is_public(modname: str) -> bool:
    return not any(part.startswith("_") for part in modname.split("."))


def all_modules() -> list[str]:
    """Every module of the package (public and private), the package first, sorted."""
    pkg = importlib.import_module(PACKAGE)
    names = [PACKAGE] + [m.name for m in pkgutil.walk_packages(pkg.__path__, PACKAGE + ".")]
    return sorted(n for n in names if not n.endswith("__main__"))


def public_modules() -> list[str]:
    """The modules that get an API page."""
    return [m for m in all_modules() if _is_public(m)]


def _defined_names(module: ModuleType) -> list[str]:
    """Names bound at the top level of the module's source by def, class or assignment (not by import)."""
    source = inspect.getsource(module)
    names: list[str] = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                elts = t.elts if isinstance(t, ast.Tuple) else [t]
                names += [e.id for e in elts if isinstance(e, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return names


def exported_names(module: ModuleType) -> list[str]:
    """``__all__`` (or the public functions and classes the module defines), then the public module-level data it
    binds itself (constants, type aliases) that ``__all__`` leaves out: docstrings refer to those too."""
    names = list(module.__all__) if hasattr(module, "__all__") else []
    for name in _defined_names(module):
        obj = getattr(module, name, None)
        if name.startswith("_") or name in names or inspect.ismodule(obj):
            continue
        if hasattr(module, "__all__") and (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue  # a helper the module keeps out of its API
        names.append(name)
    return names


def _key(module: str, name: str, obj: Any, defined: dict[str, list[str]]) -> tuple[Any, str]:
    """Identity of an exported object: the object for functions, classes and modules; for data, where it is bound
    (two modules may bind equal small ints or strings, which Python shares)."""
    if inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj):
        return (id(obj), name)
    return (home_module(name, obj, defined) or module, name)


def _parent(modname: str) -> str:
    return modname.rpartition(".")[0]


def home_module(name: str, obj: Any, defined: dict[str, list[str]]) -> str | None:
    """The module whose source binds ``name`` to ``obj`` (not by import)."""
    return next((m for m, names in defined.items() if name in names and _getattr(m, name) is obj), None)


def canonical_module(name: str, obj: Any, exporters: list[str], defined: dict[str, list[str]]) -> str:
    """Where ``name`` (the object ``obj``) is documented; ``exporters`` are the public modules listing it."""
    home = home_module(name, obj, defined)
    if home is not None:
        if _is_public(home) and hasattr(importlib.import_module(home), "__path__"):
            return home  # defined in a subpackage's __init__
        parent = _parent(home)
        while parent and parent != PACKAGE:
            if parent in exporters:
                return parent  # re-exported by its subpackage: the stable import path
            parent = _parent(parent)
        if home in exporters:
            return home
    below = [m for m in exporters if m != PACKAGE] or exporters
    return min(below, key=lambda m: (m.count("."), m))


def _getattr(modname: str, name: str) -> Any:
    return getattr(importlib.import_module(modname), name, None)


def _data_block(full: str, obj: Any, home: str | None, name: str) -> str:
    """``py:data`` with the attribute's own doc comment (``#:`` or a string after it), else a summary of the value.

    Not ``autodata``: for a value without a doc comment it would print the docstring of the value's type
    (``dict.__doc__``)."""
    from sphinx.pycode import ModuleAnalyzer

    lines: list[str] = []
    if home is not None:
        lines = list(ModuleAnalyzer.for_module(home).find_attr_docs().get(("", name), []))
    if not lines:
        kind = type(obj).__name__
        if isinstance(obj, dict):
            keys = ", ".join(f"``{k!r}``" for k in list(obj)[:30]) + (", ..." if len(obj) > 30 else "")
            lines = [f"A ``dict`` with {len(obj)} entries, keyed by {keys}."]
        elif isinstance(obj, (str, int, float, bool, tuple, frozenset)):
            lines = [f"``{obj!r}``"]
        elif type(obj).__module__ in ("typing", "collections.abc", "types"):
            lines = [f"Type alias: ``{obj!r}``."]
        else:
            lines = [f"A ``{kind}``."]
    body = "\n".join(f"   {line}".rstrip() for line in lines)
    module, _, short = full.rpartition(".")
    return f".. py:data:: {short}\n   :module: {module}\n\n{body}\n"


def _directive(full: str, obj: Any, home: str | None, name: str) -> str:
    if inspect.isclass(obj):
        # Members inherited from private bases are documented on the public class (they have no page elsewhere).
        public_bases = [b.__name__ for b in obj.__mro__[1:] if not b.__name__.startswith("_")]
        option = (
            f"   :inherited-members: {', '.join(public_bases)}\n" if len(public_bases) < len(obj.__mro__) - 1 else ""
        )
        return f".. autoclass:: {full}\n   :members:\n   :undoc-members:\n{option}"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return f".. autofunction:: {full}\n"
    return _data_block(full, obj, home, name)


def plan() -> tuple[dict[str, ModuleType], dict[str, list[str]], dict[tuple[str, str], str], dict[str, list[str]]]:
    """``(modules, exports, canonical, defined)``: every module by name, each public module's exported names,
    ``canonical[(module, name)]`` the documented path of each exported name (a module's own name for a
    submodule), and the names each module binds itself. Fills :data:`ALIASES` and :data:`CLASSES`."""
    modules = {m: importlib.import_module(m) for m in all_modules()}
    defined = {m: _defined_names(mod) for m, mod in modules.items()}
    public = [m for m in modules if _is_public(m)]
    exports = {m: exported_names(modules[m]) for m in public}

    exporters: dict[tuple[Any, str], list[str]] = {}
    for m in public:
        for name in exports[m]:
            exporters.setdefault(_key(m, name, getattr(modules[m], name), defined), []).append(m)
    canonical: dict[tuple[str, str], str] = {}
    for (_, name), mods in exporters.items():
        obj = getattr(modules[mods[0]], name)
        if inspect.ismodule(obj):
            full = obj.__name__
        else:
            full = f"{canonical_module(name, obj, mods, defined)}.{name}"
            for m in mods:
                ALIASES[f"{m}.{name}"] = full
            home = home_module(name, obj, defined)
            if home is not None:
                ALIASES.setdefault(f"{home}.{name}", full)
            if inspect.isclass(obj):
                CLASSES[full] = obj
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and getattr(obj, "__module__", None):
                ALIASES.setdefault(f"{obj.__module__}.{obj.__qualname__}", full)
        for m in mods:
            canonical[(m, name)] = full
    return modules, exports, canonical, defined


def write_api_pages(outdir: Path) -> list[Path]:
    """Write ``outdir/generated/<module>.rst`` for every public module; return the files (stale ones removed)."""
    modules, exports, canonical, defined = plan()
    public = list(exports)
    gen = outdir / "generated"
    gen.mkdir(parents=True, exist_ok=True)
    written = []
    for m in public:
        lines = [f"``{m}``", "=" * (len(m) + 4), "", f".. automodule:: {m}", ""]
        own, elsewhere, submodules = [], [], []
        for name in exports[m]:
            obj = getattr(modules[m], name)
            full = canonical[(m, name)]
            if inspect.ismodule(obj):
                submodules.append(f"* :py:mod:`{full}`")
            elif full == f"{m}.{name}":
                own.append(_directive(full, obj, home_module(name, obj, defined), name))
            else:
                elsewhere.append(f"* :py:obj:`{name} <{full}>`")
        subs = [s for s in public if _parent(s) == m and f"* :py:mod:`{s}`" not in submodules]
        submodules += [f"* :py:mod:`{s}`" for s in subs]
        if submodules:
            lines += ["Submodules", "----------", "", *submodules, ""]
        if elsewhere:
            lines += ["Re-exported names", "-----------------", "", "Documented where they are defined:", ""]
            lines += [*elsewhere, ""]
        if own:
            lines += ["Contents", "--------", ""]
            for block in own:
                lines += [block]
        path = gen / f"{m}.rst"
        text = "\n".join(lines).rstrip() + "\n"
        # Rewrite only on change: Sphinx then rereads only what changed.
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    for stale in set(gen.glob("*.rst")) - set(written):
        stale.unlink()
    return written


def resolve_reexport(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """``missing-reference`` hook: resolve a Python reference written with a non-canonical import path."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    candidates = [target]
    modname, clsname = node.get("py:module"), node.get("py:class")
    if modname and clsname:
        candidates.append(f"{modname}.{clsname}.{target}")
    while modname:
        candidates.append(f"{modname}.{target}")
        modname = _parent(modname)
    if node.get("refspecific") or "." not in target:
        candidates += sorted(a for a in ALIASES if a.endswith("." + target))
        # a bare method name in a module docstring: a member of a class defined in that module
        here = node.get("py:module")
        candidates += [
            f"{canon}.{target}"
            for canon, cls in sorted(CLASSES.items())
            if cls.__module__ == here and hasattr(cls, target.partition(".")[0])
        ]
    domain = env.get_domain("py")
    for cand in candidates:
        for full in _canonical_candidates(cand):
            found = domain.resolve_xref(env, node["refdoc"], app.builder, "obj", full, node, contnode)
            if found is not None:
                return found
    return None


def _canonical_candidates(dotted: str) -> list[str]:
    """Canonical paths that ``dotted`` may denote: the alias of its longest known prefix, and for a class member,
    the same member on each documented base class."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        head = ".".join(parts[:i])
        if head in ALIASES:
            canon, rest = ALIASES[head], parts[i:]
            out = [".".join([canon, *rest])]
            cls = CLASSES.get(canon)
            if cls is not None and rest:
                for base in cls.__mro__[1:]:
                    key = f"{base.__module__}.{base.__qualname__}"
                    if key in ALIASES:
                        out.append(".".join([ALIASES[key], *rest]))
            return out
    return []
