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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lrkit.errors import ConfigError

__all__ = ["parse_text", "parse_scalar", "read_file", "resolve", "Unresolved", "Duplicate", "apply_overrides"]


@dataclass(frozen=True)
class Unresolved:
    """A value lrkit could not resolve (``???``, an unset ``${oc.env:X}``, an unknown resolver).

    It stays in the data in place of the value: a reader that needs it gets a ConfigError
    naming the key (through :mod:`lrkit.config.fields`); one that does not never notices.
    """

    expr: str
    why: str

    def __str__(self) -> str:
        return self.expr


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
    # A key written twice: OmegaConf's loader refuses the file (NeMo RL, NeMo and Hydra load with
    # it: the framework fails too), PyYAML and yq keep the last (Megatron's functional tests).
    # Which applies depends on the format, known only later: the loader records each duplicate
    # (``loader.duplicates``) and keeps the last, or raises when nobody collects them. A key after
    # a ``<<: *anchor`` merge overrides the merged one: YAML's rule, not a duplicate.
    first_line: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag != yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG:
            continue
        line = key_node.start_mark.line + 1
        if key_node.value in first_line:
            dup = Duplicate(str(key_node.value), first_line[key_node.value], line)
            collected = getattr(loader, "duplicates", None)
            if collected is None:
                raise dup.error()
            collected.append(dup)
        first_line[key_node.value] = line
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
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class Duplicate:
    """A mapping key written twice in one mapping (lines are 1-based)."""

    key: str
    first_line: int
    line: int

    def error(self) -> ConfigError:
        return ConfigError(
            f"line {self.line}: duplicate key {self.key!r} (first at line {self.first_line}); OmegaConf refuses "
            "such a file (found duplicate key), so the framework would not start.",
            field=self.key,
            value=self.key,
            fix=f"remove one of the two entries (lines {self.first_line} and {self.line}).",
        )


def parse_text(text: str, *, name: str = "<stdin>", duplicates: list[Duplicate] | None = None) -> Any:
    """YAML/JSON text to plain data; a :class:`ConfigError` with the line for bad syntax.
    ``duplicates``: collect keys written twice there (the last is kept) instead of refusing."""
    if not isinstance(text, str):
        raise ConfigError(f"config text must be a string, got {type(text).__name__}.", field=name, value=text)
    try:
        loader = _Loader(text)
        if duplicates is not None:
            loader.duplicates = duplicates  # type: ignore[attr-defined]
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
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


def parse_scalar(text: str) -> Any:
    """One scalar as the config loader reads it (``6e-5`` float, ``500`` int, ``true`` bool);
    text that is not a plain scalar stays text. Text with a ``:`` stays text too: YAML 1.1 reads
    ``3000:32`` as the base-60 number 180032, which no command line or ``--set`` means."""
    if ":" in text:
        return text
    try:
        value = yaml.load(text, Loader=_Loader)
    except (yaml.YAMLError, ConfigError, ValueError, TypeError):
        return text
    return value if isinstance(value, str | int | float | bool) and value is not None else text


def read_file(path: str | Path, *, duplicates: list[Duplicate] | None = None) -> tuple[Any, Path]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {str(p)!r} does not exist.", field="source", value=str(p), fix="check the path."
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{str(p)!r} is a directory.", field="source", value=str(p), fix="give a YAML file."
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(
            f"cannot read {str(p)!r}: {err}.", field="source", value=str(p), fix="give a UTF-8 YAML file."
        ) from None
    return parse_text(text, name=str(p), duplicates=duplicates), p


# -- defaults: and interpolation --------------------------------------------------------------

_RESOLVERS_DONE = False


def _register_resolvers() -> None:
    """The arithmetic resolvers the frameworks register: NeMo RL's ``mul``, ``div``, ``add``,
    ``max`` (``nemo_rl/utils/config.py``) and NeMo's ``multiply``, ``sum`` (``hydra_runner.py``)."""
    global _RESOLVERS_DONE
    if _RESOLVERS_DONE:
        return
    from omegaconf import OmegaConf

    def _num(x: Any) -> float:
        return float(x)

    arithmetic: dict[str, Callable[..., Any]] = {
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "add": lambda *xs: sum(xs),
        "sub": lambda a, b: a - b,
        "max": lambda *xs: max(xs),
        "min": lambda *xs: min(xs),
        "floor": lambda a: math.floor(_num(a)),
        "ceil": lambda a: math.ceil(_num(a)),
        "int": lambda a: int(_num(a)),
        "multiply": lambda a, b: a * b,
        "sum": lambda a, b: a + b,
    }
    register = getattr(OmegaConf, "register_resolver", None) or OmegaConf.register_new_resolver
    for name, fn in arithmetic.items():
        if not OmegaConf.has_resolver(name):
            register(name, fn)
    _RESOLVERS_DONE = True


