"""Snapshot and bitwise restore of everything an LR range test changes.

A range test trains the user's own model with their own optimizer, so afterwards everything
it touched must come back exactly: parameter values (and their ``.grad``), every buffer
(persistent or not), each module's train/eval flag, the optimizer's per-parameter state
(step counts included), every ``param_group`` hyper-parameter (``lr``, ``momentum``,
``betas``, ``initial_lr``, tensor LRs, keys added or removed), and the random number
generators (torch CPU, every initialised CUDA device, numpy's global generator, Python's
``random``).

Tensors are copied to host memory (``Tensor.to("cpu", copy=True)``: the device-to-host copy
never allocates a second copy on the accelerator) or, with ``to="disk"``, written to a file
and dropped from memory. Restore writes back *in place* (``copy_``), so the tensors keep
their identity: an optimizer, an EMA helper or a compiled graph holding a reference to a
parameter or a state tensor still sees the restored values.
"""

from __future__ import annotations

import copy
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.optim import Optimizer

__all__ = ["Snapshot"]


def _to_host(t: torch.Tensor) -> torch.Tensor:
    # copy=True so a CPU tensor is cloned too (never aliased with the live one)
    return t.detach().to("cpu", copy=True)


@dataclass
class _RNG:
    torch_cpu: torch.Tensor
    cuda: list[torch.Tensor] | None
    numpy: Any
    python: Any

    @classmethod
    def take(cls) -> _RNG:
        cuda = None
        # only devices already initialised: get_rng_state_all() would otherwise create a CUDA
        # context on every GPU of the node (costly, and wrong under one-GPU-per-rank jobs)
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            cuda = torch.cuda.get_rng_state_all()
        return cls(torch.get_rng_state(), cuda, np.random.get_state(), random.getstate())

    def restore(self) -> None:
        torch.set_rng_state(self.torch_cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state_all(self.cuda)
        np.random.set_state(self.numpy)
        random.setstate(self.python)


class Snapshot:
    """What :meth:`take` saw; :meth:`restore` puts it back (any number of times).

    ``Snapshot.take(model, optimizer, to="cpu" | "disk", directory=None)``. Parameters that
    the optimizer holds but ``model`` does not are saved too.
    """

    def __init__(self, model: torch.nn.Module, optimizer: Optimizer) -> None:
        self.model = model
        self.optimizer = optimizer
        self._live: list[torch.Tensor | None] = []  # restore targets (None: re-create on device)
        self._devices: list[torch.device] = []
        self._saved: list[torch.Tensor] | None = None  # host copies, parallel to _live
        self.path: Path | None = None  # on-disk copies instead of _saved
        self._params: list[torch.Tensor] = []
        self._grads: list[int | None] = []
        self._buffers: list[tuple[torch.nn.Module, str, int | None]] = []
        self._training: list[tuple[torch.nn.Module, bool]] = []
        self._state: list[tuple[torch.Tensor, dict[str, tuple]]] = []
        self._groups: list[tuple[dict[str, Any], list[torch.Tensor], dict[str, tuple]]] = []
        self._n_groups = 0
        self._rng: _RNG | None = None

    def _keep(self, t: torch.Tensor, *, hold: bool = True) -> int:
        self._live.append(t if hold else None)
        self._devices.append(t.device)
        return len(self._live) - 1

    def _entry(self, value: Any) -> tuple:
        if isinstance(value, torch.Tensor):
            return ("tensor", self._keep(value))
        return ("value", copy.deepcopy(value))

    # -- taking -----------------------------------------------------------------------------
    @classmethod
    def take(
        cls,
        model: torch.nn.Module,
        optimizer: Optimizer,
        *,
        to: str = "cpu",
        directory: str | os.PathLike | None = None,
    ) -> Snapshot:
        if to not in ("cpu", "disk"):
            from lrkit.errors import ConfigError

            raise ConfigError(
                f"unknown snapshot target {to!r}.", field="snapshot", value=to, fix="use 'cpu' or 'disk'."
            )
        snap = cls(model, optimizer)
        seen: set[int] = set()
        for p in [*model.parameters(), *(p for g in optimizer.param_groups for p in g["params"])]:
            if id(p) not in seen:
                seen.add(id(p))
                snap._params.append(p)
                snap._keep(p)
        # a grad is not held: holding it would keep a gradient-sized block alive on the
        # accelerator for the whole test after zero_grad(set_to_none=True) released it
        snap._grads = [None if p.grad is None else snap._keep(p.grad, hold=False) for p in snap._params]
        # module._buffers also has non-persistent buffers, which state_dict() leaves out
        for module in model.modules():
            snap._training.append((module, module.training))
            for name, buf in module._buffers.items():
                snap._buffers.append((module, name, None if buf is None else snap._keep(buf)))
        for p, state in optimizer.state.items():
            snap._state.append((p, {k: snap._entry(v) for k, v in state.items()}))
        for group in optimizer.param_groups:
            saved = {k: snap._entry(v) for k, v in group.items() if k != "params"}
            snap._groups.append((group, list(group["params"]), saved))
        snap._n_groups = len(optimizer.param_groups)

        host = [_to_host(t if t is not None else _grad_of(snap, i)) for i, t in enumerate(snap._live)]
        if to == "disk":
            fd, name = tempfile.mkstemp(prefix="lrkit-finder-", suffix=".pt", dir=directory)
            os.close(fd)
            snap.path = Path(name)
            torch.save(host, snap.path)
            del host
        else:
            snap._saved = host
        snap._rng = _RNG.take()
        return snap

    # -- restoring --------------------------------------------------------------------------
    def _host_copies(self) -> list[torch.Tensor]:
        if self._saved is not None:
            return self._saved
        assert self.path is not None, "snapshot was closed"
        return torch.load(self.path, map_location="cpu", weights_only=True, mmap=True)

    def _value(self, entry: tuple, host: list[torch.Tensor]) -> Any:
        if entry[0] == "value":
            return copy.deepcopy(entry[1])
        original = self._live[entry[1]]
        assert original is not None
        original.copy_(host[entry[1]])
        return original

    def restore(self) -> None:
        """Write every saved value back; tensors are restored in place and re-bound to the
        slots they were found in, so every reference the caller holds stays valid."""
        host = self._host_copies()
        with torch.no_grad():
            for i, p in enumerate(self._params):
                p.copy_(host[i])
            for p, gi in zip(self._params, self._grads, strict=True):
                if gi is None:
                    p.grad = None
                elif p.grad is not None and p.grad.shape == host[gi].shape and p.grad.dtype == host[gi].dtype:
                    p.grad.copy_(host[gi])
                else:
                    p.grad = host[gi].to(self._devices[gi], copy=True)
            for module, name, bi in self._buffers:
                module._buffers[name] = None if bi is None else self._value(("tensor", bi), host)
            opt = self.optimizer
            # groups: the same group dicts, params, keys and values (keys the test added go)
            del opt.param_groups[self._n_groups :]
            for i, (group, params, saved) in enumerate(self._groups):
                if i < len(opt.param_groups):
                    opt.param_groups[i] = group
                else:
                    opt.param_groups.append(group)
                for key in [k for k in group if k != "params" and k not in saved]:
                    del group[key]
                for key, entry in saved.items():
                    group[key] = self._value(entry, host)
                group["params"] = params
            # per-parameter state: drop what the test created, restore the rest
            opt.state.clear()
            for p, saved_state in self._state:
                opt.state[p] = {k: self._value(e, host) for k, e in saved_state.items()}
        for module, flag in self._training:
            module.training = flag
        if self._rng is not None:
            self._rng.restore()

    def close(self) -> None:
        """Delete the on-disk copy, if any."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


def _grad_of(snap: Snapshot, index: int) -> torch.Tensor:
    pos = snap._grads.index(index)
    grad = snap._params[pos].grad
    assert grad is not None
    return grad
