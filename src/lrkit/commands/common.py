"""Helpers shared by the subcommands: consoles that respect NO_COLOR, one-line errors,
reading a config from a path or standard input, and turning bad input into exit code 2."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console

__all__ = [
    "console",
    "out_console",
    "err_console",
    "error_line",
    "bad_input",
    "BadInput",
    "read_config",
    "reflow_help",
    "EXIT_OK",
    "EXIT_FINDINGS",
    "EXIT_BAD_INPUT",
]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


#: columns of tables and rules when the output is not a terminal (a file, a pipe, CI): fixed, so
#: the output does not depend on where it is written or on $COLUMNS
PIPE_WIDTH = 100


def _width(file: Any) -> int | None:
    """``None`` (the terminal's width) on a terminal, else :data:`PIPE_WIDTH`."""
    isatty = getattr(file, "isatty", None)
    try:
        return None if isatty is not None and isatty() else PIPE_WIDTH
    except ValueError:  # a closed stream
        return PIPE_WIDTH


def console() -> Console:
    """Standard output for live progress and tables: on a terminal they fit its width; elsewhere
    the width is :data:`PIPE_WIDTH`."""
    return Console(no_color=_no_color(), highlight=False, soft_wrap=False, width=_width(sys.stdout))


def out_console() -> Console:
    """Standard output for reports: text never wraps (so it can be diffed and parsed), no emoji
    codes, no highlighting; tables and rules are :data:`PIPE_WIDTH` wide when not on a terminal."""
    return Console(no_color=_no_color(), highlight=False, soft_wrap=True, emoji=False, width=_width(sys.stdout))


def err_console() -> Console:
    return Console(
        file=sys.stderr, no_color=_no_color(), highlight=False, soft_wrap=True, emoji=False, width=_width(sys.stderr)
    )


def error_line(message: str) -> None:
    """Print ``lrkit: error: <message>`` on stderr (one line, no traceback)."""
    one_line = " ".join(str(message).split())
    err_console().print(f"lrkit: error: {one_line}", markup=False)


class BadInput(Exception):
    """Input a person must fix (a missing file, a bad value); the CLI prints it and exits 2."""


def _describe(err: BaseException, *, writing: bool = False) -> str | None:
    """One line for an error caused by bad input, or ``None`` for a bug (let it surface).
    ``writing``: the path is an output, so the hints about config files do not apply."""
    from lrkit.errors import ConfigError

    if isinstance(err, BadInput | ConfigError):
        return str(err)
    if writing and isinstance(err, OSError):
        what = "is a directory" if isinstance(err, IsADirectoryError) else (err.strerror or str(err))
        return f"cannot write the output here: {what}. Fix: give a file name in a writable folder."
    if isinstance(err, FileNotFoundError):
        return f"no such file: {err.filename}. Fix: check the path (use - to read standard input)."
    if isinstance(err, IsADirectoryError):
        return f"{err.filename} is a directory. Fix: give a config file."
    if isinstance(err, PermissionError):
        return f"permission denied: {err.filename}. Fix: check the file's permissions."
    if isinstance(err, OSError):
        return f"cannot access {err.filename or 'the file'}: {err.strerror or err}. Fix: check the path."
    if isinstance(err, UnicodeDecodeError):
        return f"not UTF-8 text ({err.reason} at byte {err.start}). Fix: give a YAML or JSON text file."
    module = type(err).__module__ or ""
    if module.split(".")[0] in ("yaml", "omegaconf", "pydantic", "json"):
        return f"cannot parse the config: {err}. Fix: correct the syntax at the place named."
    return None


def _without_source(err: BaseException, where: str | None) -> BaseException:
    """``err`` without its own leading ``"<where>: "``: readers name the file in their messages
    (the Python API has no other place for it), and the CLI names it once, first."""
    from lrkit.errors import ConfigError

    prefix = f"{where}: "
    if not where or not isinstance(err, ConfigError) or not err.message.startswith(prefix):
        return err
    try:
        return type(err)(err.message[len(prefix) :], field=err.field, value=err.value, fix=err.fix)
    except TypeError:  # a subclass built differently: keep it whole
        return err


@contextlib.contextmanager
def bad_input(where: str | None = None, *, writing: bool = False) -> Iterator[None]:
    """Turn bad-input errors raised inside into one line on stderr (prefixed with ``where``,
    usually the config file; ``writing`` when it is an output file) and exit code 2; anything
    else is a bug and propagates."""
    import typer

    try:
        yield
    except typer.Exit:
        raise
    except Exception as err:  # filtered by _describe
        line = _describe(_without_source(err, where), writing=writing)
        if line is None:
            raise
        prefixed = not where or line.startswith(f"{where}:") or line.startswith(f"{where} ")
        error_line(line if prefixed else f"{where}: {line}")
        raise typer.Exit(EXIT_BAD_INPUT) from None


def read_config(source: str, *, total_steps: int | None = None, format: str | None = None) -> Any:
    """Resolve the config at ``source`` (a path, or ``-`` for standard input) into a
    :class:`lrkit.config.ResolvedConfig`. Raises what the reader raises (:class:`ConfigError`,
    ``OSError``); wrap calls in :func:`bad_input`."""
    from lrkit import config as cfg

    if source == "-":
        text = sys.stdin.read()
        if not text.strip():
            raise BadInput("standard input is empty. Fix: pipe a config in, e.g. cat run.yaml | lrkit show -")
        return cfg.load_config_text(text, total_steps=total_steps, format=format, name="<stdin>")
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", source)
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory", source)
    if path.suffix.lower() == ".toml":
        raise BadInput(
            f"{source}: TOML is not read; lrkit reads YAML and JSON configs. "
            "Fix: write the same keys as YAML or JSON (see docs/configs/)."
        )
    return cfg.load_config(path, total_steps=total_steps, format=format)


def reflow_help(fn: Any) -> str:
    """``fn``'s docstring for ``app.command(help=...)``, each paragraph on one line.

    typer's rich help keeps single newlines, so a docstring wrapped at the source's line length
    shows broken sentences; paragraphs whose first line is indented (examples) stay as written.
    """
    import inspect

    out = []
    for para in inspect.cleandoc(fn.__doc__ or "").split("\n\n"):
        lines = para.splitlines()
        out.append(para if lines and lines[0].startswith(" ") else " ".join(x.strip() for x in lines))
    return "\n\n".join(out)
