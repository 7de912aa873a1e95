"""From a file, text or dict to plain resolved data -- without running anything.

- YAML is parsed with a ``yaml.SafeLoader`` subclass (no tags that build objects). Like
  OmegaConf (which NeMo RL uses), it reads ``1e-4`` as a float, not a string, and it refuses
  duplicate keys instead of silently keeping the last one.
- JSON is YAML, so ``.json`` files go through the same loader.
- ``defaults:`` (a file name or a list of them, relative to the file) is NeMo RL's inheritance:
  the parents are loaded first (recursively) and the child is merged over them with
  ``OmegaConf.merge``; ``${a.b}`` interpolations are then resolved with OmegaConf over the
  merged tree, as NeMo RL does. Arithmetic resolvers NeMo RL registers (``mul``, ``div``,
  ``max``, ``min``...) are available too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from lrkit.errors import ConfigError

__all__ = ["parse_text", "read_file", "resolve"]

# OmegaConf's float resolver: YAML 1.2-style floats (1e-4, .5, inf) are floats.
_FLOAT_RE = re.compile(
    r"""^(?:
     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class _Loader(yaml.SafeLoader):
    """Safe loader, OmegaConf's float rule, duplicate keys refused."""


_Loader.yaml_implicit_resolvers = {k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
for _ch in list("-+0123456789."):
    _Loader.yaml_implicit_resolvers[_ch] = [
        (tag, rx) for tag, rx in _Loader.yaml_implicit_resolvers.get(_ch, []) if tag != "tag:yaml.org,2002:float"
    ]
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_RE, list("-+0123456789."))


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise ConfigError(
                f"line {key_node.start_mark.line + 1}: a mapping key must be a plain value, got {key!r}.",
                fix="use a string as the key.",
            ) from None
        if key in out:
            raise ConfigError(
                f"line {key_node.start_mark.line + 1}: duplicate key {key!r} (YAML would silently keep the last one).",
                field=str(key),
                value=key,
                fix="remove one of the two entries.",
            )
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_text(text: str, *, name: str = "<stdin>") -> Any:
    """YAML/JSON text to plain data; a :class:`ConfigError` with the line for bad syntax."""
    if not isinstance(text, str):
        raise ConfigError(f"config text must be a string, got {type(text).__name__}.", field=name, value=text)
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader subclass
    except ConfigError as err:
        raise ConfigError(f"{name}: {err.message}", field=err.field, value=err.value, fix=err.fix) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        # "file: line 3, column 5: ..." or, with no position (a bad character), "file: ..."
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(
            f"{name}:{where} not valid YAML/JSON ({problem}).",
            value=None,
            fix="check the indentation and quoting around that line." if where else "remove or quote what it names.",
        ) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as err:
        raise ConfigError(f"{name}: not valid YAML/JSON ({err}).", fix="check the file's syntax.") from None


def read_file(path: str | Path) -> tuple[Any, Path]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {str(p)!r} does not exist.", field="source", value=str(p), fix="check the path."
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{str(p)!r} is a directory.", field="source", value=str(p), fix="give a YAML file.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read {str(p)!r}: {err}.", field="source", value=str(p), fix="give a UTF-8 YAML file.") from None
    return parse_text(text, name=str(p)), p


# -- defaults: and interpolation --------------------------------------------------------------

_RESOLVERS_DONE = False


def _register_resolvers() -> None:
    global _RESOLVERS_DONE
    if _RESOLVERS_DONE:
        return
    from omegaconf import OmegaConf

    def _num(x: Any) -> float:
        return float(x)

    arithmetic = {
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "add": lambda *xs: sum(xs),
        "sub": lambda a, b: a - b,
        "max": lambda *xs: max(xs),
        "min": lambda *xs: min(xs),
        "floor": lambda a: math.floor(_num(a)),
        "ceil": lambda a: math.ceil(_num(a)),
        "int": lambda a: int(_num(a)),
    }
    register = getattr(OmegaConf, "register_resolver", None) or OmegaConf.register_new_resolver
    for name, fn in arithmetic.items():
        if not OmegaConf.has_resolver(name):
            register(name, fn)
    _RESOLVERS_DONE = True


def _has_interpolation(data: Any) -> bool:
    if isinstance(data, str):
        return "${" in data
    if isinstance(data, Mapping):
        return any(_has_interpolation(v) for v in data.values())
    if isinstance(data, list | tuple):
        return any(_has_interpolation(v) for v in data)
    return False


def _omegaconf_error(err: Exception, name: str) -> ConfigError:
    key = getattr(err, "full_key", None) or None
    msg = getattr(err, "msg", None) or str(err)
    first = str(msg).strip().splitlines()[0] if str(msg).strip() else type(err).__name__
    return ConfigError(
        f"{name}: cannot resolve the config ({first}).",
        field=str(key) if key else None,
        fix="check the ${...} interpolation (the key it names must exist) and the defaults: files.",
    )


def _load_with_defaults(data: Any, base_dir: Path, name: str, seen: tuple[Path, ...]) -> Any:
    from omegaconf import OmegaConf

    if not isinstance(data, Mapping) or "defaults" not in data:
        return data
    parents = data["defaults"]
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ConfigError(
            f"{name}: 'defaults' must be a file name or a list of file names, got {parents!r}.",
            field="defaults",
            value=parents,
            fix="write defaults: parent.yaml (relative to this file).",
        )
    merged = OmegaConf.create({})
    for parent in parents:
        ppath = (base_dir / parent).resolve()
        if ppath in seen:
            raise ConfigError(
                f"{name}: 'defaults' inheritance loops back to {str(ppath)!r}.",
                field="defaults",
                value=parent,
                fix="remove the cycle between the files' defaults: entries.",
            )
        pdata, _ = read_file(ppath)
        pdata = _load_with_defaults(pdata, ppath.parent, str(ppath), (*seen, ppath))
        if not isinstance(pdata, Mapping):
            raise ConfigError(f"{str(ppath)!r} must hold a mapping.", field="defaults", value=parent)
        merged = OmegaConf.merge(merged, OmegaConf.create(dict(pdata)))
    child = {k: v for k, v in data.items() if k != "defaults"}
    merged = OmegaConf.merge(merged, OmegaConf.create(child))
    return OmegaConf.to_container(merged, resolve=False)


def resolve(data: Any, *, base_dir: Path | None, name: str, seen: tuple[Path, ...] = ()) -> Any:
    """Apply ``defaults:`` inheritance and ``${...}`` interpolation; plain data out."""
    from omegaconf.errors import OmegaConfBaseException

    needs_defaults = isinstance(data, Mapping) and "defaults" in data
    if not needs_defaults and not _has_interpolation(data):
        return data
    try:
        from omegaconf import OmegaConf

        _register_resolvers()
        if needs_defaults:
            data = _load_with_defaults(data, base_dir or Path.cwd(), name, seen)
        if not _has_interpolation(data):
            return data
        return OmegaConf.to_container(OmegaConf.create(data), resolve=True)
    except ConfigError:
        raise
    except OmegaConfBaseException as err:
        raise _omegaconf_error(err, name) from None
    except (ValueError, TypeError, KeyError, AttributeError, ZeroDivisionError, OverflowError, RecursionError) as err:
        raise ConfigError(
            f"{name}: cannot resolve the config ({type(err).__name__}: {err}).",
            fix="check the ${...} interpolations and the defaults: files.",
        ) from None
