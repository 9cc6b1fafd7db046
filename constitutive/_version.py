"""The package version, in the lowest layer so that any module (e.g. the UMAT generator's header) can name it."""

__version__ = "0.2.0"
