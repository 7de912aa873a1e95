"""Config readers: lrkit's own YAML and the formats people already use.

``load_config(path_or_dict)`` detects the format (or takes ``format=``), resolves
``defaults:`` and ``${...}`` interpolations like OmegaConf, and returns a
:class:`ResolvedConfig` whose ``schedule`` is a factor curve of the schedule algebra that
reproduces the framework's real curve, quirks included (each quirk is also a ``Finding``).
Reading never imports a class named in the config and never imports torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lrkit.config import fields as _F
from lrkit.config.detect import FORMATS, check_format, detect_format
from lrkit.config.detect import reader as _reader_of
from lrkit.config.loading import parse_text, read_file, resolve
from lrkit.config.resolved import ResolvedConfig
from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule

__all__ = [
    "FORMATS",
    "ResolvedConfig",
    "load_config",
    "load_config_text",
    "load_schedule",
    "detect_format",
    "build",
    "build_optimizer",
    "to_config",
    "read_data",
]


def _reader(fmt: str):
    """The reader of ``fmt``, declared beside its detection (``Signature.reader``)."""
    return _reader_of(fmt)


def _check_total(total_steps: Any) -> int | None:
    if total_steps is None:
        return None
    return _F.steps(total_steps, "total_steps", minimum=1)


def _check_overrides(overrides: Any) -> dict[str, Any]:
    """``{"key": value}`` or ``["key=value", ...]`` (the CLI's repeatable ``--set``)."""
    if overrides is None:
        return {}
    if isinstance(overrides, Mapping):
        return {str(k): v for k, v in overrides.items()}
    out: dict[str, Any] = {}
    for item in overrides if isinstance(overrides, list | tuple) else [overrides]:
        key, eq, value = str(item).partition("=")
        if not eq or not key.strip():
            raise ConfigError(
                f"--set {item!r} is not KEY=VALUE.",
                field="--set",
                value=item,
                fix="write --set policy.optimizer.kwargs.lr=1e-5.",
            )
        out[key.strip()] = value
    return out


def _with_notes(res: ResolvedConfig, notes: list[str]) -> ResolvedConfig:
    if not notes:
        return res
    from dataclasses import replace

    from lrkit.findings import Finding

    extra = tuple(
        Finding(
            rule="config-not-merged",
            severity="warning",
            message=n,
            fix="check the defaults: list, or --set what the curve needs.",
            source="defaults",
        )
        for n in notes
    )
    return replace(res, findings=(*res.findings, *extra))


def read_data(
    data: Any,
    *,
    total_steps: int | None = None,
    format: str | None = None,
    source: str = "<dict>",
    base_dir: Path | None = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    duplicates: Sequence[Any] = (),
) -> ResolvedConfig:
    """Read already-parsed config data (``defaults:``/``${...}`` not yet resolved).
    ``overrides``: ``--set`` values, ``{"policy.optimizer.kwargs.lr": 1e-5}``; ``duplicates``:
    keys the file writes twice (:class:`lrkit.config.loading.Duplicate`)."""
    total = _check_total(total_steps)
    fmt = check_format(format) if format is not None else None
    notes: list[str] = []
    data = resolve(data, base_dir=base_dir, name=source, overrides=_check_overrides(overrides), notes=notes)
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}: a config must be a mapping at the top level, got {type(data).__name__}.",
            value=data,
            fix="write key: value pairs (see docs/configs/).",
        )
    if any(not isinstance(k, str) for k in data):
        bad = next(k for k in data if not isinstance(k, str))
        raise ConfigError(
            f"{source}: top-level key {bad!r} is not a string.", field=str(bad), value=bad, fix="use names as keys."
        )
    if fmt is None:
        fmt = detect_format(data, source=source)
    if duplicates and fmt in _OMEGACONF_FORMATS:
        err = duplicates[0].error()
        raise ConfigError(f"{source}: {err.message}", field=err.field, value=err.value, fix=err.fix)
    return _with_duplicates(_with_notes(_reader(fmt)(data, total_steps=total, source=source), notes), duplicates)


#: formats whose framework loads YAML with OmegaConf, which refuses a key written twice
_OMEGACONF_FORMATS = ("lrkit", "nemo_rl", "nemo_rl_megatron", "nemo", "llamafactory", "llamafactory_v1")


def _with_duplicates(res: ResolvedConfig, duplicates: Sequence[Any]) -> ResolvedConfig:
    if not duplicates:
        return res
    from dataclasses import replace

    from lrkit.findings import Finding

    extra = tuple(
        Finding(
            rule="duplicate-key",
            severity="warning",
            message=f"{d.key!r} is written twice (lines {d.first_line} and {d.line}); the value at line {d.line} is "
            "used, as PyYAML and yq keep the last one.",
            fix=f"remove one of the two entries (lines {d.first_line} and {d.line}).",
            evidence={"key": d.key, "lines": [d.first_line, d.line]},
            source=d.key,
        )
        for d in duplicates
    )
    return replace(res, findings=(*res.findings, *extra))