def _has_interpolation(data: Any) -> bool:
    if isinstance(data, str):
        return "${" in data or data == "???"
    if isinstance(data, Mapping):
        return any(_has_interpolation(v) for v in data.values())
    if isinstance(data, list | tuple):
        return any(_has_interpolation(v) for v in data)
    return False


def _merge_override(base: Any, child: Any) -> Any:
    """NeMo RL's ``merge_with_override``: a top-level section of the child marked
    ``_override_: true`` replaces the parent's section instead of merging into it."""
    from omegaconf import DictConfig, OmegaConf

    for key in list(child.keys()):
        if OmegaConf.is_missing(child, key):
            continue
        node = child[key]
        if isinstance(node, DictConfig) and node.get("_override_", False):
            node.pop("_override_")
            if key in base:
                base.pop(key)
    return OmegaConf.merge(base, child)


_GROUP_RE = re.compile(r"^(?:(optional|override)\s+)?([\w./-]+?)(?:@([\w.]+))?$")


def _group_file(base_dir: Path, group: str, option: str) -> Path | None:
    for ext in (".yaml", ".yml"):
        p = base_dir / group / f"{option}{ext}"
        if p.is_file():
            return p
    return None


def _package_header(path: Path) -> str | None:
    try:
        head = path.read_text(encoding="utf-8").splitlines()[:5]
    except OSError:
        return None
    for line in head:
        m = re.match(r"#\s*@package\s+(\S+)", line)
        if m:
            return m.group(1)
    return None


def _defaults_entries(data: Mapping[str, Any], name: str) -> list[Any]:
    """The ``defaults:`` list (one file name is a list of one), ``_self_`` last when absent."""
    entries = data["defaults"]
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, list):
        raise ConfigError(
            f"{name}: 'defaults' must be a file name or a list, got {entries!r}.",
            field="defaults",
            value=entries,
            fix="write defaults: parent.yaml (relative to this file), or a Hydra defaults list.",
        )
    return entries if "_self_" in entries else [*entries, "_self_"]


def _file_entry(entry: str, base_dir: Path, name: str, seen: tuple[Path, ...], notes: list[str]) -> Any:
    """A parent file (NeMo RL's form, or Hydra's ``group/option`` string), its own defaults
    merged; ``None`` (with a note) when a Hydra option is not next to the file."""
    from omegaconf import OmegaConf

    ppath = (base_dir / entry).resolve()
    if not ppath.suffix and not ppath.is_file():
        # Hydra's "group/option" string
        group, _, option = entry.rpartition("/")
        found = _group_file(base_dir, group, option) if group else None
        if found is None:
            notes.append(f"defaults: {entry!r} was not found next to the file; it is not merged.")
            return None
        ppath = found.resolve()
    if ppath in seen:
        raise ConfigError(
            f"{name}: 'defaults' inheritance loops back to {str(ppath)!r}.",
            field="defaults",
            value=entry,
            fix="remove the cycle between the files' defaults: entries.",
        )
    pdata, _ = read_file(ppath)
    pdata = _load_with_defaults(pdata, ppath.parent, str(ppath), (*seen, ppath), notes)
    if not isinstance(pdata, Mapping):
        raise ConfigError(f"{str(ppath)!r} must hold a mapping.", field="defaults", value=entry)
    return OmegaConf.create(dict(pdata))


def _group_entry(entry: Mapping[Any, Any], base_dir: Path, seen: tuple[Path, ...], notes: list[str]) -> list[Any]:
    """``{group: option}`` / ``{optional group@pkg: [options]}``: each option's file placed at its
    package (``@pkg``, the file's ``# @package`` header, or the group's path)."""
    ((key, option),) = entry.items()
    m = _GROUP_RE.match(str(key))
    if m is None:
        notes.append(f"defaults: entry {dict(entry)!r} is not a Hydra group entry; it is not merged.")
        return []
    kind, group, pkg = m.groups()
    nodes: list[Any] = []
    for opt in option if isinstance(option, list) else [option]:
        if opt is None:
            continue
        found = _group_file(base_dir, group, str(opt))
        if found is None:
            if kind != "optional":
                notes.append(
                    f"defaults: Hydra group {group}={opt} ({group}/{opt}.yaml) was not found next to the "
                    "file; it is not merged."
                )
            continue
        gpath = found.resolve()
        if gpath in seen:
            continue
        gdata, _ = read_file(gpath)
        gdata = _load_with_defaults(gdata, gpath.parent, str(gpath), (*seen, gpath), notes)
        package = pkg or _package_header(gpath) or group.replace("/", ".")
        if package == "_group_":
            package = group.replace("/", ".")
        node: Any = gdata if isinstance(gdata, Mapping) else {}
        if package not in ("_global_", ""):
            for part in reversed(package.split(".")):
                node = {part: node}
        nodes.append(node)
    return nodes


