"""The ``lrkit`` command line (typer + rich).

Each group of subcommands lives in a module of :mod:`lrkit.commands` with a
``register(app)`` function; this module only assembles them. Bad input ends with one line
naming the file, the config path, the value and the fix, and exit code 2 -- never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

from lrkit.errors import ConfigError

app = typer.Typer(
    name="lrkit",
    help="Learning-rate schedules that are easy to get right: see, check, convert, find and compare them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: modules under lrkit.commands that add subcommands
COMMAND_MODULES = ("schedule", "find", "diagnose", "compare", "demo")


def _register_all() -> None:
    for name in COMMAND_MODULES:
        module = f"lrkit.commands.{name}"
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name == module:  # not written yet
                continue
            raise
        mod.register(app)


@app.callback()
def _root() -> None:
    """lrkit: see, check, convert, find and compare learning-rate schedules."""


@app.command("version")
def version() -> None:
    """Print lrkit's version."""
    from lrkit import __version__

    typer.echo(__version__)


_register_all()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except ConfigError as err:
        from lrkit.commands.common import error_line

        error_line(str(err))
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
