"""Golden outputs of `lrkit show` / `lrkit check` for the bundled example configs (every format).

The text output is deterministic and independent of the terminal (no wrapping, no colour when
not a terminal); it is compared byte for byte. The JSON output is compared structurally, with
floats to 1e-9 relative (libm's last digit may differ between platforms).

Regenerate after an intended change:  LRKIT_UPDATE_GOLDEN=1 pytest tests/test_cli_golden.py
and review the diff of tests/golden/.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lrkit.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "src" / "lrkit" / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("LRKIT_UPDATE_GOLDEN") == "1"

#: example -> extra arguments; a few configs of each format, clean and flawed
SHOW_CASES: dict[str, list[str]] = {
    "lrkit_cosine.yaml": ["--every", "20000"],
    "flawed_decay_horizon.yaml": [],
    "flawed_long_warmup.yaml": [],
    "hf_cosine_with_min_lr.yaml": [],
    "hf_linear.json": [],
    "megatron_cosine.yaml": ["--every", "25000"],
    "nemo_rl_grpo_dtensor.yaml": [],
    "flawed_nemo_rl_tmax.yaml": [],
    "nemo_rl_megatron_wsd.yaml": [],
    "nemo_rl_sft_constant.yaml": [],
    "nemo_cosine_constant_steps.yaml": [],
}
JSON_CASES = ("lrkit_cosine.yaml", "flawed_nemo_rl_tmax.yaml", "megatron_cosine.yaml")
CHECK_CASES = (
    "lrkit_cosine.yaml",
    "flawed_decay_horizon.yaml",
    "flawed_nemo_rl_tmax.yaml",
    "hf_cosine_with_min_lr.yaml",
    "nemo_rl_megatron_wsd.yaml",
)


@pytest.fixture()
def in_examples(monkeypatch):
    """Run from the examples folder so the file names in the output carry no absolute path."""
    monkeypatch.chdir(EXAMPLES)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "100")


def _compare_text(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}; create it with LRKIT_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8"), f"output differs from {path} (LRKIT_UPDATE_GOLDEN=1 to accept)"


def _close(a: Any, b: Any, where: str = "$") -> None:
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), where
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300), f"{where}: {a} != {b}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("example", sorted(SHOW_CASES))
def test_show_golden(in_examples, example):
    assert (EXAMPLES / example).exists(), f"example {example} is gone; update SHOW_CASES"
    res = CliRunner().invoke(app, ["show", example, *SHOW_CASES[example]])
    assert res.exit_code == 0, res.output
    _compare_text(f"show/{example}.txt", res.stdout)


@pytest.mark.parametrize("example", JSON_CASES)
def test_show_json_golden(in_examples, example):
    res = CliRunner().invoke(app, ["show", example, "--json"])
    assert res.exit_code == 0, res.output
    actual = json.loads(res.stdout)
    path = GOLDEN / f"show_json/{example}.json"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}; create it with LRKIT_UPDATE_GOLDEN=1"
    _close(actual, json.loads(path.read_text(encoding="utf-8")))


def test_check_golden(in_examples):
    res = CliRunner().invoke(app, ["check", *CHECK_CASES])
    flawed = any(name.startswith("flawed_") for name in CHECK_CASES)
    assert res.exit_code == (1 if flawed else 0), res.output
    _compare_text("check/examples.txt", res.stdout)
