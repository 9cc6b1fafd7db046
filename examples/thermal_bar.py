r"""A steel bar held at both ends and heated from 20 °C to 800 °C: S355 with the Eurocode 3 fire-part properties
(``materials/steel_s355_thermal.toml``: E(T) and f_y(T) from EN 1993-1-2 Table 3.1, the secant expansion
coefficient from its thermal elongation), against hand calculations.

* **Constrained bar** (ε11 = 0, lateral faces free: σ22 = σ33 = 0), driven by the material-point driver's mixed
  control along a temperature segment, with its finite-difference checks of dσ/dε and dσ/dT. While elastic,
  :math:`\sigma_{11} = -E(T)\,\varepsilon^{th}(T)` with the secant thermal strain
  :math:`\varepsilon^{th}(T) = \alpha(T)(T - 20)`.
* **Yield onset** by hand: :math:`E(T)\,\alpha(T)\,(T - 20) = \sigma_y(T)` on the interval of the tables that holds
  the root; there E and α are linear in T and σ_y constant, a cubic whose root in the interval is the onset.
  Against the model's onset (bisection in T on one step from the virgin state).
* **After yield** (J2, linear hardening H, parameters at the end of each step): on the yield surface
  :math:`-\sigma_{11} = \sigma_y + H\alpha` with :math:`\alpha = -\varepsilon^p_{11}`, and
  :math:`0 = \sigma_{11}/E + \varepsilon^p_{11} + \varepsilon^{th}`, so the equivalent plastic strain is the running
  maximum of :math:`g(T) = (E\varepsilon^{th} - \sigma_y)/(E + H)` and
  :math:`\sigma_{11} = -E(T)\,(\varepsilon^{th}(T) - \alpha)` (``tests/test_thermal.py`` derives it).
* **Free bar**: the strain :math:`\varepsilon^{th} I` gives zero stress; its axial strain against the code's
  thermal elongation formula (the table's interpolation error).

Run ``python examples/thermal_bar.py [--out DIR] [--force]`` to write ``thermal_bar.png`` into ``DIR`` (default
``out/``, git-ignored); the copy in ``docs/figures`` is redrawn by ``python examples/regenerate_figures.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from constitutive.cli.args import example_parser
from constitutive.driver import drive  # noqa: E402
from constitutive.fileio import atomic_path  # noqa: E402
from constitutive.models import ThermoMechanical, load  # noqa: E402
from constitutive.paths import LoadPath, Segment  # noqa: E402

DT = torch.float64


def constrained_step(model: ThermoMechanical, state: dict, T: float, x: float) -> tuple[torch.Tensor, dict, float]:
    """One increment to temperature ``T`` with ε11 = 0 and σ22 = σ33 = 0: Newton on the lateral strain
    x = ε22 = ε33 with dσ22/dx = C2222 + C2233; returns ``(σ, new_state, x)``."""
    xt = torch.tensor(x, dtype=DT)
    for _ in range(30):
        eps = torch.diag(torch.stack([torch.zeros((), dtype=DT), xt, xt]))
        s, st, C = model.update(eps, state, temperature=T)
        if abs(float(s[1, 1])) <= 1e-10 * max(1.0, float(s.abs().max())):
            return s, st, float(xt)
        xt = xt - s[1, 1] / (C[1, 1, 1, 1] + C[1, 1, 2, 2])
    raise RuntimeError(f"lateral Newton did not converge at T = {T}")


def _linear(table: Any, t0: float, t1: float) -> np.polynomial.Polynomial:
    """The table's value on [t0, t1] (inside one of its intervals) as a polynomial in T."""
    v0, v1 = (float(table(torch.tensor(t, dtype=DT))) for t in (t0, t1))
    return np.polynomial.Polynomial([v0 - (v1 - v0) / (t1 - t0) * t0, (v1 - v0) / (t1 - t0)])


def yield_onset_by_hand(model: ThermoMechanical) -> float:
    """The lowest T with E(T) α(T) (T − T_ref) = σ_y(T): on each interval between the tables' temperatures the three
    are linear, the equation a cubic; its smallest real root inside the first interval that holds one."""
    E, sy, alpha = model.dependencies["E"], model.dependencies["sigma_y"], model.expansion
    nodes = sorted({*E.temperatures.tolist(), *sy.temperatures.tolist(), *alpha.temperatures.tolist()})  # type: ignore[union-attr]
    T_ref = model.reference_temperature
    for t0, t1 in zip(nodes[:-1], nodes[1:]):
        f = _linear(E, t0, t1) * _linear(alpha, t0, t1) * np.polynomial.Polynomial([-T_ref, 1.0]) - _linear(sy, t0, t1)
        roots = [r.real for r in f.roots() if abs(r.imag) < 1e-9 and t0 <= r.real <= t1]
        if roots:
            return min(roots)
    raise ValueError("the bar does not yield within the tables")


def yield_onset_of_model(model: ThermoMechanical, lo: float, hi: float) -> float:
    """Bisection on T: does one step from the virgin state to T yield? (Before yield the response depends on T
    only, so one step is the whole history.)"""
    for _ in range(40):  # (hi - lo) / 2^40: below 1e-10 °C for a bracket of 100 °C
        mid = 0.5 * (lo + hi)
        _, st, _ = constrained_step(model, model.initial_state(), mid, 0.0)
        lo, hi = (lo, mid) if float(st["alpha"]) > 0 else (mid, hi)
    return 0.5 * (lo + hi)


def eurocode_elongation(T: np.ndarray) -> np.ndarray:
    """EN 1993-1-2 3.4.1.1: the thermal elongation Δl/l of carbon steel (T in °C, 20 ... 1200)."""
    return np.where(T < 750, 1.2e-5 * T + 0.4e-8 * T**2 - 2.416e-4, np.where(T <= 860, 1.1e-2, 2e-5 * T - 6.2e-3))


