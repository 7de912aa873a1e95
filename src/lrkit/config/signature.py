"""What format detection knows of one config format, declared by the format's own module.

Each reader module lists its formats as ``SIGNATURES`` (a tuple of :class:`Signature`);
:mod:`lrkit.config.detect` consults them in the order of its registry. A format is told by a
*shape* only it has (``policy.scheduler``, ``optim.sched``, ``lr_decay_style``), tried in
``precedence`` order, or -- for the flat trainer formats, which share most keys -- by the keys
its schema accepts (``flat_keys``): the format is the one that accepts every such key present.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Signature", "FLAT_STEP", "keys"]

#: the precedence at which the flat trainer formats are told apart by their keys: shapes with a
#: lower precedence are tried before, fallbacks after
FLAT_STEP = 50


def keys(names: str) -> frozenset[str]:
    """``keys("a b c")``: config keys written as one space-separated string."""
    return frozenset(names.split())


@dataclass(frozen=True)
class Signature:
    """One format as detection sees it.

    Attributes:
        name: the format's name (``--format NAME``).
        description: one line for ``lrkit list``.
        aliases: other spellings ``--format`` accepts.
        reader: the name of the module's function that reads the format
            (``(data, *, total_steps, source) -> ResolvedConfig``).
        shape: a nested shape only this module's formats have: returns the format the data is
            (a module may hold two) or ``None``; tried in ``precedence`` order.
        precedence: where ``shape`` is tried (lower first; the flat keys are tried at ``FLAT_STEP``).
        flat_keys: for a flat trainer format, the keys that tell the flat formats apart and that
            this one's schema accepts (keys every flat format has are left out).
        schedule_keys: the schedule keys a flat format reads (any other key naming a scheduler is not its).
        training_keys: keys a flat config that trains has at least one of.
        reads_plain: among the candidates, this format wins (the others read its keys as it does).
        fallback: for the last resort after the flat keys: whether the data looks like this format.
    """

    name: str
    description: str
    aliases: tuple[str, ...] = ()
    reader: str = ""
    shape: Callable[[Mapping[str, Any]], str | None] | None = None
    precedence: int = FLAT_STEP
    flat_keys: frozenset[str] = frozenset()
    schedule_keys: frozenset[str] = frozenset()
    training_keys: frozenset[str] = frozenset()
    reads_plain: bool = False
    fallback: Callable[[Mapping[str, Any]], bool] | None = None

    @property
    def flat(self) -> bool:
        """Whether this is a flat trainer format (told apart by its keys)."""
        return bool(self.flat_keys)
