"""Export layouts, files, Abaqus cards and the CLI, each checked against an independent construction.

The reference for every layout is written here from the documented convention (component labels, engineering shear,
Mandel √2), by explicit loops -- not through constitutive.notation's basis tensors that the export uses.
"""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from constitutive import export as ex
from constitutive.cli import main as cli_main

SQ2 = math.sqrt(2.0)

# Documented component orders (1-based labels) per code -- written out here, independently of notation.ORDERS.
DOC_ORDERS = {
    "abaqus": ["11", "22", "33", "12", "13", "23"],
    "calculix": ["11", "22", "33", "12", "13", "23"],
    "ansys": ["11", "22", "33", "12", "23", "13"],
    "lsdyna": ["11", "22", "33", "12", "23", "31"],
    "mfront": ["11", "22", "33", "12", "13", "23"],
    "neml2": ["11", "22", "33", "23", "13", "12"],
}
MANDEL = {"mfront", "neml2"}


def _ij(label: str) -> tuple[int, int]:
    return int(label[0]) - 1, int(label[1]) - 1


def random_minor_symmetric(gen: torch.Generator, batch=(), major: bool = False) -> torch.Tensor:
    """A random tensor with both minor symmetries (and major symmetry when asked)."""
    C = torch.randn(*batch, 3, 3, 3, 3, generator=gen, dtype=torch.float64)
    C = 0.5 * (C + C.transpose(-4, -3))
    C = 0.5 * (C + C.transpose(-2, -1))
    if major:
        C = 0.5 * (C + C.permute(*range(len(batch)), -2, -1, -4, -3))
    return C


def random_sym(gen: torch.Generator, batch=()) -> torch.Tensor:
    A = torch.randn(*batch, 3, 3, generator=gen, dtype=torch.float64)
    return 0.5 * (A + A.transpose(-1, -2))


