"""Optional dependencies of the test suite: a skip with a reason for a contributor without them,
a failure in CI.

``make test`` (and so ``.ci/run``) installs every extra and sets ``LRKIT_REQUIRE_EXTRAS=1``: a
missing extra is then an error, so CI never passes by skipping. Without the variable a test
module that needs, say, ray is skipped with the reason and the command that installs it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType

import pytest

__all__ = ["REQUIRED", "require", "require_installed"]

#: set by `make test`: every extra must be importable
REQUIRED = os.environ.get("LRKIT_REQUIRE_EXTRAS") == "1"


def require(module: str, reason: str) -> ModuleType:
    """Import ``module`` for a test module: skip it (saying ``reason``) when missing, or fail
    when ``LRKIT_REQUIRE_EXTRAS=1``. Call at module level, before importing from ``module``."""
    why = f"{reason} needs {module!r} (pip install -r requirements-dev.txt, or `make install`)"
    if not REQUIRED:
        return pytest.importorskip(module, reason=why)
    try:
        return importlib.import_module(module)
    except ImportError as err:
        pytest.fail(f"LRKIT_REQUIRE_EXTRAS=1 but {why}: {err}", pytrace=False)


def require_installed(module: str, reason: str) -> None:
    """Like :func:`require` without importing ``module`` (timm's top level imports torchvision,
    which may be built for another torch; its tests load the parts they need themselves)."""
    if importlib.util.find_spec(module) is not None:
        return
    why = f"{reason} needs {module!r} (pip install -r requirements-dev.txt, or `make install`)"
    if REQUIRED:
        pytest.fail(f"LRKIT_REQUIRE_EXTRAS=1 but {why}", pytrace=False)
    pytest.skip(why, allow_module_level=True)
