"""Megatron-LM command lines: argument lists, shell scripts and YAML with dashed keys.

Three shapes reach :func:`lrkit.config.megatron.resolve_megatron` through here:

- an argument list as ``pretrain_gpt.py`` takes it (``--lr 3e-4 --lr-decay-style cosine ...``;
  ``--k v`` and ``--k=v``; a flag with no value is ``true``; several values make a list);
- a shell script (``train.sh``) as Megatron's examples write them, read without running it by
  :mod:`lrkit.config.shell`; its launch line's arguments are Megatron's unless they are another
  trainer's (:mod:`lrkit.config.trainer_launch` says which, and this module refuses them);
- YAML whose keys are dashed flags (``MODEL_ARGS: {--lr: 3.0e-4, ...}``, Megatron's
  functional-test ``model_config.yaml``).

A curve argument whose value depends on something the script does not fix (``--global-batch-size
$GBS`` in a sample-based run, ``--lr $1``) is asked for by name (``--set GBS=512``), never
dropped; so is one assigned only inside an ``if``/``case``/``for`` block (the branch taken is not
known without running the script).

Which arguments decide the curve is Megatron's own rule (``get_optimizer_param_scheduler`` in
``megatron/training/training.py``): the run is iteration-based when ``--train-iters`` is set,
sample-based when ``--train-samples`` is; the global batch size cancels out of an
iteration-based curve and is needed only for a sample-based one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lrkit.config.megatron import BATCH_ARGS, CURVE_ARGS, GROUP_LR_ARGS, OTHER_ARGS
from lrkit.config.resolved import ResolvedConfig
from lrkit.config.shell import MARKER_RE, ShellArgs, Unknown, parse_shell, split_words, unmarked, written_files
from lrkit.config.trainer_launch import flag_values, not_megatron, trainer_pointer
from lrkit.errors import ConfigError
from lrkit.findings import Finding

__all__ = [
    "CURVE_ARGS",
    "parse_arg_list",
    "read_megatron_args",
    "read_megatron_shell",
    "megatron_args_from_yaml",
    "looks_like_dashed_megatron",
]


# -- argument lists ---------------------------------------------------------------------------


def _scalar(text: str) -> Any:
    """A token's value as YAML/OmegaConf would read it (``6e-5`` float, ``500000`` int)."""
    from lrkit.config.loading import parse_scalar

    return parse_scalar(text)


def parse_arg_list(tokens: Sequence[str], *, source: str = "<args>") -> tuple[dict[str, Any], dict[str, str]]:
    """``--k v`` / ``--k=v`` / ``--flag`` tokens to ``{k_with_underscores: value}``.

    Returns the arguments and, for each, the flag as written (for messages). Tokens before the
    first flag are refused (they are not Megatron arguments); a flag given twice keeps the last
    value, as argparse does.
    """
    args: dict[str, Any] = {}
    written: dict[str, str] = {}
    i = 0
    toks = list(tokens)
    while i < len(toks):
        tok = toks[i]
        if not isinstance(tok, str) or not tok.startswith("--") or tok == "--":
            raise ConfigError(
                f"{tok!r} is not a --flag (Megatron's arguments are --name value pairs).",
                field="args",
                value=tok,
                fix="write each argument as --name value or --name=value.",
            )
        name, eq, inline = tok[2:].partition("=")
        key = name.replace("-", "_")
        values: list[Any]
        j = i + 1
        while j < len(toks) and not (toks[j].startswith("--") and len(toks[j]) > 2):
            j += 1
        # after --k=v, more words (an unquoted value with spaces) stay with that flag
        values = [inline, *toks[i + 1 : j]] if eq else toks[i + 1 : j]
        # an unknown that is a whole word after a flag's value ($EXTRA_ARGS unset here) is not
        # more of that value: it may hold flags of its own, or nothing
        values = values[:1] + [v for v in values[1:] if not MARKER_RE.fullmatch(v)]
        i = j
        parsed = [_scalar(v) if isinstance(v, str) and "$" not in v else v for v in values]
        if not parsed and key in CURVE_ARGS:
            # every curve argument takes a value: argparse stops Megatron with "expected one argument"
            raise ConfigError(
                f"--{name} has no value (Megatron's argparse refuses it: expected one argument).",
                field=f"--{name}",
                value=None,
                fix=f"write --{name} VALUE (or --{name}=VALUE).",
            )
        args[key] = True if not parsed else parsed[0] if len(parsed) == 1 else parsed
        written[key] = f"--{name}"
    return args, written


# -- from parsed arguments to the curve -------------------------------------------------------


