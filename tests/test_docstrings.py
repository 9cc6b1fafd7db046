"""One docstring convention: a numpydoc ``Parameters`` section for every public callable of five or more arguments.

Walks every module of :mod:`constitutive` (but the CLI: importing ``constitutive.__main__`` runs it), takes the
names of each module's ``__all__``: public functions, and for classes their ``__init__`` (documented in the class
docstring, numpydoc style) and the public methods defined on the class. Every callable with five or more parameters
(not counting ``self``/``cls``, ``*args``, ``**kwargs``) must have a ``Parameters`` section, underlined with dashes,
whose entries (``name:`` or ``a, b:`` lines, the description indented below) name every parameter. Dataclass- and
NamedTuple-generated ``__init__``s are skipped; a dataclass with five or more fields must have a class docstring.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from typing import Any

import constitutive

MIN_PARAMETERS = 5
SKIP_MODULES = ("constitutive.cli", "constitutive.__main__")
_ENTRY = re.compile(r"^(\*{0,2}[A-Za-z_]\w*(?:\s*,\s*\*{0,2}[A-Za-z_]\w*)*)\s*:")


def _modules() -> Iterator[Any]:
    yield constitutive
    for info in pkgutil.walk_packages(constitutive.__path__, "constitutive."):
        if info.name.startswith(SKIP_MODULES):
            continue
        yield importlib.import_module(info.name)


def _counted(fn: Callable[..., Any]) -> list[str]:
    """The parameters that count: not self/cls, not ``*args``/``**kwargs``."""
    out = []
    for i, p in enumerate(inspect.signature(fn).parameters.values()):
        if i == 0 and p.name in ("self", "cls"):
            continue
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out.append(p.name)
    return out


def documented_parameters(doc: str | None) -> set[str] | None:
    """Names of the entries of the docstring's ``Parameters`` section; ``None`` when it has none."""
    lines = inspect.cleandoc(doc or "").splitlines()
    for i in range(len(lines) - 1):
        if lines[i].strip() == "Parameters" and re.fullmatch(r"-{10,}", lines[i + 1].strip()):
            indent = len(lines[i]) - len(lines[i].lstrip())
            names: set[str] = set()
            for line in lines[i + 2 :]:
                if not line.strip():
                    continue
                own = len(line) - len(line.lstrip())
                if own < indent:
                    break
                if own == indent:
                    m = _ENTRY.match(line.strip())
                    if m is None:  # prose or the next section: the entries end here
                        break
                    names.update(n.strip().lstrip("*") for n in m.group(1).split(","))
            return names
    return None


def check_callable(label: str, fn: Callable[..., Any], doc: str | None) -> str | None:
    """A failure message for ``fn`` (documented by ``doc``), or ``None`` when it follows the convention."""
    try:
        params = _counted(fn)
    except (TypeError, ValueError):  # no signature (a builtin): nothing to check
        return None
    if len(params) < MIN_PARAMETERS:
        return None
    names = documented_parameters(doc)
    if names is None:
        return f"{label}: {len(params)} parameters but no 'Parameters\\n----------' section"
    missing = [p for p in params if p not in names]
    if missing:
        return f"{label}: the Parameters section misses {missing}"
    return None


def _is_namedtuple(cls: type) -> bool:
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def failures() -> list[str]:
    out: list[str] = []
    seen: set[int] = set()
    for module in _modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if id(obj) in seen or getattr(obj, "__module__", "").split(".")[0] != "constitutive":
                continue
            seen.add(id(obj))
            label = f"{obj.__module__}:{getattr(obj, '__qualname__', name)}"
            if inspect.isclass(obj):
                if _is_namedtuple(obj):
                    continue
                if dataclasses.is_dataclass(obj):
                    if len(dataclasses.fields(obj)) >= MIN_PARAMETERS and not (obj.__doc__ or "").strip():
                        out.append(f"{label}: a dataclass of five or more fields needs a class docstring")
                elif "__init__" in vars(obj) or any("__init__" in vars(b) for b in obj.__mro__[1:-1]):
                    init = obj.__init__
                    if getattr(init, "__module__", "").startswith("constitutive"):
                        msg = check_callable(f"{label} (constructor)", init, obj.__doc__)
                        if msg:
                            out.append(msg)
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(member, (staticmethod, classmethod)):
                        member = member.__func__
                    if inspect.isfunction(member):
                        msg = check_callable(f"{label}.{attr}", member, member.__doc__)
                        if msg:
                            out.append(msg)
            elif inspect.isfunction(obj):
                msg = check_callable(label, obj, obj.__doc__)
                if msg:
                    out.append(msg)
    return out


def test_public_callables_of_five_or_more_parameters_document_them() -> None:
    found = failures()
    assert not found, f"{len(found)} public callables break the docstring convention:\n" + "\n".join(found)


def _dummy(alpha: float, beta: float, gamma: float, delta: float, eps: float, *rest: Any, **options: Any) -> float:
    """A dummy of five parameters.

    Parameters
    ----------
    alpha, beta:
        the first two.
    gamma:
        the third.
    delta:
        the fourth.
    **options:
        ignored.
    """
    return alpha + beta + gamma + delta + eps


def test_the_check_catches_a_missing_parameter() -> None:
    assert documented_parameters(_dummy.__doc__) == {"alpha", "beta", "gamma", "delta", "options"}
    msg = check_callable("_dummy", _dummy, _dummy.__doc__)
    assert msg is not None and "['eps']" in msg
    assert "no 'Parameters" in (check_callable("_dummy", _dummy, "Only prose: alpha, beta, gamma, delta, eps.") or "")
    full = _dummy.__doc__.replace("    **options:", "    eps:\n        the fifth.\n    **options:")
    assert check_callable("_dummy", _dummy, full) is None
    assert check_callable("four", lambda a, b, c, d, *args, **kw: None, None) is None  # below the threshold
