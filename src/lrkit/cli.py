"""The ``lrkit`` command line (typer + rich).

Each group of subcommands lives in a module of :mod:`lrkit.commands` with a
``register(app)`` function; this module only assembles them. Bad input ends with one line
naming the file, the config path, the value and the fix, and exit code 2 -- never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import warnings
from collections.abc import Sequence
from typing import Annotated, Any

import typer
import typer.core

from lrkit.errors import ConfigError, RenamedFieldWarning

try:  # typer >= 0.22 vendors click as typer._click; older typer raises click's own exceptions
    from typer._click import exceptions as click
except ImportError:  # pragma: no cover
    import click  # type: ignore[no-redef]


def _given(args: Sequence[str], opts: Sequence[str]) -> str | None:
    """The value given to an option in ``args`` (``--opt V``, ``--opt=V``, ``-nV``), for an error message."""
    for i, tok in enumerate(args):
        for opt in opts:
            if tok == opt and i + 1 < len(args):
                return args[i + 1]
            if opt.startswith("--") and tok.startswith(opt + "="):
                return tok[len(opt) + 1 :]
            if not opt.startswith("--") and tok.startswith(opt) and len(tok) > len(opt):
                return tok[len(opt) :]
    return None


def usage_error_line(err: click.ClickException, args: Sequence[str]) -> str:
    """One line for a usage error click/typer found (a bad flag value, an unknown option or
    command, a missing argument), in lrkit's ``what: why. Fix: how`` form."""
    ctx = getattr(err, "ctx", None)
    where = ctx.command_path if ctx is not None else "lrkit"
    see = f"see `{where} --help`"
    param = getattr(err, "param", None)
    if isinstance(err, click.BadParameter) and not isinstance(err, click.MissingParameter) and param is not None:
        opts = [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
        name = " / ".join(opts) if opts else (param.human_readable_name or param.name or "value")
        value = _given(args, opts)
        got = f", got {value!r}" if value is not None else ""
        why = err.message.rstrip(".")
        return f"{where}: {name}: {why}{got}. Fix: give {opts[0] if opts else name} a valid value ({see})."
    message = err.format_message().rstrip(".")
    message += "" if message.endswith("?") else "."
    if isinstance(err, click.NoSuchOption | click.BadOptionUsage):
        return f"{where}: {message} Fix: {see} for its options."
    if "No such command" in message:
        return f"{where}: {message} Fix: see `lrkit --help` for the commands."
    return f"{where}: {message} Fix: {see}."


class LrkitGroup(typer.core.TyperGroup):
    """The ``lrkit`` group: click's usage errors (a bad flag value such as ``--total-steps 0``
    or ``abc``, an unknown option) become lrkit's one error line with exit code 2, like every
    other bad input, instead of typer's boxed usage message; a :class:`ConfigError` that a
    command did not catch is printed the same way."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        from lrkit.commands.common import EXIT_BAD_INPUT, error_line

        argv = list(sys.argv[1:] if args is None else args)
        try:
            with _renamed_fields_as_notes():
                rv = super().main(
                    args=argv, prog_name=prog_name or "lrkit", complete_var=complete_var, standalone_mode=False, **extra
                )
        except click.NoArgsIsHelpError as err:  # `lrkit` alone: the help, as typer prints it
            if not standalone_mode:
                raise
            typer.echo(err.ctx.get_help() if err.ctx is not None else "")
            sys.exit(0)
        except click.ClickException as err:
            if not standalone_mode:
                raise
            error_line(usage_error_line(err, argv))
            sys.exit(EXIT_BAD_INPUT)
        except ConfigError as err:
            if not standalone_mode:
                raise
            error_line(str(err))
            sys.exit(EXIT_BAD_INPUT)
        except typer.Abort:
            if not standalone_mode:
                raise
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


@contextlib.contextmanager
def _renamed_fields_as_notes() -> Any:
    """Show each old field name a config used as one ``lrkit: note:`` line on stderr.

    Python's default filters show a DeprecationWarning only for code in ``__main__``; a config
    read by the command line is the user's own text, so its old names must be seen there too."""
    from lrkit.commands.common import err_console

    shown: set[str] = set()
    previous = warnings.showwarning

    def show(message: Any, category: type[Warning], *rest: Any, **kw: Any) -> None:
        if not issubclass(category, RenamedFieldWarning):
            previous(message, category, *rest, **kw)
        elif str(message) not in shown:
            shown.add(str(message))
            err_console().print(f"lrkit: note: {message}", markup=False)

    with warnings.catch_warnings():
        warnings.simplefilter("always", RenamedFieldWarning)
        warnings.showwarning = show
        yield


def _switch_type_label(self: typer.core.TyperOption, ctx: Any) -> str | None:
    # typer 0.29 labels every switch `<bool>` in help; a switch takes no value, so show none
    if self.is_flag:
        return None
    return _typer_display_type_rich(self, ctx)


_typer_display_type_rich = typer.core.TyperOption.display_type_rich
if getattr(_typer_display_type_rich, "__name__", "") != "_switch_type_label":
    typer.core.TyperOption.display_type_rich = _switch_type_label  # type: ignore[method-assign]

app = typer.Typer(
    name="lrkit",
    cls=LrkitGroup,
    help="Learning-rate schedules that are easy to get right: see, check, convert, find and compare them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
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


def _print_version(value: bool) -> None:
    if value:
        from lrkit import __version__

        typer.echo(f"lrkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", is_eager=True, callback=_print_version, help="Print lrkit's version and exit."),
    ] = False,
) -> None:
    """lrkit: see, check, convert, find and compare learning-rate schedules."""


def version() -> None:
    """Print lrkit's version.

    The same as `lrkit --version` or `lrkit -V`; only the version number, for scripts.

    Example:

        lrkit version
    """
    from lrkit import __version__

    typer.echo(__version__)


def _register_version() -> None:
    from lrkit.commands.common import reflow_help

    app.command("version", help=reflow_help(version))(version)


_register_version()
_register_all()


def main() -> None:
    """Console-script entry point (errors are handled by :class:`LrkitGroup`)."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