def _check_names(args: Mapping[str, Any], written: Mapping[str, str], source: str) -> None:
    """A dashed key is never ignored: a near-miss of a curve argument is a misspelling."""
    for key in args:
        if key in CURVE_ARGS or key in OTHER_ARGS:
            continue
        if not re.search(r"(^|_)(lr|warmup|decay|train)(_|$)", key):
            continue
        close = difflib.get_close_matches(key, [*CURVE_ARGS, *OTHER_ARGS], n=1, cutoff=0.8)
        if close and close[0] in CURVE_ARGS:
            flag = written.get(key, "--" + key.replace("_", "-"))
            raise ConfigError(
                f"unknown Megatron argument {flag}; did you mean --{close[0].replace('_', '-')}? "
                "Megatron would refuse it (argparse: unrecognized arguments).",
                field=flag,
                value=args[key],
                fix=f"spell it --{close[0].replace('_', '-')}.",
            )


def _curve_args(
    args: Mapping[str, Any], written: Mapping[str, str], unknowns: Mapping[str, Unknown], source: str
) -> dict[str, Any]:
    """The curve arguments; an unknown among those that matter is asked for by name."""
    needed = [k for k in _curve_reads(args) if k in args]
    for key in needed:
        value = args[key]
        text = " ".join(map(str, value)) if isinstance(value, list) else str(value)
        for marker, unk in unknowns.items():
            if marker in text:
                flag = written.get(key, "--" + key.replace("_", "-"))
                if unk.bash_error:
                    raise ConfigError(
                        f"{flag} is {unk.why}: Megatron gets no value for it, and its argparse refuses {flag} "
                        "without one (expected one argument).",
                        field=flag,
                        value=text.replace(marker, ""),
                        fix="write the script's numbers without '_' (126953125, not 126_953_125): bash has no "
                        "digit separators.",
                    )
                what = unk.name or key
                raise ConfigError(
                    f"{flag} is {unk.why}; it decides the curve, so lrkit will not guess it.",
                    field=flag,
                    value=text.replace(marker, f"${unk.name}" if unk.name else "?"),
                    fix=f"pass --set {what}=<value>.",
                )
        if isinstance(value, str) and "$" in value:
            flag = written.get(key, "--" + key.replace("_", "-"))
            raise ConfigError(
                f"{flag} is {value!r}, which is not resolved.",
                field=flag,
                value=value,
                fix=f"pass --set {key}=<value>.",
            )
    return {k: args[k] for k in CURVE_ARGS if k in args}


def _curve_reads(args: Mapping[str, Any]) -> tuple[str, ...]:
    """The curve arguments this run's curve depends on: the global batch size cancels out of an
    iteration-based run (it counts only per sample or per token), and ``seq_length`` counts only
    tokens (``--lr-decay-tokens``, ``--step-batch-size-schedule`` thresholds)."""
    samples = bool(args.get("train_samples")) and not args.get("train_iters")
    tokens = args.get("lr_decay_tokens") is not None
    per_batch = samples or tokens  # tokens per update need the batch size
    per_token = tokens or args.get("step_batch_size_schedule") is not None
    return tuple(k for k in CURVE_ARGS if (k != "global_batch_size" or per_batch) and (k != "seq_length" or per_token))


def _flag(written: Mapping[str, str], key: str) -> str:
    """An argument as the user wrote it (``--lr``, or the YAML key), else its dashed flag."""
    return written.get(key, "--" + key.replace("_", "-"))


