"""Average a metric across data-parallel ranks before a controller decides.

Each rank sees the loss of its own micro-batches. A controller that decided on that local
value would pick a different LR on every rank and the replicas would drift apart, so every
decision is made on the mean over the process group instead:

    metric = (1 / world_size) * sum_r metric_r

computed with one ``all_reduce`` of a float64 tensor. A NaN or inf on any rank makes the mean
non-finite on every rank, so all ranks take the same "the loss got worse" branch together:
nothing hangs (every rank joins the same collective) and nothing splits.

This module never imports torch itself: if torch is not imported yet, no process group can
exist, and the metric is returned unchanged (this keeps ``lrkit.feedback`` importable from the
torch-free config and CLI code).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["average_metric", "collective_device", "process_group_active"]

#: backend name -> device type its collectives need; everything else (gloo, mpi, ucc, fake,
#: and "cpu:gloo,cuda:nccl"-style multi-backend groups, which accept CPU tensors) uses the CPU
_DEVICE_BACKENDS = {"nccl": "cuda", "xccl": "xpu", "hccl": "npu"}


def _dist() -> Any | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    dist = getattr(torch, "distributed", None)
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    return dist


def process_group_active() -> bool:
    """True when ``torch.distributed`` has an initialized default process group."""
    return _dist() is not None


def collective_device(group: Any = None) -> Any:
    """The device a tensor must live on for a collective on ``group``'s backend: the current
    CUDA device for NCCL (XPU for XCCL, NPU for HCCL), the CPU for gloo and the others."""
    import torch
    import torch.distributed as dist

    backend = str(dist.get_backend(group)).lower()
    kind = _DEVICE_BACKENDS.get(backend)
    if kind is None:
        return torch.device("cpu")
    module = getattr(torch, kind, None)
    index = module.current_device() if module is not None and hasattr(module, "current_device") else 0
    return torch.device(kind, index)


def average_metric(value: float, *, group: Any = None, device: Any = None) -> float:
    """Mean of ``value`` over the ranks of ``group`` (the default group when ``None``).

    Returns ``value`` unchanged when no process group is initialized or the group has one
    rank. Every rank of the group must call this for the same decision (it is a collective),
    which is why controllers call it on every ``update``, NaN or not.

    Args:
        value: this rank's metric (a Python float; NaN/inf allowed).
        group: a ``torch.distributed`` process group, or ``None`` for the default one.
        device: where to place the reduction tensor; by default the backend's device
            (:func:`collective_device`).
    """
    dist = _dist()
    if dist is None:
        return value
    world = dist.get_world_size(group)
    if world <= 1:
        return value
    import torch

    t = torch.tensor([value], dtype=torch.float64, device=device if device is not None else collective_device(group))
    dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group)
    return float(t.item()) / world
