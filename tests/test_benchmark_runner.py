"""The performance runner (benchmarks/performance.py) runs end to end at a tiny size: every variant is checked
against the others inside the runner before timing (round-off), and the JSON it writes has the figures the docs
page is generated from. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "benchmarks" / "performance.py"


def test_performance_runner_small(tmp_path: Path) -> None:
    cmd = [sys.executable, str(RUNNER), "--min-n", "1e3", "--max-n", "1e4", "--repeat", "1", "--no-memory",
           "--cases", "j2-linear", "chaboche", "--device", "cpu", "--threads", "1", "--paired", "2",
           "--out", str(tmp_path)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
    res = json.loads((tmp_path / "performance.json").read_text())
    run = res["runs"]["1"]
    assert run["device"] == "cpu"
    for case, doubles in (("j2-linear", 62), ("chaboche", 86)):
        data = run["cases"][case]
        assert data["bytes_per_point"] == 8 * doubles
        row = data["rows"][0]
        assert row["N"] == 1000 and abs(row["plastic"] - 0.94) < 0.01
        assert {"mandel", "mandel_out", "tensor", "tensor_ref"} <= set(row["pts_s"])
        assert all(v > 0 for v in row["pts_s"].values())
    assert "baseline" in run["cases"]["j2-linear"]["rows"][0]["pts_s"]
    md = (tmp_path / "performance.md").read_text()
    assert md.count("| 1e+03 |") == 2 and md.count("| 1e+04 |") == 2
    # the paired flatness: two alternated rounds of one call at N = 1e4 and ten at N = 1e3, per case
    paired = res["paired"]
    assert (paired["small"], paired["large"], paired["rounds"]) == (1000, 10000, 2)
    for case in ("j2-linear", "chaboche"):
        row = paired["cases"][case]
        assert len(row["ratios"]) == 2 and row["ratio_min"] <= row["ratio_median"] <= row["ratio_max"]
        assert row["pts_s_small_best"] > 0 and row["pts_s_large_best"] > 0
    assert "**Paired flatness**" in md and md.count("| j2-linear |") == 1


def test_performance_runner_cuda_request_without_gpu(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: --device cuda is a valid request here")
    cmd = [sys.executable, str(RUNNER), "--device", "cuda", "--out", str(tmp_path)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "no CUDA device" in out.stderr