def _load_with_defaults(data: Any, base_dir: Path, name: str, seen: tuple[Path, ...], notes: list[str]) -> Any:
    """``defaults:`` in NeMo RL's form (file names, parents first, ``_override_`` honoured) and
    Hydra's (``_self_``, ``{group: option}``, ``{optional group@pkg: option}``: the group's
    ``<group>/<option>.yaml`` next to the file, merged at its package; ``_self_`` last when
    absent). A Hydra group file that is not there is skipped with a note: it is merged only
    where it exists, and a value the curve needs from it is then asked for by name."""
    from omegaconf import Container, OmegaConf

    if not isinstance(data, Mapping) or "defaults" not in data:
        return data
    entries = _defaults_entries(data, name)
    child = OmegaConf.create({k: v for k, v in data.items() if k != "defaults"})
    merged: Container = OmegaConf.create({})
    for entry in entries:
        if entry == "_self_":
            merged = _merge_override(merged, child)
        elif isinstance(entry, str):
            parent = _file_entry(entry, base_dir, name, seen, notes)
            if parent is not None:
                merged = _merge_override(merged, parent)
        elif isinstance(entry, Mapping) and len(entry) == 1:
            for node in _group_entry(entry, base_dir, seen, notes):
                merged = OmegaConf.merge(merged, OmegaConf.create(node))
        else:
            notes.append(f"defaults: entry {entry!r} is not understood; it is not merged.")
    return OmegaConf.to_container(merged, resolve=False)


def _env_overrides(data: Any, overrides: Mapping[str, Any]) -> Any:
    """``${oc.env:NAME}`` / ``${oc.env:NAME,default}`` replaced by ``--set NAME=value``."""
    if isinstance(data, str) and "oc.env:" in data:
        for key, value in overrides.items():
            data = re.sub(r"\$\{oc\.env:" + re.escape(key) + r"(,[^}]*)?\}", str(value), data)
        return data
    if isinstance(data, Mapping):
        return {k: _env_overrides(v, overrides) for k, v in data.items()}
    if isinstance(data, list):
        return [_env_overrides(v, overrides) for v in data]
    return data


def _mentions(data: Any, key: str) -> bool:
    pat = re.compile(r"\$\{(oc\.env:)?" + re.escape(key) + r"\b")
    if isinstance(data, str):
        return bool(pat.search(data))
    if isinstance(data, Mapping):
        return any(_mentions(v, key) for v in data.values())
    if isinstance(data, list):
        return any(_mentions(v, key) for v in data)
    return False


def apply_overrides(data: Any, overrides: Mapping[str, Any] | None, *, name: str) -> tuple[Any, set[str]]:
    """``--set key=value``: a dotted key of the config (``policy.optimizer.kwargs.lr``), or a
    name the config refers to (``${DATA_PATH}``, ``${oc.env:HF_HOME}``). The value is read as
    YAML (``1e-4`` a float). A key that is neither is refused, so a misspelt one is not lost.
    Returns the data and the top-level keys added only to satisfy references."""
    from omegaconf import OmegaConf

    if not overrides:
        return data, set()
    if not isinstance(data, Mapping):
        return data, set()
    values = {str(k): parse_scalar(v) if isinstance(v, str) else v for k, v in overrides.items()}
    original = data
    data = _env_overrides(data, values)
    cfg = OmegaConf.create(dict(data))
    added: set[str] = set()
    for key, value in values.items():
        parent = _parent_missing(original, key)
        if parent is not None:
            if "." not in key and _mentions(original, key):
                added.add(key)
            else:
                from lrkit.errors import did_you_mean

                raise ConfigError(
                    f"{name}: --set {key}: the config has no {parent!r} and nothing in it refers to {key!r}."
                    f"{did_you_mean(parent.rsplit('.', 1)[-1], _siblings(original, parent))}",
                    field=key,
                    value=overrides[key],
                    fix="--set a dotted key of the config (e.g. policy.optimizer.kwargs.lr=1e-5) or a name it refers "
                    "to as ${NAME}.",
                )
        cfg = _set_dotted(cfg, key, value)
    return OmegaConf.to_container(cfg, resolve=False), added


def _parent_missing(data: Any, key: str) -> str | None:
    """The first missing section on the way to ``key`` (its last part may be new), or None.
    A top-level name with no section above it counts as missing unless the file has it."""
    parts = key.split(".")
    cur: Any = data
    for i, part in enumerate(parts):
        name = re.sub(r"\[\d+\]$", "", part)
        if not isinstance(cur, Mapping) or name not in cur:
            if i == len(parts) - 1 and i > 0:
                return None
            return ".".join(parts[: i + 1])
        cur = cur[name]
        for idx in re.findall(r"\[(\d+)\]", part):
            cur = cur[int(idx)] if isinstance(cur, list) and int(idx) < len(cur) else None
    return None


