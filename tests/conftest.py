"""Shared fixtures for the schedule, scheduler and parity tests."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

import pytest
import torch
from hypothesis import settings

# CI explores the same examples on every run (a red CI then means a real regression, not a
# newly drawn example); locally hypothesis keeps drawing fresh ones and remembers failures.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _load_timm_scheduler_modules() -> types.SimpleNamespace:
    """timm's scheduler modules (they only need torch and numpy).

    ``import timm`` imports torchvision, and a torchvision built for another torch fails to
    import; the scheduler subpackage does not need it, so on that failure its modules are
    loaded from timm's directory under temporary package stubs that are removed again.
    """
    names = ("cosine_lr", "step_lr", "multistep_lr", "poly_lr")
    try:
        import timm.scheduler  # noqa: F401

        return types.SimpleNamespace(**{n: importlib.import_module(f"timm.scheduler.{n}") for n in names})
    except Exception:  # any import failure of timm's top level, see above
        pass
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("timm is not installed: the dev set-up (requirements-dev.txt, `make test`) provides it")
    root = next(iter(spec.submodule_search_locations))
    saved = {k: v for k, v in sys.modules.items() if k == "timm" or k.startswith("timm.")}
    for k in saved:
        del sys.modules[k]
    try:
        pkg = types.ModuleType("timm")
        pkg.__path__ = [root]
        sub = types.ModuleType("timm.scheduler")
        sub.__path__ = [os.path.join(root, "scheduler")]
        sys.modules["timm"], sys.modules["timm.scheduler"] = pkg, sub
        mods = {n: importlib.import_module(f"timm.scheduler.{n}") for n in names}
    finally:
        for k in [k for k in sys.modules if k == "timm" or k.startswith("timm.")]:
            del sys.modules[k]
        sys.modules.update(saved)
    return types.SimpleNamespace(**mods)


@pytest.fixture(scope="session")
def timm_sched() -> types.SimpleNamespace:
    """``timm_sched.cosine_lr.CosineLRScheduler`` and friends."""
    return _load_timm_scheduler_modules()


def make_optimizer(n_groups: int = 1, lr: float | list[float] = 0.1, *, tensor_lr: bool = False, **kw):
    lrs = lr if isinstance(lr, list) else [lr] * n_groups
    groups = []
    for v in lrs:
        p = torch.nn.Parameter(torch.zeros(2))
        groups.append({"params": [p], "lr": torch.tensor(v, dtype=torch.float64) if tensor_lr else v})
    return torch.optim.SGD(groups, lr=lrs[0], **kw)


@pytest.fixture
def optimizer_factory():
    """``optimizer_factory(n_groups=1, lr=0.1, tensor_lr=False, **sgd_kwargs)`` -> SGD."""
    return make_optimizer
