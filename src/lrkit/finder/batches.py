"""The batches the finder accepts, walked in one place: a tensor, or tuples, lists, named tuples
and mappings of them (nested; a mapping may be a ``dict`` subclass or a ``UserDict`` such as
transformers' ``BatchEncoding``). Moving a batch to a device, cutting it by rows and finding
its examples all go through these two functions; :func:`endless` walks the data itself."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, cast

import torch

from lrkit.errors import ConfigError

__all__ = ["batch_iter", "endless", "first_tensor", "map_batch"]


def map_batch(batch: Any, leaf: Callable[[Any], Any]) -> Any:
    """``batch`` with ``leaf`` applied to everything that is not a container, keeping the
    container types (a mapping that cannot be rebuilt from a ``dict`` becomes a ``dict``)."""
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(map_batch(v, leaf) for v in batch))
    if isinstance(batch, list | tuple):
        return type(batch)(map_batch(v, leaf) for v in batch)
    if isinstance(batch, Mapping):
        mapped = {k: map_batch(v, leaf) for k, v in batch.items()}
        if type(batch) is dict:
            return mapped
        try:
            return cast(Any, type(batch))(mapped)
        except Exception:
            return mapped
    return leaf(batch)


def first_tensor(batch: Any) -> torch.Tensor | None:
    """The tensor whose dim 0 counts the batch's examples: ``batch``, ``batch[0]`` or a mapping's
    first value, up to 4 levels deep (``((x, mask), y)``); ``None`` when there is none or it is
    empty or 0-d."""
    for _ in range(4):
        if isinstance(batch, torch.Tensor):
            return batch if batch.ndim >= 1 and batch.shape[0] > 0 and batch.numel() > 0 else None
        if isinstance(batch, list | tuple) and batch:
            batch = batch[0]
        elif isinstance(batch, Mapping) and batch:
            batch = next(iter(batch.values()))
        else:
            return None
    return None


def batch_iter(
    data: Any, field: str = "data", fix: str = "pass a DataLoader, a list of batches or a generator."
) -> Iterator[Any]:
    """``iter(data)``, or a :class:`~lrkit.errors.ConfigError` naming ``field`` where ``data``
    is not an iterable of batches."""
    try:
        return iter(data)
    except TypeError:
        raise ConfigError(
            f"{field} must be an iterable of batches, got {type(data).__name__}.",
            field=field,
            value=type(data).__name__,
            fix=fix,
        ) from None


def endless(data: Iterable[Any]) -> Iterator[Any]:
    """Endless batches: iterate ``data`` again whenever it runs out; stop only when a fresh
    pass yields nothing (an empty loader, or a one-shot generator already used up)."""
    it = batch_iter(data)
    fresh = True
    while True:
        try:
            batch = next(it)
        except StopIteration:
            if fresh:
                return
            it = iter(data)
            fresh = True
            continue
        fresh = False
        yield batch