def load_config(
    source: str | Path | Mapping[str, Any],
    *,
    total_steps: int | None = None,
    format: str | None = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
) -> ResolvedConfig:
    """Read a config file (YAML, JSON, or a shell script that launches Megatron-LM), a dict, or
    a Megatron argument list into a :class:`ResolvedConfig`.

    Args:
        source: a path, the config as a dict (``defaults:`` then resolve relative to the
            current directory), or a list of Megatron arguments (``["--lr", "3e-4", ...]``).
            For text use :func:`load_config_text`.
        total_steps: the run length in optimizer updates (NeMo RL: algorithm steps); it wins
            over the file's own run length, and supplies it when the file has none.
        format: one of :data:`FORMATS`; detected from the shape when omitted.
        overrides: ``--set`` values: ``{"dotted.key": value}`` or ``["KEY=VALUE", ...]``; in a
            shell script or argument list, a shell variable (``GBS``) or a Megatron argument (``lr``).
    """
    sets = _check_overrides(overrides)
    if isinstance(source, list | tuple):
        from lrkit.config.megatron_args import read_megatron_argv

        return read_megatron_argv([str(t) for t in source], total_steps=_check_total(total_steps), overrides=sets)
    if isinstance(source, Mapping):
        return read_data(dict(source), total_steps=total_steps, format=format, source="<dict>", overrides=sets)
    if isinstance(source, ResolvedConfig):
        return source
    if not isinstance(source, str | Path):
        raise ConfigError(
            f"expected a file path or a dict, got {type(source).__name__}.",
            field="source",
            value=source,
            fix="pass a path to a YAML/JSON file, a dict, or use load_config_text(text).",
        )
    from lrkit.config.shell import is_shell_script

    path = Path(source)
    if path.is_file() and is_shell_script(path, _head(path)):
        text = path.read_text(encoding="utf-8", errors="replace")
        return _read_shell(text, total_steps, format, sets, str(source))
    dups: list[Any] = []
    data, path = read_file(source, duplicates=dups)
    return read_data(
        data,
        total_steps=total_steps,
        format=format,
        source=str(source),
        base_dir=path.parent,
        overrides=sets,
        duplicates=dups,
    )


def _read_shell(
    text: str, total_steps: int | None, format: str | None, sets: Mapping[str, Any] | None, source: str
) -> ResolvedConfig:
    """A shell script: a Megatron launch, or with ``format`` hf / llamafactory a launch of that
    trainer whose ``--key value`` arguments are its settings (never executed)."""
    from lrkit.config.megatron_args import read_megatron_shell
    from lrkit.config.trainer_launch import TRAINER_SHELL_FORMATS, trainer_shell_args, trainer_shell_pointer

    n = _check_total(total_steps)
    if format == "axolotl":  # axolotl is run from its YAML: the error names the one the script launches
        raise trainer_shell_pointer(text, format=format, overrides=sets, source=source)
    if format in TRAINER_SHELL_FORMATS:
        data = trainer_shell_args(text, format=format, overrides=sets, source=source)
        return read_data(data, total_steps=n, format=format, source=source)
    if format not in (None, "megatron"):
        raise ConfigError(
            f"{source}: a shell script is read as a Megatron launch, or with --format "
            f"{' / '.join(TRAINER_SHELL_FORMATS)} as that trainer's launch arguments; not as {format!r}.",
            field="format",
            value=format,
            fix=f"use --format megatron, {', '.join(TRAINER_SHELL_FORMATS)}, or read the trainer's config file "
            "(lrkit show <config file>).",
        )
    return read_megatron_shell(text, total_steps=n, overrides=sets, source=source)


def _head(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return fh.read(200)
    except OSError:
        return ""


def load_config_text(
    text: str,
    *,
    total_steps: int | None = None,
    format: str | None = None,
    name: str = "<stdin>",
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
) -> ResolvedConfig:
    """Like :func:`load_config` for YAML/JSON text, or a shell script starting with ``#!``
    (``defaults:`` resolve from the current directory)."""
    if isinstance(text, str) and text.lstrip().startswith("#!"):
        from lrkit.config.shell import is_shell_script

        if is_shell_script(Path(name), text):
            return _read_shell(text, total_steps, format, _check_overrides(overrides), name)
    dups: list[Any] = []
    data = parse_text(text, name=name, duplicates=dups)
    return read_data(
        data,
        total_steps=total_steps,
        format=format,
        source=name,
        base_dir=Path.cwd(),
        overrides=overrides,
        duplicates=dups,
    )


def load_schedule(
    source: str | Path | Mapping[str, Any] | ResolvedConfig,
    total_steps: int | None = None,
    *,
    format: str | None = None,
) -> Schedule:
    """The ABSOLUTE learning-rate curve of a config: ``Scale(factor curve, peak_lr)``.

    A dict with a ``type`` key that names a registered schedule family and nothing else of a
    config is taken as a schedule itself.
    """
    if isinstance(source, Schedule):
        return source
    if isinstance(source, ResolvedConfig):
        return source.lr_schedule
    return load_config(source, total_steps=total_steps, format=format).lr_schedule


def build(model_or_params: Any, config: Any, *, total_steps: int | None = None):
    """Build ``(optimizer, lrkit.Scheduler)`` from a config; see :mod:`lrkit.config.builder`."""
    from lrkit.config.builder import build as _build

    return _build(model_or_params, config, total_steps=total_steps)


def build_optimizer(model_or_params: Any, spec: Any):
    """Build the torch optimizer of a config's optimizer spec (param groups included)."""
    from lrkit.config.builder import build_optimizer as _bo

    return _bo(model_or_params, spec)


def to_config(
    schedule: Schedule | ResolvedConfig,
    format: str,
    *,
    peak_lr: float | None = None,
    total_steps: int | None = None,
) -> dict[str, Any]:
    """Express a schedule in a framework's config format; see :mod:`lrkit.config.export`."""
    from lrkit.config.export import to_config as _to

    return _to(schedule, format, peak_lr=peak_lr, total_steps=total_steps)
