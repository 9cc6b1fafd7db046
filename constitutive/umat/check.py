r"""Per-increment verification of a UMAT's DDSDDE along load paths, and comparison with a package model.

**The check.** Each path is followed increment by increment from the converged state (strain-controlled
components interpolated, stress-controlled ones solved by Newton with the UMAT's own DDSDDE; the iterations are
recorded). At the end of every increment, with the state held at its start (the definition of the consistent
tangent), column J of DDSDDE is compared with central differences of the returned STRESS,

.. math:: D^{FD}_{IJ} = [\sigma_I(\varepsilon + h e_J) - \sigma_I(\varepsilon - h e_J)] / 2h,

in the UMAT's own vector space (engineering shear, NTENS slots), :math:`h = \epsilon_{mach}^{1/3} s`,
:math:`s = \max(\max|\varepsilon|, \max|\sigma| / \max|D|)`. With ``finite_strain`` the perturbation is Abaqus's:
:math:`\hat F = F + \tfrac{h}{2}(e_k\otimes e_l + e_l \otimes e_k)F` and :math:`D^{FD}_{(ij)(kl)} = [\tau_{ij}(\hat
F^{+}) - \tau_{ij}(\hat F^{-})]/(2 J h)`, τ = Jσ the Kirchhoff stress. An increment passes when
:math:`\max|D - D^{FD}| \le \text{rtol}\max|D^{FD}| + 100\epsilon_{mach}\max|D^{FD}|`. Also reported: the Taylor
order, the slope of :math:`r(h) = \|\sigma(\varepsilon + h d) - \sigma(\varepsilon) - h D d\|` over eight halvings
of h along a random unit direction d (2 for a consistent tangent, 1 for an inconsistent one, "affine" when every
remainder is round-off); the worst component by its Abaqus label; and the asymmetry
:math:`\max|D - D^T| / \max|D|`.

**Temperature** (``temperature=(T_start, T_end)``, for a UMAT whose stress depends on TEMP + DTEMP): along every
path the temperature ramps linearly from ``T_start`` (the initial state's) to ``T_end`` at its last increment, passed
as ``TEMP`` = T_n, ``DTEMP`` = T_{n+1} - T_n; at every increment ``DDSDDT`` is also compared with central
differences in the end-of-increment temperature at fixed strain (state held at its start),

.. math:: \mathrm{DDSDDT}^{FD}_I = [\sigma_I(T_{n+1} + h_T) - \sigma_I(T_{n+1} - h_T)] / 2h_T,
   \qquad h_T = \epsilon_{mach}^{1/3} \max(|T_{end} - T_{start}|, 1),

and passes when :math:`\max|\mathrm{DDSDDT} - \mathrm{DDSDDT}^{FD}| \le \text{rtol}\max|\mathrm{DDSDDT}^{FD}| +
100\epsilon_{mach}\max|\sigma|/h_T` (the second term: the differences' round-off, so that a temperature-
independent stress with DDSDDT = 0 passes and a UMAT returning DDSDDT = 0 while its stress depends on T fails).
A table breakpoint within h_T of T_{n+1} is a kink the differences straddle: keep ramps off them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..contracts import is_path_dependent
from ..paths import LoadPath, Segment
from ..tensor import Tensor
from .material import UMAT

__all__ = ["IncrementCheck", "UMATCheckReport", "default_paths", "check_umat", "compare_umat", "ComparisonReport"]

_EPS = float(np.finfo(np.float64).eps)


@dataclass
class IncrementCheck:
    """The tangent check of one increment (``increment`` = KINC, 1-based, counted per path)."""

    path: str
    increment: int
    passed: bool
    rel_error: float
    abs_error: float
    worst: tuple[int, int]  # 1-based DDSDDE(I, J)
    worst_label: str
    value: float
    reference: float
    asymmetry: float
    taylor_order: float | None
    newton_iterations: int = 0
    #: With ``check_umat(..., temperature=...)``: the relative DDSDDT error (None without), its worst slot label,
    #: the UMAT's and the finite-difference value there, and whether DDSDDT passed (``passed`` includes it).
    ddsddt_error: float | None = None
    ddsddt_worst_label: str = ""
    ddsddt_value: float = 0.0
    ddsddt_reference: float = 0.0
    ddsddt_passed: bool = True


@dataclass
class UMATCheckReport:
    """All increments of :func:`check_umat`; ``passed`` when every one passed, ``first_failure`` the first that
    did not."""

    umat: str
    hypothesis: str
    finite_strain: bool
    rtol: float
    increments: list[IncrementCheck] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.increments)

    @property
    def first_failure(self) -> IncrementCheck | None:
        return next((r for r in self.increments if not r.passed), None)

    def __bool__(self) -> bool:
        return self.passed

    def to_dict(self) -> dict[str, Any]:
        first = self.first_failure
        return {
            "umat": self.umat,
            "hypothesis": self.hypothesis,
            "finite_strain": self.finite_strain,
            "rtol": self.rtol,
            "passed": self.passed,
            "first_failure": None if first is None else _clean(asdict(first)),
            "increments": [_clean(asdict(r)) for r in self.increments],
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self) -> str:
        thermal = any(r.ddsddt_error is not None for r in self.increments)
        what = "DDSDDE and DDSDDT check" if thermal else "DDSDDE check"
        lines = [f"{self.umat}: {what}, {self.hypothesis}{' NLGEOM' if self.finite_strain else ''}, "]
        lines[0] += f"rtol {self.rtol:.0e}"
        lines.append(
            f"{'path':<22}{'inc':>4}  {'rel. error':>10}  {'Taylor':>7}  {'worst component':<26}{'asym.':>9}"
            f"{'Newton':>7}  {'DDSDDT':>9}  verdict"
            if thermal
            else f"{'Newton':>7}  verdict"
        )
        for r in self.increments:
            order = "affine" if r.taylor_order is None or math.isnan(r.taylor_order) else f"{r.taylor_order:.2f}"
            lines.append(
                f"{r.path:<22}{r.increment:>4}  {r.rel_error:>10.2e}  {order:>7}  {r.worst_label:<26}"
                f"{r.asymmetry:>9.1e}{r.newton_iterations:>7}  "
                + (f"{r.ddsddt_error:>9.2e}  " if thermal and r.ddsddt_error is not None else "")
                + ("ok" if r.passed else "WRONG")
            )
        first = self.first_failure
        if first is None:
            lines.append(f"PASSED: {'DDSDDE and DDSDDT' if thermal else 'DDSDDE'} consistent in all "
                         f"{len(self.increments)} increments")  # fmt: skip
        elif not first.ddsddt_passed:
            n_bad = sum(not r.passed for r in self.increments)
            lines.append(
                f"FAILED: {n_bad} of {len(self.increments)} increments inconsistent; first: path {first.path!r}, "
                f"increment {first.increment}, DDSDDT {first.ddsddt_worst_label} = {first.ddsddt_value:.6g}, "
                f"finite differences in TEMP + DTEMP {first.ddsddt_reference:.6g} (relative error "
                f"{first.ddsddt_error:.2e})"
                + ("" if first.rel_error <= self.rtol else f"; DDSDDE relative error {first.rel_error:.2e}")
            )
        else:
            n_bad = sum(not r.passed for r in self.increments)
            lines.append(
                f"FAILED: {n_bad} of {len(self.increments)} increments inconsistent; first: path {first.path!r}, "
                f"increment {first.increment}, worst component {first.worst_label} (DDSDDE {first.value:.6g}, "
                f"finite differences {first.reference:.6g}, relative error {first.rel_error:.2e}"
                + (
                    f", Taylor order {first.taylor_order:.2f})"
                    if first.taylor_order is not None and not math.isnan(first.taylor_order)
                    else ")"
                )
            )
        return "\n".join(lines)

    def plot(self, path: str | Path | None = None, *, overwrite: bool = False) -> Any:
        """Figure: relative DDSDDE error (log) and Taylor order per increment, paths one after another.

        Saved to ``path`` when given (atomically; over an existing file only with ``overwrite=True``)."""
        from ..fileio import atomic_path, check_writable

        if path is not None:
            check_writable(path, overwrite=overwrite)
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 5), sharex=True)
        k = np.arange(1, len(self.increments) + 1)
        err = np.array([max(r.rel_error, 1e-17) for r in self.increments])
        order = np.array([np.nan if r.taylor_order is None else r.taylor_order for r in self.increments])
        a1.semilogy(k, err, "o-", ms=3)
        a1.axhline(self.rtol, color="gray", ls="--", label=f"rtol {self.rtol:.0e}")
        a1.set_ylabel("relative DDSDDE error")
        a1.legend()
        a2.plot(k, order, "o-", ms=3)
        a2.axhline(2.0, color="black", ls=":", lw=0.8)
        a2.axhline(1.0, color="gray", ls=":", lw=0.8)
        a2.set_ylabel("Taylor order")
        a2.set_xlabel("increment (all paths)")
        a1.set_title(f"{self.umat}: {'PASSED' if self.passed else 'FAILED'}")
        fig.tight_layout()
        if path is not None:
            with atomic_path(path, overwrite=overwrite) as tmp:
                fig.savefig(tmp)
        return fig


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


# -------------------------------------------------------------------------------------------------------- paths
def default_paths(
    finite_strain: bool = False, amplitude: float | None = None, increments: int = 8, hypothesis: str = "3d"
) -> list[LoadPath]:
    """The default paths of ``constitutive umat check``: uniaxial strain, uniaxial stress, pure shear, a
    non-proportional multiaxial path and a load reversal (small strain, amplitude 0.01 by default), or their
    F-controlled analogues (stretch, simple shear, stretch-then-shear, reversal; amplitude 0.2)."""
    n = int(increments)
    if finite_strain:
        a = 0.2 if amplitude is None else float(amplitude)
        eye = {"11": 1.0, "22": 1.0, "33": 1.0, "23": 0.0, "13": 0.0, "12": 0.0, "32": 0.0, "31": 0.0, "21": 0.0}
        F = lambda **kw: {**eye, **kw}  # noqa: E731
        return [
            LoadPath([Segment(F(**{"11": 1 + a}), increments=n)], "finite", "uniaxial stretch"),
            LoadPath([Segment(F(**{"12": a}), increments=n)], "finite", "simple shear"),
            LoadPath(
                [Segment(F(**{"11": 1 + a}), increments=n), Segment(F(**{"11": 1 + a, "12": a}), increments=n)],
                "finite",
                "stretch then shear",
            ),
            LoadPath(
                [Segment(F(**{"11": 1 + a}), increments=n), Segment(F(**{"11": 1 - a / 2}), increments=2 * n)],
                "finite",
                "reversal",
            ),
        ]
    a = 0.01 if amplitude is None else float(amplitude)
    zero = {"11": 0.0, "22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0, "12": 0.0}
    E = lambda **kw: {**zero, **kw}  # noqa: E731
    lateral = {"22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0, "12": 0.0}
    return [
        LoadPath([Segment(E(**{"11": a}), increments=n)], "small", "uniaxial strain"),
        LoadPath([Segment({"11": a}, lateral, increments=n)], "small", "uniaxial stress"),
        LoadPath([Segment(E(**{"12": a / 2}), increments=n)], "small", "pure shear"),
        LoadPath(
            [
                Segment(E(**{"11": a / 2}), increments=n),
                Segment(E(**{"11": a / 2, "12": a / 2}), increments=n),
                Segment(
                    E(**{"11": -a / 4, "22": a / 4, "12": a / 2, "23": a / 8 if hypothesis == "3d" else 0.0}),
                    increments=n,
                ),
            ],
            "small",
            "multiaxial",
        ),
        LoadPath(
            [Segment(E(**{"11": a}), increments=n), Segment(E(**{"11": -a}), increments=2 * n)],
            "small",
            "reversal",
        ),
    ]


def _segment_targets(umat: UMAT, seg: Segment, kinematics: str) -> tuple[np.ndarray, np.ndarray]:
    """(target vector (NTENS) or F (3, 3), stress-controlled mask (NTENS)) of a segment in the UMAT's slots."""
    if kinematics == "finite":
        if seg.stress:
            raise ValueError("umat check drives finite-strain paths by F only (no P-controlled components)")
        F = np.zeros((3, 3))
        for lab, v in seg.strain.items():
            F[int(lab[0]) - 1, int(lab[1]) - 1] = float(v)
        return F, np.zeros(umat.ntens, dtype=bool)
    target = np.zeros(umat.ntens)
    mask = np.zeros(umat.ntens, dtype=bool)
    for k, (i, j) in enumerate(umat.slots):
        lab = f"{i + 1}{j + 1}"
        if lab in seg.strain:
            target[k] = float(seg.strain[lab]) * (1.0 if i == j else 2.0)
        else:
            target[k] = float(seg.stress[lab])
            mask[k] = True
    in_slots = {f"{i + 1}{j + 1}" for i, j in umat.slots}
    dropped = [c for c, v in seg.strain.items() if c not in in_slots and float(v) != 0.0 and c != "33"]
    if dropped:
        raise ValueError(f"a {umat.hypothesis} UMAT has no slots for the strain components {dropped}")
    return target, mask


