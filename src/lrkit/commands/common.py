"""Helpers shared by the subcommands: consoles that respect NO_COLOR, one-line errors."""

from __future__ import annotations

import os
import sys

from rich.console import Console

__all__ = ["console", "err_console", "error_line", "EXIT_OK", "EXIT_FINDINGS", "EXIT_BAD_INPUT"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def console() -> Console:
    return Console(no_color=_no_color(), highlight=False, soft_wrap=False)


def err_console() -> Console:
    return Console(file=sys.stderr, no_color=_no_color(), highlight=False, soft_wrap=True)


def error_line(message: str) -> None:
    """Print ``lrkit: error: <message>`` on stderr (one line, no traceback)."""
    err_console().print(f"lrkit: error: {message}", markup=False)
