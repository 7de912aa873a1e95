"""The Python in README.md runs as written (from the repository root, as a reader would)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for block in BLOCKS[: index + 1]:  # later blocks build on earlier ones
        exec(compile(block, f"README.md[python block {index}]", "exec"), namespace)


def test_the_shipped_example_log_is_diagnosed_as_diverging():
    from lrkit.diagnosis import diagnose
    from lrkit.monitor import read_log

    log = read_log(ROOT / "src/lrkit/data/logs/digits_lr_too_high.csv")
    d = diagnose(log.steps, log.losses, log.lrs)
    assert d.verdict == "diverging"
    assert d.suggested_lr is not None and d.suggested_lr < 4.0