# ------------------------------------------------------------------------------------------------- the check
def _respond(
    umat: UMAT, state: Mapping[str, Tensor], x: np.ndarray, dt: float, temperature: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """(stress vector or Kirchhoff/J_ref vector, DDSDDE) of one increment from ``state`` to ``x`` (batch ``(m,)``)
    and to ``temperature`` (None: the state's)."""
    s, _, D = umat.update_voigt(torch.from_numpy(x), state, dt, temperature=temperature)
    return s.numpy(), D.numpy()


def _check_ddsddt(
    umat: UMAT, state: Mapping[str, Tensor], x: np.ndarray, dt: float, T: float, h: float, rtol: float
) -> tuple[bool, float, str, float, float]:
    """DDSDDT at (x, T) against central differences in T (module docstring): (passed, relative error, worst
    label, value, reference)."""
    rep = {k: v.unsqueeze(0) for k, v in state.items()}
    s0, _, _, dT = umat.update_thermal_voigt(torch.from_numpy(x[None]), rep, dt, temperature=T)
    many = {k: v.unsqueeze(0).expand(2, *v.shape) for k, v in state.items()}
    Ts = torch.tensor([T + h, T - h], dtype=torch.float64)
    sp, _, _ = umat.update_voigt(torch.from_numpy(np.stack([x, x])), many, dt, temperature=Ts)
    d, d_fd = dT.numpy()[0], (sp[0] - sp[1]).numpy() / (2 * h)
    err = np.abs(d - d_fd)
    k = int(err.argmax())
    ref = float(np.abs(d_fd).max())
    floor = 100 * _EPS * float(np.abs(s0.numpy()).max()) / h
    passed = bool(err[k] <= rtol * ref + floor)
    rel = float(err[k]) / ref if ref > 0 else (0.0 if err[k] <= floor else math.inf)
    return passed, rel, f"DDSDDT({k + 1}) dS{umat.labels[k]}/dT", float(d[k]), float(d_fd[k])


def _perturbed(umat: UMAT, x: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Points perturbed by vectors ``V`` (m, NTENS): strains add; F gets Abaqus's δF = sym(δ) F."""
    if not umat.finite_strain:
        return x[None, :] + V
    out = np.empty((V.shape[0], 3, 3))
    for m in range(V.shape[0]):
        d = np.zeros((3, 3))
        for k, (i, j) in enumerate(umat.slots):
            w = 1.0 if i == j else 0.5
            d[i, j] += w * V[m, k]
            if i != j:
                d[j, i] += w * V[m, k]
        out[m] = x + d @ x
    return out


def _stress_measure(umat: UMAT, s: np.ndarray, xs: np.ndarray, J_ref: float) -> np.ndarray:
    """Finite strain: Kirchhoff τ = Jσ divided by the reference J (Abaqus's perturbation definition)."""
    if not umat.finite_strain:
        return s
    return s * (np.linalg.det(xs) / J_ref)[:, None]


def _check_increment(
    umat: UMAT,
    state: Mapping[str, Tensor],
    x: np.ndarray,
    dt: float,
    rtol: float,
    seed: int,
    floor: float = 0.0,
    temperature: float | None = None,
) -> tuple[Any, ...]:
    n = umat.ntens
    rep = {k: v.unsqueeze(0) for k, v in state.items()}
    s0, D0 = _respond(umat, rep, x[None], dt, temperature)
    s0, D = s0[0], D0[0]
    J_ref = float(np.linalg.det(x)) if umat.finite_strain else 1.0
    xs = 0.0 if umat.finite_strain else float(np.abs(x).max())
    dmax = float(np.abs(D).max())
    scale = max(xs, float(np.abs(s0).max()) / dmax if dmax > 0 else 0.0)
    if umat.finite_strain:
        scale = max(scale, 1e-2) if scale > 0 else 1e-2
    # The floor (a fraction of the path's amplitude) keeps h meaningful where strain and stress pass through zero.
    scale = max(scale, floor)
    scale = scale if scale > 0 else 1.0
    h = _EPS ** (1.0 / 3.0) * scale
    V = np.concatenate([h * np.eye(n), -h * np.eye(n)])
    pts = _perturbed(umat, x, V)
    many = {k: v.unsqueeze(0).expand(2 * n, *v.shape) for k, v in state.items()}
    sp, _ = _respond(umat, many, pts, dt, temperature)
    sp = _stress_measure(umat, sp, pts if umat.finite_strain else pts, J_ref)
    D_fd = ((sp[:n] - sp[n:]) / (2 * h)).T  # column J from perturbation J
    err = np.abs(D - D_fd)
    ref = float(np.abs(D_fd).max())
    abs_err = float(err.max())
    I, Jc = np.unravel_index(int(err.argmax()), err.shape)
    passed = abs_err <= rtol * ref + 100 * _EPS * ref
    rel = abs_err / ref if ref > 0 else (0.0 if abs_err == 0 else math.inf)
    asym = float(np.abs(D - D.T).max()) / dmax if dmax > 0 else 0.0
    # Taylor remainder along a random unit direction.
    rng = np.random.default_rng(seed)
    d = rng.standard_normal(n)
    d /= np.linalg.norm(d)
    hs = 1e-2 * scale * 0.5 ** np.arange(8)
    pts = _perturbed(umat, x, hs[:, None] * d[None, :])
    many = {k: v.unsqueeze(0).expand(len(hs), *v.shape) for k, v in state.items()}
    st, _ = _respond(umat, many, pts, dt, temperature)
    st = _stress_measure(umat, st, pts, J_ref)
    s_ref = _stress_measure(umat, s0[None], x[None], J_ref)[0] if umat.finite_strain else s0
    r = np.linalg.norm(st - s_ref[None] - hs[:, None] * (D @ d)[None], axis=1)
    noise = 1e2 * _EPS * (np.linalg.norm(s_ref) + np.linalg.norm(st, axis=1))
    valid = r > noise
    order: float | None = None
    if valid.sum() >= 3:
        order = float(np.polyfit(np.log(hs[valid]), np.log(r[valid]), 1)[0])
    elif valid.any():
        order = float("nan")
    label = f"DDSDDE({I + 1},{Jc + 1}) dS{umat.labels[I]}/dE{umat.labels[Jc]}"
    return passed, rel, abs_err, (int(I) + 1, int(Jc) + 1), float(D[I, Jc]), float(D_fd[I, Jc]), asym, order, label


def check_umat(
    umat: UMAT,
    paths: Sequence[LoadPath] | None = None,
    *,
    rtol: float = 1e-6,
    amplitude: float | None = None,
    increments: int = 8,
    max_iter: int = 25,
    temperature: tuple[float, float] | None = None,
) -> UMATCheckReport:
    """Drive ``umat`` along ``paths`` and check DDSDDE at every increment (module docstring), and DDSDDT with
    ``temperature``.

    Stress-controlled components are solved by Newton with DDSDDE (the count per increment is reported). Raises
    :class:`~constitutive.umat.UMATError` if the UMAT fails.

    Parameters
    ----------
    umat:
        The :class:`~constitutive.umat.UMAT` to check.
    paths:
        The load paths (default :func:`default_paths` for the UMAT's kinematics and hypothesis).
    rtol:
        The pass threshold of the DDSDDE comparison with finite differences (module docstring; default 1e-6).
    amplitude, increments:
        Of the default paths (:func:`default_paths`; default amplitude 0.01 in small strain, 0.2 in finite strain;
        8 increments per segment).
    max_iter:
        At most this many Newton iterations per increment for stress-controlled components (default 25).
    temperature:
        ``(T_start, T_end)``: ramp the temperature linearly along every path and check DDSDDT against central
        differences in TEMP + DTEMP at every increment (module docstring); ``None`` (default): TEMP stays the
        UMAT's ``temp``, DTEMP = 0, DDSDDT is not checked.
    """
    if paths is None:
        paths = default_paths(umat.finite_strain, amplitude, increments, umat.hypothesis)
    ramp = _temperature_ramp(temperature)
    report = UMATCheckReport(repr(umat), umat.hypothesis, umat.finite_strain, float(rtol))
    for path in paths:
        if (path.kinematics == "finite") != umat.finite_strain:
            raise ValueError(
                f"path {path.name!r} is {path.kinematics}-strain but the UMAT is "
                f"{'finite' if umat.finite_strain else 'small'}-strain"
            )
        state = umat.initial_state()
        total = sum(seg.increments for seg in path.segments)
        if ramp is not None:
            state["temperature"] = torch.full_like(state["temperature"], ramp[0])
        x = np.eye(3) if umat.finite_strain else np.zeros(umat.ntens)
        y = np.zeros(umat.ntens)
        kinc = 0
        reach = max(
            float(
                np.abs(_segment_targets(umat, seg, path.kinematics)[0] - (np.eye(3) if umat.finite_strain else 0)).max()
            )
            for seg in path.segments
        )
        for seg in path.segments:
            target, mask = _segment_targets(umat, seg, path.kinematics)
            begin = x.copy() if umat.finite_strain else np.where(mask, y, x)
            dt = seg.duration / seg.increments
            for k in range(1, seg.increments + 1):
                goal = begin + (k / seg.increments) * (target - begin)
                xn = goal.copy() if umat.finite_strain else np.where(mask, x, goal)
                T = None if ramp is None else ramp[0] + (ramp[1] - ramp[0]) * (kinc + 1) / total
                its = 0
                while True:
                    s, new_state, D = umat.update_voigt(torch.from_numpy(xn), state, dt, temperature=T)
                    if not mask.any():
                        break
                    r = s.numpy()[mask] - goal[mask]
                    if np.linalg.norm(r) <= 1e-12 * max(np.linalg.norm(s.numpy()), np.abs(goal).max(), 1e-300):
                        break
                    if its == max_iter:
                        raise ValueError(f"path {path.name!r}: Newton did not converge in increment {kinc + 1}")
                    Dss = D.numpy()[np.ix_(mask, mask)]
                    xn[mask] -= np.linalg.solve(Dss, r)
                    its += 1
                kinc += 1
                res = _check_increment(umat, state, xn, dt, rtol, seed=kinc, floor=1e-2 * reach, temperature=T)
                passed, rel, abs_err, worst, val, ref, asym, order, label = res
                row = IncrementCheck(path.name, kinc, passed, rel, abs_err, worst, label, val, ref, asym, order, its)
                if ramp is not None and T is not None:
                    h_T = _EPS ** (1.0 / 3.0) * max(abs(ramp[1] - ramp[0]), 1.0)
                    ok, row.ddsddt_error, row.ddsddt_worst_label, row.ddsddt_value, row.ddsddt_reference = (
                        _check_ddsddt(umat, state, xn, dt, T, h_T, rtol)
                    )
                    row.ddsddt_passed = ok
                    row.passed = passed and ok
                report.increments.append(row)
                x, y, state = xn, s.numpy(), new_state
    return report


def _temperature_ramp(temperature: Any) -> tuple[float, float] | None:
    """``None`` or the validated ``(T_start, T_end)`` pair of finite numbers."""
    if temperature is None:
        return None
    try:
        a, b = (float(v) for v in temperature)
    except (TypeError, ValueError):
        raise ValueError(f"temperature must be a pair (T_start, T_end) of numbers, got {temperature!r}") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"temperature must be finite, got {temperature!r}")
    return a, b


# -------------------------------------------------------------------------------------------------- comparison
@dataclass
class ComparisonReport:
    """Per-increment differences between a UMAT and a package model along the same strain paths:
    ``rows``: dicts with ``path``, ``increment``, ``stress`` and ``tangent`` (relative differences), ``state`` (relative
    difference per mapped state entry) and ``state_values`` (the model's values of those entries); with a
    temperature ramp also ``ddsddt`` (relative DDSDDT difference) and ``temperature`` (T_{n+1})."""

    umat: str
    model: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def max_stress_difference(self) -> float:
        return max((r["stress"] for r in self.rows), default=0.0)

    @property
    def max_tangent_difference(self) -> float:
        return max((r["tangent"] for r in self.rows), default=0.0)

    @property
    def max_ddsddt_difference(self) -> float:
        """The largest relative DDSDDT difference (0 without a temperature ramp)."""
        return max((r.get("ddsddt", 0.0) for r in self.rows), default=0.0)

    @property
    def max_state_difference(self) -> float:
        """The largest relative difference of the mapped state entries."""
        return max((v for r in self.rows for v in r["state"].values()), default=0.0)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps({"umat": self.umat, "model": self.model, "rows": _clean(self.rows)}, **kwargs)

    def __str__(self) -> str:
        lines = [f"{self.umat} vs {self.model}", f"{'path':<22}{'inc':>4}  {'stress':>10}  {'tangent':>10}  state"]
        for r in self.rows:
            st = ", ".join(f"{k} {v:.2e}" for k, v in r["state"].items())
            lines.append(f"{r['path']:<22}{r['increment']:>4}  {r['stress']:>10.2e}  {r['tangent']:>10.2e}  {st}")
        lines.append(
            f"max relative difference: stress {self.max_stress_difference:.2e}, tangent "
            f"{self.max_tangent_difference:.2e}"
        )
        return "\n".join(lines)


def _model_response(
    model: Any, x: Tensor, state: Any, dt: float, temperature: float | None = None
) -> tuple[Tensor, Any, Tensor, Tensor | None]:
    """(σ, new state, C, ∂σ/∂T or None) of the reference model; with a temperature, through the temperature
    contract's ``update_thermal`` (constitutive.models.thermal)."""
    if temperature is not None:
        return model.update_thermal(x, state, dt, temperature=temperature)  # type: ignore[no-any-return]
    if is_path_dependent(model):
        return (*model.update(x, state, dt), None)
    return model.stress(x), None, model.tangent(x), None


def compare_umat(
    umat: UMAT,
    model: Any,
    paths: Sequence[LoadPath] | None = None,
    *,
    state_map: Mapping[str, int] | None = None,
    amplitude: float | None = None,
    increments: int = 8,
    temperature: tuple[float, float] | None = None,
) -> ComparisonReport:
    r"""Drive ``umat`` (by :func:`check_umat`'s rules) and ``model`` along the same paths and compare per increment:
    relative stress difference :math:`\max|σ_U - σ_M|` over the largest :math:`|σ_M|` of the path so far (so a
    stress passing through zero on a reversal is not divided by itself), tangent difference
    :math:`\max|D_U - D_M| / \max|D_M|`, both in the
    UMAT's slots (plane stress: the model's tangent condensed for σ33 = 0 at the 3D strain where its σ33 = 0,
    solved by Newton). Finite strain: ``model.cauchy_and_abaqus_tangent(F)`` (a hyperelastic model).

    Parameters
    ----------
    umat:
        The :class:`~constitutive.umat.UMAT`.
    model:
        The reference model: a small-strain model (path-dependent ones through ``update``) or, for a finite-strain
        UMAT, a hyperelastic model.
    paths:
        The load paths (default :func:`default_paths`).
    state_map:
        Names model state entries (scalars per point) and the 0-based STATEV index they match.
    amplitude, increments:
        Of the default paths, as in :func:`check_umat`.
    temperature:
        ``(T_start, T_end)``: the temperature ramp of :func:`check_umat`, passed to both (the model must follow
        the temperature contract: ``temperature_dependent`` and ``update_thermal``, e.g. a
        ``ThermoMechanical`` of ``constitutive.models.thermal``); the rows then compare DDSDDT with the model's
        ∂σ/∂T as well (relative to the largest model value along the path so far). Small strain only.
    """
    from ..notation import reduce

    ramp = _temperature_ramp(temperature)
    if ramp is not None:
        if umat.finite_strain:
            raise ValueError("compare_umat with a temperature ramp is small-strain only")
        if not (getattr(model, "temperature_dependent", False) and hasattr(model, "update_thermal")):
            raise ValueError(
                f"a temperature ramp needs a temperature-dependent model with update_thermal (the temperature "
                f"contract), got {type(model).__name__}"
            )
    if paths is None:
        paths = default_paths(umat.finite_strain, amplitude, increments, umat.hypothesis)
    state_map = dict(state_map or {})
    rep = ComparisonReport(repr(umat), repr(model))
    for path in paths:
        ustate = umat.initial_state()
        mstate = model.initial_state(()) if is_path_dependent(model) else None
        total = sum(seg.increments for seg in path.segments)
        ddsddt_scale = 0.0
        if ramp is not None:
            ustate["temperature"] = torch.full_like(ustate["temperature"], ramp[0])
            if mstate is not None:
                mstate["temperature"] = torch.full_like(mstate["temperature"], ramp[0])
        x = np.eye(3) if umat.finite_strain else np.zeros(umat.ntens)
        y = np.zeros(umat.ntens)
        kinc = 0
        e33 = 0.0
        stress_scale = 0.0
        state_scale: dict[str, float] = {}
        for seg in path.segments:
            target, mask = _segment_targets(umat, seg, path.kinematics)
            begin = x.copy() if umat.finite_strain else np.where(mask, y, x)
            dt = seg.duration / seg.increments
            for k in range(1, seg.increments + 1):
                goal = begin + (k / seg.increments) * (target - begin)
                xn = goal.copy() if umat.finite_strain else np.where(mask, x, goal)
                T = None if ramp is None else ramp[0] + (ramp[1] - ramp[0]) * (kinc + 1) / total
                for _ in range(50):
                    s, new_u, D, dTu = umat.update_thermal_voigt(torch.from_numpy(xn), ustate, dt, temperature=T)
                    if not mask.any():
                        break
                    r = s.numpy()[mask] - goal[mask]
                    if np.linalg.norm(r) <= 1e-13 * max(float(np.linalg.norm(s.numpy())), 1e-300):
                        break
                    xn[mask] -= np.linalg.solve(D.numpy()[np.ix_(mask, mask)], r)
                kinc += 1
                if umat.finite_strain:
                    sm, Cm = model.cauchy_and_abaqus_tangent(torch.from_numpy(xn))
                    new_m, dTm = None, None
                    sv, Dm = umat.to_vector(sm, "stress"), umat.tangent_to_matrix(Cm)
                else:
                    eps = umat.to_tensor(torch.from_numpy(xn))
                    eps = eps * torch.where(torch.eye(3, dtype=torch.bool), 1.0, 0.5)  # engineering -> tensor shear
                    if umat.hypothesis == "plane_stress":
                        # Solve the model's σ33 = 0 for ε33 (Newton with its own tangent, from the previous ε33).
                        for _ in range(50):
                            eps[2, 2] = e33
                            sm, new_m, Cm, dTm = _model_response(model, eps, mstate, dt, T)
                            if abs(float(sm[2, 2])) <= 1e-15 * float(sm.abs().max()) + 1e-300:
                                break
                            e33 -= float(sm[2, 2]) / float(Cm[2, 2, 2, 2])
                        sv = umat.to_vector(sm, "stress")
                        Dm = reduce(Cm, "stiffness", "plane_stress")
                        if dTm is not None:
                            # σ33 = 0 held as T changes: dε33/dT = -(∂σ33/∂T)/C3333 (the condensed DDSDDT)
                            dTm = dTm - Cm[:, :, 2, 2] * (dTm[2, 2] / Cm[2, 2, 2, 2])
                    else:
                        sm, new_m, Cm, dTm = _model_response(model, eps, mstate, dt, T)
                        sv, Dm = umat.to_vector(sm, "stress"), umat.tangent_to_matrix(Cm)
                su, Du = s.numpy(), D.numpy()
                # Relative to the largest value seen along the path so far: where the stress (or a state variable)
                # passes through zero on a reversal, its own size would turn round-off into a huge "difference".
                stress_scale = max(stress_scale, float(np.abs(sv.numpy()).max()))
                row: dict[str, Any] = {
                    "path": path.name,
                    "increment": kinc,
                    "stress": float(np.abs(su - sv.numpy()).max() / max(stress_scale, 1e-300)),
                    "tangent": float(np.abs(Du - Dm.numpy()).max() / max(np.abs(Dm.numpy()).max(), 1e-300)),
                    "state": {},
                }
                if dTm is not None:
                    dv = umat.to_vector(dTm, "stress").numpy()
                    ddsddt_scale = max(ddsddt_scale, float(np.abs(dv).max()))
                    row["ddsddt"] = float(np.abs(dTu.numpy() - dv).max() / max(ddsddt_scale, 1e-300))
                    row["temperature"] = T
                for key, idx in state_map.items():
                    if new_m is None or key not in new_m:
                        raise ValueError(f"the model has no state entry {key!r}")
                    a, b = float(new_u["statev"][idx]), float(new_m[key])
                    state_scale[key] = max(state_scale.get(key, 0.0), abs(b))
                    row["state"][key] = abs(a - b) / max(state_scale[key], 1e-300)
                    row.setdefault("state_values", {})[key] = b
                rep.rows.append(row)
                x, y, ustate, mstate = xn, su, new_u, new_m
    return rep
