"""Material cards run in a real FE code: CalculiX (``ccx``, Debian package ``calculix-ccx``).

Each test writes a deck into ``tmp_path`` (one C3D8 cube, or a 2x2x2 mesh), runs ``ccx`` single-threaded, reads the
``.dat`` file (``*EL PRINT`` S, E at every integration point; ``*NODE PRINT`` U) and compares with the package on
the same path: pointwise ``model.stress(E)`` for the linear elastic cards (any deformation), the Cauchy stress at
the deformation gradient of the cube for the hyperelastic cards (NLGEOM), and the material-point driver with the
same increments for the plastic card. CalculiX prints 7 significant digits; the tolerances say so.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from constitutive import export as ex
from constitutive.driver import drive
from constitutive.models import elastic, hyperelastic, plasticity
from constitutive.paths import LoadPath, Segment, uniaxial_stress

CCX = shutil.which("ccx")
pytestmark = [
    pytest.mark.calculix,
    pytest.mark.skipif(CCX is None, reason="CalculiX is not installed (ccx; Debian package calculix-ccx)"),
]

PRINTED = 5e-7  # CalculiX prints 7 significant digits: relative half-unit of the last digit

# --------------------------------------------------------------------------------------------------- the decks


def cube_mesh(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``(N, 3)`` of the unit cube split into n x n x n C3D8 elements and their connectivity (1-based)."""
    g = np.linspace(0.0, 1.0, n + 1)
    nodes = np.array([(x, y, z) for z in g for y in g for x in g])

    def nid(i: int, j: int, k: int) -> int:
        return 1 + i + (n + 1) * (j + (n + 1) * k)

    elems = []
    for k in range(n):
        for j in range(n):
            for i in range(n):
                elems.append(
                    [nid(i, j, k), nid(i + 1, j, k), nid(i + 1, j + 1, k), nid(i, j + 1, k),
                     nid(i, j, k + 1), nid(i + 1, j, k + 1), nid(i + 1, j + 1, k + 1), nid(i, j + 1, k + 1)]
                )  # fmt: skip
    return nodes, np.array(elems)


# A step: ("uniaxial", a) -- symmetry planes x=0, y=0, z=0 and u_x = a on x=1, lateral faces free; or
# ("grad", H) -- every node moved by u = H X (homogeneous displacement gradient H, 3x3).
Step = tuple[str, object]


