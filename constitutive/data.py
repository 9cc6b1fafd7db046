r"""Reading and validating measured test data for calibration.

Two CSV layouts are understood (both may start with ``#`` lines, kept as the file's *source lines*):

* **plain**: one header line of column names, then numeric rows (Treloar's rubber data in ``materials/data``);
* **Instron export**: specimen metadata lines ``"key : name,value,unit"``, a line of bare commas, the column
  names, a units line such as ``(s),(mm),(N),(mm/mm),(MPa)``, then numeric rows (the tension tests).

Every reader checks what it returns: a missing column (``ValueError`` naming it and listing those present), an
empty or non-numeric cell or a NaN (naming column and file line), and, where a curve must be monotonic, the
first index at which it is not.

The data shipped in ``materials/data`` (each file with its source lines):

=========================== ===========================================================================
``treloar_<mode>.csv``       vulcanised natural rubber, nominal stress vs stretch in uniaxial,
                             equibiaxial and pure-shear tension, kgf/cm² (× 0.0980665 = MPa);
                             L.R.G. Treloar, Trans. Faraday Soc. 40 (1944) 59–70.
``tension_St1594.csv`` ...   steel (St1594, St1595) and aluminium 5005 (Al5005) tensile tests, Instron
                             export: time, extension, load, engineering strain, engineering stress (MPa);
                             D. Bezborodov, "stress-strain" dataset (2022), public domain.
=========================== ===========================================================================

The tension tests' strain is crosshead-based: the apparent elastic slope is below Young's modulus (about 150 GPa
for the steel). :meth:`TensionTest.true_curve` can correct it (``E=``) by removing the extra compliance,
:math:`\varepsilon \leftarrow \varepsilon - \sigma (1/E_{app} - 1/E)` with :math:`E_{app}` the slope fitted to the
elastic part (:meth:`TensionTest.apparent_modulus`), so a model with the true E sees the measured plastic strain.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# The column checks and the Experiment live below this module and calibrate (no data <-> calibrate cycle).
from .experiments import RUBBER_MODES, Experiment, check_finite_column, check_monotonic
from .resources import data_dir

__all__ = [
    "DATA_DIR",
    "KGF_PER_CM2_TO_MPA",
    "RUBBER_MODES",
    "Table",
    "read_csv",
    "check_monotonic",
    "check_finite_column",
    "RubberTest",
    "load_treloar",
    "TensionTest",
    "load_tension_test",
    "data_path",
]

#: The shipped data folder (``materials/data`` of the source tree, ``constitutive/materials/data`` when
#: installed; :func:`constitutive.resources.data_dir`).
DATA_DIR = data_dir()

#: 1 kgf/cm² in MPa (standard gravity 9.80665 m/s² over 100 mm²/cm²).
KGF_PER_CM2_TO_MPA = 0.0980665


def data_path(name: str | Path) -> Path:
    """``name`` as given if it exists, else the file of that name in :data:`DATA_DIR`."""
    p = Path(name)
    if p.exists():
        return p
    candidate = DATA_DIR / p.name
    if candidate.exists():
        return candidate
    raise FileNotFoundError(f"no data file {name} (looked in the working directory and in {DATA_DIR})")


# --------------------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """The numeric content of a CSV file.

    ``columns``: name -> 1-d float64 array (all of equal length); ``units``: name -> unit string (empty when the
    file states none); ``source``: the file's ``#`` lines without the ``#``; ``metadata``: Instron header entries,
    key -> (value, unit); ``lines``: the file line number (1-based) of each data row, for error messages.
    """

    path: Path
    columns: dict[str, np.ndarray]
    units: dict[str, str] = field(default_factory=dict)
    source: tuple[str, ...] = ()
    metadata: dict[str, tuple[str, str]] = field(default_factory=dict)
    lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def column(self, name: str) -> np.ndarray:
        """The column ``name``; ``ValueError`` lists the columns present when it is missing."""
        if name not in self.columns:
            raise ValueError(f"{self.path}: missing column {name!r}; columns present: {self.names}")
        return self.columns[name]

    def require(self, *names: str) -> None:
        """``ValueError`` naming every missing column at once."""
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise ValueError(f"{self.path}: missing column(s) {missing}; columns present: {self.names}")


def _is_instron_header(line: str) -> bool:
    return " : " in line.split(",", 1)[0]


def read_csv(path: str | Path, *, required: tuple[str, ...] | list[str] = (), allow_nan: bool = False) -> Table:
    """Read a plain or Instron-export CSV file (see the module docstring) into a :class:`Table`.

    ``required`` column names are checked up front. Empty, non-numeric or NaN cells raise ``ValueError`` naming
    the column and the file line (unless ``allow_nan``, which keeps NaN for empty cells), and so does a row with
    more non-empty cells than the header has names. Rows of bare separators at the end of a file are ignored.

    Separators: a comma, or -- when the header line holds semicolons and no comma (the spreadsheet export of
    decimal-comma locales) -- a semicolon, with a decimal comma accepted in the numbers (``1,5`` reads 1.5).
    """
    p = data_path(path)
    with open(p, newline="", encoding="utf-8-sig") as fh:
        raw = fh.read().splitlines()
    source: list[str] = []
    metadata: dict[str, tuple[str, str]] = {}
    units: dict[str, str] = {}
    i = 0
    while i < len(raw) and (raw[i].startswith("#") or not raw[i].strip()):
        if raw[i].startswith("#"):
            source.append(raw[i][1:].strip())
        i += 1
    if i < len(raw) and _is_instron_header(raw[i]):
        while i < len(raw) and _is_instron_header(raw[i]):
            cells = next(csv.reader([raw[i]]))
            key = cells[0].split(" : ", 1)[1].strip()
            metadata[key] = (cells[1].strip() if len(cells) > 1 else "", cells[2].strip() if len(cells) > 2 else "")
            i += 1
        while i < len(raw) and not raw[i].replace(",", "").strip():
            i += 1
    if i >= len(raw):
        raise ValueError(f"{p}: no header line of column names")
    # ';' separates the columns of decimal-comma (European locale) exports; a decimal comma is then read as '.'
    delim = ";" if ";" in raw[i] and "," not in raw[i] else ","
    names = [c.strip() for c in next(csv.reader([raw[i]], delimiter=delim))]
    while names and not names[-1]:
        names.pop()
    if not names or any(not n for n in names):
        raise ValueError(f"{p}, line {i + 1}: empty column name in header {names}")
    if len(set(names)) != len(names):
        raise ValueError(f"{p}, line {i + 1}: duplicate column names in header {names}")
    i += 1
    if i < len(raw):
        cells = [c.strip() for c in next(csv.reader([raw[i]], delimiter=delim))]
        if cells and all(c.startswith("(") and c.endswith(")") for c in cells[: len(names)] if c):
            units = {n: c[1:-1] for n, c in zip(names, cells)}
            i += 1
    rows: list[list[float]] = []
    line_numbers: list[int] = []
    for j in range(i, len(raw)):
        line = raw[j]
        if line.startswith("#") or not line.replace(delim, "").strip():
            continue
        cells = [c.strip() for c in next(csv.reader([line], delimiter=delim))]
        extra = [c for c in cells[len(names) :] if c]
        if extra:
            hint = " (decimal commas? write decimal points, or separate columns by ';')" if delim == "," else ""
            raise ValueError(
                f"{p}, line {j + 1}: {len(cells)} cells but the header names {len(names)} columns {names}; "
                f"extra cell(s) {extra[:3]}{hint}"
            )
        if len(cells) < len(names):
            cells += [""] * (len(names) - len(cells))
        values = []
        for name, cell in zip(names, cells):
            if cell == "":
                if not allow_nan:
                    raise ValueError(f"{p}, line {j + 1}: empty cell in column {name!r}")
                values.append(math.nan)
                continue
            try:
                v = float(cell.replace(",", ".", 1) if delim == ";" and cell.count(",") == 1 else cell)
            except ValueError:
                raise ValueError(f"{p}, line {j + 1}: column {name!r} holds {cell!r}, not a number") from None
            if math.isnan(v) and not allow_nan:
                raise ValueError(f"{p}, line {j + 1}: NaN in column {name!r}")
            values.append(v)
        rows.append(values)
        line_numbers.append(j + 1)
    if not rows:
        raise ValueError(f"{p}: no data rows")
    arr = np.asarray(rows, dtype=np.float64)
    table = Table(
        path=p,
        columns={n: arr[:, k].copy() for k, n in enumerate(names)},
        units=units,
        source=tuple(source),
        metadata=metadata,
        lines=np.asarray(line_numbers),
    )
    table.require(*required)
    return table


def _running_max_mask(a: np.ndarray) -> np.ndarray:
    """Mask keeping the points that raise the running maximum (drops back-steps and repeats)."""
    keep = np.zeros(a.shape, dtype=bool)
    best = -np.inf
    for k, v in enumerate(a):  # O(n) once per file, not a hot path
        if v > best:
            keep[k] = True
            best = v
    return keep


# --------------------------------------------------------------------------------------------------------------
# Rubber (Treloar)
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RubberTest:
    """A homogeneous rubber test: ``stretch`` (n,) and nominal (first Piola--Kirchhoff) ``stress`` (n,) in MPa."""

    mode: str
    stretch: np.ndarray
    stress: np.ndarray
    source: tuple[str, ...] = ()
    name: str = ""

    def experiment(self, **kwargs: Any) -> Experiment:
        """This test as a calibration :class:`constitutive.calibrate.Experiment` (keywords passed on)."""
        kwargs.setdefault("name", self.name or f"treloar_{self.mode}")
        return Experiment.rubber(self.mode, self.stretch, self.stress, source="\n".join(self.source), **kwargs)


def load_treloar(mode: str, path: str | Path | None = None) -> RubberTest:
    """Treloar's (1944) natural-rubber data for ``mode`` in ``RUBBER_MODES``, stress converted to MPa.

    Checks: columns ``stretch`` and ``nominal_stress_kgf_per_cm2`` present, finite, stretch strictly increasing
    from 1.
    """
    if mode not in RUBBER_MODES:
        raise ValueError(f"unknown rubber test mode {mode!r}; choose one of {RUBBER_MODES}")
    table = read_csv(path or DATA_DIR / f"treloar_{mode}.csv", required=("stretch", "nominal_stress_kgf_per_cm2"))
    stretch = check_monotonic(table.column("stretch"), f"{table.path.name}: stretch")
    if stretch[0] < 1.0:
        raise ValueError(f"{table.path.name}: stretches must be >= 1 in a tension test, got {stretch[0]}")
    stress = check_finite_column(table.column("nominal_stress_kgf_per_cm2"), "nominal stress") * KGF_PER_CM2_TO_MPA
    return RubberTest(mode=mode, stretch=stretch, stress=stress, source=table.source, name=f"treloar_{mode}")


# --------------------------------------------------------------------------------------------------------------
# Tension tests
# --------------------------------------------------------------------------------------------------------------

STRAIN_COLUMN = "Tensile strain (Strain 1)"
STRESS_COLUMN = "Tensile stress"


@dataclass(frozen=True)
class TensionTest:
    """A uniaxial tension test: engineering ``strain`` (n,) and engineering ``stress`` (n,) in MPa, as measured.

    ``metadata``: the specimen header (e.g. ``"Area" -> ("33.93", "mm^2")``).
    """

    name: str
    strain: np.ndarray
    stress: np.ndarray
    time: np.ndarray | None = None
    metadata: dict[str, tuple[str, str]] = field(default_factory=dict)
    source: tuple[str, ...] = ()

    @property
    def uts_index(self) -> int:
        """Index of the ultimate tensile strength (maximum engineering stress)."""
        return int(np.argmax(self.stress))

    @property
    def uts(self) -> float:
        """Ultimate tensile strength (MPa), the maximum engineering stress."""
        return float(self.stress[self.uts_index])

    def apparent_modulus(self, lo: float = 0.1, hi: float = 0.4) -> float:
        """Slope (MPa) of a straight-line fit to the loading branch where ``lo·UTS <= stress <= hi·UTS``
        (before the first point reaching ``hi·UTS``, so the fit stays in the elastic part)."""
        if not 0 <= lo < hi <= 1:
            raise ValueError(f"need 0 <= lo < hi <= 1, got lo={lo}, hi={hi}")
        end = int(np.argmax(self.stress >= hi * self.uts))
        s, e = self.stress[: end + 1], self.strain[: end + 1]
        mask = s >= lo * self.uts
        if mask.sum() < 3:
            raise ValueError(f"{self.name}: fewer than 3 points between {lo} and {hi} of the UTS for the elastic fit")
        return float(np.polyfit(e[mask], s[mask], 1)[0])

    def true_curve(
        self,
        *,
        up_to_uts: bool = True,
        E: float | None = None,
        elastic_range: tuple[float, float] = (0.1, 0.4),
        monotonic: str = "error",
    ) -> tuple[np.ndarray, np.ndarray]:
        r"""True (logarithmic) strain and true (Cauchy) stress, both (m,):
        :math:`\sigma_t = \sigma_e (1 + \varepsilon_e)`, :math:`\varepsilon_t = \ln(1 + \varepsilon_e)`
        (valid while deformation is uniform, i.e. up to the UTS; ``up_to_uts`` cuts the curve there).

        ``E``: Young's modulus (MPa) to correct the crosshead compliance: the engineering strain becomes
        :math:`\varepsilon_e - \sigma_e (1/E_{app} - 1/E)` with :math:`E_{app}` from :meth:`apparent_modulus`
        over ``elastic_range`` (fractions of the UTS). ``monotonic``: ``"error"`` raises ``ValueError`` where the
        strain does not increase strictly; ``"drop"`` keeps only points that raise the running maximum strain.
        """
        n = self.uts_index + 1 if up_to_uts else len(self.strain)
        strain_e, stress_e = self.strain[:n].copy(), self.stress[:n].copy()
        if E is not None:
            if not E > 0:
                raise ValueError(f"Young's modulus E must be positive, got {E}")
            e_app = self.apparent_modulus(*elastic_range)
            strain_e = strain_e - stress_e * (1.0 / e_app - 1.0 / E)
        if monotonic == "drop":
            keep = _running_max_mask(strain_e)
            strain_e, stress_e = strain_e[keep], stress_e[keep]
        elif monotonic == "error":
            check_monotonic(strain_e, f"{self.name}: engineering strain up to the UTS")
        else:
            raise ValueError(f"monotonic must be 'error' or 'drop', got {monotonic!r}")
        return np.log1p(strain_e), stress_e * (1.0 + strain_e)

    def experiment(
        self,
        *,
        E: float | None = None,
        points: int | None = None,
        min_strain: float = 0.0,
        monotonic: str = "error",
        **kwargs: Any,
    ) -> Experiment:
        """The true curve up to the UTS as a ``"uniaxial_stress"`` calibration experiment.

        ``E``: compliance correction (see :meth:`true_curve`); ``points``: resample to this many points evenly
        spaced in strain (linear interpolation of the measured curve; the raw rows are uneven in strain);
        ``min_strain``: drop points below this true strain.
        """
        eps, sig = self.true_curve(E=E, monotonic=monotonic)
        keep = eps >= min_strain
        if keep.sum() < 2:
            raise ValueError(
                f"{self.name}: min_strain {min_strain} leaves no point (or one) of the true curve, which ends at "
                f"true strain {eps[-1]:.4g}"
            )
        eps, sig = eps[keep], sig[keep]
        if points is not None:
            if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 2:
                raise ValueError(f"points must be >= 2 (an integer), got {points!r}")
            grid = np.linspace(max(eps[0], eps[-1] / points), eps[-1], points)
            sig = np.interp(grid, eps, sig)
            eps = grid
        elif eps[0] == 0.0:  # the unloaded first row carries no information
            eps, sig = eps[1:], sig[1:]
        kwargs.setdefault("name", self.name)
        return Experiment.uniaxial_stress(eps, sig, source="\n".join(self.source), **kwargs)


def load_tension_test(
    path: str | Path, *, strain_column: str = STRAIN_COLUMN, stress_column: str = STRESS_COLUMN
) -> TensionTest:
    """Read a tension test (Instron export, or any CSV with the named strain and stress columns).

    Strain must be dimensionless (mm/mm) and stress in MPa when the file states units; both finite.
    """
    table = read_csv(path, required=(strain_column, stress_column))
    for col, expected in ((strain_column, ("mm/mm", "-", "")), (stress_column, ("MPa", "N/mm^2", ""))):
        unit = table.units.get(col, "")
        if unit not in expected:
            raise ValueError(f"{table.path.name}: column {col!r} is in {unit!r}; expected one of {expected}")
    strain = check_finite_column(table.column(strain_column), f"{table.path.name}: {strain_column}")
    stress = check_finite_column(table.column(stress_column), f"{table.path.name}: {stress_column}")
    time = table.columns.get("Time")
    name = Path(table.path).stem.removeprefix("tension_")
    return TensionTest(name=name, strain=strain, stress=stress, time=time, metadata=table.metadata, source=table.source)