def reference_layout(code: str, s: torch.Tensor, C: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Stress vector and tangent matrix by explicit loops over the documented labels and factors."""
    labels = DOC_ORDERS[code]
    w = [1.0 if lab[0] == lab[1] else (SQ2 if code in MANDEL else 1.0) for lab in labels]
    sv = np.zeros(s.shape[:-2] + (6,))
    D = np.zeros(C.shape[:-4] + (6, 6))
    for I, a in enumerate(labels):
        i, j = _ij(a)
        sv[..., I] = w[I] * s[..., i, j].numpy()
        for J, b in enumerate(labels):
            k, l = _ij(b)
            D[..., I, J] = w[I] * w[J] * C[..., i, j, k, l].numpy()
    return sv, D


@pytest.mark.parametrize("code", sorted(DOC_ORDERS))
def test_layout_matches_documented_order(code):
    gen = torch.Generator().manual_seed(1)
    s, C = random_sym(gen, (2,)), random_minor_symmetric(gen, (2,))  # no major symmetry: catches transposes
    out = ex.export_state(s, C, code)
    sv, D = reference_layout(code, s, C)
    np.testing.assert_allclose(out.stress, sv, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(out.tangent, D, rtol=1e-14, atol=1e-14)
    assert out.labels == [lab if lab != "31" else "31" for lab in DOC_ORDERS[code]]
    assert out.header()["NTENS"] == 6
    # Back to tensors through the layout: the round trip reproduces the tangent.
    s_back, C_back = out.tensors()
    torch.testing.assert_close(s_back, s, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(C_back, C, rtol=1e-14, atol=1e-14)


def test_voigt_tangent_pairs_with_engineering_shear():
    """dσ_I = D_IJ dε_J with engineering shear strain -- the defining property of DDSDDE."""
    gen = torch.Generator().manual_seed(2)
    C = random_minor_symmetric(gen)
    de = random_sym(gen)
    ds = torch.einsum("ijkl,kl->ij", C, de)
    for code in ("abaqus", "ansys", "lsdyna"):
        out = ex.export_state(ds, C, code, strain=de)
        labels = DOC_ORDERS[code]
        gamma = np.array([de[_ij(a)].item() * (1 if a[0] == a[1] else 2) for a in labels])
        np.testing.assert_allclose(out.strain, gamma, rtol=1e-14)
        np.testing.assert_allclose(out.tangent @ gamma, out.stress, rtol=1e-12, atol=1e-14)


def test_fortran_flat_is_column_major():
    gen = torch.Generator().manual_seed(3)
    out = ex.export_state(random_sym(gen), random_minor_symmetric(gen), "abaqus")
    flat = out.fortran_flat()
    n = out.ntens
    for I in range(n):
        for J in range(n):
            assert flat[I + n * J] == out.tangent[I, J]  # DDSDDE(I+1, J+1) at memory offset I + NTENS*J
    assert not np.allclose(flat, out.tangent.reshape(-1))  # unsymmetric tangent: row-major would be wrong
    # What a Fortran program sees: numpy's Fortran-order reshape is the independent reader.
    np.testing.assert_array_equal(flat.reshape(n, n, order="F"), out.tangent)
    np.testing.assert_array_equal(ex.from_fortran_flat(flat, n), out.tangent)
    with pytest.raises(ValueError, match="NTENS=6"):
        ex.from_fortran_flat(flat[:-1], 6)


def test_pack_upper_follows_abaqus_anisotropic_order():
    names = (
        "D1111 D1122 D2222 D1133 D2233 D3333 D1112 D2212 D3312 D1212 D1113 D2213 D3313 D1213 D1313 D1123 "
        "D2223 D3323 D1223 D1323 D2323"
    ).split()
    gen = torch.Generator().manual_seed(4)
    C = random_minor_symmetric(gen, major=True)
    packed = ex.export_state(torch.zeros(3, 3), C, "abaqus").packed_upper()
    for k, name in enumerate(names):
        i, j, kk, l = (int(c) - 1 for c in name[1:])
        assert packed[k] == pytest.approx(C[i, j, kk, l].item(), rel=1e-14, abs=1e-15)
    np.testing.assert_allclose(ex.unpack_upper(packed), ex.export_state(torch.zeros(3, 3), C).tangent, rtol=1e-14)


def _isotropic(E: float, nu: float) -> torch.Tensor:
    lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
    d = torch.eye(3, dtype=torch.float64)
    return lam * torch.einsum("ij,kl->ijkl", d, d) + mu * (
        torch.einsum("ik,jl->ijkl", d, d) + torch.einsum("il,jk->ijkl", d, d)
    )


def test_two_dimensional_hypotheses():
    E, nu = 200.0, 0.3
    C = _isotropic(E, nu)
    gen = torch.Generator().manual_seed(5)
    s = random_sym(gen)
    with pytest.raises(ValueError, match="σ33 = σ13 = σ23 = 0"):
        ex.export_state(s, C, "abaqus", "plane_stress")
    s_plane = s.clone()
    s_plane[2, :] = s_plane[:, 2] = 0.0
    ps = ex.export_state(s_plane, C, "abaqus", "plane_stress")
    np.testing.assert_allclose(ps.stress, [s[0, 0], s[1, 1], s[0, 1]], rtol=1e-14)
    assert ps.ntens == 3 and ps.labels == ["11", "22", "12"]
    closed = E / (1 - nu**2) * np.array([[1, nu, 0], [nu, 1, 0], [0, 0, (1 - nu) / 2]])
    np.testing.assert_allclose(ps.tangent, closed, rtol=1e-13)
    # Plane stress of an anisotropic stiffness, independent route: with ε13 = ε23 = 0 the 4x4 block (11 22 33 12)
    # maps strain to stress; σ33 = 0 then selects the 11 22 12 block of its inverse (the compliance).
    C2 = random_minor_symmetric(gen, major=True) + 10 * _isotropic(1.0, 0.2)
    D6 = ex.export_state(s, C2, "abaqus").tangent
    S4 = np.linalg.inv(D6[:4, :4])
    keep = [0, 1, 3]
    np.testing.assert_allclose(
        ex.export_state(s_plane, C2, "abaqus", "plane_stress").tangent,
        np.linalg.inv(S4[np.ix_(keep, keep)]),
        rtol=1e-10,
    )
    for hyp in ("plane_strain", "axisymmetric"):
        out = ex.export_state(s, C2, "abaqus", hyp)
        assert out.ntens == 4 and out.header()["NDI"] == 3 and out.header()["NSHR"] == 1
        np.testing.assert_allclose(out.tangent, D6[np.ix_([0, 1, 2, 3], [0, 1, 2, 3])], rtol=1e-14)
        np.testing.assert_allclose(out.stress, [s[0, 0], s[1, 1], s[2, 2], s[0, 1]], rtol=1e-14)
    with pytest.raises(ValueError, match="calculix takes 3d"):
        ex.export_state(s, C, "calculix", "plane_strain")
    with pytest.raises(ValueError, match="unknown hypothesis"):
        ex.export_state(s, C, "abaqus", "2d")
    with pytest.raises(ValueError, match="unknown FE code"):
        ex.export_state(s, C, "nastran")


@pytest.mark.parametrize("fmt", ex.FORMATS)
@pytest.mark.parametrize("code,hyp", [("abaqus", "3d"), ("abaqus", "plane_stress"), ("neml2", "3d")])
def test_file_round_trip(tmp_path, fmt, code, hyp):
    gen = torch.Generator().manual_seed(6)
    s, C, e = random_sym(gen, (2, 3)), random_minor_symmetric(gen, (2, 3)), random_sym(gen, (2, 3))
    if hyp == "plane_stress":
        C = C + 20 * _isotropic(1.0, 0.25)  # condensation needs a nonzero D33
        s[..., 2, :] = 0.0  # a plane-stress state
        s[..., :, 2] = 0.0
    out = ex.export_state(s, C, code, hyp, strain=e, metadata={"note": "test"})
    path = ex.write(out, tmp_path / f"state.{fmt}")
    back = ex.read(path)
    assert back.header() == out.header()
    np.testing.assert_array_equal(back.stress, out.stress)
    np.testing.assert_array_equal(back.tangent, out.tangent)
    np.testing.assert_array_equal(back.strain, out.strain)
    if hyp == "3d":
        torch.testing.assert_close(back.tensors()[1], C, rtol=1e-14, atol=1e-14)


def test_csv_read_by_hand_with_documented_order(tmp_path):
    """A reader that knows only the documented header: DDSDDE rebuilt from its D_I_J columns."""
    gen = torch.Generator().manual_seed(7)
    s, C = random_sym(gen), random_minor_symmetric(gen)
    path = ex.write(ex.export_state(s, C, "abaqus"), tmp_path / "state.csv")
    lines = path.read_text().splitlines()
    header = {ln[1:].split(":", 1)[0].strip(): json.loads(ln.split(":", 1)[1]) for ln in lines if ln.startswith("#")}
    assert header["code"] == "abaqus" and header["order"] == DOC_ORDERS["abaqus"] and header["NTENS"] == 6
    assert "engineering shear" in header["shear"] and header["stress_measure"].startswith("Cauchy")
    cols = lines[len(header)].split(",")
    row = [float(x) for x in lines[len(header) + 1].split(",")]
    D = np.zeros((6, 6))
    for name, value in zip(cols, row):
        if name.startswith("D_"):
            I, J = (int(t) for t in name[2:].split("_"))
            D[I - 1, J - 1] = value
    labels = header["order"]
    for I, a in enumerate(labels):
        for J, b in enumerate(labels):
            assert D[I, J] == C[(*_ij(a), *_ij(b))].item()
    # The columns are in Fortran order, so the D block of the row *is* the column-major DDSDDE.
    first = cols.index("D_1_1")
    np.testing.assert_array_equal(np.reshape(row[first : first + 36], (6, 6), order="F"), D)


def test_read_rejects_inconsistent_files(tmp_path):
    gen = torch.Generator().manual_seed(8)
    out = ex.export_state(random_sym(gen), random_minor_symmetric(gen), "abaqus")
    path = ex.write(out, tmp_path / "s.json")
    data = json.loads(path.read_text())
    data["header"]["order"] = DOC_ORDERS["ansys"]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="do not match"):
        ex.read(path)
    data["header"]["order"] = DOC_ORDERS["abaqus"]
    data["ddsdde_fortran"][1] += 1.0
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="disagree"):
        ex.read(path)
    with pytest.raises(ValueError, match="unknown file format"):
        ex.write(out, tmp_path / "s.xlsx")
    csv_path = ex.write(out, tmp_path / "s.csv")
    csv_path.write_text(csv_path.read_text().replace("S22", "SXX"))
    with pytest.raises(ValueError, match="missing columns"):
        ex.read(csv_path)


# ---------------------------------------------------------------------------------------------- linear elastic

elastic = pytest.importorskip("constitutive.models.elastic")


def test_export_model_linear_elastic_closed_form():
    m = elastic.LinearElastic(E=210000.0, nu=0.3)
    eps = torch.tensor([[1e-3, 2e-4, 0.0], [2e-4, -3e-4, 1e-4], [0.0, 1e-4, 5e-4]], dtype=torch.float64)
    out = ex.export_model(m, eps, "abaqus")
    lam, mu = 210000 * 0.3 / (1.3 * 0.4), 210000 / 2.6
    D = np.zeros((6, 6))
    D[:3, :3] = lam
    D[range(3), range(3)] = lam + 2 * mu
    D[range(3, 6), range(3, 6)] = mu
    np.testing.assert_allclose(out.tangent, D, rtol=1e-12)
    gamma = np.array([1e-3, -3e-4, 5e-4, 4e-4, 0.0, 2e-4])  # engineering shear, abaqus order
    np.testing.assert_allclose(out.strain, gamma, rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(out.stress, D @ gamma, rtol=1e-12)
    assert out.metadata["model"]["model"] == "LinearElastic"


def _card_stiffness(card: str) -> np.ndarray:
    """Independent evaluator: the Abaqus D matrix (abaqus order, engineering shear) implied by an *ELASTIC card,
    from the formulas of the Abaqus 'Linear elastic behavior' section."""
    blocks = [b for b in ex.parse_abaqus_card(card) if b["keyword"] == "ELASTIC"]
    assert len(blocks) == 1
    kind, d = blocks[0]["options"].get("TYPE", "ISOTROPIC"), blocks[0]["data"]
    D = np.zeros((6, 6))
    if kind == "ISOTROPIC":
        E, nu = d
        lam, mu = E * nu / ((1 + nu) * (1 - 2 * nu)), E / (2 * (1 + nu))
        D[:3, :3] = lam
        D[range(3), range(3)] = lam + 2 * mu
        D[range(3, 6), range(3, 6)] = mu
    elif kind == "ENGINEERING CONSTANTS":
        E1, E2, E3, n12, n13, n23, G12, G13, G23 = d
        n21, n31, n32 = n12 * E2 / E1, n13 * E3 / E1, n23 * E3 / E2
        S = np.zeros((6, 6))
        S[:3, :3] = [[1 / E1, -n21 / E2, -n31 / E3], [-n12 / E1, 1 / E2, -n32 / E3], [-n13 / E1, -n23 / E2, 1 / E3]]
        S[3, 3], S[4, 4], S[5, 5] = 1 / G12, 1 / G13, 1 / G23
        D = np.linalg.inv(S)
    elif kind == "ORTHOTROPIC":
        D1111, D1122, D2222, D1133, D2233, D3333, D1212, D1313, D2323 = d
        D[:3, :3] = [[D1111, D1122, D1133], [D1122, D2222, D2233], [D1133, D2233, D3333]]
        D[3, 3], D[4, 4], D[5, 5] = D1212, D1313, D2323
    elif kind == "ANISOTROPIC":
        k = 0
        for J in range(6):  # upper triangle column by column: D1111; D1122 D2222; D1133 D2233 D3333; ...
            for I in range(J + 1):
                D[I, J] = D[J, I] = d[k]
                k += 1
    else:
        raise AssertionError(kind)
    return D


def _abaqus_D(model) -> np.ndarray:
    C = model.tangent(torch.zeros(3, 3, dtype=torch.float64))
    labels = DOC_ORDERS["abaqus"]
    return np.array([[C[(*_ij(a), *_ij(b))].item() for b in labels] for a in labels])


def _random_rotation(seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    Q, R = torch.linalg.qr(torch.randn(3, 3, generator=gen, dtype=torch.float64))
    Q = Q * torch.sign(torch.diagonal(R))
    return Q if torch.det(Q) > 0 else -Q


def test_elastic_cards_reproduce_stiffness_and_energy():
    ortho = elastic.Orthotropic(10000.0, 5000.0, 4000.0, 0.3, 0.25, 0.35, 2000.0, 1500.0, 1200.0)
    rotated = elastic.Orthotropic(
        10000.0, 5000.0, 4000.0, 0.3, 0.25, 0.35, 2000.0, 1500.0, 1200.0, axes=_random_rotation(3)
    )
    cases = [
        (elastic.LinearElastic(E=70000.0, nu=0.33), None, "ISOTROPIC"),
        (ortho, None, "ORTHOTROPIC"),
        (ortho, "engineering_constants", "ENGINEERING CONSTANTS"),
        (ortho, "anisotropic", "ANISOTROPIC"),
        (rotated, None, "ANISOTROPIC"),
    ]
    gen = torch.Generator().manual_seed(9)
    eps = 1e-3 * random_sym(gen, (5,))
    for model, kind, expected in cases:
        card = ex.abaqus_card(model, name="MAT-1", elastic_type=kind)
        assert f"TYPE={expected}" in card and "*MATERIAL, NAME=MAT-1" in card
        D_card, D_model = _card_stiffness(card), _abaqus_D(model)
        np.testing.assert_allclose(D_card, D_model, rtol=1e-12, atol=1e-9 * np.abs(D_model).max())
        # Equal energies 1/2 γ·Dγ (card) and ψ(ε) (model) at random strains.
        gamma = np.stack([[e[_ij(a)].item() * (1 if a[0] == a[1] else 2) for a in DOC_ORDERS["abaqus"]] for e in eps])
        W_card = 0.5 * np.einsum("ni,ij,nj->n", gamma, D_card, gamma)
        np.testing.assert_allclose(W_card, model.energy(eps).numpy(), rtol=1e-11)
    iso_card = ex.abaqus_card(elastic.LinearElastic(E=70000.0, nu=0.33))
    assert ex.parse_abaqus_card(iso_card)[1]["data"] == [70000.0, 0.33]  # exact, no round-off
    with pytest.raises(ValueError, match="not isotropic"):
        ex.abaqus_elastic_card(ortho, "isotropic")
    with pytest.raises(ValueError, match="orthotropic stiffness"):
        ex.abaqus_elastic_card(rotated, "orthotropic")
    with pytest.raises(ValueError, match="unknown \\*ELASTIC type"):
        ex.abaqus_elastic_card(ortho, "monoclinic")


def test_cli_export_and_card(tmp_path, capsys):
    out = tmp_path / "state.json"
    rc = cli_main(
        [
            "export",
            "LinearElastic",
            "--param",
            "E=1000",
            "--param",
            "nu=0.25",
            "--strain",
            "0.001,0,0,0.0005,0,0",
            "--order",
            "abaqus",
            "--shear",
            "tensor",
        ]
        + ["--code", "ansys", "-o", str(out)]
    )
    assert rc == 0
    back = ex.read(out)
    assert back.code == "ansys" and back.labels == DOC_ORDERS["ansys"]
    mu = 1000 / 2.5
    assert back.stress[3] == pytest.approx(2 * mu * 0.0005)  # σ12 = 2 μ ε12
    rc = cli_main(["export", "LinearElastic", "--param", "E=1000", "--param", "nu=0.25", "--card", "abaqus"])
    assert rc == 0
    assert "*ELASTIC, TYPE=ISOTROPIC\n1000.0, 0.25" in capsys.readouterr().out
    rc = cli_main(["export", "LinearElastic", "--param", "E=1000", "--param", "nu=0.25", "--strain", "1,2"])
    assert rc == 2
    assert "6 components" in capsys.readouterr().err
    # the same shear strain given in textbook Voigt order with tensor shear lands in the same σ12
    out2 = tmp_path / "state2.json"
    rc = cli_main(
        ["export", "LinearElastic", "--param", "E=1000", "--param", "nu=0.25", "--strain", "0.001,0,0,0,0,0.0005"]
        + ["--order", "voigt", "--shear", "tensor", "--code", "ansys", "-o", str(out2)]
    )
    assert rc == 0 and ex.read(out2).stress[3] == pytest.approx(2 * mu * 0.0005)


def test_module_registers_cli():
    mod = importlib.import_module("constitutive.cli.export")
    assert callable(mod.register) and callable(mod.run)


# ------------------------------------------------------------------------------------------ hyperelastic cards

hyper = pytest.importorskip("constitutive.models.hyperelastic")

ARRUDA_BOYCE_C = (1 / 2, 1 / 20, 11 / 1050, 19 / 7000, 519 / 673750)  # Abaqus Theory Guide, Arruda-Boyce form


def abaqus_energy(card: str, F: np.ndarray) -> np.ndarray:
    """Independent evaluator of the Abaqus *HYPERELASTIC strain energy implied by a card, from the documented
    formulas (Abaqus Theory Guide 'Hyperelastic material behavior'), in numpy. ``F`` ``(n, 3, 3)``."""
    (block,) = [b for b in ex.parse_abaqus_card(card) if b["keyword"] == "HYPERELASTIC"]
    opts, d = block["options"], block["data"]
    J = np.linalg.det(F)
    Cbar = J[:, None, None] ** (-2 / 3) * np.einsum("nki,nkj->nij", F, F)
    I1 = np.trace(Cbar, axis1=1, axis2=2)
    I2 = 0.5 * (I1**2 - np.einsum("nij,nji->n", Cbar, Cbar))
    lam2 = np.linalg.eigvalsh(Cbar)  # squared isochoric principal stretches

    def vol(Ds):
        return sum((J - 1) ** (2 * (i + 1)) / D for i, D in enumerate(Ds) if D != 0.0)

    if "NEO HOOKE" in opts:
        C10, D1 = d
        return C10 * (I1 - 3) + vol([D1])
    if "MOONEY-RIVLIN" in opts:
        C10, C01, D1 = d
        return C10 * (I1 - 3) + C01 * (I2 - 3) + vol([D1])
    if "YEOH" in opts:
        C10, C20, C30, D1, D2, D3 = d
        return C10 * (I1 - 3) + C20 * (I1 - 3) ** 2 + C30 * (I1 - 3) ** 3 + vol([D1, D2, D3])
    if "OGDEN" in opts:
        n = int(opts["N"])
        U = np.zeros_like(J)
        for i in range(n):
            mu_i, a_i = d[2 * i], d[2 * i + 1]
            U += 2 * mu_i / a_i**2 * ((lam2 ** (a_i / 2)).sum(-1) - 3)
        return U + vol(d[2 * n : 3 * n])
    if "ARRUDA-BOYCE" in opts:
        mu, lam_m, D = d
        U = mu * sum(c / lam_m ** (2 * i) * (I1 ** (i + 1) - 3 ** (i + 1)) for i, c in enumerate(ARRUDA_BOYCE_C))
        return U + (((J**2 - 1) / 2 - np.log(J)) / D if D != 0 else 0.0)
    raise AssertionError(opts)


def random_F(n: int, seed: int, isochoric: bool = False) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    F = torch.eye(3, dtype=torch.float64) + 0.3 * torch.randn(n, 3, 3, generator=gen, dtype=torch.float64)
    F = torch.where(torch.det(F)[:, None, None] < 0, -F, F)
    F = F[torch.det(F) > 0.2]
    if isochoric:
        F = F / torch.det(F)[:, None, None] ** (1 / 3)
    return F


HYPER_CASES = [
    ("neo", lambda: hyper.NeoHookean(mu=0.5, lmbda=40.0, form="isochoric"), "NEO HOOKE"),
    ("mooney", lambda: hyper.MooneyRivlin(C10=0.3, C01=0.05, K=50.0), "MOONEY-RIVLIN"),
    ("yeoh", lambda: hyper.Yeoh(C10=0.3, C20=-0.01, C30=0.002, K=50.0), "YEOH"),
    ("ogden3", lambda: hyper.Ogden(mu=[0.618, 0.00118, -0.00981], alpha=[1.3, 5.0, -2.0], K=20.0), "OGDEN, N=3"),
    ("arruda", lambda: hyper.ArrudaBoyce(mu=0.3, N=8.0, K=30.0, volumetric="simo_taylor"), "ARRUDA-BOYCE"),
]


@pytest.mark.parametrize("case,make,keyword", HYPER_CASES, ids=[c[0] for c in HYPER_CASES])
def test_hyperelastic_card_energy_equals_model_energy(case, make, keyword):
    model = make()
    card = ex.abaqus_card(model)
    assert f"*HYPERELASTIC, {keyword}" in card
    F = random_F(12, seed=10)
    E = 0.5 * (F.transpose(-1, -2) @ F - torch.eye(3, dtype=torch.float64))
    np.testing.assert_allclose(abaqus_energy(card, F.numpy()), model.energy(E).numpy(), rtol=1e-11, atol=1e-13)


def test_ogden_card_uses_abaqus_mu_convention():
    mu, alpha = [0.618, 0.00118, -0.00981], [1.3, 5.0, -2.0]
    data = ex.parse_abaqus_card(ex.abaqus_hyperelastic_card(hyper.Ogden(mu=mu, alpha=alpha, K=20.0)))[0]["data"]
    np.testing.assert_allclose(data[0:6:2], [m * a / 2 for m, a in zip(mu, alpha)], rtol=1e-15)  # μ_i = μ_p α_p / 2
    np.testing.assert_allclose(data[1:6:2], alpha, rtol=1e-15)
    assert data[6:] == [pytest.approx(2 / 20.0), 0.0, 0.0]  # D1 = 2/K, D2 = D3 = 0
    # Initial shear modulus: Abaqus μ0 = Σ μ_i (Abaqus convention) = ½ Σ μ_p α_p (Ogden's).
    assert sum(data[0:6:2]) == pytest.approx(0.5 * sum(m * a for m, a in zip(mu, alpha)), rel=1e-14)


def test_neo_hooke_and_arruda_boyce_parameters():
    neo = ex.parse_abaqus_card(ex.abaqus_hyperelastic_card(hyper.NeoHookean(0.5, 40.0, form="isochoric")))
    K = 40.0 + 2 * 0.5 / 3
    assert neo[0]["data"] == [pytest.approx(0.25), pytest.approx(2 / K)]  # C10 = μ/2, D1 = 2/K
    ab = ex.parse_abaqus_card(ex.abaqus_hyperelastic_card(hyper.ArrudaBoyce(0.3, 8.0, 30.0, volumetric="simo_taylor")))
    assert ab[0]["data"] == [pytest.approx(0.3), pytest.approx(math.sqrt(8.0)), pytest.approx(2 / 30.0)]


@pytest.mark.parametrize(
    "make",
    [
        lambda: hyper.NeoHookean(mu=0.5),
        lambda: hyper.MooneyRivlin(C10=0.3, C01=0.05),
        lambda: hyper.Ogden(mu=[0.618, 0.00118, -0.00981], alpha=[1.3, 5.0, -2.0]),
        lambda: hyper.ArrudaBoyce(mu=0.3, N=8.0),
    ],
    ids=["neo", "mooney", "ogden", "arruda"],
)
def test_incompressible_cards_match_nominal_stress(make):
    """D = 0 cards: the uniaxial nominal stress dU/dλ of the Abaqus energy (central differences along
    λ, λ^-1/2, λ^-1/2) equals the model's incompressible nominal stress."""
    model = make()
    card = ex.abaqus_card(model)
    D = [v for v in ex.parse_abaqus_card(card)[1]["data"]]
    assert D[-1] == 0.0
    lam = np.linspace(0.6, 3.0, 9)
    h = 1e-6

    def W(l):
        F = np.zeros((len(l), 3, 3))
        F[:, 0, 0], F[:, 1, 1], F[:, 2, 2] = l, l**-0.5, l**-0.5
        return abaqus_energy(card, F)

    nominal = (W(lam + h) - W(lam - h)) / (2 * h)
    np.testing.assert_allclose(model.nominal_stress(torch.tensor(lam), "uniaxial").numpy(), nominal, rtol=1e-7)


def test_hyperelastic_cards_refuse_inexact_forms():
    with pytest.raises(ValueError, match="no exact Abaqus NEO HOOKE"):
        ex.abaqus_hyperelastic_card(hyper.NeoHookean(mu=0.5, lmbda=40.0))  # Ciarlet form
    with pytest.raises(ValueError, match="'log' volumetric"):
        ex.abaqus_hyperelastic_card(hyper.MooneyRivlin(C10=0.3, C01=0.05, K=50.0, volumetric="log"))
    with pytest.raises(ValueError, match="'quadratic' volumetric"):
        ex.abaqus_hyperelastic_card(hyper.ArrudaBoyce(mu=0.3, N=8.0, K=30.0))
    with pytest.raises(ValueError, match="no Abaqus"):
        ex.abaqus_hyperelastic_card(hyper.SaintVenantKirchhoff(lmbda=1.0, mu=1.0))


# ------------------------------------------------------------------------------------------ finite strain


def _kirchhoff(model, F: torch.Tensor) -> torch.Tensor:
    return model.cauchy(F) * torch.det(F)[..., None, None]


def test_abaqus_finite_strain_export_matches_perturbation_method():
    """Abaqus's perturbation of F, δF = (ε/2)(e_k⊗e_l + e_l⊗e_k) F, gives column kl of DDSDDE as
    (τ(F + δF) − τ(F)) / (J ε) (central differences here) -- independent of the model's tangent formulas."""
    model = hyper.Ogden(mu=[0.618, 0.00118, -0.00981], alpha=[1.3, 5.0, -2.0], K=20.0)
    F = torch.tensor([[1.3, 0.2, 0.0], [0.1, 0.9, 0.05], [0.0, -0.1, 1.1]], dtype=torch.float64)
    out = ex.export_finite_strain(model, F, "abaqus")
    assert out.stress_measure == "Cauchy stress σ" and "Jaumann" in out.tangent_measure
    sigma = model.cauchy(F)
    np.testing.assert_allclose(out.stress, [sigma[_ij(a)].item() for a in DOC_ORDERS["abaqus"]], rtol=1e-14)
    J, eps = torch.det(F), 1e-6
    for K, b in enumerate(DOC_ORDERS["abaqus"]):
        k, l = _ij(b)
        dF = torch.zeros(3, 3, dtype=torch.float64)
        dF[k, l] += 0.5 * eps
        dF[l, k] += 0.5 * eps
        col = (_kirchhoff(model, F + dF @ F) - _kirchhoff(model, F - dF @ F)) / (2 * eps * J)
        expected = [col[_ij(a)].item() for a in DOC_ORDERS["abaqus"]]
        np.testing.assert_allclose(out.tangent[:, K], expected, rtol=2e-7, atol=1e-8 * np.abs(out.tangent).max())


def test_calculix_finite_strain_export_is_total_lagrangian(tmp_path):
    model = hyper.NeoHookean(mu=0.5, lmbda=40.0)
    F = torch.tensor([[1.2, 0.1, 0.0], [0.0, 0.95, 0.0], [0.05, 0.0, 1.05]], dtype=torch.float64)
    out = ex.export_finite_strain(model, F, "calculix")
    E = 0.5 * (F.T @ F - torch.eye(3, dtype=torch.float64))
    S = model.stress(E)
    np.testing.assert_allclose(out.stress, [S[_ij(a)].item() for a in DOC_ORDERS["calculix"]], rtol=1e-14)
    # dS/dE by central differences of S(E) along each engineering-strain direction.
    h = 1e-6
    for J, b in enumerate(DOC_ORDERS["calculix"]):
        k, l = _ij(b)
        dE = torch.zeros(3, 3, dtype=torch.float64)
        dE[k, l] = dE[l, k] = h if k == l else h / 2  # engineering shear γ = h
        col = (model.stress(E + dE) - model.stress(E - dE)) / (2 * h)
        np.testing.assert_allclose(out.tangent[:, J], [col[_ij(a)].item() for a in DOC_ORDERS["calculix"]], rtol=1e-6)
    assert out.packed_upper().shape == (21,)
    back = ex.read(ex.write(out, tmp_path / "ccx.npz"))
    np.testing.assert_array_equal(back.tangent, out.tangent)
    with pytest.raises(ValueError, match="finite-strain export"):
        ex.export_finite_strain(model, F, "ansys")


def test_cli_card_for_hyperelastic_parameters(capsys):
    rc = cli_main(
        ["export", "Ogden", "--param", "mu=0.618,0.00118,-0.00981", "--param", "alpha=1.3,5,-2"]
        + ["--param", "K=20", "--card", "abaqus", "--name", "RUBBER"]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "*MATERIAL, NAME=RUBBER" in text and "*HYPERELASTIC, OGDEN, N=3" in text
    rc = cli_main(
        ["export", "NeoHookean", "--param", "mu=0.5", "--param", "lmbda=40"]
        + ["--F", "1.2,0.1,0,0,1,0,0,0,0.9", "--code", "abaqus"]
    )
    assert rc == 0
    assert '"stress_measure": "Cauchy stress' in capsys.readouterr().out


def test_cli_reads_parameter_file_and_writes_npz(tmp_path):
    path = elastic.LinearElastic(E=70000.0, nu=0.33).save(tmp_path / "alu.toml", name="aluminium")
    out = tmp_path / "state.npz"
    rc = cli_main(["export", str(path), "--strain", "0.001,0,0,0,0,0", "--hypothesis", "plane_strain", "-o", str(out)])
    assert rc == 0
    back = ex.read(out)
    assert back.hypothesis == "plane_strain" and back.ntens == 4
    lam, mu = 70000 * 0.33 / (1.33 * 0.34), 70000 / 2.66
    np.testing.assert_allclose(back.stress, [(lam + 2 * mu) * 1e-3, lam * 1e-3, lam * 1e-3, 0.0], rtol=1e-12)


plasticity = pytest.importorskip("constitutive.models.plasticity")


def test_export_path_dependent_model_with_state():
    """J2 plasticity: the exported DDSDDE is the consistent tangent of update() from the given state; checked
    by central differences of the stress update in engineering-shear directions (state held at step start)."""
    model = plasticity.J2Plasticity(E=210000.0, nu=0.3, sigma_y=355.0, H=1000.0)
    eps1 = torch.tensor([[2e-3, 5e-4, 0.0], [5e-4, -1e-3, 0.0], [0.0, 0.0, -6e-4]], dtype=torch.float64)
    _, state, _ = model.update(eps1, model.initial_state(()))
    eps2 = 1.5 * eps1
    out = ex.export_model(model, eps2, "abaqus", state=state)
    h = 1e-8
    for J, b in enumerate(DOC_ORDERS["abaqus"]):
        k, l = _ij(b)
        d = torch.zeros(3, 3, dtype=torch.float64)
        d[k, l] = d[l, k] = h if k == l else h / 2
        col = (model.update(eps2 + d, state)[0] - model.update(eps2 - d, state)[0]) / (2 * h)
        np.testing.assert_allclose(
            out.tangent[:, J], [col[_ij(a)].item() for a in DOC_ORDERS["abaqus"]], rtol=1e-5, atol=1e-3
        )
    elastic_D = ex.export_state(torch.zeros(3, 3), model.elastic_tangent(()), "abaqus").tangent
    assert not np.allclose(out.tangent, elastic_D)  # plastic: the consistent tangent is not the elastic one


def test_cards_refuse_path_dependent_models_and_cli_reads_materials(capsys):
    with pytest.raises(ValueError, match="path dependent"):  # the *ELASTIC card alone would drop the plasticity
        ex.abaqus_elastic_card(plasticity.J2Plasticity(E=210000.0, nu=0.3, sigma_y=355.0))
    assert "*PLASTIC" in ex.abaqus_card(plasticity.J2Plasticity(E=210000.0, nu=0.3, sigma_y=355.0))
    root = Path(__file__).resolve().parents[1] / "materials"
    if not (root / "natural_rubber_ogden_treloar.toml").exists():
        pytest.skip("materials/natural_rubber_ogden_treloar.toml not present")
    assert cli_main(["export", "natural_rubber_ogden_treloar", "--card", "abaqus", "--name", "RUBBER"]) == 0
    text = capsys.readouterr().out
    mu, alpha = [0.618, 0.00118, -0.00981], [1.3, 5.0, -2.0]
    data = [b for b in ex.parse_abaqus_card(text) if b["keyword"] == "HYPERELASTIC"][0]["data"]
    np.testing.assert_allclose(data[:6], [v for m, a in zip(mu, alpha) for v in (m * a / 2, a)], rtol=1e-14)


def test_calculix_strain_vector_is_the_tensor_emec(tmp_path):
    """CalculiX umat: emec(6) holds the Lagrange strain *tensor* components (no factor 2 on the shears) and stiff(21)
    the C_ijkl themselves, so its own routines compute stre(I) = sum_J C_IJ w_J emec(J) with w = (1,1,1,2,2,2)
    (CalculiX src/umat_user.f, src/umat_aniso_creep.f)."""
    gen = torch.Generator().manual_seed(21)
    C = random_minor_symmetric(gen, major=True)
    E = random_sym(gen)
    S = torch.einsum("ijkl,kl->ij", C, E)
    out = ex.export_state(S, C, "calculix", strain=E)
    labels = DOC_ORDERS["calculix"]
    np.testing.assert_allclose(out.strain, [E[_ij(a)].item() for a in labels], rtol=1e-14)
    w = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    np.testing.assert_allclose(out.tangent @ (w * out.strain), out.stress, rtol=1e-12, atol=1e-14)
    assert "tensor shear" in out.header()["shear"]
    back = ex.read(ex.write(out, tmp_path / "ccx.csv"))
    np.testing.assert_array_equal(back.strain, out.strain)
    # the Abaqus layout of the same state keeps engineering shear
    np.testing.assert_allclose(ex.export_state(S, C, "abaqus", strain=E).strain[3:], 2 * out.strain[3:], rtol=1e-14)


def test_csv_reader_names_missing_tangent_columns_and_header_keys(tmp_path):
    gen = torch.Generator().manual_seed(22)
    path = ex.write(ex.export_state(random_sym(gen), random_minor_symmetric(gen), "abaqus"), tmp_path / "s.csv")
    text = path.read_text()
    path.write_text(text.replace("D_2_1,", "D_X_1,"))
    with pytest.raises(ValueError, match=r"missing columns \['D_2_1'\]"):
        ex.read(path)
    path.write_text("\n".join(ln for ln in text.splitlines() if not ln.startswith("# NTENS")) + "\n")
    with pytest.raises(ValueError, match="header lacks 'NTENS'"):
        ex.read(path)
    json_path = ex.write(ex.export_state(random_sym(gen), random_minor_symmetric(gen)), tmp_path / "s.json")
    data = json.loads(json_path.read_text())
    del data["header"]["NTENS"]
    json_path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="header lacks 'NTENS'"):
        ex.read(json_path)


def test_cli_export_header_states_the_material_files_units(tmp_path) -> None:
    from constitutive.cli import main
    from constitutive.export import read

    out = tmp_path / "state.json"
    assert main(["export", "steel_s355", "--strain=1e-3,0,0,0,0,0", "-o", str(out)]) == 0
    assert read(out).header()["units"] == "MPa"
    out2 = tmp_path / "state2.json"
    args = ["export", "LinearElastic", "--param", "E=210e3", "--param", "nu=0.3", "--strain=1e-3,0,0,0,0,0"]
    assert main([*args, "-o", str(out2)]) == 0
    assert read(out2).header()["units"] == "unspecified"