def _siblings(data: Any, path: str) -> list[str]:
    parent = data
    for part in path.split(".")[:-1]:
        parent = parent.get(part) if isinstance(parent, Mapping) else None
    return [str(k) for k in parent] if isinstance(parent, Mapping) else []


def _set_dotted(cfg: Any, key: str, value: Any) -> Any:
    """``key`` (``a.b[1].c``) set to ``value`` on plain data, never resolving what it replaces
    (an interpolation to a ``???`` would raise)."""
    from omegaconf import OmegaConf

    data = OmegaConf.to_container(cfg, resolve=False)
    parts = [p for p in re.split(r"\.|(\[\d+\])", key) if p]
    cur: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        index = int(part[1:-1]) if part.startswith("[") else None
        if index is not None:
            if not isinstance(cur, list) or index >= len(cur):
                raise ConfigError(
                    f"--set {key}: {part} is not an item of a list there.", field=key, fix="check the key."
                )
            if last:
                cur[index] = value
            else:
                cur = cur[index]
            continue
        if not isinstance(cur, dict):
            raise ConfigError(
                f"--set {key}: {part!r} is below a value, not a section.", field=key, fix="check the key."
            )
        if last:
            cur[part] = value
        else:
            if not isinstance(cur.get(part), dict | list):
                cur[part] = {}
            cur = cur[part]
    return OmegaConf.create(data)


def _lazy(node: Any) -> Any:
    """Resolve every leaf that resolves; a leaf that does not becomes :class:`Unresolved`."""
    from omegaconf import DictConfig, ListConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    keys = list(node.keys()) if isinstance(node, DictConfig) else list(range(len(node)))
    out: dict[Any, Any] | list[Any] = {} if isinstance(node, DictConfig) else []
    for key in keys:
        raw = node._get_node(key)
        expr = str(raw._value()) if raw is not None else "?"
        try:
            if OmegaConf.is_missing(node, key):
                value: Any = Unresolved("???", "a mandatory value (???) the file leaves to be set")
            else:
                value = node[key]
                if isinstance(value, DictConfig | ListConfig):
                    value = _lazy(value)
        except OmegaConfBaseException as err:
            first = (getattr(err, "msg", None) or str(err)).strip().splitlines()
            value = Unresolved(expr, first[0] if first else type(err).__name__)
        except (
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            ZeroDivisionError,
            OverflowError,
            RecursionError,
        ) as err:
            value = Unresolved(expr, f"{type(err).__name__}: {err}")
        if isinstance(out, dict):
            out[key] = value
        else:
            out.append(value)
    return out


def resolve(
    data: Any,
    *,
    base_dir: Path | None,
    name: str,
    seen: tuple[Path, ...] = (),
    overrides: Mapping[str, Any] | None = None,
    notes: list[str] | None = None,
) -> Any:
    """Apply ``defaults:`` inheritance, ``--set`` overrides and ``${...}`` interpolation; plain
    data out. What does not resolve (``???``, an unset environment variable, a key or resolver
    that does not exist) stays as :class:`Unresolved`, so only a reader that needs it stops."""
    from omegaconf.errors import OmegaConfBaseException

    notes = notes if notes is not None else []
    needs_defaults = isinstance(data, Mapping) and "defaults" in data
    if not needs_defaults and not overrides and not _has_interpolation(data):
        return data
    try:
        from omegaconf import OmegaConf

        _register_resolvers()
        if needs_defaults:
            data = _load_with_defaults(data, base_dir or Path.cwd(), name, seen, notes)
        data, added = apply_overrides(data, overrides, name=name)
        if not _has_interpolation(data):
            return data
        out = _lazy(OmegaConf.create(data))
        for key in added:
            out.pop(key, None)
        return out
    except ConfigError:
        raise
    except OmegaConfBaseException as err:
        full_key = getattr(err, "full_key", None) or None
        msg = getattr(err, "msg", None) or str(err)
        first = str(msg).strip().splitlines()[0] if str(msg).strip() else type(err).__name__
        raise ConfigError(
            f"{name}: cannot read the config ({first}).",
            field=str(full_key) if full_key else None,
            fix="check the defaults: files and the ${...} interpolations.",
        ) from None
    except (ValueError, TypeError, KeyError, AttributeError, ZeroDivisionError, OverflowError, RecursionError) as err:
        raise ConfigError(
            f"{name}: cannot resolve the config ({type(err).__name__}: {err}).",
            fix="check the ${...} interpolations and the defaults: files.",
        ) from None
