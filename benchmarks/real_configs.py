"""Read every training config of real public repositories with lrkit and compare the curves.

Usage::

    .venv/bin/python benchmarks/real_configs.py /work/corpora/repos/NVIDIA-NeMo+RL /work/corpora/repos/NVIDIA+NeMo ...
    .venv/bin/python benchmarks/real_configs.py DIR... --source nemo_rl --limit 50 --show-refusals

DIR is a checkout named ``<owner>+<name>`` (kept outside this repository). Each file is given
one *source* by where it lives (table below). A file is read with ``lrkit.config.load_config``
as a user would: first as it is; when lrkit asks for the run length, again with
``total_steps=100000`` (``--total-steps``); when it asks for a value by name (``--set NAME=...``),
again with a stand-in value for each name it asks for (``--set``; asked which Megatron runs a
script, ``--set megatron=``, the answer is the repository's: ``deepspeed`` for Megatron-DeepSpeed's).
The result is one of

- ``exact``: read, and the curve equals the framework's own code (max relative difference
  <= 1e-9 over the run, or over the first ``--max-steps`` updates);
- ``read (no reference)``: read; no reference is available for this source;
- ``wrong curve``: read, and the curve differs from the reference (the worst outcome);
- ``refused``: a ``ConfigError`` (grouped by its message, numbers and quoted names blanked).
  A refusal whose message says the framework itself asserts/raises/fails is counted as
  "framework refuses too"; the others as "refused though the framework runs it";
- ``crash``: any other exception (a bug).

References (never lrkit's own algebra): torch's schedulers (NeMo RL DTensor path);
``megatron/core/optimizer_param_scheduler.py`` loaded from the Megatron-LM checkout with its
one logging import stubbed (Megatron, NeMo RL Megatron path); ``nemo/core/optim/lr_scheduler.py``
loaded from the NeMo checkout with hydra/nemo utility imports stubbed, max_steps chosen as
ModelPT does (NeMo 1.x); transformers' ``get_scheduler`` (Hugging Face-style recipes).

**Not a training config** (counted apart, never read): a file under ``.github/``, or whose text
names no learning rate (``lr``/``learning_rate``/``max_lr`` as a key, or a ``--lr`` flag) and
inherits nothing (no ``defaults:``); for Megatron shell scripts, one without ``--lr``.

**Held out** (``HELDOUT_SOURCES``, printed as a second table titled held-out): repositories
nobody looked at while the readers were written (axolotl-cookbook, NeMo-Aligner,
Pai-Megatron-Patch, Megatron-DeepSpeed, smollm), extracted under ``/work/corpora/heldout/``.
Their rows also compare axolotl YAML with axolotl's own code (``parity_axolotl_llamafactory.Axolotl``
on the axolotl checkout). ``--heldout`` reads only these; the other checkouts passed are the references::

    .venv/bin/python benchmarks/real_configs.py /work/corpora/repos/NVIDIA+NeMo \
        /work/corpora/repos/NVIDIA+Megatron-LM /work/corpora/repos/axolotl-ai-cloud+axolotl \
        /work/corpora/heldout/* --heldout --out benchmarks/.cache/real_configs_heldout.json

Results are written to ``benchmarks/.cache/real_configs.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import inspect
import json
import math
import re
import signal
import sys
import traceback
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

STAND_IN_TOTAL = 100_000
TOL = 1e-9
#: questions answered per file (a script with many positional arguments asks one at a time)
ATTEMPTS = 12

# -- sources --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    repos: tuple[str, ...]
    patterns: tuple[str, ...]
    #: format passed to load_config (None: detected, as a user would)
    fmt: str | None = None
    #: a predicate on the text that moves a file to another source (NeMo 2 inside NeMo's examples)
    claim: Callable[[str], bool] | None = None
    #: formats the framework's own reader is (a file read as another format is a wrong curve)
    expected: tuple[str, ...] = ()
    #: Megatron launch scripts: the skip rule is "no --lr flag"
    shell: bool = False
    #: held out: never looked at while the readers were written (reported in their own table)
    heldout: bool = False


def _nemo2(text: str) -> bool:
    return bool(re.search(r"_target_:\s*nemo\.lightning\.(pytorch\.optim\.|MegatronOptimizerModule)", text))


SOURCES: tuple[Source, ...] = (
    Source(
        "nemo_rl",
        "NeMo RL examples/configs (incl. recipes)",
        ("NVIDIA-NeMo+RL",),
        ("examples/configs/**/*.yaml",),
        expected=("nemo_rl", "nemo_rl_megatron"),
    ),
    Source(
        "nemo2",
        "NeMo 2 YAML (optim._target_ nemo.lightning)",
        ("NVIDIA+NeMo",),
        ("examples/**/*.yaml",),
        claim=_nemo2,
        expected=("nemo2", "nemo"),
    ),
    Source("nemo1", "NeMo 1.x examples/**/conf", ("NVIDIA+NeMo",), ("examples/**/conf/**/*.yaml",), expected=("nemo",)),
    Source(
        "axolotl",
        "axolotl examples/**",
        ("axolotl-ai-cloud+axolotl",),
        ("examples/**/*.yaml", "examples/**/*.yml"),
        expected=("axolotl",),
    ),
    Source(
        "llamafactory",
        "LLaMA-Factory examples/**",
        ("hiyouga+LLaMA-Factory",),
        ("examples/**/*.yaml", "examples/**/*.yml"),
        expected=("hf", "llamafactory", "llamafactory_v1"),
    ),
    Source(
        "megatron_sh",
        "Megatron-LM examples/**/*.sh",
        ("NVIDIA+Megatron-LM",),
        ("examples/**/*.sh",),
        expected=("megatron",),
        shell=True,
    ),
    Source(
        "megatron_yaml",
        "Megatron-LM functional-test model_config.yaml",
        ("NVIDIA+Megatron-LM",),
        ("tests/functional_tests/**/model_config.yaml",),
        expected=("megatron",),
    ),
    Source(
        "hf_recipes",
        "TRL / open-r1 / alignment-handbook recipes",
        ("huggingface+trl", "huggingface+open-r1", "huggingface+alignment-handbook"),
        ("recipes/**/*.yaml", "examples/cli_configs/**/*.yaml", "examples/**/*.yaml"),
        expected=("hf",),
    ),
)

#: Held out: repositories nobody looked at while the readers were written (the split is by
#: repository, fixed before any was read). Checkouts under /work/corpora/heldout/ (see the
#: README); selected like the others by the directory names passed.
HELDOUT_SOURCES: tuple[Source, ...] = (
    Source(
        "h_axolotl_cookbook",
        "axolotl-cookbook **/*.y(a)ml",
        ("axolotl-ai-cloud+axolotl-cookbook",),
        ("**/*.yaml", "**/*.yml"),
        expected=("axolotl",),
        heldout=True,
    ),
    Source(
        "h_nemo_aligner",
        "NeMo-Aligner examples/**/conf (NeMo 1.x style)",
        ("NVIDIA+NeMo-Aligner",),
        ("examples/**/conf/**/*.yaml",),
        expected=("nemo",),
        heldout=True,
    ),
    Source(
        "h_pai_megatron",
        "Pai-Megatron-Patch **/*.sh (Megatron-LM launch scripts)",
        ("alibaba+Pai-Megatron-Patch",),
        ("**/*.sh",),
        expected=("megatron",),
        shell=True,
        heldout=True,
    ),
    Source(
        "h_megatron_ds",
        "Megatron-DeepSpeed **/*.sh (Megatron launch scripts)",
        ("bigscience-workshop+Megatron-DeepSpeed",),
        ("**/*.sh",),
        expected=("megatron",),
        shell=True,
        heldout=True,
    ),
    Source(
        "h_smollm",
        "smollm **/*.y(a)ml (nanotron / m4 YAML: no format lrkit reads)",
        ("huggingface+smollm",),
        ("**/*.yaml", "**/*.yml"),
        # nanotron and m4 are not formats lrkit reads: any curve drawn is a wrong curve
        expected=("(none: lrkit reads no nanotron/m4 format)",),
        heldout=True,
    ),
)

ALL_SOURCES: tuple[Source, ...] = SOURCES + HELDOUT_SOURCES

_LR_KEY = re.compile(r"(?m)(^|[\s{,\"'])(lr|learning_rate|max_lr)\s*[:=]|--lr\b|\"lr\"\s*:")
_DEFAULTS = re.compile(r"(?m)^defaults\s*:")


def _parents(path: Path, text: str) -> list[Path]:
    """The files a ``defaults:`` line (a name or a list of names) inherits from."""
    m = re.search(r"(?m)^defaults\s*:\s*(.*)$", text)
    if not m:
        return []
    inline = m.group(1).strip().strip("\"'")
    names = [inline] if inline and not inline.startswith("[") else re.findall(r"[\w./-]+\.ya?ml", inline)
    if not inline:
        block = text[m.end() :].splitlines()
        for line in block:
            item = re.match(r"\s*-\s*[\"']?([\w./-]+\.ya?ml)", line)
            if not item:
                break
            names.append(item.group(1))
    return [(path.parent / n) for n in names if n.endswith((".yaml", ".yml"))]


def _names_lr(path: Path, text: str, depth: int = 0) -> bool:
    if _LR_KEY.search(text):
        return True
    if depth > 8:
        return False
    return any(p.is_file() and _names_lr(p, _read(p), depth + 1) for p in _parents(path, text))


def not_a_training_config(path: Path, text: str, source: Source) -> str | None:
    """The documented skip rule; the reason, or None for a training config."""
    if ".github" in path.parts:
        return "CI workflow (.github)"
    if source.shell:
        return None if re.search(r"--lr\b", text) else "shell script without --lr"
    if _names_lr(path, text):
        return None
    if _DEFAULTS.search(text) and not _parents(path, text):
        return None  # Hydra group defaults: cannot tell from the text, read it
    return "names no learning rate (nor do the files it inherits from)"


def collect(dirs: Iterable[Path], only: set[str] | None) -> list[tuple[Source, Path, Path]]:
    out: list[tuple[Source, Path, Path]] = []
    seen: set[Path] = set()
    for d in dirs:
        repo = d.name
        for src in ALL_SOURCES:
            if repo not in src.repos:
                continue
            for pat in src.patterns:
                for p in sorted(d.glob(pat)):
                    if p in seen or not p.is_file():
                        continue
                    if src.claim is None:
                        # a file another source claims by content is left to it
                        claimed = any(
                            o.claim is not None and repo in o.repos and o.claim(_read(p)) for o in ALL_SOURCES
                        )
                        if claimed:
                            continue
                    elif not src.claim(_read(p)):
                        continue
                    seen.add(p)
                    if only is None or src.name in only:
                        out.append((src, d, p))
    return out


def _read(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


# -- references -----------------------------------------------------------------------------


def _load_file_module(
    name: str, path: Path, stubs: Mapping[str, types.ModuleType], *, keep: bool = False
) -> types.ModuleType:
    saved = {k: sys.modules.get(k) for k in stubs}
    sys.modules.update(stubs)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        for k, v in [] if keep else saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


_MEGATRON_MOD: Any = None
_NEMO_MOD: Any = None


def megatron_module(root: Path | None) -> Any:
    """megatron/core/optimizer_param_scheduler.py from the checkout (its logging import stubbed)."""
    global _MEGATRON_MOD
    if _MEGATRON_MOD is None and root is not None:
        utils = types.ModuleType("megatron.core.utils")
        utils.log_single_rank = lambda *a, **k: None  # type: ignore[attr-defined]
        stubs = {
            "megatron": types.ModuleType("megatron"),
            "megatron.core": types.ModuleType("megatron.core"),
            "megatron.core.utils": utils,
        }
        _MEGATRON_MOD = _load_file_module(
            "_ref_megatron_ops", root / "megatron/core/optimizer_param_scheduler.py", stubs
        )
    return _MEGATRON_MOD


def nemo_module(root: Path | None) -> Any:
    """nemo/core/optim/lr_scheduler.py from the checkout (hydra and nemo utility imports stubbed)."""
    global _NEMO_MOD
    if _NEMO_MOD is None and root is not None:
        cfg = types.ModuleType("nemo.core.config")
        cfg.SchedulerParams = object  # type: ignore[attr-defined]
        cfg.get_scheduler_config = lambda *a, **k: None  # type: ignore[attr-defined]
        cfg.register_scheduler_params = lambda *a, **k: None  # type: ignore[attr-defined]
        utils = types.ModuleType("nemo.utils")
        utils.logging = types.SimpleNamespace(info=lambda *a, **k: None, warning=lambda *a, **k: None)  # type: ignore[attr-defined]
        mu = types.ModuleType("nemo.utils.model_utils")
        mu.maybe_update_config_version = lambda c: c  # type: ignore[attr-defined]
        stubs = {
            "hydra": types.ModuleType("hydra"),
            "nemo": types.ModuleType("nemo"),
            "nemo.core": types.ModuleType("nemo.core"),
            "nemo.core.config": cfg,
            "nemo.utils": utils,
            "nemo.utils.model_utils": mu,
        }
        _NEMO_MOD = _load_file_module("_ref_nemo_lr", root / "nemo/core/optim/lr_scheduler.py", stubs)
    return _NEMO_MOD


_NEMO2_MOD: Any = None


def nemo2_module(root: Path | None) -> Any:
    """nemo/lightning/pytorch/optim/lr_scheduler.py from the checkout, on the NeMo 1 policies
    above (LRSchedulerModule stubbed as a plain base class)."""
    global _NEMO2_MOD
    if _NEMO2_MOD is None and root is not None:
        v1 = nemo_module(root)
        base = types.ModuleType("nemo.lightning.pytorch.optim.base")
        base.LRSchedulerModule = type("LRSchedulerModule", (), {})  # type: ignore[attr-defined]
        stubs = {
            "nemo": types.ModuleType("nemo"),
            "nemo.core": types.ModuleType("nemo.core"),
            "nemo.core.optim": types.ModuleType("nemo.core.optim"),
            "nemo.core.optim.lr_scheduler": v1,
            "nemo.lightning": types.ModuleType("nemo.lightning"),
            "nemo.lightning.pytorch": types.ModuleType("nemo.lightning.pytorch"),
            "nemo.lightning.pytorch.optim": types.ModuleType("nemo.lightning.pytorch.optim"),
            "nemo.lightning.pytorch.optim.base": base,
        }
        # kept installed: CosineAnnealingScheduler imports its policy when it builds it
        _NEMO2_MOD = _load_file_module(
            "_ref_nemo2_lr", root / "nemo/lightning/pytorch/optim/lr_scheduler.py", stubs, keep=True
        )
    return _NEMO2_MOD


def ref_nemo2(cfg: Any, n: int, roots: Mapping[str, Path]) -> np.ndarray | None:
    """The NeMo 2 module named by ``optim.lr_scheduler._target_``, built with the YAML's keys."""
    mod = nemo2_module(roots.get("NVIDIA+NeMo"))
    if mod is None:
        return None
    raw = cfg.raw
    optim = raw["optim"] if "optim" in raw else raw["model"]["optim"]
    lr = float(optim["config"]["lr"])
    sched = dict(optim.get("lr_scheduler") or {})
    opt = _optimizer(lr)
    if not sched:
        return np.full(n, lr)
    cls = getattr(mod, sched.pop("_target_").rsplit(".", 1)[-1])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = cls(**sched).scheduler(None, opt)["lr_scheduler"]["scheduler"]
        out = np.empty(n)
        for k in range(n):
            s.last_epoch = k
            out[k] = s.get_lr()[0]
    return out