def _overridden(
    args: Mapping[str, Any], written: Mapping[str, str] | None, overrides: Mapping[str, str] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The arguments with ``--set KEY=VALUE`` applied (a value read as the file's scalars are)."""
    written = dict(written or {})
    args = dict(args)
    for key, value in (overrides or {}).items():
        name = key.lstrip("-").replace("-", "_")
        args[name] = _scalar(value) if isinstance(value, str) else value
        written.setdefault(name, "--" + name.replace("_", "-"))
    return args, written


#: Megatron arguments only Megatron-DeepSpeed's parser has (``deepspeed.add_config_arguments`` and its
#: ZeRO group): a script passing one runs on Megatron-DeepSpeed (current Megatron-LM refuses them)
_DEEPSPEED_ARGS = ("deepspeed", "deepspeed_config", "deepscale", "deepscale_config", "zero_stage", "lr_decay_tokens")
#: ``--set`` names that are lrkit's questions, not script variables or Megatron arguments
_CHOICES = ("megatron", "curriculum_learning", "deepspeed_scheduler", "scheduler_from")
#: the yes/no questions among them, with how to answer each
_YES_NO = {
    "curriculum_learning": "--set curriculum_learning=false when the DeepSpeed config does not enable "
    "curriculum_learning.",
    "deepspeed_scheduler": '--set deepspeed_scheduler=false when the DeepSpeed config has no "scheduler" section.',
}
_FLAVORS = {
    "deepspeed": "deepspeed",
    "megatron-deepspeed": "deepspeed",
    "megatron_deepspeed": "deepspeed",
    "ds": "deepspeed",
    "lm": "lm",
    "megatron-lm": "lm",
    "megatron_lm": "lm",
}
_WHICH = "--set megatron=deepspeed (Megatron-DeepSpeed) or --set megatron=lm (current Megatron-LM)"


def _choices(overrides: Mapping[str, str] | None) -> tuple[dict[str, str], dict[str, Any]]:
    """``--set`` split into the overrides proper and lrkit's own questions (:data:`_CHOICES`)."""
    rest = {k: v for k, v in (overrides or {}).items() if k not in _CHOICES}
    chosen: dict[str, Any] = {}
    if "megatron" in (overrides or {}):
        raw = str(overrides["megatron"]).strip().lower()  # type: ignore[index]
        if raw not in _FLAVORS:
            raise ConfigError(
                f"--set megatron={overrides['megatron']!r} names no Megatron lrkit reads.",  # type: ignore[index]
                field="megatron",
                value=overrides["megatron"],  # type: ignore[index]
                fix=f"use {_WHICH}.",
            )
        chosen["megatron"] = _FLAVORS[raw]
    if "scheduler_from" in (overrides or {}):
        raw = str(overrides["scheduler_from"]).strip().lower()  # type: ignore[index]
        if raw not in ("megatron", "deepspeed"):
            raise ConfigError(
                f"--set scheduler_from={overrides['scheduler_from']!r} is neither megatron nor deepspeed.",  # type: ignore[index]
                field="scheduler_from",
                value=overrides["scheduler_from"],  # type: ignore[index]
                fix="--set scheduler_from=megatron (DeepSpeed 0.14.5+) or --set scheduler_from=deepspeed (earlier).",
            )
        chosen["scheduler_from"] = raw
    for name, fix in _YES_NO.items():
        if name in (overrides or {}):
            raw = str(overrides[name]).strip().lower()  # type: ignore[index]
            if raw not in ("true", "false", "none"):
                raise ConfigError(
                    f"--set {name}={overrides[name]!r} is not true or false.",  # type: ignore[index]
                    field=name,
                    value=overrides[name],  # type: ignore[index]
                    fix=fix,
                )
            chosen[name] = raw == "true"
    return rest, chosen


def _flavor(args: Mapping[str, Any], written: Mapping[str, str], chosen: Mapping[str, Any]) -> str | None:
    """``"deepspeed"`` when the arguments (or ``--set megatron=``) say Megatron-DeepSpeed runs them,
    ``"lm"`` when ``--set megatron=lm`` says current Megatron-LM does, else ``None`` (either)."""
    own = [_flag(written, k) for k in _DEEPSPEED_ARGS if args.get(k) is not None and args.get(k) is not False]
    pick = chosen.get("megatron")
    if pick == "lm" and own:
        raise ConfigError(
            f"--set megatron=lm, but the arguments pass {', '.join(own)}, which only Megatron-DeepSpeed's parser has: "
            "Megatron-LM refuses them (argparse: unrecognized arguments).",
            field=own[0],
            value=args.get(own[0].lstrip("-").replace("-", "_")),
            fix="drop --set megatron=lm (the script is Megatron-DeepSpeed's), or remove those arguments.",
        )
    return pick or ("deepspeed" if own else None)


def _deepspeed_checks(args: Mapping[str, Any], written: Mapping[str, str]) -> None:
    """What Megatron-DeepSpeed's parser refuses that Megatron-LM accepts (its megatron/arguments.py)."""
    style = args.get("lr_decay_style")
    if style is not None and style not in ("constant", "linear", "cosine"):
        raise ConfigError(
            f"{_flag(written, 'lr_decay_style')} {style!r}: Megatron-DeepSpeed's argparse refuses it "
            "(choices: constant, linear, cosine).",
            field=_flag(written, "lr_decay_style"),
            value=style,
            fix="use constant, linear or cosine (the others are Megatron-LM's).",
        )
    for key in ("lr_warmup_init", "lr_wsd_decay_style", "lr_wsd_decay_iters", "lr_wsd_decay_samples"):
        if key in args:
            raise ConfigError(
                f"{_flag(written, key)} is a Megatron-LM argument; Megatron-DeepSpeed's argparse refuses it "
                "(unrecognized arguments).",
                field=_flag(written, key),
                value=args[key],
                fix=f"remove it (Megatron-DeepSpeed warms up from 0), or read the script as Megatron-LM's: {_WHICH}.",
            )


def _ds_config_path(args: Mapping[str, Any]) -> str | None:
    config = args.get("deepspeed_config") or args.get("deepscale_config")
    return str(config) if config is not None and config is not True else None


def _ds_config_text(args: Mapping[str, Any], configs: Mapping[str, str], unknowns: Mapping[str, Unknown]) -> str | None:
    """The DeepSpeed config the script itself writes (``cat <<EOT > $CONFIG_JSON``), if it does: the
    same path, unknowns compared by what they are (``$script_dir/ds_config.json`` on both sides)."""
    path = _ds_config_path(args)
    return None if path is None else configs.get(unmarked(path, unknowns))


def _deepspeed_scheduler(
    args: Mapping[str, Any],
    written: Mapping[str, str],
    chosen: Mapping[str, Any],
    body: str | None,
    unknowns: Mapping[str, Unknown],
) -> str | None:
    """Under ``--deepspeed`` Megatron-DeepSpeed hands its scheduler to ``deepspeed.initialize``
    (``lr_scheduler=``). Which one trains when the DeepSpeed config has a ``"scheduler"`` section
    depends on DeepSpeed's release: from 0.14.5 a scheduler passed in wins and the section is unused
    (``_configure_lr_scheduler``); before, the section wins. The script does not say which release
    runs it, so lrkit asks (``--set scheduler_from=megatron|deepspeed``). Returns the section's text
    when DeepSpeed's scheduler is to be drawn, else ``None`` (Megatron's curve)."""
    if not args.get("deepspeed"):
        return None  # without --deepspeed the config is never read
    path = _ds_config_path(args)
    if path is None:
        raise ConfigError(
            "--deepspeed without --deepspeed_config: Megatron-DeepSpeed opens the DeepSpeed config at start-up "
            "(open(args.deepspeed_config)) and fails without one.",
            field="--deepspeed_config",
            fix="pass --deepspeed_config ds_config.json, as the script's launch does.",
        )
    named = f" ({unmarked(path, unknowns)})"
    source = chosen.get("scheduler_from")
    if source == "megatron":
        return None
    section = _top_level_section(body, "scheduler") if body is not None else None
    has = section is not None if body is not None else chosen.get("deepspeed_scheduler")
    if has is None:
        raise ConfigError(
            f'under --deepspeed, a "scheduler" section in the DeepSpeed config{named} replaces Megatron\'s schedule '
            "on DeepSpeed before 0.14.5 (from 0.14.5 Megatron's, passed to deepspeed.initialize, wins). The script "
            "does not write that file and lrkit does not open it.",
            field=_flag(written, "deepspeed_config") if path else "--deepspeed",
            value=path,
            fix=_YES_NO["deepspeed_scheduler"][:-1] + f", or {_FROM_MEGATRON}.",
        )
    if not has:
        return None
    if source is None:
        raise ConfigError(
            f'the DeepSpeed config{named} has a "scheduler" section; Megatron-DeepSpeed passes its own --lr-* '
            "scheduler to deepspeed.initialize, and which one trains depends on DeepSpeed's release, which the "
            "script does not say.",
            field="scheduler_from",
            value=None,
            fix=f"{_FROM_MEGATRON}, or --set scheduler_from=deepspeed (DeepSpeed before 0.14.5: the section's "
            "scheduler).",
        )
    if body is None or section is None:
        raise ConfigError(
            f"--set scheduler_from=deepspeed: the DeepSpeed config{named} decides the curve, and the script does "
            "not write it, so lrkit does not open it.",
            field="scheduler_from",
            value="deepspeed",
            fix=f"read that file: lrkit show {unmarked(path, unknowns)} --total-steps N.",
        )
    if args.get("no_pipeline_parallel"):
        raise ConfigError(
            "with --no-pipeline-parallel Megatron-DeepSpeed steps the engine with lr_kwargs={'increment': ...}, "
            "which DeepSpeed's schedulers do not take: the engine then steps them to iteration train_batch_size "
            "every update (its TypeError fallback), holding the LR there. lrkit does not draw that.",
            field="--no-pipeline-parallel",
            value=True,
            fix=f'{_FROM_MEGATRON}, or drop the "scheduler" section.',
        )
    return section


_FROM_MEGATRON = "--set scheduler_from=megatron (DeepSpeed 0.14.5 or later: Megatron's --lr-* schedule trains)"


def _top_level_section(body: str, name: str) -> str | None:
    """The text of the top-level ``"name": {...}`` object of a DeepSpeed config written by a script
    (braces matched, so nested objects are kept; not parsed as JSON, which a here-document with
    ``$GBS`` in it is not), or ``None`` when the config has no such top-level key."""
    depth = 0
    for m in re.finditer(r'[{}]|"([^"\\]*)"\s*:', body):
        if m.group(0) == "{":
            depth += 1
        elif m.group(0) == "}":
            depth -= 1
        elif depth == 1 and m.group(1) == name:
            start = body.find("{", m.end())
            if start < 0 or body[m.end() : start].strip():
                return body[m.end() : m.end() + 40]  # a scalar value: the key is there all the same
            level = 0
            for i in range(start, len(body)):
                level += {"{": 1, "}": -1}.get(body[i], 0)
                if level == 0:
                    return body[start : i + 1]
            return body[start:]
    return None


def _enabled(section: str) -> bool | None:
    """The ``"enabled"`` flag directly inside a section's object: ``False`` when the section has none
    (DeepSpeed's default), ``None`` when its value is not a plain true/false (a ``$VAR``), so lrkit
    asks rather than guesses."""
    inner = section[1:-1] if section.startswith("{") else section
    depth = 0
    for m in re.finditer(r'[{}]|"enabled"\s*:\s*([^,}\s]*)', inner):
        if m.group(0) in "{}":
            depth += 1 if m.group(0) == "{" else -1
        elif depth == 0:
            return {"true": True, "false": False}.get(m.group(1))
    return False


def _curriculum(
    args: Mapping[str, Any], written: Mapping[str, str], chosen: Mapping[str, Any], body: str | None
) -> None:
    """Token-based decay under ``--deepspeed``: the DeepSpeed config may enable curriculum learning,
    whose sequence length per iteration (DeepSpeed's CurriculumScheduler) changes the tokens counted."""
    if args.get("lr_decay_tokens") is None or not args.get("deepspeed"):
        return
    path = _ds_config_path(args)
    named = f" ({unmarked(path, {})})" if path else ""
    if "curriculum_learning" not in chosen and body is not None:
        section = _top_level_section(body, "curriculum_learning")
        on = False if section is None else _enabled(section)
        if on is not None:
            chosen = {**chosen, "curriculum_learning": on}
    if "curriculum_learning" not in chosen:
        raise ConfigError(
            f"{_flag(written, 'lr_decay_tokens')} decays by tokens consumed: global batch x --seq-length per "
            f"iteration, unless the DeepSpeed config{named} enables curriculum_learning, whose sequence-length "
            "schedule then sets the tokens of each iteration. lrkit does not open that file.",
            field=_flag(written, "lr_decay_tokens"),
            value=args.get("lr_decay_tokens"),
            fix="if its curriculum_learning is absent or not enabled, pass --set curriculum_learning=false.",
        )
    if chosen["curriculum_learning"]:
        raise ConfigError(
            "with curriculum learning the tokens of each iteration follow DeepSpeed's CurriculumScheduler "
            "(the DeepSpeed config's curriculum_learning section), which lrkit does not model: it cannot draw "
            f"the token-based decay of {_flag(written, 'lr_decay_tokens')}.",
            field="curriculum_learning",
            value=True,
            fix="use --lr-decay-samples to see a sample-based curve instead.",
        )


def _batch_ramp_args(
    flat: dict[str, Any], curve: Mapping[str, Any], flavor: str | None, written: Mapping[str, str]
) -> list[Finding]:
    """``--rampup-batch-size``: Megatron-DeepSpeed ramps the batch (its microbatches.py), so its
    sample-counting scheduler moves by a different amount each iteration; current Megatron-LM ignores
    the argument (deprecated for ``--step-batch-size-schedule``). Asks which one runs the script unless
    it says (a DeepSpeed argument, ``--set megatron=``); in an iteration-based run Megatron-DeepSpeed
    asserts, so only Megatron-LM runs it."""
    if "rampup_batch_size" not in curve:
        return []
    flag = _flag(written, "rampup_batch_size")
    iters = bool(curve.get("train_iters"))
    if flavor == "deepspeed":
        if iters:
            raise ConfigError(
                f"{flag} in an iteration-based run (--train-iters): Megatron-DeepSpeed asserts 'expected no "
                "batch-size rampup for iteration-based training'.",
                field=flag,
                value=curve["rampup_batch_size"],
                fix="give the run in samples (--train-samples, --lr-decay-samples, --lr-warmup-samples), or drop it.",
            )
        flat["rampup_batch_size"] = curve["rampup_batch_size"]
        return []
    if flavor == "lm" or iters:
        why = (
            "read as current Megatron-LM (--set megatron=lm)"
            if flavor == "lm"
            else "Megatron-DeepSpeed asserts on a ramp in an iteration-based run, so this runs on Megatron-LM only"
        )
        return [
            Finding(
                rule="megatron-rampup-ignored",
                severity="info",
                message=f"{flag} is ignored: current Megatron-LM ignores it (deprecated for "
                f"--step-batch-size-schedule) and trains at --global-batch-size from the start ({why}).",
                fix="write the ramp as --step-batch-size-schedule if you want one on Megatron-LM.",
                source=flag,
            )
        ]
    raise ConfigError(
        f"{flag} changes the curve only on Megatron-DeepSpeed: there the batch grows during the run and the "
        "scheduler, which counts samples, advances by a different amount each iteration; current Megatron-LM "
        "ignores it (deprecated for --step-batch-size-schedule) and trains at --global-batch-size. The script "
        "does not say which Megatron runs it (no DeepSpeed argument).",
        field=flag,
        value=curve["rampup_batch_size"],
        fix=f"pass {_WHICH}.",
    )


def _flat_curve(curve: Mapping[str, Any], written: Mapping[str, str]) -> dict[str, Any]:
    """The curve arguments :func:`resolve_megatron` takes: the batch size only where it counts,
    the other family's ``*_samples`` / ``*_iters`` defaults (0) dropped."""
    from lrkit.config.megatron import _sample_based

    flat = {k: v for k, v in curve.items() if k not in BATCH_ARGS}
    if "step_batch_size_schedule" in flat:
        return flat  # the schedule gives the batch size; resolve_megatron checks the rest
    tokens = flat.get("lr_decay_tokens") is not None
    if tokens and flat.get("global_batch_size") is None:
        raise ConfigError(
            "token-based decay (--lr-decay-tokens) counts global batch x seq_length tokens per iteration; without "
            "--global-batch-size Megatron-DeepSpeed uses micro-batch size x data-parallel size, which depends on the "
            "cluster.",
            field="--global-batch-size",
            fix="pass --set global_batch_size=<samples per iteration>.",
        )
    if not _sample_based(flat, lambda k: _flag(written, k)):
        if not tokens:
            flat.pop("global_batch_size", None)  # it cancels out of an iteration-based curve
    elif flat.get("global_batch_size") is None:
        raise ConfigError(
            "a sample-based run (--train-samples) needs the global batch size to turn samples into "
            "iterations; without --global-batch-size Megatron uses micro-batch size x data-parallel size, which "
            "depends on the cluster.",
            field="--global-batch-size",
            fix="pass --set global_batch_size=<samples per iteration>.",
        )
    # Megatron's rule: iteration-based when train_iters is set; the *_samples defaults (0) then do not count
    if flat.get("train_iters"):
        if flat.get("lr_warmup_samples") in (0, 0.0):
            flat.pop("lr_warmup_samples")
    elif flat.get("train_samples") and flat.get("lr_warmup_iters") in (0, 0.0):
        flat.pop("lr_warmup_iters")
    return flat


def _group_lr(args: Mapping[str, Any], written: Mapping[str, str]) -> list[Finding]:
    return [
        Finding(
            rule="megatron-group-lr",
            severity="info",
            message=f"{_flag(written, key)} {args[key]} gives some parameter groups (embedding / output layers) "
            "another LR; the curve shown is the main group's.",
            fix="no action needed if that is intended.",
            source=_flag(written, key),
        )
        for key in GROUP_LR_ARGS
        if key in args
    ]


def read_megatron_args(
    args: Mapping[str, Any],
    *,
    total_steps: int | None,
    source: str,
    written: Mapping[str, str] | None = None,
    unknowns: Mapping[str, Unknown] | None = None,
    raw: Any = None,
    overrides: Mapping[str, str] | None = None,
    ds_configs: Mapping[str, str] | None = None,
) -> ResolvedConfig:
    """Megatron's argument namespace (underscore keys) to its curve. ``ds_configs``: the files a
    script writes itself (heredocs), by path, where a DeepSpeed config may be."""
    from lrkit.config.megatron import read_megatron

    overrides, chosen = _choices(overrides)
    args, written = _overridden(args, written, overrides)
    _check_names(args, written, source)
    if args.get("lr_warmup_tokens") is not None:
        flag = _flag(written, "lr_warmup_tokens")
        raise ConfigError(
            f"{flag} is a token-based warm-up of later microsoft/Megatron-DeepSpeed releases (bigscience-workshop's "
            "Megatron-DeepSpeed and Megatron-LM have no such argument); lrkit does not draw that scheduler.",
            field=flag,
            value=args["lr_warmup_tokens"],
            fix="give the warm-up as --lr-warmup-samples or --lr-warmup-iters to see a curve.",
        )
    flavor = _flavor(args, written, chosen)
    if flavor == "deepspeed":
        _deepspeed_checks(args, written)
    if args.get("skip_train") is True:
        raise ConfigError(
            "--skip-train is set: Megatron does not train, so there is no LR curve.",
            field="--skip-train",
            value=True,
            fix="drop --skip-train to see the training run's curve.",
        )
    curve = _curve_args(args, written, unknowns or {}, source)
    ds_section = None
    if flavor == "deepspeed":
        body = _ds_config_text(args, ds_configs or {}, unknowns or {})
        ds_section = _deepspeed_scheduler(args, written, chosen, body, unknowns or {})
        _curriculum(args, written, chosen, body)
    flat = _flat_curve(curve, written)
    ramp_notes = _batch_ramp_args(flat, curve, flavor, written)
    paths = {k: _flag(written, k) for k in flat}
    paths[""] = ""
    res = read_megatron(flat, total_steps=total_steps, source=source, paths=paths, flavor=flavor)
    if ds_section is not None:
        from lrkit.config.deepspeed import read_launch_scheduler

        # the optimizer's groups hold Megatron's own scheduler's first value (its constructor steps to 0)
        # when DeepSpeed builds the section's scheduler beside it
        return read_launch_scheduler(
            ds_section,
            where=_flag(written, "deepspeed_config"),
            optimizer_lr=float(res.lr_schedule(0)),
            total_steps=total_steps if total_steps is not None else res.total_steps,
            source=source,
            raw=raw if raw is not None else dict(args),
        )
    return ResolvedConfig(
        schedule=res.schedule,
        peak_lr=res.peak_lr,
        total_steps=res.total_steps,
        format="megatron",
        source=source,
        findings=(*res.findings, *ramp_notes, *_group_lr(args, written)),
        context={**res.context, "arguments": dict(args), "megatron": flavor or "either"},
        optimizer=res.optimizer,
        raw=raw if raw is not None else dict(args),
        controller=None,
    )


def read_megatron_argv(
    tokens: Sequence[str],
    *,
    total_steps: int | None = None,
    overrides: Mapping[str, str] | None = None,
    source: str = "<args>",
) -> ResolvedConfig:
    """An argument list (``["--lr", "3e-4", "--lr-decay-style", "cosine", ...]``) to its curve.
    ``overrides`` (``--set``) replace arguments by name (``lr`` or ``--lr``)."""
    args, written = parse_arg_list(tokens, source=source)
    return read_megatron_args(args, total_steps=total_steps, source=source, written=written, overrides=overrides)


def _has_lr(words: Sequence[str]) -> bool:
    return any(t == "--lr" or t.startswith("--lr=") for t in words)


def _variable_words(parsed: ShellArgs) -> list[str]:
    """The flags of the script's argument variables (``GPT_ARGS="--lr 3e-4 ..."``), in order."""
    words: list[str] = []
    for v in parsed.variables.values():
        items = v if isinstance(v, list) else split_words(v) if isinstance(v, str) else []
        if any(str(t).startswith("--") for t in items):
            words.extend(str(t) for t in items)
    return words


def _no_launch() -> ConfigError:
    return ConfigError(
        "no Megatron launch line found (a command running a *.py entry point such as "
        "pretrain_gpt.py with --lr ...), and no argument list with --lr.",
        field="script",
        fix="give the script that launches training, or the arguments themselves: lrkit show -- --lr 3e-4 ...",
    )


def _script_args(parsed: ShellArgs, source: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The arguments of the script's launch line (the one with --lr; several must agree); with
    no such launch line (a file another script sources), the flags of its argument variables.
    A launch without --lr is read as Megatron's (which then needs --lr) only when it passes a
    Megatron argument; one that passes none (an evaluation or conversion command) is no launch."""
    launches = tuple(ln for ln in parsed.launches if _has_lr(ln))
    if not launches:
        if (pointer := trainer_pointer(parsed, source, None)) is not None:
            raise pointer
        if parsed.launches and (not_ours := not_megatron(parsed.launches, source, parsed.unknowns)) is not None:
            raise not_ours
        words = _variable_words(parsed)
        if (not_ours := not_megatron([words], source, parsed.unknowns, files=False)) is not None:
            raise not_ours
        known = {*CURVE_ARGS, *OTHER_ARGS}
        megatron = [ln for ln in parsed.launches if any(k in known for k in flag_values(ln))]
        if _has_lr(words) or (not megatron and any(t.startswith("--lr") for t in words)):
            launches = (tuple(words),)
        elif megatron:
            launches = tuple(megatron)
        else:
            raise _no_launch()
    readings = []
    for toks in launches:
        toks = tuple(t for t in toks if t)
        first = next((k for k, t in enumerate(toks) if t.startswith("--")), len(toks))
        readings.append(parse_arg_list(toks[first:], source=source))
    args, written = readings[-1]
    for other, _ in readings[:-1]:
        read = set(_curve_reads(args)) | set(_curve_reads(other))
        diff = [k for k in CURVE_ARGS if other.get(k) != args.get(k) and k in read]
        if diff:
            k = diff[0]
            raise ConfigError(
                f"the script launches Megatron {len(readings)} times with different --{k.replace('_', '-')} "
                f"({other.get(k)!r} and {args.get(k)!r}); lrkit cannot tell which run you mean.",
                field="--" + k.replace("_", "-"),
                fix=f"pass --set {k}=<value>, or give the arguments of one run: lrkit show -- --lr ...",
            )
    return args, written


#: Megatron's defaults for curve arguments: an argument left out equals one given its default
_DEFAULTS: dict[str, Any] = {
    "lr_warmup_iters": 0,
    "lr_warmup_samples": 0,
    "lr_warmup_init": 0.0,
    "min_lr": 0.0,
    "lr_decay_style": "linear",
    "lr_wsd_decay_style": "exponential",
    "skip_train": False,
}


def _arg(args: Mapping[str, Any], key: str) -> Any:
    return args.get(key, _DEFAULTS.get(key))


def read_megatron_shell(
    text: str, *, total_steps: int | None = None, overrides: Mapping[str, str] | None = None, source: str = "<script>"
) -> ResolvedConfig:
    """A shell script that launches Megatron to its curve (never executed).

    An assignment inside an ``if``/``case``/``for`` block may or may not run: the script is read
    both ways, and when a curve argument differs it is asked for by name.
    """
    overrides = dict(overrides or {})
    questions = {k: v for k, v in overrides.items() if k in _CHOICES}
    overrides = {k: v for k, v in overrides.items() if k not in _CHOICES}
    parsed = parse_shell(text, overrides=overrides, source=source)
    args, written = _script_args(parsed, source)
    arg_over = {k: v for k, v in overrides.items() if k not in parsed.used_overrides}
    pinned = {k.lstrip("-").replace("-", "_") for k in arg_over}
    for name in sorted(parsed.conditional - set(overrides)):
        try:
            other_parsed = parse_shell(text, overrides=overrides, source=source, skip=frozenset({name}))
            other, _ = _script_args(other_parsed, source)
        except ConfigError:
            continue
        # an unknown is compared by what it is ($2, $(shuf ...)), not by its marker's number, which
        # shifts when the block's own unknowns are skipped
        mine = {k: unmarked(_arg(args, k), parsed.unknowns) for k in CURVE_ARGS}
        theirs = {k: unmarked(_arg(other, k), other_parsed.unknowns) for k in CURVE_ARGS}
        # a value the curve does not read either way (--seq-length of an iteration-based run) is not asked
        read = set(_curve_reads(args)) | set(_curve_reads(other))
        diff = [k for k in CURVE_ARGS if mine[k] != theirs[k] and k not in pinned and k in read]
        if diff:
            k = diff[0]
            flag = "--" + k.replace("_", "-")
            more = f" (and {', '.join('--' + d.replace('_', '-') for d in diff[1:])})" if diff[1:] else ""
            raise ConfigError(
                f"{flag}{more} depends on an if/case/for block that sets ${name}: {flag} is {mine[k]!r} when the "
                f"block runs and {theirs[k]!r} when it does not; lrkit does not run the script to find out.",
                field=flag,
                fix=" ".join(f"--set {d}=<value>" for d in diff) + f" (or --set {name}=... as the block would set it).",
            )
    for key in arg_over:
        name = key.lstrip("-").replace("-", "_")
        if name not in CURVE_ARGS and name not in args:
            raise ConfigError(
                f"--set {key}: the script neither uses ${key} nor passes --{name.replace('_', '-')}.",
                field=key,
                fix="--set a variable the script reads or a Megatron argument (lr, train_iters, ...).",
            )
    return read_megatron_args(
        args,
        total_steps=total_steps,
        source=source,
        written=written,
        unknowns=parsed.unknowns,
        raw={"arguments": dict(args)},
        overrides={**arg_over, **questions},
        ds_configs=written_files(text, parsed, overrides),
    )


# -- YAML with dashed keys --------------------------------------------------------------------


def looks_like_dashed_megatron(data: Any) -> bool:
    """A mapping with ``--lr``-style keys at the top level or one level down (``MODEL_ARGS``)."""
    if not isinstance(data, Mapping):
        return False
    if any(isinstance(k, str) and k.startswith("--") for k in data):
        return True
    return any(
        isinstance(v, Mapping) and any(isinstance(k, str) and k.startswith("--lr") for k in v) for v in data.values()
    )


def megatron_args_from_yaml(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The dashed keys of a mapping (top level and one level down) as Megatron arguments."""
    args: dict[str, Any] = {}
    written: dict[str, str] = {}
    # a functional test's MODEL_ARGS is the (first) run; MODEL_ARGS_2 ... are resumed runs
    sections = [(k, v) for k, v in data.items() if isinstance(v, Mapping)]
    if any(k == "MODEL_ARGS" for k, _ in sections):
        sections = [(k, v) for k, v in sections if k == "MODEL_ARGS"]
    for key, value in data.items():
        if isinstance(key, str) and key.startswith("--"):
            name = key[2:].replace("-", "_")
            args[name] = value
            written[name] = key
    for key, value in sections:
        if isinstance(value, Mapping):
            for k, v in value.items():
                if isinstance(k, str) and k.startswith("--"):
                    name = k[2:].replace("-", "_")
                    args[name] = v
                    written[name] = f"{key}.{k}"
    return args, written


def read_megatron_dashed(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    args, written = megatron_args_from_yaml(data)
    return read_megatron_args(args, total_steps=total_steps, source=source, written=written, raw=dict(data))
