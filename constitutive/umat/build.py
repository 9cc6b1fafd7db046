"""Compiling UMATs with gfortran into a user cache, and loading them with ctypes.

The cache directory is ``$CONSTITUTIVE_UMAT_CACHE`` if set, else ``$XDG_CACHE_HOME/constitutive/umat``, else
``~/.cache/constitutive/umat`` -- never the source tree. A library's file name is the SHA-256 of everything that
determines it (source text, flags, compiler version, support-library version), so an edited source or a changed
flag recompiles and an unchanged one loads at once. Files are written to a temporary name and renamed, so parallel
processes never load a half-written library.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from ._support import SUPPORT_C, SUPPORT_VERSION

__all__ = [
    "DEFAULT_FLAGS",
    "FORTRAN_SUFFIXES",
    "ABA_PARAM_INC",
    "CompileError",
    "cache_dir",
    "compile_umat",
    "support_library",
    "gfortran",
]

#: Default gfortran flags: optimised position-independent code, fixed-form lines up to 132 columns (Abaqus allows
#: long fixed-form lines). Add ``"-fdefault-real-8"`` for a UMAT that declares nothing and includes no ABA_PARAM.INC
#: (implicit REAL would otherwise be single precision).
DEFAULT_FLAGS: tuple[str, ...] = ("-O2", "-fPIC", "-ffixed-line-length-132")
FORTRAN_SUFFIXES = (".f", ".for", ".f90", ".F", ".f77", ".F90")

#: Abaqus's include file for double-precision UMATs.
ABA_PARAM_INC = "      implicit real*8(a-h,o-z)\n      parameter (nprecd=2)\n"


class CompileError(RuntimeError):
    """gfortran (or gcc) failed; the message holds the command and the compiler's output."""


def gfortran() -> str:
    """The gfortran executable (``$CONSTITUTIVE_GFORTRAN`` or ``gfortran`` on PATH); ``CompileError`` if absent."""
    exe = os.environ.get("CONSTITUTIVE_GFORTRAN", "gfortran")
    found = shutil.which(exe)
    if found is None:
        raise CompileError(
            f"{exe} not found: compiling a UMAT needs gfortran (Debian/Ubuntu: apt-get install -y gfortran), or pass "
            "a compiled shared library instead of a source file"
        )
    return found


def cache_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The cache directory (created): ``path``, ``$CONSTITUTIVE_UMAT_CACHE``, ``$XDG_CACHE_HOME/constitutive/umat``
    or ``~/.cache/constitutive/umat``, the first that is given."""
    if path is None:
        env = os.environ.get("CONSTITUTIVE_UMAT_CACHE")
        if env:
            path = env
        else:
            base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
            path = os.path.join(base, "constitutive", "umat")
    d = Path(path)
    d.mkdir(parents=True, exist_ok=True)
    return d


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CompileError(f"compilation failed: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}".rstrip())


def _version(exe: str) -> str:
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True)
    return proc.stdout.splitlines()[0] if proc.stdout else exe


def _atomic_build(target: Path, build: Callable[[Path], Path]) -> Path:
    """Build into a temporary directory beside ``target`` and rename (atomic on one file system)."""
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        out = build(Path(tmp))
        os.replace(out, target)
    return target


def support_library(cache: str | os.PathLike[str] | None = None) -> Path:
    """Compile (once) the support library: the call trampoline and the Abaqus utilities (see
    :mod:`constitutive.umat._support`). Built with gcc as C: it needs no Fortran runtime."""
    d = cache_dir(cache)
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        raise CompileError("gcc not found: the UMAT support library needs a C compiler (apt-get install -y gcc)")
    key = hashlib.sha256(f"{SUPPORT_VERSION}\n{_version(cc)}\n{SUPPORT_C}".encode()).hexdigest()[:20]
    target = d / f"libcst_umat_support-{key}.so"

    def build(tmp: Path) -> Path:
        (tmp / "support.c").write_text(SUPPORT_C, encoding="utf-8")
        _run([cc, "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-o", "libsupport.so", "support.c", "-lm"], tmp)
        return tmp / "libsupport.so"

    return _atomic_build(target, build)


def compile_umat(
    source: str | os.PathLike[str],
    flags: Sequence[str] | None = None,
    *,
    cache: str | os.PathLike[str] | None = None,
    extra_sources: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Compile a Fortran UMAT source into a cached shared library and return its path.

    ``flags`` replace :data:`DEFAULT_FLAGS` (``-shared`` is always added). The source's folder and a folder
    holding ``ABA_PARAM.INC`` (:data:`ABA_PARAM_INC`) are on the include path. ``extra_sources`` are compiled into
    the same library (a UMAT split over several files). The key hashes the sources' contents, the flags and the
    compiler's version.
    """
    src = Path(source)
    if not src.is_file():
        raise FileNotFoundError(f"no UMAT source {source}")
    if src.suffix not in FORTRAN_SUFFIXES:
        raise ValueError(f"{src.name}: not a Fortran source (suffixes {', '.join(FORTRAN_SUFFIXES)})")
    sources = [src, *(Path(s) for s in extra_sources)]
    flags = list(DEFAULT_FLAGS if flags is None else flags)
    exe = gfortran()
    h = hashlib.sha256()
    h.update(f"{_version(exe)}\n{' '.join(flags)}\n{ABA_PARAM_INC}".encode())
    for s in sources:
        h.update(s.name.encode() + b"\0" + s.read_bytes() + b"\0")
    d = cache_dir(cache)
    target = d / f"libumat-{src.stem}-{h.hexdigest()[:20]}.so"

    def build(tmp: Path) -> Path:
        inc = tmp / "include"
        inc.mkdir()
        (inc / "ABA_PARAM.INC").write_text(ABA_PARAM_INC, encoding="utf-8")
        (inc / "aba_param.inc").write_text(ABA_PARAM_INC, encoding="utf-8")
        cmd = [exe, *flags, "-shared", f"-I{inc}", f"-I{src.resolve().parent}", "-o", str(tmp / "libumat.so")]
        cmd += [str(s.resolve()) for s in sources]
        _run(cmd, tmp)
        return tmp / "libumat.so"

    return _atomic_build(target, build)


_LOADED: dict[str, ctypes.CDLL] = {}


def load_library(path: str | os.PathLike[str], *, global_symbols: bool = False) -> ctypes.CDLL:
    """Load a shared library once per process (``RTLD_GLOBAL`` for the support library, whose ``XIT`` & co. a
    prebuilt UMAT library resolves at load time; that one is loaded once per process whatever its cache folder)."""
    # The support library is keyed by its file name, which carries the hash of its content: one copy per process
    # whatever cache folder it was built in, since a second RTLD_GLOBAL copy would split XIT's jump buffer between
    # two libraries (a UMAT resolved against one, the trampoline in the other).
    key = Path(path).name if global_symbols else str(Path(path).resolve())
    if key not in _LOADED:
        mode = ctypes.RTLD_GLOBAL if global_symbols else ctypes.RTLD_LOCAL
        _LOADED[key] = ctypes.CDLL(str(Path(path).resolve()), mode=mode)
    return _LOADED[key]