def _optimizer(lr: float):
    import torch

    p = torch.nn.Parameter(torch.zeros(1))
    return torch.optim.SGD([p], lr=lr)


def _step_torch(sched: Any, opt: Any, n: int) -> np.ndarray:
    import warnings

    out = np.empty(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(n):
            out[k] = opt.param_groups[0]["lr"]
            opt.step()
            sched.step()
    return out


def ref_torch_nemo_rl(cfg: Any, n: int, roots: Mapping[str, Path]) -> np.ndarray | None:
    import torch

    policy = cfg.raw["policy"]
    lr = float(policy["optimizer"]["kwargs"]["lr"])
    opt = _optimizer(lr)
    raw = policy.get("scheduler")

    def make(e: Mapping[str, Any]):
        name = str(e["name"])
        if not name.startswith("torch.optim.lr_scheduler."):
            raise LookupError(name)
        return getattr(torch.optim.lr_scheduler, name.rsplit(".", 1)[1])(opt, **dict(e.get("kwargs") or {}))

    if raw is None:
        return np.full(n, lr)
    if isinstance(raw, Mapping):
        sched = make(raw)
    else:
        entries = [e for e in raw if "name" in e]
        ms = next((e["milestones"] for e in raw if "milestones" in e), None)
        scheds = [make(e) for e in entries]
        if len(scheds) == 1 and not ms:
            sched = scheds[0]
        else:
            sched = torch.optim.lr_scheduler.SequentialLR(opt, scheds, milestones=list(ms or []))
    return _step_torch(sched, opt, n)


def _megatron_args_from_raw(cfg: Any) -> dict[str, Any] | None:
    """The namespace from a YAML config's own keys (not lrkit's reading): NeMo RL's
    megatron_cfg (train_iters = max_num_steps, one tick per step) or flat / nested
    Megatron-core keys. None for shapes it does not know (shell, argument lists)."""
    raw = cfg.raw or {}
    if cfg.format == "nemo_rl_megatron":
        m = raw["policy"]["megatron_cfg"]
        a = {
            **{k: v for k, v in (m.get("optimizer") or {}).items() if k in ("lr", "min_lr")},
            **(m.get("scheduler") or {}),
        }
        a["train_iters"] = cfg.total_steps
        a["increment"] = 1
        a.pop("lr_warmup_samples", None)
        return a
    if cfg.format == "megatron" and isinstance(raw, Mapping) and ("lr" in raw or "optimizer" in raw):
        a = {}
        for k, v in raw.items():
            if k in ("optimizer", "scheduler", "train", "training") and isinstance(v, Mapping):
                a.update(v)
            else:
                a[k] = v
        if not a.get("train_iters") and not a.get("train_samples"):
            a["train_iters"] = cfg.total_steps
        return a if "lr" in a else None
    return None


def ref_megatron(cfg: Any, n: int, roots: Mapping[str, Path]) -> np.ndarray | None:
    """OptimizerParamScheduler built as ``get_optimizer_param_scheduler`` (training.py) builds it,
    from the Megatron argument namespace lrkit read (``cfg.context['megatron_args']``: the
    parsing is lrkit's, the arithmetic and the curve are Megatron's). Evaluated at
    ``num_steps = k * increment`` (the global batch size; NeMo RL's worker: one per step)."""
    mod = megatron_module(roots.get("NVIDIA+Megatron-LM"))
    a = _megatron_args_from_raw(cfg) or (cfg.context or {}).get("megatron_args")
    if mod is None or a is None:
        return None
    gbs = a.get("global_batch_size") or 1
    if a.get("train_iters"):
        decay_iters = a.get("lr_decay_iters") or a["train_iters"]
        decay_steps = decay_iters * gbs
        wsd = a["lr_wsd_decay_iters"] * gbs if a.get("lr_wsd_decay_iters") is not None else None
        frac = a.get("lr_warmup_fraction")
        warm = frac * decay_steps if frac is not None else (a.get("lr_warmup_iters") or 0) * gbs
        inc = gbs
    elif a.get("train_samples"):
        decay_steps = a.get("lr_decay_samples") or a["train_samples"]
        wsd = a.get("lr_wsd_decay_samples")
        frac = a.get("lr_warmup_fraction")
        warm = frac * decay_steps if frac is not None else (a.get("lr_warmup_samples") or 0)
        inc = gbs
    else:
        raise ValueError("either train-iters or train-samples should be provided.")
    if a.get("increment") is not None:
        inc = a["increment"]
    counter = _megatron_counter(a, roots, inc)
    opt = _optimizer(float(a["lr"]))
    sched = mod.OptimizerParamScheduler(
        opt,
        init_lr=float(a.get("lr_warmup_init") or 0.0),
        max_lr=float(a["lr"]),
        min_lr=float(a.get("min_lr") or 0.0),
        lr_warmup_steps=warm,
        lr_decay_steps=decay_steps,
        lr_decay_style=a.get("lr_decay_style") or "linear",
        start_wd=0.0,
        end_wd=0.0,
        wd_incr_steps=decay_steps,
        wd_incr_style="constant",
        wsd_decay_steps=wsd,
        lr_wsd_decay_style=a.get("lr_wsd_decay_style") or "exponential",
    )
    out = np.empty(n)
    group = opt.param_groups[0]
    for k in range(n):
        sched.num_steps = counter(k)
        out[k] = sched.get_lr(group)
    return out


def ref_megatron_deepspeed(cfg: Any, n: int, roots: Mapping[str, Path]) -> np.ndarray | None:
    """Megatron-DeepSpeed's own ``AnnealingLR`` (megatron/learning_rates.py) and batch calculator
    (megatron/microbatches.py), loaded from the bigscience-workshop+Megatron-DeepSpeed checkout with
    ``megatron.get_args``/``print_rank_0`` stubbed, built as its ``get_learning_rate_scheduler`` builds
    it and stepped as ``train_step``/``train`` step it: ``update_num_microbatches(consumed)``, then
    ``step(increment=samples of this iteration)`` reading ``args.consumed_train_tokens`` *before* that
    iteration's ``samples * seq_length`` tokens are added. A read as current Megatron-LM
    (``--set megatron=lm``) is compared with Megatron-LM's scheduler instead."""
    ctx = cfg.context or {}
    root = roots.get("bigscience-workshop+Megatron-DeepSpeed")
    if ctx.get("megatron") == "lm" or "arguments" not in ctx:
        return ref_megatron(cfg, n, roots)
    if root is None:
        return None
    a = dict(ctx["megatron_args"])
    every = dict(ctx["arguments"])
    gbs = int(every.get("global_batch_size") or 1)
    seq = every.get("seq_length")
    args = types.SimpleNamespace(lr_decay_tokens=every.get("lr_decay_tokens"), consumed_train_tokens=0)
    stub = types.ModuleType("megatron")
    stub.get_args = lambda: args  # type: ignore[attr-defined]
    stub.print_rank_0 = lambda *x, **k: None  # type: ignore[attr-defined]
    lr_mod = _load_file_module("_ref_mds_lr", root / "megatron/learning_rates.py", {"megatron": stub})
    mb_mod = _load_file_module("_ref_mds_mb", root / "megatron/microbatches.py", {})
    ramp = every.get("rampup_batch_size") if ctx.get("megatron") == "deepspeed" else None
    calc_args = types.SimpleNamespace(
        rampup_batch_size=[str(x) for x in ramp] if ramp else None,
        global_batch_size=gbs,
        micro_batch_size=1,
        data_parallel_size=1,
        rank=1,
    )
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        calc = mb_mod.build_num_microbatches_calculator(calc_args)
    if a.get("train_iters"):
        decay_steps = (a.get("lr_decay_iters") or a["train_iters"]) * gbs
        frac = a.get("lr_warmup_fraction")
        warm = frac * decay_steps if frac is not None else (a.get("lr_warmup_iters") or 0) * gbs
    elif a.get("train_samples"):
        decay_steps = a.get("lr_decay_samples") or a["train_samples"]
        frac = a.get("lr_warmup_fraction")
        warm = frac * decay_steps if frac is not None else (a.get("lr_warmup_samples") or 0)
    else:
        raise ValueError("either train-iters or train-samples should be provided.")
    opt = _optimizer(float(a["lr"]))
    sched = lr_mod.AnnealingLR(
        opt,
        max_lr=float(a["lr"]),
        min_lr=float(a.get("min_lr") or 0.0),
        warmup_steps=warm,
        decay_steps=decay_steps,
        decay_style=a.get("lr_decay_style") or "linear",
    )
    out = np.empty(n)
    consumed = 0
    for k in range(n):
        out[k] = opt.param_groups[0]["lr"]
        calc.update(consumed, False)
        increment = calc.get() * 1 * 1  # num micro-batches x micro-batch size x data-parallel size
        sched.step(increment=increment)
        consumed += increment
        args.consumed_train_tokens += increment * int(seq or 0)
    return out


def _megatron_counter(a: Mapping[str, Any], roots: Mapping[str, Path], inc: float) -> Any:
    """``k -> num_steps`` as Megatron's training loop advances it: ``k * inc``, or, under
    ``step_batch_size_schedule``, the samples consumed, with the batch size of each iteration taken
    from Megatron's own StepBatchsizeNumMicroBatchesCalculator (megatron/core/num_microbatches_calculator.py)."""
    if not a.get("step_batch_size_schedule"):
        return lambda k: k * inc
    root = roots["NVIDIA+Megatron-LM"]
    mod = _load_file_module("_ref_megatron_mbs", root / "megatron/core/num_microbatches_calculator.py", {})
    calc = mod.StepBatchsizeNumMicroBatchesCalculator(
        micro_batch_size=1,
        data_parallel_size=1,
        decrease_batch_size_if_needed=False,
        rank=1,
        schedule=str(a["step_batch_size_schedule"]),
        seq_length=a.get("seq_length"),
    )
    consumed = [0]  # samples consumed before iteration k, for k = 0, 1, ...

    def at(k: int) -> int:
        while len(consumed) <= k:
            calc.update(consumed[-1], consistency_check=False)
            consumed.append(consumed[-1] + calc.get_current_global_batch_size())
        return consumed[k]

    return at


_NEMO_EPOCH_LIKE = ("ExponentialLR", "ReduceLROnPlateau")


def assisted_total(cfg: Any) -> bool:
    return bool(getattr(cfg, "_bench_total", False))


def ref_nemo1(cfg: Any, n: int, roots: Mapping[str, Path]) -> np.ndarray | None:
    """NeMo's scheduler class with max_steps as ModelPT.setup_optimization sets it
    (``trainer.max_steps`` when >= 0 replaces ``sched.max_steps``)."""
    if (cfg.context or {}).get("scheduler_module"):
        return ref_nemo2(cfg, n, roots)
    mod = nemo_module(roots.get("NVIDIA+NeMo"))
    model = cfg.raw.get("model") if isinstance(cfg.raw.get("model"), Mapping) else cfg.raw
    if mod is not None and isinstance(model.get("lr_scheduler"), Mapping) and "_target_" in model["lr_scheduler"]:
        # speechlm2: instantiate(cfg.lr_scheduler, optimizer) with the keys as written
        kw = dict(model["lr_scheduler"])
        cls = getattr(mod, kw.pop("_target_").rsplit(".", 1)[-1])
        opt = _optimizer(float(model["optimizer"]["lr"]))
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = cls(opt, **kw)
            out = np.empty(n)
            for k in range(n):
                s.last_epoch = k
                out[k] = s.get_lr()[0]
        return out
    if mod is None:
        return None
    raw = cfg.raw
    optim = (raw.get("model") or {}).get("optim") if isinstance(raw.get("model"), Mapping) else None
    optim = optim if isinstance(optim, Mapping) else raw.get("optim")
    lr = float(optim["lr"])
    sched_cfg = dict(optim.get("sched") or {})
    if not sched_cfg:
        return np.full(n, lr)
    name = sched_cfg.get("name")
    trainer = raw.get("trainer") if isinstance(raw.get("trainer"), Mapping) else {}
    tmax = trainer.get("max_steps")
    if not isinstance(tmax, int):
        tmax = None
    if assisted_total(cfg):
        tmax = cfg.total_steps  # --total-steps stands for the trainer's max_steps
    if tmax is not None and tmax >= 0:
        sched_cfg["max_steps"] = tmax
    if not isinstance(sched_cfg.get("max_steps"), int) or sched_cfg.get("max_steps") == -1:
        sched_cfg["max_steps"] = cfg.total_steps
    has_args = "args" in sched_cfg
    args = dict(sched_cfg.pop("args")) if has_args else dict(sched_cfg)
    if has_args and "name" in args:  # prepare_lr_scheduler: only args.params count (on the params class's defaults)
        args = dict(args.get("params") or {})
    for k in (
        "name",
        "t_max_epochs",
        "t_accumulate_grad_batches",
        "t_limit_train_batches",
        "t_num_workers",
        "monitor",
        "reduce_on_plateau",
        "interval",
        "frequency",
        "iters_per_batch",
    ):
        args.pop(k, None)
    args["max_steps"] = sched_cfg["max_steps"]
    cls = mod.AVAILABLE_SCHEDULERS.get(name)
    if cls is None:
        return None
    if "max_steps" not in inspect.signature(cls).parameters:
        args.pop("max_steps")
    opt = _optimizer(lr)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = cls(opt, **args)
    if name in _NEMO_EPOCH_LIKE:
        # Lightning steps an 'epoch'-interval scheduler once per epoch
        per_epoch = cfg.total_steps // int(trainer["max_epochs"])
        out = np.empty(n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for k in range(n):
                out[k] = opt.param_groups[0]["lr"]
                opt.step()
                if (k + 1) % per_epoch == 0:
                    sched.step()
        return out
    if name in ("StepLR", "CyclicLR"):
        return _step_torch(sched, opt, n)
    out = np.empty(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(n):
            sched.last_epoch = k
            out[k] = sched.get_lr()[0]
    return out


def ref_hf(cfg: Any, n: int, roots: Mapping[str, Path]) -> np.ndarray | None:
    """transformers.get_scheduler with TrainingArguments' warm-up rounding."""
    import transformers

    raw = cfg.raw
    name = raw.get("lr_scheduler_type", "linear")
    lr = float(raw.get("learning_rate", 5e-5))
    total = cfg.total_steps or n
    ws = raw.get("warmup_steps") or 0
    wr = raw.get("warmup_ratio") or 0.0
    if isinstance(ws, float) and ws < 1:  # transformers >= 4.5x: a float warmup_steps < 1 is a ratio
        wr, ws = ws, 0
    warm = int(ws) if ws and ws > 0 else math.ceil(total * float(wr))
    opt = _optimizer(lr)
    sched = transformers.get_scheduler(
        name,
        opt,
        num_warmup_steps=warm,
        num_training_steps=total,
        scheduler_specific_kwargs=dict(raw.get("lr_scheduler_kwargs") or {}),
    )
    return _step_torch(sched, opt, n)


#: format lrkit read -> reference
REFERENCES: dict[str, Callable[[Any, int, Mapping[str, Path]], np.ndarray | None]] = {
    "nemo_rl": ref_torch_nemo_rl,
    "nemo_rl_megatron": ref_megatron,
    "megatron": ref_megatron,
    "nemo": ref_nemo1,
    "hf": ref_hf,
}


_PARITY: Any = None
_AXOLOTL: dict[Path, Any] = {}


def ref_axolotl(cfg: Any, n: int, roots: Mapping[str, Path]) -> np.ndarray | None:
    """axolotl's own warm-up, scheduler choice and ``create_scheduler``, run from the axolotl
    checkout by ``parity_axolotl_llamafactory.Axolotl`` on the YAML's keys as written; the run
    length lrkit was given (``--total-steps``) stands for the updates the data gives."""
    global _PARITY
    root = roots.get("axolotl-ai-cloud+axolotl")
    if root is None or cfg.total_steps is None:
        return None
    if _PARITY is None:
        sys.path.insert(0, str(Path(__file__).parent))
        import logging

        import parity_axolotl_llamafactory as parity

        logging.disable(logging.WARNING)
        _PARITY = parity
    if root not in _AXOLOTL:
        _AXOLOTL[root] = _PARITY.Axolotl(root)
    ref, m = _AXOLOTL[root].curve(dict(cfg.raw), int(cfg.total_steps))
    return ref[:n] if m >= n else None


#: references used for held-out sources only (the in-corpus rows stay as they were measured)
HELDOUT_REFERENCES: dict[str, Callable[[Any, int, Mapping[str, Path]], np.ndarray | None]] = {
    **REFERENCES,
    "axolotl": ref_axolotl,
}


# -- reading --------------------------------------------------------------------------------


@dataclass
class Result:
    source: str
    path: str
    outcome: str  # skipped | exact | no_reference | wrong | refused | crash
    detail: str = ""
    format: str | None = None
    assisted: list[str] = field(default_factory=list)
    parity: float | None = None
    framework_refuses: bool = False


class _Timeout(Exception):
    pass


def _alarm(_sig: int, _frm: Any) -> None:
    raise _Timeout()


_SET_RE = re.compile(r"--set ([A-Za-z_0-9][\w.\-\[\]]*)=")
_RUN_LEN_RE = re.compile(r"--total-steps|total_steps|run length", re.I)
_FRAMEWORK_RE = re.compile(r"\b(asserts?|raises|fails|refuses|rejects)\b")


def reason_key(msg: str) -> str:
    msg = re.sub(r"/\S*?(\.ya?ml|\.json|\.sh):?", "<file>", msg)
    msg = msg.split(" Fix:")[0]
    msg = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", msg)
    msg = re.sub(r"\b\d+(\.\d+)?(e[-+]?\d+)?\b", "N", msg)
    return msg[:150]


def _load(path: Path, fmt: str | None, total: int | None, sets: dict[str, str]) -> Any:
    from lrkit.config import load_config

    kw: dict[str, Any] = {"total_steps": total, "format": fmt}
    if sets:
        params = inspect.signature(load_config).parameters
        if "overrides" not in params:
            raise RuntimeError("this lrkit has no overrides= (cannot --set)")
        kw["overrides"] = dict(sets)
    return load_config(path, **kw)


def _stand_in(name: str, msg: str = "") -> str:
    """A value a user would give for what lrkit asks (a style name, a length, a size)."""
    if "style" in name:
        return "cosine"
    flag = re.match(r"(--[\w-]+)", msg)
    if re.fullmatch(r"(--)?(lr|min_lr|LR)", name):
        return "1e-4"
    # a message led by --lr can ask for several names at once (--train-iters, --global-batch-size):
    # a count is a count whichever flag leads the message
    if re.search(r"warm", name, re.I):
        return "100"  # a warm-up that ends before the decay does, as a user's would
    if re.search(r"iter|step|sample|len|num", name, re.I):
        return "1000"
    if re.search(r"batch|size", name, re.I):
        return "128"
    if flag and flag.group(1) in ("--lr", "--min-lr"):
        return "1e-4"
    return "128"


def read_one(src: Source, path: Path, roots: Mapping[str, Path], max_steps: int, timeout: int) -> Result:
    from lrkit.errors import ConfigError

    res = Result(src.name, str(path), "crash")
    total: int | None = None
    sets: dict[str, str] = {}
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        for _attempt in range(ATTEMPTS):
            try:
                cfg = _load(path, src.fmt, total, sets)
                object.__setattr__(cfg, "_bench_total", total is not None)
                break
            except ConfigError as err:
                msg = str(err)
                # "--set lr=<value> (or --set LR=... as the block would set it)": one answer, not both (the
                # alternative, a shell variable holding a whole argument string, would be replaced by a number)
                asked = [m for m in _SET_RE.findall(msg.split(" (or --set ")[0]) if m not in sets]
                if asked:
                    for name in asked:
                        sets[name] = _stand_in(name, msg)
                        if name == "megatron":  # which Megatron: the one the repository's scripts run on
                            sets[name] = "deepspeed" if src.name == "h_megatron_ds" else "lm"
                    res.assisted = sorted({*res.assisted, "--set"})
                    continue
                epochs = re.search(r"not a whole number of epochs \((\d+)\)", msg)
                if epochs and total == STAND_IN_TOTAL:
                    total = 1000 * int(epochs.group(1))  # --total-steps as a user gives it: epochs x updates
                    continue
                if total is None and _RUN_LEN_RE.search(msg):
                    total = STAND_IN_TOTAL
                    res.assisted = sorted({*res.assisted, "--total-steps"})
                    continue
                res.outcome, res.detail = "refused", msg
                res.framework_refuses = bool(_FRAMEWORK_RE.search(msg.split(" Fix:")[0]))
                return res
        else:
            res.outcome, res.detail = "refused", f"gave up after {ATTEMPTS} attempts: " + msg
            return res
        res.format = cfg.format
        n = cfg.total_steps
        if n is None:
            hz = cfg.schedule.horizon
            n = math.ceil(hz) if hz is not None and hz >= 1 else STAND_IN_TOTAL
            if hz is None:
                res.assisted = sorted({*res.assisted, "--total-steps"})
        n = max(1, min(int(n), max_steps))
        ours = np.asarray(cfg.lrs(n), dtype=np.float64)
        if not np.all(np.isfinite(ours)):
            res.outcome, res.detail = "crash", "non-finite LR"
            return res
        if src.expected and cfg.format not in src.expected:
            res.outcome, res.detail = "wrong", f"read as {cfg.format!r}, not as {'/'.join(src.expected)}"
            return res
        ref_fn = (HELDOUT_REFERENCES if src.heldout else REFERENCES).get(cfg.format)
        if src.name == "h_megatron_ds" and cfg.format == "megatron":
            ref_fn = ref_megatron_deepspeed  # the framework these scripts run on
        ref = None
        if ref_fn is not None:
            try:
                ref = ref_fn(cfg, n, roots)
            except _Timeout:
                raise
            except Exception as err:
                res.detail = f"reference failed: {type(err).__name__}: {err}"[:200]
        if ref is None:
            res.outcome = "no_reference"
            return res
        denom = np.maximum(np.abs(ref), 1e-300)
        diff = float(np.max(np.abs(ours - ref) / denom)) if n else 0.0
        res.parity = diff
        if diff <= TOL:
            res.outcome = "exact"
        else:
            k = int(np.argmax(np.abs(ours - ref) / denom))
            res.outcome, res.detail = "wrong", f"step {k}: lrkit {ours[k]:.6g} vs reference {ref[k]:.6g}"
        return res
    except _Timeout:
        res.outcome, res.detail = "crash", f"timeout after {timeout}s"
        return res
    except Exception as err:
        tb = traceback.extract_tb(err.__traceback__)[-1]
        res.outcome, res.detail = "crash", f"{type(err).__name__}: {err} ({Path(tb.filename).name}:{tb.lineno})"[:300]
        return res
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# -- report ---------------------------------------------------------------------------------


def report(results: list[Result], show_refusals: bool, show_wrong: bool) -> str:
    """The in-corpus table, then (when any held-out checkout was passed) the held-out table."""
    names = {s.name for s in SOURCES}
    out = [_report(results, SOURCES, show_refusals, show_wrong)] if any(r.source in names for r in results) else []
    if any(r.source in {s.name for s in HELDOUT_SOURCES} for r in results):
        out.append("")
        out.append("held-out (repositories never looked at while the readers were written):")
        out.append("")
        out.append(_report(results, HELDOUT_SOURCES, show_refusals, show_wrong))
    return "\n".join(out)


def _report(results: list[Result], sources: tuple[Source, ...], show_refusals: bool, show_wrong: bool) -> str:
    lines = []
    by_src: dict[str, list[Result]] = collections.defaultdict(list)
    for r in results:
        by_src[r.source].append(r)
    lines.append(
        "| source | configs | read, exact | read, no reference | refused though the framework runs it | "
        "framework refuses too | wrong curve | crash | not a training config | worst parity |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for src in sources:
        rs = by_src.get(src.name)
        if not rs:
            continue
        c = collections.Counter(r.outcome for r in rs)
        fw = sum(r.outcome == "refused" and r.framework_refuses for r in rs)
        configs = len(rs) - c["skipped"]
        parities = [r.parity for r in rs if r.parity is not None]
        worst = f"{max(parities):.1e}" if parities else "-"
        lines.append(
            f"| {src.title} | {configs} | {c['exact']} | {c['no_reference']} | {c['refused'] - fw} | {fw} | "
            f"{c['wrong']} | {c['crash']} | {c['skipped']} | {worst} |"
        )
    lines.append("")
    for src in sources:
        rs = by_src.get(src.name)
        if not rs:
            continue
        assisted = collections.Counter(",".join(r.assisted) for r in rs if r.assisted and r.outcome != "refused")
        if assisted:
            lines.append(f"[{src.name}] read after: " + "; ".join(f"{k} x{v}" for k, v in assisted.items()))
        reasons = collections.Counter(reason_key(r.detail) for r in rs if r.outcome == "refused")
        if reasons:
            lines.append(f"[{src.name}] refusals by reason:")
            for why, k in reasons.most_common(None if show_refusals else 8):
                lines.append(f"    {k:4d}  {why}")
        for r in rs:
            if r.outcome == "crash" or (show_wrong and r.outcome == "wrong"):
                lines.append(f"[{src.name}] {r.outcome.upper()}: {r.path}: {r.detail}")
        skipped = collections.Counter(r.detail for r in rs if r.outcome == "skipped")
        if skipped:
            lines.append(f"[{src.name}] not training configs: " + "; ".join(f"{k} x{v}" for k, v in skipped.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+", type=Path, help="checkouts named <owner>+<name>")
    ap.add_argument("--source", action="append", help="only these sources (repeatable)")
    ap.add_argument(
        "--heldout",
        action="store_true",
        help="only the held-out sources (the other checkouts passed serve as references)",
    )
    ap.add_argument("--limit", type=int, default=None, help="at most N files per source")
    ap.add_argument("--max-steps", type=int, default=20_000, help="compare the first N updates at most")
    ap.add_argument("--timeout", type=int, default=30, help="seconds per file")
    ap.add_argument("--show-refusals", action="store_true", help="list every refusal reason")
    ap.add_argument("--show-wrong", action="store_true", help="list every wrong curve")
    ap.add_argument("--list", dest="list_files", action="store_true", help="print each file's outcome")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / ".cache" / "real_configs.json")
    args = ap.parse_args(argv)
    roots = {d.name: d for d in args.dirs}
    only = set(args.source) if args.source else None
    if args.heldout:
        only = {s.name for s in HELDOUT_SOURCES} & (only or {s.name for s in HELDOUT_SOURCES})
    files = collect(args.dirs, only)
    per: dict[str, int] = collections.Counter()
    results: list[Result] = []
    for src, _d, p in files:
        if args.limit is not None and per[src.name] >= args.limit:
            continue
        per[src.name] += 1
        why = not_a_training_config(p, _read(p), src)
        if why:
            results.append(Result(src.name, str(p), "skipped", why))
            continue
        r = read_one(src, p, roots, args.max_steps, args.timeout)
        results.append(r)
        if args.list_files:
            print(f"{r.outcome:12s} {','.join(r.assisted):24s} {p}  {r.detail[:160]}", flush=True)
    print(report(results, args.show_refusals, args.show_wrong))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
