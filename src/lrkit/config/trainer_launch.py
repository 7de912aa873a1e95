"""Launches of trainers other than Megatron-LM found in shell scripts.

A script read for its learning-rate curve may launch a Hugging Face-style trainer
(``TrainingArguments``, TRL, LLaMA-Factory: ``--learning_rate 2e-5 --lr_scheduler_type cosine``)
or a trainer run from its own config file (``axolotl train cfg.yml``, ``llamafactory-cli train
cfg.yaml``, ``train.py --config recipe.yaml``). Reading such flags as Megatron's would answer with
a wrong curve, so they live apart from :mod:`lrkit.config.megatron_args`: here a launch is either
read as the trainer the user names (``--format hf`` / ``llamafactory``) or answered with the
config file it hands on and the command that reads it; lrkit never guesses the trainer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from lrkit.config.shell import MARKER_RE, ShellArgs, Unknown, parse_shell, unmarked
from lrkit.errors import ConfigError

__all__ = [
    "TRAINER_SHELL_FORMATS",
    "flag_values",
    "not_megatron",
    "trainer_pointer",
    "trainer_shell_args",
    "trainer_shell_pointer",
]

#: learning-rate arguments of the trainers that take ``--key value`` like Megatron but are not it
#: (Hugging Face ``TrainingArguments`` and what extends it: TRL, LLaMA-Factory); Megatron has none
_TRAINER_FLAGS = ("learning_rate", "lr_scheduler_type", "lr_scheduler_kwargs", "warmup_ratio", "num_train_epochs")
_CONFIG_FILE_RE = re.compile(r"\.(ya?ml|json)$")
#: flags naming a trainer's own config file; Megatron-LM has none of them (its YAML is --yaml-cfg)
_CONFIG_FLAGS = ("config", "config_file", "cfg")
#: a Hydra / OmegaConf override word (trainer.max_steps=100, +x=1, ++policy.lr=1e-6)
_OVERRIDE_RE = re.compile(r"^\+{0,2}[A-Za-z_][\w.\[\]-]*=")


def flag_values(words: Sequence[str]) -> dict[str, str]:
    """``--k v`` / ``--k=v`` / ``--flag`` to ``{k_with_underscores: value}`` ('' for a bare flag)."""
    out: dict[str, str] = {}
    for k, t in enumerate(words):
        if not t.startswith("--"):
            continue
        name, eq, value = t[2:].partition("=")
        if not eq:
            value = words[k + 1] if k + 1 < len(words) and not words[k + 1].startswith("--") else ""
        out[name.replace("-", "_")] = value
    return out


def _trainer_config(words: Sequence[str]) -> str | None:
    """The config file a launch hands its trainer: ``--config recipe.yaml`` (TRL, open-r1, NeMo RL),
    Hydra's ``--config-path P --config-name N`` (NeMo, NeMo-Aligner), or a first word that is a
    YAML/JSON file (LLaMA-Factory's ``train.py recipe.yaml``); ``None`` when it names none."""
    flags = flag_values(words)
    for name in _CONFIG_FLAGS:
        if flags.get(name):
            return flags[name]
    if flags.get("config_name"):
        name = flags["config_name"]
        name = name if _CONFIG_FILE_RE.search(name) else name + ".yaml"
        return f"{flags['config_path']}/{name}" if flags.get("config_path") else name
    if words and not words[0].startswith("--") and _CONFIG_FILE_RE.search(words[0]):
        return words[0]
    return None


def not_megatron(
    launches: Sequence[Sequence[str]], source: str, unknowns: Mapping[str, Unknown], *, files: bool = True
) -> ConfigError | None:
    """A script whose launch lines pass no ``--lr`` but another trainer's learning-rate arguments
    (``--learning_rate``, ``--lr_scheduler_type``) or config file (``--config recipe.yaml``,
    ``--config-name``) launches some other trainer: lrkit says so instead of reading its flags as
    Megatron's (whose argparse has none of them). ``files``: whether a config file counts (not for
    argument variables without a launch line, where an accelerate ``--config_file`` may sit)."""
    flags = [flag_values(ln) for ln in launches]
    if any("lr" in f for f in flags):
        return None
    theirs = sorted({f"--{k}" for f in flags for k in f if k in _TRAINER_FLAGS})
    configs = [c for ln in launches if (c := _trainer_config(ln)) is not None] if files else []
    if not theirs and not configs:
        return None
    if theirs:
        what = (
            f"its launch passes {', '.join(theirs)}: a Hugging Face-style trainer's arguments (TrainingArguments, "
            "TRL, LLaMA-Factory), not Megatron's (which has --lr, and refuses these)"
        )
        fix = (
            "pass --format hf (TrainingArguments, TRL) or --format llamafactory, whichever runs it, to read the "
            "launch's arguments as that trainer's (an axolotl run: read its YAML)"
        )
        value: Any = ["hf", "llamafactory", "axolotl"]
    else:
        named = list(dict.fromkeys(str(unmarked(c, unknowns)) for c in configs))
        overrides = sum(1 for ln in launches for t in ln if _OVERRIDE_RE.match(t))
        what = f"its launch passes no --lr but the trainer's config file {', '.join(named)}"
        fix = f"read that file instead: lrkit show {named[0]}" + (
            f" (with the launch's {overrides} KEY=VALUE override{'s' if overrides > 1 else ''} as --set KEY=VALUE)"
            if overrides
            else ""
        )
        value = named
    return ConfigError(
        f"{source}: {what}; lrkit reads a shell script only as a Megatron launch and does not guess which "
        "trainer this one runs.",
        field="format",
        value=value,
        fix=fix + "; for a Megatron script, give the launch with --lr.",
    )


#: settings of an axolotl / LLaMA-Factory config the LR curve reads: a launch that overrides one is
#: answered with the --set that gives the file the same value
_LAUNCH_CURVE_KEYS = (
    *_TRAINER_FLAGS,
    "lr_scheduler",
    "num_epochs",
    "warmup_steps",
    "max_steps",
    "cosine_min_lr_ratio",
    "cosine_constant_lr_ratio",
    "lr_quadratic_warmup",
    "micro_batch_size",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "optimizer",
    "optim",
    "deepspeed",
    "rl",
    "stage",
)
_TRAINER_NAMES = {"axolotl": "axolotl", "llamafactory": "LLaMA-Factory"}


def _cli_config(trainer: str, words: Sequence[str]) -> tuple[str | None, list[str]]:
    """The config file a trainer command is given and the launch's overrides of it as ``KEY=VALUE``:
    axolotl's positional CONFIG and its ``--key value`` options (click: dashes for underscores),
    LLaMA-Factory's first word when it is a YAML/JSON file and the ``key=value`` words after it
    (OmegaConf.from_cli). ``(None, [])`` when LLaMA-Factory takes ``--key value`` arguments instead."""
    if trainer == "llamafactory":
        # LLaMA-Factory reads argv[1] as its config when it ends in .yaml/.yml/.json, and argv as
        # --key value arguments otherwise: a first word that is no option is a file ($CONFIG)
        if not words or words[0].startswith("-"):
            return None, []
        sets = [w for w in words[1:] if _OVERRIDE_RE.match(w) and w.split("=", 1)[0] in _LAUNCH_CURVE_KEYS]
        return words[0], sets
    config = next((w for w in words if _CONFIG_FILE_RE.search(w) and not w.startswith("-")), None)
    if config is None:  # CONFIG is click's one positional argument: the first word no option takes
        taking = False
        for w in words:
            if w == "--":
                break
            if w.startswith("-"):
                taking = "=" not in w
                continue
            if not taking:
                config = w
                break
            taking = False
    sets = [f"{k}={v}" for k, v in flag_values(list(words)).items() if v != "" and k in _LAUNCH_CURVE_KEYS]
    return config, sets


def trainer_pointer(parsed: ShellArgs, source: str, format: str | None) -> ConfigError | None:
    """The error for a script that runs axolotl or LLaMA-Factory on a config file (or, with
    ``format`` named, any launch that hands its trainer a config file): it names the file and the
    command that reads it; lrkit never reads a file a script names, nor runs the script. ``None``
    when the script runs no such command (or LLaMA-Factory with ``--key value`` arguments, which
    ``--format llamafactory`` reads from the script)."""
    found: list[tuple[str, str, str, list[str], bool]] = []
    for k, words in enumerate(parsed.launches):
        trainer, command = parsed.program(k)
        if trainer not in _TRAINER_NAMES:
            handed = _trainer_config(words) if format is not None else None
            if handed is not None:
                found.append((format or "", command, handed, [], True))
            continue
        config, sets = _cli_config(trainer, words)
        if config is None and trainer == "llamafactory":
            if format is None:
                return ConfigError(
                    f"{source}: it runs LLaMA-Factory ({command}) with its settings as --key value arguments, "
                    "not a config file; lrkit reads them only when told which trainer they are for.",
                    field="format",
                    value="llamafactory",
                    fix=f"pass --format llamafactory: lrkit show {source} --format llamafactory.",
                )
            continue
        found.append((trainer, command, config or "", sets, False))
    if not found:
        return None
    trainer, command, raw, sets, generic = found[-1]
    name = _TRAINER_NAMES.get(trainer, "the trainer")
    config = str(unmarked(raw, parsed.unknowns))
    configs = list(dict.fromkeys(str(unmarked(c, parsed.unknowns)) for _, _, c, _, _ in found if c))
    if not configs:
        return ConfigError(
            f"{source}: it runs {name} ({command} ...) without naming its config file on the launch line.",
            field="script",
            fix=f"read the {name} config file the run uses: lrkit show <file> --format {trainer}.",
        )
    # the path with each part the script does not fix as <$NAME>: the user fills it in
    target = MARKER_RE.sub(
        lambda m: (
            f"<${parsed.unknowns[m.group(0)].name}>"
            if m.group(0) in parsed.unknowns and parsed.unknowns[m.group(0)].name
            else "<unknown>"
        ),
        raw,
    )
    shown = str(unmarked(command, parsed.unknowns))
    if len(shown) > 80:  # a long launcher prefix (torchrun --rdzv-... ): the trainer's own words tell it
        shown = "... " + " ".join(command.split()[-2:])
    other = f" It runs {name}, not {format}." if format not in (None, trainer) and not generic else ""
    several = (
        f" The launches name {len(configs)} files ({', '.join(configs)}): lrkit does not guess which one you mean."
        if len(configs) > 1
        else ""
    )
    sets_text = "".join(f" --set {kv}" for kv in sets)
    # a *.py / -m entry point (the format is the user's word): the launch hands the file on
    what = (
        f"it runs {name} ({shown} {config}), which takes its settings from that config file"
        if not generic
        else f"its launch ({shown} ... {config}) hands the trainer the config file {config}"
    )
    return ConfigError(
        f"{source}: {what}; lrkit reads the file, not the script that names it.{other}{several}",
        field="script",
        value=configs if len(configs) > 1 else config,
        fix=f"lrkit show {target} --format {trainer}{sets_text}"
        + (" (the launch's overrides of the file)" if sets else "")
        + (" (or another of the files named)" if len(configs) > 1 else "")
        + ".",
    )


def trainer_shell_pointer(
    text: str, *, format: str, overrides: Mapping[str, str] | None = None, source: str = "<script>"
) -> ConfigError:
    """What ``--format axolotl`` on a shell script answers: axolotl takes its settings from its
    YAML, never from launch arguments, so the error names the YAML the script launches axolotl on
    and the command that reads it (or asks for the file when the script names none)."""
    parsed = parse_shell(text, overrides=overrides, source=source)
    pointer = trainer_pointer(parsed, source, format)
    if pointer is not None:
        return pointer
    return ConfigError(
        f"{source}: axolotl takes its settings from its YAML file, not from launch arguments, and this script "
        "launches no axolotl command that names one (axolotl train cfg.yml, python -m axolotl.cli.train cfg.yml).",
        field="format",
        value=format,
        fix="read the YAML the run uses: lrkit show <file>.yml --format axolotl.",
    )


#: formats whose settings a launch line passes as ``--key value`` (the Hugging Face argument parser)
TRAINER_SHELL_FORMATS = ("hf", "llamafactory")
#: the launch arguments the LR curve of those formats reads: an unknown value among them is asked for
_TRAINER_CURVE_KEYS = (
    *_TRAINER_FLAGS,
    "warmup_steps",
    "max_steps",
    "deepspeed",
    "optim",
    "optim_args",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "stage",
)


def trainer_shell_args(
    text: str, *, format: str, overrides: Mapping[str, str] | None = None, source: str = "<script>"
) -> dict[str, Any]:
    """The settings a shell script passes to a Hugging Face-style trainer (``torchrun train.py
    --learning_rate 2e-5 --lr_scheduler_type cosine ...``), to be read as ``format`` (one of
    :data:`TRAINER_SHELL_FORMATS`, which the user names: lrkit never guesses the trainer). The
    launch's ``--key value`` / ``--key=value`` words become the config (``-`` in a key read as ``_``,
    as the parser accepts both; a bare ``--flag`` is true); ``--set NAME=value`` fills a shell
    variable. Never executed."""
    parsed = parse_shell(text, overrides=overrides, source=source)
    # axolotl's --key value options override its YAML: they are not a Hugging Face launch
    launches = [flag_values(ln) for k, ln in enumerate(parsed.launches) if parsed.program(k)[0] != "axolotl"]
    launches = [f for f in launches if any(k in f for k in _TRAINER_FLAGS)]
    if not launches and (pointer := trainer_pointer(parsed, source, format)) is not None:
        raise pointer
    if not launches:
        raise ConfigError(
            f"{source}: no launch line passes a trainer's learning-rate arguments (--learning_rate, "
            "--lr_scheduler_type, --warmup_ratio, ...).",
            field="script",
            fix=f"give the script that launches training, or write its arguments into a YAML file read with "
            f"--format {format}.",
        )
    curves = list(dict.fromkeys(tuple((k, f.get(k)) for k in _TRAINER_CURVE_KEYS) for f in launches))
    if len(curves) > 1:
        lrs = [str(unmarked(f.get("learning_rate"), parsed.unknowns)) for f in launches]
        raise ConfigError(
            f"{source}: {len(launches)} launch lines pass different learning-rate arguments "
            f"(--learning_rate {', '.join(lrs)}); lrkit does not guess which one trains.",
            field="script",
            value=lrs,
            fix="keep the launch you mean in a script of its own, or write its arguments into a YAML file.",
        )
    data: dict[str, Any] = {}
    for key, value in launches[0].items():
        if MARKER_RE.search(value):
            if key in _TRAINER_CURVE_KEYS:
                markers = [parsed.unknowns[m] for m in MARKER_RE.findall(value) if m in parsed.unknowns]
                names = [u.name for u in markers if u.name]
                raise ConfigError(
                    f"{source}: --{key} is {unmarked(value, parsed.unknowns)!r}, which the script does not fix.",
                    field=f"--{key}",
                    value=unmarked(value, parsed.unknowns),
                    fix=f"pass --set {names[0]}=VALUE." if names else f"write --{key} out in the script.",
                )
            continue  # a setting the curve does not read (a path, a run name)
        data[key] = True if value == "" else value
    return data
