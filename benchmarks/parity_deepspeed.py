"""Parity of lrkit's DeepSpeed schedulers with DeepSpeed's own ``lr_schedules.py``.

DeepSpeed is not installed: its ``deepspeed/runtime/lr_schedules.py`` is loaded straight from a
checkout, with ``deepspeed.utils.logger`` stubbed (the only DeepSpeed import it has; torch comes
from the venv). Each parameter set builds DeepSpeed's scheduler on a torch optimizer as the engine
does (``scheduler(optimizer, **params)``, which writes the iteration -1 value), then records the
group's LR before each ``step()`` -- the LR of update ``k`` -- as the engine steps it after every
optimizer update. lrkit's curve comes two ways: :class:`lrkit.schedules.compat.DeepSpeedLR` in
absolute LRs, and ``load_config`` of the DeepSpeed config (format ``deepspeed``: the reader's
factor curve times its peak).

Every parameter set runs once per ``last_batch_iteration`` of ``--last-batch-iterations``
(default ``-1,0,7,100``): a scheduler built mid-run, which writes no LR at construction, so its
first update trains at the optimizer's own LR (the ``lr`` each set gives the torch optimizer).

Usage::

    python benchmarks/parity_deepspeed.py PATH/TO/DeepSpeed [--steps-over 40] [--limit N]
        [--last-batch-iterations -1,0,7,100]

Prints the number of parameter sets per type and ``last_batch_iteration`` and the largest
``|lrkit - DeepSpeed| / |DeepSpeed|`` over every update (relative to each value; exact zeros must
match exactly).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import logging
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lrkit.config import load_config
from lrkit.schedules import Schedule
from lrkit.schedules.compat import DeepSpeedLR, DeepSpeedOneCycle, DeepSpeedRangeTest


def load_lr_schedules(checkout: Path) -> types.ModuleType:
    """DeepSpeed's ``lr_schedules`` module from ``checkout``, its ``deepspeed.utils`` import stubbed."""
    path = checkout / "deepspeed" / "runtime" / "lr_schedules.py"
    stub = types.ModuleType("deepspeed")
    utils = types.ModuleType("deepspeed.utils")
    logger = logging.getLogger("deepspeed-stub")
    logger.setLevel(logging.ERROR)  # its warnings ("before it has started") are expected here
    utils.logger = logger  # type: ignore[attr-defined]
    stub.utils = utils  # type: ignore[attr-defined]
    sys.modules.setdefault("deepspeed", stub)
    sys.modules.setdefault("deepspeed.utils", utils)
    spec = importlib.util.spec_from_file_location("ds_lr_schedules", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def deepspeed_curve(module: types.ModuleType, name: str, lr: float, params: dict[str, Any], steps: int) -> np.ndarray:
    """The LR of updates ``0..steps-1`` under DeepSpeed's scheduler, stepped as its engine steps it."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = getattr(module, name)(opt, **params)
    out = []
    for _ in range(steps):
        out.append(float(opt.param_groups[0]["lr"]))
        sched.step()
    return np.asarray(out)


def cases() -> list[tuple[str, float, dict[str, Any]]]:
    """Parameter sets per type: warm-up lengths around DeepSpeed's floor of 2, both warm-up shapes,
    runs shorter than, equal to and longer than the warm-up, non-zero floors and ratios."""
    out: list[tuple[str, float, dict[str, Any]]] = []
    warmups = (1, 2, 3, 10, 100, 1000)
    for n, wtype, lo, hi in itertools.product(warmups, ("log", "linear"), (0.0, 1e-6, 3e-5), (1e-4, 3e-4, 1.0)):
        out.append(
            ("WarmupLR", 0.05, {"warmup_min_lr": lo, "warmup_max_lr": hi, "warmup_num_steps": n, "warmup_type": wtype})
        )
    for n, wtype, lo, hi, total in itertools.product(
        warmups, ("log", "linear"), (0.0, 2e-6), (3e-4, 1.0), (1, 2, 50, 1000, 5000)
    ):
        params = {"total_num_steps": total, "warmup_min_lr": lo, "warmup_max_lr": hi, "warmup_num_steps": n}
        out.append(("WarmupDecayLR", 0.05, {**params, "warmup_type": wtype}))
    for n, wtype, r0, c, total, lr in itertools.product(
        warmups, ("log", "linear"), (0.0, 0.1), (0.0, 1e-4, 0.1), (1, 2, 50, 1000, 5000), (1e-4, 2e-5)
    ):
        params = {"total_num_steps": total, "warmup_num_steps": n, "warmup_min_ratio": r0, "cos_min_ratio": c}
        out.append(("WarmupCosineLR", lr, {**params, "warmup_type": wtype}))
    for first, second, stairs, rate, dss, lo in itertools.product(
        (1, 7, 100, 250.5), (None, 0, 3, 100), (0, 1, 4), (0.0, 0.5), (0, 10), (1e-5, 0.0)
    ):
        params = {"cycle_min_lr": lo, "cycle_max_lr": 1e-3, "cycle_first_step_size": first, "decay_lr_rate": rate}
        params.update(cycle_second_step_size=second, cycle_first_stair_count=stairs, decay_step_size=dss)
        out.append(("OneCycle", 1e-3, params))
    out.append(
        (
            "OneCycle",
            1e-3,
            {
                "cycle_min_lr": 1e-4,
                "cycle_max_lr": 1e-3,
                "cycle_first_step_size": 9,
                "cycle_first_stair_count": 3,
                "cycle_second_stair_count": 2,
            },
        )
    )
    for size, rate, stair, lo in itertools.product((1, 7, 100), (0.0, 0.5, 3.0), (False, True), (1e-6, 1e-3)):
        params = {"lr_range_test_min_lr": lo, "lr_range_test_step_size": size, "lr_range_test_step_rate": rate}
        out.append(("LRRangeTest", 1e-3, {**params, "lr_range_test_staircase": stair}))
    return out


def _algebra(name: str, lr: float, params: dict[str, Any]) -> Schedule:
    """lrkit's schedule for ``params``; a resumed one gets the optimizer's LR, which trains its first update."""
    if params.get("last_batch_iteration", -1) != -1 and name != "WarmupCosineLR":
        params = {**params, "optimizer_lr": lr}
    if name == "OneCycle":
        return DeepSpeedOneCycle(**params)
    if name == "LRRangeTest":
        return DeepSpeedRangeTest(**params)
    return DeepSpeedLR(name=name, lr=lr, **params)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    zero = b == 0
    if np.any(a[zero] != 0):
        return float("inf")
    return float(np.max(np.abs(a[~zero] - b[~zero]) / np.abs(b[~zero]), initial=0.0))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("deepspeed", type=Path, help="a DeepSpeed checkout (its deepspeed/runtime/lr_schedules.py)")
    ap.add_argument("--steps-over", type=int, default=40, help="updates past the schedule's end to compare")
    ap.add_argument("--limit", type=int, default=None, help="compare only the first N parameter sets")
    ap.add_argument(
        "--last-batch-iterations",
        default="-1,0,7,100",
        help="comma-separated last_batch_iteration values each set is built with (-1: from the start)",
    )
    args = ap.parse_args()
    lasts = [int(v) for v in args.last_batch_iterations.split(",")]
    module = load_lr_schedules(args.deepspeed)
    worst: dict[tuple[str, int], tuple[float, float, int]] = {}
    for (name, lr, base), last in itertools.product(cases()[: args.limit], lasts):
        params = base if last == -1 else {**base, "last_batch_iteration": last}
        algebra = _algebra(name, lr, params)
        end = algebra.horizon
        steps = int(end if end is not None else 300) + args.steps_over
        ds = deepspeed_curve(module, name, lr, params, steps)
        direct = algebra(np.arange(steps))
        config = {"optimizer": {"type": "SGD", "params": {"lr": lr}}, "scheduler": {"type": name, "params": params}}
        read = load_config(config, format="deepspeed").lrs(steps)
        a, r, c = worst.get((name, last), (0.0, 0.0, 0))
        worst[(name, last)] = (max(a, _rel(direct, ds)), max(r, _rel(read, ds)), c + 1)
    print(f"DeepSpeed lr_schedules.py from {args.deepspeed}")
    head = f"{'type':<16} {'last_batch_iteration':>20} {'sets':>5}"
    print(f"{head} {'max rel diff (DeepSpeedLR)':>28} {'max rel diff (load_config)':>28}")
    for (name, last), (a, r, c) in sorted(worst.items()):
        print(f"{name:<16} {last:>20} {c:>5} {a:>28.3e} {r:>28.3e}")
    total = max((max(a, r) for a, r, _ in worst.values()), default=0.0)
    print(f"all: {sum(c for _, _, c in worst.values())} runs, max rel diff {total:.3e}")
    return 1 if total > 1e-12 else 0


if __name__ == "__main__":
    raise SystemExit(main())