def main(outdir: str | Path | None = None, *, steps: int = 78, overwrite: bool = False) -> dict[str, Any]:
    """Heat the constrained and the free bar from 20 to 800 °C in ``steps`` steps; return the comparisons with the
    hand calculations, write the figure."""
    steel = load("steel_s355_thermal")
    assert isinstance(steel, ThermoMechanical)
    # the material-point driver: ε11 = 0 held, the lateral and shear stresses zero, T ramped 20 -> 800 °C
    free = {"22": 0.0, "33": 0.0, "23": 0.0, "13": 0.0, "12": 0.0}
    bar = LoadPath([Segment({"11": 0.0}, free, increments=steps, temperature=800.0)], initial_temperature=20.0)
    result = drive(steel, bar, check_tangent=True)
    temps = result.column("T")[1:].numpy()
    H = float(steel.mechanical.parameters["H"])
    sigma = result.column("stress_11")[1:].tolist()
    alpha_model = result.state["alpha"][1:].tolist()
    hand, elastic = [], []
    a_hand = 0.0
    for T in temps:
        m = steel.model_at(float(T))
        E, sy = float(m.parameters["E"]), float(m.parameters["sigma_y"])
        eth = float(steel.thermal_strain(torch.tensor(T, dtype=DT))[0, 0])
        a_hand = max(a_hand, (E * eth - sy) / (E + H), 0.0)
        hand.append(-E * (eth - a_hand))
        elastic.append(-E * eth)
    sigma_np, hand_np = np.array(sigma), np.array(hand)
    onset_hand = yield_onset_by_hand(steel)
    pre = np.array(alpha_model) == 0.0
    first = int(np.argmin(pre))  # the first step that yielded brackets the onset with the step before it
    onset_model = yield_onset_of_model(steel, float(temps[first - 1]) if first else 20.0, float(temps[first]))
    # the free bar: strain = thermal strain, zero stress
    Tt = torch.tensor(temps, dtype=DT)
    eth_free = steel.thermal_strain(Tt)
    s_free = torch.stack(
        [steel.update(eth_free[k], steel.initial_state(), temperature=float(T))[0] for k, T in enumerate(temps)]
    )
    fine = np.linspace(20.0, 800.0, 157)
    eth_fine = steel.thermal_strain(torch.tensor(fine, dtype=DT))[:, 0, 0].numpy()
    out: dict[str, Any] = {
        "yield_onset_hand_C": onset_hand,
        "yield_onset_model_C": onset_model,
        "yield_onset_difference_C": abs(onset_hand - onset_model),
        "elastic_max_rel_error": float(
            np.max(np.abs(sigma_np[pre] - np.array(elastic)[pre]) / np.abs(sigma_np[pre]), initial=0.0)
        ),
        "closed_form_max_rel_error": float(np.max(np.abs(sigma_np - hand_np) / np.abs(hand_np))),
        "stress_at_800C": sigma[-1],
        "peak_compression": float(sigma_np.min()),
        "free_bar_max_stress": float(s_free.abs().max()),
        "driver_tangent_error": float(result.tangent_error.max()),
        "driver_thermal_tangent_error": float(result.thermal_tangent_error.max()),
        "expansion_table_max_rel_error": float(
            np.max(np.abs(eth_fine[1:] - eurocode_elongation(fine[1:])) / eurocode_elongation(fine[1:]))
        ),
    }
    if outdir is not None:
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.5, 4.2), dpi=130)
        sy_line = [-float(steel.model_at(float(T)).parameters["sigma_y"]) for T in fine]
        E_line = [float(steel.model_at(float(T)).parameters["E"]) for T in fine]
        a1.plot(fine, -np.array(E_line) * eth_fine, "--", color="gray", lw=1, label="elastic: −E(T) ε_th(T)")
        a1.plot(fine, sy_line, ":", color="k", lw=1, label="−f_y(T) (EN 1993-1-2)")
        a1.plot(temps, hand_np, "-", color="C1", lw=1.5, label="hand: −E (ε_th − α)")
        a1.plot(temps, sigma_np, "o", ms=3, color="C0", label="model (ThermoMechanical J2)")
        a1.plot([onset_hand], [-355.0], "*", ms=12, color="C3", label=f"yield onset by hand {onset_hand:.2f} °C")
        a1.set_ylim(-700, 30)
        a1.set_xlabel("temperature T (°C)")
        a1.set_ylabel("axial stress σ11 (MPa)")
        a1.set_title("S355 bar, both ends held, heated")
        a1.legend(fontsize=8, loc="lower right")
        a2.plot(fine, 1e3 * eurocode_elongation(fine), "-", color="k", lw=1, label="EN 1993-1-2 Δl/l")
        a2.plot(temps, 1e3 * eth_free[:, 0, 0].numpy(), "o", ms=3, label="free bar: ε11 = α(T)(T − 20)")
        a2.set_xlabel("temperature T (°C)")
        a2.set_ylabel("thermal strain (‰)")
        a2.set_title(f"Free bar: stress-free (max |σ| = {out['free_bar_max_stress']:.1g} MPa)")
        a2.legend(fontsize=8)
        fig.tight_layout()
        out["figure"] = str(outdir / "thermal_bar.png")
        with atomic_path(out["figure"], overwrite=overwrite) as tmp:  # an existing file only with overwrite
            fig.savefig(tmp)
        plt.close(fig)
    return out


if __name__ == "__main__":
    args = example_parser(__doc__, __file__).parse_args()
    for key, value in main(args.out, overwrite=args.force).items():
        print(f"{key}: {value}")
