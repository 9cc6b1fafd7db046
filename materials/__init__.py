"""The shipped parameter files (``*.toml``) and data sets (``data/``), installed as ``constitutive.materials``.

Data only: read them through :mod:`constitutive.resources` (``material_file``, ``data_file``, ``list_materials``)
or :func:`constitutive.models.load` with a file's stem.
"""
