"""Every Python block of README.md runs, in order, as a user would paste them (in a scratch folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path: Path, capsys) -> None:
    blocks = re.findall(r"```python\n(.*?)\n```", README.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 6
    namespace: dict = {"__name__": "__readme__"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own documentation
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "full 2.0 0.0" in out and "symmetric 1.0 1.0" in out and "components 2.0 2.0" in out
    assert "False" in out  # the wrong (components) tangent fails its Taylor check
    for written in ("cyclic.csv", "cyclic.png", "fit.png", "my_rubber.toml", "state.json"):
        assert (tmp_path / written).exists(), written
    assert namespace["wrong"].taylor_order < 1.2 and namespace["report"].passed
    assert "*HYPERELASTIC" in out