def run_ccx(
    tmp_path: Path,
    card: str,
    steps: Sequence[Step],
    *,
    nlgeom: bool,
    increments: int = 4,
    n: int = 1,
    every_increment: bool = False,
) -> list[dict[str, np.ndarray]]:
    """Run the deck; per step the printed ``S`` and ``E`` ``(n_points, 6)`` (11 22 33 12 13 23; E with tensor
    shear) and ``U`` ``(n_nodes, 3)`` at the end of the step."""
    nodes, elems = cube_mesh(n)
    lines = ["*NODE, NSET=NALL"] + [f"{i + 1}, {x!r}, {y!r}, {z!r}" for i, (x, y, z) in enumerate(nodes.tolist())]
    lines += ["*ELEMENT, TYPE=C3D8, ELSET=EALL"] + [f"{e + 1}, " + ", ".join(map(str, c)) for e, c in enumerate(elems)]
    lines += [card.strip(), f"*SOLID SECTION, ELSET=EALL, MATERIAL={_material_name(card)}"]
    for kind, value in steps:
        lines += [f"*STEP{', NLGEOM' if nlgeom else ''}, INC=1000", "*STATIC, DIRECT", f"{1 / increments!r}, 1.0"]
        lines += ["*CONTROLS, PARAMETERS=FIELD", "1e-9, 1e-9", "*BOUNDARY, OP=NEW"]  # tight equilibrium
        for i, X in enumerate(nodes):
            if kind == "grad":
                u = np.asarray(value) @ X
                lines += [f"{i + 1}, {d + 1}, {d + 1}, {float(u[d])!r}" for d in range(3)]
            else:
                for d in range(3):
                    if X[d] == 0.0:
                        lines.append(f"{i + 1}, {d + 1}, {d + 1}, 0.0")
                if X[0] == 1.0:
                    lines.append(f"{i + 1}, 1, 1, {float(value)!r}")  # type: ignore[arg-type]
        lines += ["*EL PRINT, ELSET=EALL", "S, E", "*NODE PRINT, NSET=NALL", "U", "*END STEP"]
    (tmp_path / "job.inp").write_text("\n".join(lines) + "\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CCX_NPROC_EQUATION_SOLVER": "1"}
    proc = subprocess.run([CCX, "-i", "job"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=60)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "*ERROR" not in log, log[-3000:]
    return parse_dat((tmp_path / "job.dat").read_text(), len(steps), every_increment)


def _material_name(card: str) -> str:
    (block,) = [b for b in ex.parse_abaqus_card(card) if b["keyword"] == "MATERIAL"]
    return block["options"]["NAME"]


def parse_dat(text: str, n_steps: int, every_increment: bool = False) -> list[dict[str, np.ndarray]]:
    """The printed S, E and U blocks at the end of each step (each step lasts 1.0, so its end is at an integer total
    time), or at every increment (``every_increment``; CalculiX prints each converged increment)."""
    blocks: list[tuple[str, float, list[list[float]]]] = []
    current: list[list[float]] | None = None
    for line in text.splitlines():
        head = line.strip()
        if head.startswith(("stresses", "strains", "displacements")):
            current = []
            blocks.append((head.split()[0], float(head.split()[-1]), current))
        elif head and current is not None:
            current.append([float(v) for v in head.split()])
    times = sorted({t for _, t, _ in blocks})
    if not every_increment:
        times = [t for t in times if abs(t - round(t)) < 1e-6]
        assert len(times) == n_steps, f"expected {n_steps} printed steps, got times {times}"
    out: list[dict[str, np.ndarray]] = []
    for t in times:
        rec = {kind: np.array(rows) for kind, tt, rows in blocks if tt == t}
        out.append({"S": rec["stresses"][:, 2:], "E": rec["strains"][:, 2:], "U": rec["displacements"][:, 1:]})
    return out


def voigt_to_tensor(v: np.ndarray) -> torch.Tensor:
    """CalculiX's printed (11 22 33 12 13 23) tensor components -> symmetric ``(..., 3, 3)``."""
    t = np.zeros((*v.shape[:-1], 3, 3))
    for k, (i, j) in enumerate([(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]):
        t[..., i, j] = t[..., j, i] = v[..., k]
    return torch.as_tensor(t, dtype=torch.float64)


def tensor_to_voigt(t: torch.Tensor) -> np.ndarray:
    a = t.detach().numpy()
    return np.stack([a[..., i, j] for i, j in [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]], axis=-1)


def assert_printed(ccx: np.ndarray, ours: np.ndarray, what: str, digits_lost: float = 4.0) -> None:
    """Agreement to the precision CalculiX prints (relative to the largest component)."""
    scale = np.abs(ours).max()
    err = np.abs(ccx - ours).max() / scale
    assert err < digits_lost * PRINTED, f"{what}: relative difference {err:.2e}"


# ----------------------------------------------------------------------------------------- linear elastic cards


def _rotation() -> torch.Tensor:
    a, b = 0.4, -0.7
    Rz = torch.tensor([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])
    Rx = torch.tensor([[1.0, 0.0, 0.0], [0.0, math.cos(b), -math.sin(b)], [0.0, math.sin(b), math.cos(b)]])
    return (Rz @ Rx).to(torch.float64)


ELASTIC_CASES: dict[str, tuple[Callable[[], object], str | None, str]] = {
    "isotropic": (lambda: elastic.LinearElastic(E=1000.0, nu=0.3), None, "ISOTROPIC"),
    "engineering": (
        lambda: elastic.Orthotropic(1000.0, 800.0, 900.0, 0.2, 0.25, 0.3, 300.0, 350.0, 320.0),
        "engineering_constants",
        "ENGINEERING CONSTANTS",
    ),
    "orthotropic": (lambda: elastic.Cubic(C11=1700.0, C12=1200.0, C44=750.0), "orthotropic", "ORTHOTROPIC"),
    "anisotropic": (
        lambda: elastic.Orthotropic(1000.0, 800.0, 900.0, 0.2, 0.25, 0.3, 300.0, 350.0, 320.0, axes=_rotation()),
        "anisotropic",
        "ANISOTROPIC",
    ),
}


@pytest.mark.parametrize("case", list(ELASTIC_CASES))
def test_elastic_cards_in_calculix(tmp_path, case):
    """Uniaxial tension, simple shear (and a general strain) and a reversal to compression: at every integration
    point CalculiX's stress equals the model's stress at CalculiX's strain."""
    make, kind, keyword = ELASTIC_CASES[case]
    model = make()
    card = ex.abaqus_card(model, name="M", elastic_type=kind, code="calculix")
    assert f"TYPE={keyword}" in card
    shear = np.array([[0.0, 0.004, 0.001], [0.0, 0.0, 0.002], [0.0, 0.0, -0.001]])
    steps: list[Step] = [("uniaxial", 0.01), ("grad", shear), ("uniaxial", -0.01)]
    for k, res in enumerate(run_ccx(tmp_path, card, steps, nlgeom=False, increments=1)):
        ours = tensor_to_voigt(model.stress(voigt_to_tensor(res["E"])))
        assert_printed(res["S"], ours, f"{case}, step {k + 1}")
    if case == "isotropic":  # the uniaxial steps: σ11 = E ε11 with free lateral faces
        np.testing.assert_allclose(res["S"][:, 0], -10.0, rtol=2 * PRINTED)


# ------------------------------------------------------------------------------------------- hyperelastic cards

TRELOAR_OGDEN = dict(mu=[0.618, 0.00118, -0.00981], alpha=[1.3, 5.0, -2.0], K=100.0)
HYPER_CASES: dict[str, Callable[[], object]] = {
    "neo_hooke": lambda: hyperelastic.NeoHookean(mu=0.5, lmbda=40.0, form="isochoric"),
    "mooney_rivlin": lambda: hyperelastic.MooneyRivlin(C10=0.3, C01=0.05, K=50.0),
    "yeoh": lambda: hyperelastic.Yeoh(C10=0.3, C20=-0.01, C30=0.002, K=20.0),
    "ogden_treloar": lambda: hyperelastic.Ogden(**TRELOAR_OGDEN),
    "arruda_boyce": lambda: hyperelastic.ArrudaBoyce(mu=0.3, N=8.0, K=30.0, volumetric="simo_taylor"),
}


def uniaxial_F(model: object, stretch: float) -> np.ndarray:
    """F of uniaxial Cauchy stress at the axial stretch λ (lateral stretches from the package's driver)."""
    res = drive(model, uniaxial_stress([stretch - 1.0], kinematics="finite", increments=5))
    return res.strain[-1].detach().numpy()


@pytest.mark.parametrize("case", list(HYPER_CASES))
def test_hyperelastic_cards_in_calculix(tmp_path, case):
    """NLGEOM, every node moved by u = (F - I) X: uniaxial tension to λ = 1.5 (lateral stretches of the model's
    uniaxial stress state), simple shear γ = 0.5, then uniaxial compression to λ = 0.7 (a reversal). CalculiX's
    Cauchy stress equals the model's at F, and its lateral stresses vanish in the uniaxial steps."""
    model = HYPER_CASES[case]()
    card = ex.abaqus_card(model, name="RUBBER", code="calculix")
    Fs = [uniaxial_F(model, 1.5), np.eye(3) + np.array([[0.0, 0.5, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])]
    Fs.append(uniaxial_F(model, 0.7))
    steps: list[Step] = [("grad", F - np.eye(3)) for F in Fs]
    for k, res in enumerate(run_ccx(tmp_path, card, steps, nlgeom=True, increments=10)):
        sigma = tensor_to_voigt(model.cauchy(torch.as_tensor(Fs[k])))
        assert_printed(res["S"], np.broadcast_to(sigma, res["S"].shape), f"{case}, step {k + 1}")
        if k != 1:  # uniaxial: CalculiX's lateral stresses vanish too
            assert np.abs(res["S"][:, 1:]).max() < 4 * PRINTED * abs(sigma[0])


def test_calculix_variant_fixes_the_yeoh_compressibility_default(tmp_path):
    """Confined tension (λ = 1.1, lateral strain zero): with the Abaqus card (D2 = D3 = 0) CalculiX uses its own
    D2, D3 and misses the model by percents; the CalculiX variant (D2 = D3 = 1e300) agrees to print precision."""
    model = hyperelastic.Yeoh(C10=0.3, C20=-0.01, C30=0.002, K=20.0)
    H = np.diag([0.1, 0.0, 0.0])
    sigma = tensor_to_voigt(model.cauchy(torch.eye(3, dtype=torch.float64) + torch.as_tensor(H)))
    out = {}
    for code in ("abaqus", "calculix"):
        (tmp_path / code).mkdir()
        card = ex.abaqus_card(model, name="RUBBER", code=code)
        (res,) = run_ccx(tmp_path / code, card, [("grad", H)], nlgeom=True, increments=4)
        out[code] = np.abs(res["S"][:, 0] - sigma[0]).max() / abs(sigma[0])
    assert out["calculix"] < 4 * PRINTED
    assert out["abaqus"] > 1e-2  # CalculiX's default D2, D3 change the confined response by > 1 %


def test_incompressible_models_have_no_calculix_card():
    with pytest.raises(ValueError, match="bulk modulus"):
        ex.abaqus_card(hyperelastic.Ogden(mu=[0.618, 0.00118, -0.00981], alpha=[1.3, 5.0, -2.0]), code="calculix")


# ---------------------------------------------------------------------------------------------------- plasticity


def _drive_like_calculix(model: object, segments: list[Segment]) -> np.ndarray:
    """Stress (11 22 33 12 13 23) at the end of each segment, driven with the deck's increments."""
    res = drive(model, LoadPath(segments, "small"))
    ends = np.cumsum([s.increments for s in segments])
    return tensor_to_voigt(res.stress[torch.as_tensor(ends)])


def _compare_plastic(ccx: np.ndarray, model: object, card: str, table: ex.PlasticTable, segments: list[Segment],
                     component: int) -> None:  # fmt: skip
    """CalculiX's stress component at the end of each segment against the driver on the same path and increments:
    with the card's own material (``read_card``: the table, interpolated as CalculiX does) to print precision, and
    with the original model within the table's interpolation error."""
    from_card = _drive_like_calculix(ex.read_card(card), segments)[:, component]
    exact = _drive_like_calculix(model, segments)[:, component]
    np.testing.assert_allclose(ccx, from_card, rtol=4 * PRINTED, atol=1e-6 * np.abs(from_card).max())
    assert np.abs(from_card - exact).max() <= 1.5 * table.max_error + 1e-9 * np.abs(exact).max()


def test_plastic_card_in_calculix_uniaxial_reversal_and_shear(tmp_path):
    """*PLASTIC table (Voce + linear hardening) without NLGEOM (small strain in CalculiX): uniaxial tension to
    ε11 = 1 %, reversal to -1 %, and simple shear γ = 2 %, back to 0 and to -2 %, each in the deck's increments."""
    model = plasticity.J2Plasticity(E=210000.0, nu=0.3, sigma_y=355.0, H=1000.0, hardening=plasticity.Voce(150.0, 20.0))
    options = {"tolerance": 1e-2, "max_plastic_strain": 0.05}
    table = ex.plastic_table(model, **options)
    assert table.max_error <= 1e-2
    card = ex.abaqus_card(model, name="STEEL", code="calculix", **options)
    inc = 10
    res = run_ccx(tmp_path, card, [("uniaxial", 0.01), ("uniaxial", -0.01)], nlgeom=False, increments=inc)
    free = {"22": 0.0, "33": 0.0, "12": 0.0, "13": 0.0, "23": 0.0}
    segs = [Segment({"11": 0.01}, free, inc), Segment({"11": -0.01}, free, inc)]
    for k in range(2):  # every integration point is in the same state
        np.testing.assert_allclose(res[k]["S"][:, 0], res[k]["S"][0, 0], rtol=2 * PRINTED)
    _compare_plastic(np.array([r["S"][0, 0] for r in res]), model, card, table, segs, 0)
    assert res[0]["S"][0, 0] > 355.0 and res[1]["S"][0, 0] < -355.0  # yielded in tension, then in compression
    (tmp_path / "shear").mkdir()
    g = 0.02
    steps: list[Step] = [("grad", np.array([[0, g, 0], [0, 0, 0], [0, 0, 0.0]])), ("grad", np.zeros((3, 3)))]
    steps.append(("grad", np.array([[0, -g, 0], [0, 0, 0], [0, 0, 0.0]])))
    res = run_ccx(tmp_path / "shear", card, steps, nlgeom=False, increments=inc)
    zero = {"11": 0.0, "22": 0.0, "33": 0.0, "13": 0.0, "23": 0.0}
    segs = [Segment({**zero, "12": e}, {}, inc) for e in (g / 2, 0.0, -g / 2)]
    _compare_plastic(np.array([r["S"][0, 3] for r in res]), model, card, table, segs, 3)
    assert abs(res[0]["S"][0, 3]) > 355.0 / math.sqrt(3)  # yielded in shear


def test_multi_element_meshes_in_calculix(tmp_path):
    """A 2x2x2 mesh (8 elements, 64 points): uniaxial tension of the Yeoh card (NLGEOM, lateral faces free) and of
    a Swift *PLASTIC card; every point agrees with the model (the solution is homogeneous: the mesh must find it).

    Observed: with several hundred table points of a steep law (Swift near α = 0), CalculiX 2.20 departs from its
    own table by ~1e-5 relative (its return map over many short segments); this table has ~175 points."""
    yeoh = hyperelastic.Yeoh(C10=0.3, C20=-0.01, C30=0.002, K=20.0)
    (res,) = run_ccx(tmp_path, ex.abaqus_card(yeoh, name="R", code="calculix"), [("uniaxial", 0.4)], nlgeom=True,
                     increments=8, n=2)  # fmt: skip
    assert res["S"].shape == (64, 6)
    F = uniaxial_F(yeoh, 1.4)
    np.testing.assert_allclose(1.0 + res["U"][-1], np.diag(F), rtol=1e-6)  # node (1, 1, 1): the stretches
    sigma = tensor_to_voigt(yeoh.cauchy(torch.as_tensor(F)))
    assert_printed(res["S"], np.broadcast_to(sigma, res["S"].shape), "Yeoh, 2x2x2 mesh")
    steel = plasticity.J2Plasticity(E=210000.0, nu=0.3, sigma_y=355.0, hardening=plasticity.Swift(800.0, 0.002, 0.2))
    options = {"tolerance": 1e-2, "max_plastic_strain": 0.05}
    card = ex.abaqus_card(steel, name="S", code="calculix", **options)
    (tmp_path / "plastic").mkdir()
    (res,) = run_ccx(tmp_path / "plastic", card, [("uniaxial", 0.01)], nlgeom=False, increments=10, n=2)
    assert res["S"].shape == (64, 6)
    np.testing.assert_allclose(res["S"][:, 0], res["S"][0, 0], rtol=2 * PRINTED)
    free = {"22": 0.0, "33": 0.0, "12": 0.0, "13": 0.0, "23": 0.0}
    table = ex.plastic_table(steel, **options)
    _compare_plastic(res["S"][:1, 0], steel, card, table, [Segment({"11": 0.01}, free, 10)], 0)


def test_the_walk_through_in_docs_runs(tmp_path, capsys):
    """docs/export.md, 'From calibration to a running FE material': the block runs as printed (fit, card, CalculiX,
    figure), CalculiX agrees with the driver to print precision, and the card's K keeps the curve within 0.1 % of the
    incompressible fit."""
    import re

    import matplotlib

    matplotlib.use("Agg")
    text = (Path(__file__).resolve().parents[1] / "docs" / "export.md").read_text(encoding="utf-8")
    section = text.split("## From calibration to a running FE material", 1)[1]
    (block,) = re.findall(r"```python\n(.*?)\n```", section, flags=re.S)[:1]
    namespace: dict = {"__name__": "__walk_through__"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(block, "docs/export.md", "exec"), namespace)  # noqa: S102 - our own documentation
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    diff = float(out.split("max relative difference:")[1].split()[0])
    assert diff < 4 * PRINTED
    assert (tmp_path / "calculix_treloar.png").exists() and "*HYPERELASTIC, YEOH" in out
    # the generated UMAT of the same model, run through the bridge on the same path, is the driver's model: both
    # are mixed-control Newton solutions (σ22 = σ33 = 0), so they agree to the driver's tolerance, not bit for bit
    umat_diff = float(out.split("generated UMAT vs driver, max relative difference:")[1].split()[0])
    assert umat_diff < 1e-10
    P_incompressible = namespace["fit"].model.nominal_stress(namespace["lam_ccx"], "uniaxial").numpy()
    gap = np.abs(namespace["P_ccx"] - P_incompressible).max() / np.abs(P_incompressible).max()
    assert gap < 1e-3
