"""Find a planted DDSDDE error in a Fortran UMAT, and show what it costs Newton in the driver.

tests/umat/j2.f is J2 plasticity with linear hardening and its consistent tangent; tests/umat/j2_elastic_tangent.f
is the same model returning the elastic matrix in plastic steps (the most common UMAT defect). The checker names the
first wrong increment and component with Taylor order ≈ 1; the driver, solving a uniaxial-stress path with each
UMAT's DDSDDE, needs many more Newton iterations with the planted error. Needs gfortran.

    python examples/umat_planted_error.py
"""

from __future__ import annotations

from pathlib import Path

from constitutive import paths
from constitutive.driver import drive
from constitutive.umat import UMAT
from constitutive.umat.check import check_umat

HERE = Path(__file__).resolve().parent.parent / "tests" / "umat"
PROPS = [210e3, 0.3, 250.0, 1000.0]  # E [MPa], nu, sigma_y [MPa], H [MPa]


def main(increments: int = 8, amplitude: float = 0.01, verbose: bool = True) -> dict[str, object]:
    """Check both UMATs and drive both along cyclic uniaxial stress; returns the reports and iteration counts."""
    good = UMAT(HERE / "j2.f", PROPS, nstatv=8)
    bad = UMAT(HERE / "j2_elastic_tangent.f", PROPS, nstatv=8)
    good_report = check_umat(good, increments=increments, amplitude=amplitude)
    bad_report = check_umat(bad, increments=increments, amplitude=amplitude)
    path = paths.cyclic("uniaxial_stress", amplitude=amplitude, cycles=1, increments=increments)
    iterations = {}
    for name, umat in (("consistent", good), ("planted error", bad)):
        result = drive(umat, path, max_iter=200, on_failure="return")
        iterations[name] = int(result.iterations.sum()) if result.completed else None
    if verbose:
        print(f"j2.f: {'PASSED' if good_report.passed else 'FAILED'} in {len(good_report.increments)} increments")
        print(str(bad_report).splitlines()[-1])
        for name, n in iterations.items():
            print(f"driver, cyclic uniaxial stress, {name} DDSDDE: {n} Newton iterations")
    return {"good": good_report, "bad": bad_report, "iterations": iterations}


if __name__ == "__main__":
    main()
