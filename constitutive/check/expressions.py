"""Stress functions from a restricted torch expression of ``X`` (``constitutive check --expr``)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import torch

from .. import tensor as T
from ..tensor import Tensor

#: Names an ``--expr`` may use besides X: torch and the tensor helpers below (no builtins, no attributes with _).
EXPR_NAMES: dict[str, Any] = {
    "torch": torch,
    "I": None,  # the identity, filled per dtype
    "sym": T.sym,
    "skew": T.skew,
    "dev": T.dev,
    "vol": T.vol,
    "tr": T.trace,
    "trace": T.trace,
    "det": T.det,
    "inv": T.inv,
    "ddot": T.ddot,
    "dyad": T.dyad,
    "norm": T.norm,
    # torch's Padé matrix exponential: analytic, so AD stays finite at repeated eigenvalues (sym_exp's eigh does not).
    "expm": torch.linalg.matrix_exp,
    "logm": T.sym_log,
    "sqrtm": T.sym_sqrt,
}


def _torch_math_names() -> frozenset[str]:
    """torch attributes an expression may use: the tensor operators (no I/O, hub, jit, ops, ...)."""
    ops = {n for n in dir(torch._C._VariableFunctions) if not n.startswith("_")}  # the ATen tensor functions
    return frozenset(ops | {"linalg", "einsum", "tensordot", "pi", "e", "float64", "float32", "where"})


def expression_function(expr: str) -> Callable[[Tensor], Tensor]:
    """A stress function from a torch expression of ``X`` (a ``(..., 3, 3)`` tensor), evaluated in a restricted
    namespace: ``torch``, ``I`` (identity), ``sym skew dev vol tr trace det inv ddot dyad norm logm sqrtm``
    (from :mod:`constitutive.tensor`; the spectral ``logm``/``sqrtm`` have no AD derivative at repeated
    eigenvalues), ``expm`` (``torch.linalg.matrix_exp``), numbers and operators. Attribute access to names
    starting with ``_``, ``torch`` attributes other than its tensor operators and ``torch.linalg`` (no ``torch.load``,
    ``torch.save``, ``torch.hub``, ...), lambdas and comprehensions are rejected (``ValueError``). Scalar-valued results
    (e.g. ``tr(X)``) must be turned into tensors by the expression itself (e.g. ``tr(X)[..., None, None] * I``)."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as err:
        raise ValueError(f"--expr is not a valid expression: {err.msg}") from None
    allowed = set(EXPR_NAMES) | {"X"}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr)):
            raise ValueError(f"--expr may not contain {type(node).__name__}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ValueError(f"--expr may not access the private attribute {node.attr!r}")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch":
            if node.attr not in _torch_math_names():
                raise ValueError(f"--expr may use torch's tensor operations only, not torch.{node.attr}")
        if isinstance(node, ast.Name) and node.id not in allowed:
            raise ValueError(f"--expr uses unknown name {node.id!r}; allowed: X, {', '.join(sorted(EXPR_NAMES))}")
    code = compile(tree, "<expr>", "eval")

    def f(X: Tensor) -> Tensor:
        names = dict(EXPR_NAMES, X=X, I=torch.eye(3, dtype=X.dtype, device=X.device))
        out = eval(code, {"__builtins__": {}}, names)  # noqa: S307 - restricted namespace, AST-checked above
        if not isinstance(out, Tensor):
            raise ValueError(f"--expr must evaluate to a tensor, got {type(out).__name__}")
        return out

    return f
