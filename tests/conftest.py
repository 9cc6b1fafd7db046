"""Shared test settings: float64 by default, deterministic seeds, hypothesis without deadlines."""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import settings

settings.register_profile("ci", deadline=None, max_examples=40, derandomize=True)
settings.register_profile("dev", deadline=None, max_examples=20)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Tests run on 2 cores; intra-op threading only adds contention for the small tensors used here.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(1234)


@pytest.fixture(scope="module")
def umat_cache(tmp_path_factory: pytest.TempPathFactory):
    """A fresh ``CONSTITUTIVE_UMAT_CACHE`` folder for one test module: compiled UMAT libraries neither come from
    nor go into the user's cache (modules ask for it with ``pytest.mark.usefixtures("umat_cache")``)."""
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("umat_cache")
    mp.setenv("CONSTITUTIVE_UMAT_CACHE", str(path))
    yield path
    mp.undo()
