"""Files of an exported state: JSON, CSV and NPZ (:func:`write`, :func:`read`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .layouts import _SIZES, FORMATS, _labels, from_fortran_flat, layout
from .state import UNSPECIFIED, ExportedState

# --------------------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------------------


def _format_of(path: Path, fmt: str | None) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown file format {fmt!r} (from {path.name}); choose one of {FORMATS}")
    return fmt


def write(exported: ExportedState, path: str | Path, fmt: str | None = None, *, overwrite: bool = False) -> Path:
    """Write ``exported`` as JSON, CSV or NPZ (``fmt`` or the file suffix), header first; atomically, and over an
    existing file only with ``overwrite=True`` (:mod:`constitutive.fileio`).

    * JSON: ``{"header": {...}, "stress": [...], "tangent": [[...]], "ddsdde_fortran": [...]}`` (nested by batch).
    * CSV: ``#``-prefixed header lines (``# key: json value``), then one row per material point: the stress
      components ``S11, S22, ...`` in the code's order, then ``D_I_J`` = DDSDDE(I, J) in Fortran column-major
      order (``D_1_1, D_2_1, ...``), then the strain ``E11, ...`` when present.
    * NPZ: arrays ``stress``, ``tangent`` (``[..., I, J]``), ``ddsdde_fortran`` and ``strain``; the header as a
      JSON string in ``header``.
    """
    from ..fileio import atomic_open, atomic_write_text, check_writable

    path = check_writable(path, overwrite=overwrite)
    fmt = _format_of(path, fmt)
    header = exported.header()
    flat = exported.fortran_flat()
    if fmt == "json":
        data: dict[str, Any] = {
            "header": header,
            "stress": exported.stress.tolist(),
            "tangent": exported.tangent.tolist(),
            "ddsdde_fortran": flat.tolist(),
        }
        if exported.strain is not None:
            data["strain"] = exported.strain.tolist()
        atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n", overwrite=overwrite)
    elif fmt == "npz":
        arrays: dict[str, Any] = {"stress": exported.stress, "tangent": exported.tangent, "ddsdde_fortran": flat}
        if exported.strain is not None:
            arrays["strain"] = exported.strain
        with atomic_open(path, "wb", overwrite=overwrite) as fh:
            np.savez(fh, header=np.array(json.dumps(header)), **arrays)
    else:
        n = exported.ntens
        labels = exported.labels
        cols = [f"S{lab}" for lab in labels] + [f"D_{I + 1}_{J + 1}" for J in range(n) for I in range(n)]
        rows = [exported.stress.reshape(-1, n), flat.reshape(-1, n * n)]
        if exported.strain is not None:
            cols += [f"E{lab}" for lab in labels]
            rows.append(exported.strain.reshape(-1, n))
        table = np.concatenate(rows, axis=1)
        buf = io.StringIO()
        for key, value in header.items():
            buf.write(f"# {key}: {json.dumps(value, ensure_ascii=False)}\n")
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for row in table:
            w.writerow([repr(float(x)) for x in row])
        atomic_write_text(path, buf.getvalue(), overwrite=overwrite)
    return path


def _check_header(header: Any, path: Path) -> None:
    """``ValueError`` naming the first convention entry a file's header lacks."""
    if not isinstance(header, Mapping):
        raise ValueError(f"{path}: no export file header")
    for key in ("code", "hypothesis", "NTENS", "order", "stress_measure", "strain_measure"):
        if key not in header:
            raise ValueError(f"{path}: export file header lacks {key!r}")


def _from_header(header: Mapping[str, Any], stress: np.ndarray, tangent: np.ndarray, strain: Any) -> ExportedState:
    lay = layout(header["code"])
    n = int(header["NTENS"])
    if list(header["order"]) != _labels(lay, header["hypothesis"]) or n != _SIZES[header["hypothesis"]][0]:
        raise ValueError(
            f"header order {header['order']} / NTENS {n} do not match the {lay.code} {header['hypothesis']} layout"
        )
    batch = tuple(header.get("batch_shape", []))
    return ExportedState(
        code=lay.code,
        hypothesis=header["hypothesis"],
        stress=np.asarray(stress, dtype=np.float64).reshape(*batch, n),
        tangent=np.asarray(tangent, dtype=np.float64).reshape(*batch, n, n),
        stress_measure=header["stress_measure"],
        strain_measure=header["strain_measure"],
        tangent_measure=header.get("tangent_measure", ""),
        strain=None if strain is None else np.asarray(strain, dtype=np.float64).reshape(*batch, n),
        metadata=dict(header.get("metadata", {})),
        units=str(header.get("units", UNSPECIFIED)),
    )


def read(path: str | Path, fmt: str | None = None) -> ExportedState:
    """Read a file written by :func:`write`. The CSV tangent is rebuilt from its Fortran column-major columns."""
    path = Path(path)
    fmt = _format_of(path, fmt)
    if fmt == "json":
        data = json.loads(path.read_text(encoding="utf-8"))
        header = data.get("header")
        _check_header(header, path)
        tangent = np.asarray(data["tangent"], dtype=np.float64)
        flat = from_fortran_flat(data["ddsdde_fortran"], int(header["NTENS"]))
        if not np.array_equal(flat, tangent):
            raise ValueError(f"{path}: 'tangent' and 'ddsdde_fortran' disagree")
        return _from_header(header, np.asarray(data["stress"]), tangent, data.get("strain"))
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"])) if "header" in z.files else None
            _check_header(header, path)
            assert header is not None  # _check_header raised otherwise
            strain = z["strain"] if "strain" in z.files else None
            return _from_header(header, z["stress"], z["tangent"], strain)
    header = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    body = []
    for line in lines:
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header[key.strip()] = json.loads(value)
        elif line.strip():
            body.append(line)
    _check_header(header, path)
    rows = list(csv.reader(body))
    cols, values = rows[0], np.asarray(rows[1:], dtype=np.float64).reshape(len(rows) - 1, len(rows[0]))
    n = int(header["NTENS"])
    idx = {c: k for k, c in enumerate(cols)}
    labels = header["order"]
    d_cols = [f"D_{I + 1}_{J + 1}" for J in range(n) for I in range(n)]  # column-major DDSDDE
    missing = [c for c in [f"S{lab}" for lab in labels] + d_cols if c not in idx]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    stress = values[:, [idx[f"S{lab}"] for lab in labels]]
    flat = values[:, [idx[c] for c in d_cols]]
    strain = values[:, [idx[f"E{lab}"] for lab in labels]] if f"E{labels[0]}" in idx else None
    return _from_header(header, stress, from_fortran_flat(flat, n), strain)
