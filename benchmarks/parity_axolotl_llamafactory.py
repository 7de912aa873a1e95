"""Parity of lrkit's axolotl and LLaMA-Factory readers with the frameworks' own code.

Neither framework is installed: this script runs their scheduler code straight from a checkout.

- axolotl: ``utils/schedulers.py`` is imported from the checkout; the warm-up and scheduler
  choice (``_configure_warmup_and_logging``, ``_configure_scheduler`` of
  ``core/builders/base.py``) and ``SchedulerMixin.create_scheduler``
  (``core/trainers/mixins/scheduler.py``) are compiled from their source with stubs for the
  trainer and plugin manager; transformers (in the venv) supplies ``get_scheduler`` and
  ``TrainingArguments.get_warmup_steps``. Each config is stepped as the Trainer steps it and
  compared update by update with ``load_config(path, total_steps=N)``.
- LLaMA-Factory v0: ``create_custom_scheduler`` (``train/trainer_utils.py``) compiled from source,
  then transformers' scheduler; v1: the trainer's ``LambdaLR(lambda x: 1.0)``.

Inputs: every YAML under ``examples/`` of each checkout that has ``learning_rate``, plus a
grid of synthetic axolotl configs covering every scheduler branch (jagged restarts included). ``N`` (``--total-steps``)
stands for the updates the data gives, which neither file holds.

Usage::

    python benchmarks/parity_axolotl_llamafactory.py --axolotl PATH --llamafactory PATH [--total-steps 1000]

Prints per-source counts and the largest ``|lrkit - framework| / peak`` over every update.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import itertools
import logging
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from transformers import TrainingArguments, get_scheduler

from lrkit.config import load_config
from lrkit.errors import ConfigError


class Cfg(dict):
    """axolotl's DictDefault: a missing key reads as None."""

    def __getattr__(self, key: str) -> Any:
        return self.get(key)


def _functions(path: Path, names: tuple[str, ...]) -> list[ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name in names]
    assert {f.name for f in found} == set(names), f"{path}: expected {names}"
    return found


def _class_from(funcs: list[ast.FunctionDef], name: str, base: str, namespace: dict[str, Any]) -> type:
    cls = ast.ClassDef(name=name, bases=[ast.Name(base, ast.Load())], keywords=[], body=funcs, decorator_list=[])
    module = ast.fix_missing_locations(ast.Module(body=[cls], type_ignores=[]))
    exec(compile(module, f"<{name}>", "exec"), namespace)  # the framework's own code, from its checkout
    return namespace[name]


class _TrainerStub:
    """transformers' Trainer.create_scheduler, the branch axolotl falls back to."""

    def create_scheduler(self, num_training_steps, optimizer=None):
        if self.lr_scheduler is None:
            self.lr_scheduler = get_scheduler(
                self.args.lr_scheduler_type,
                optimizer=optimizer or self.optimizer,
                num_warmup_steps=self.args.get_warmup_steps(num_training_steps),
                num_training_steps=num_training_steps,
                scheduler_specific_kwargs=self.args.lr_scheduler_kwargs,
            )
        return self.lr_scheduler


class _Plugins:
    @staticmethod
    def get_instance():
        return _Plugins()

    def create_lr_scheduler(self, **_: Any):
        return None


class Axolotl:
    def __init__(self, root: Path) -> None:
        spec = importlib.util.spec_from_file_location("axolotl_schedulers", root / "src/axolotl/utils/schedulers.py")
        sched = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sched)  # type: ignore[union-attr]
        ns: dict[str, Any] = {
            "torch": torch,
            "LRScheduler": torch.optim.lr_scheduler.LRScheduler,
            "OneCycleLR": torch.optim.lr_scheduler.OneCycleLR,
            "Trainer": _TrainerStub,
            "PluginManager": _Plugins,
            "LOG": logging.getLogger("axolotl"),
            "object": object,
        }
        ns.update({k: getattr(sched, k) for k in dir(sched) if not k.startswith("__")})
        mixin = _functions(root / "src/axolotl/core/trainers/mixins/scheduler.py", ("create_scheduler",))
        self.Mixin = _class_from(mixin, "SchedulerMixin", "Trainer", ns)
        builder = _functions(
            root / "src/axolotl/core/builders/base.py", ("_configure_warmup_and_logging", "_configure_scheduler")
        )
        self.Builder = _class_from(builder, "Builder", "object", ns)

    def curve(self, data: dict[str, Any], dataset_steps: int) -> tuple[np.ndarray, int]:
        cfg = Cfg(data)
        cfg.setdefault("lr_scheduler", "cosine")
        cfg.setdefault("num_epochs", 1.0)
        rl = cfg.rl
        if cfg.streaming or cfg.pretraining_dataset:
            total = cfg.max_steps
        elif rl in ("grpo", "ebft"):
            total = None
        elif rl or not cfg.max_steps:
            total = dataset_steps
        else:
            total = min(dataset_steps, cfg.max_steps)
        builder = self.Builder()
        builder.cfg = cfg
        kw: dict[str, Any] = {}
        builder._configure_warmup_and_logging(total, kw)
        builder._configure_scheduler(kw)
        max_steps = cfg.max_steps or total or -1
        n = max_steps if max_steps > 0 else dataset_steps
        args = types.SimpleNamespace(
            warmup_steps=kw["warmup_steps"],
            lr_scheduler_type=kw["lr_scheduler_type"],
            alternate_lr_scheduler_type=kw.get("alternate_lr_scheduler_type"),
            lr_scheduler_kwargs=kw["lr_scheduler_kwargs"],
            learning_rate=float(cfg.learning_rate),
            lr_quadratic_warmup=bool(cfg.lr_quadratic_warmup)
            if not rl and cfg.lr_quadratic_warmup is not None
            else False,
            cosine_min_lr_ratio=cfg.cosine_min_lr_ratio,
            cosine_constant_lr_ratio=cfg.cosine_constant_lr_ratio,
            jagged_restart_steps=None if rl else cfg.jagged_restart_steps,
            jagged_restart_warmup_steps=cfg.jagged_restart_warmup_steps,
            jagged_restart_anneal_steps=cfg.jagged_restart_anneal_steps,
        )
        args.get_warmup_steps = types.MethodType(TrainingArguments.get_warmup_steps, args)
        param = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([param], lr=float(cfg.learning_rate))
        trainer = self.Mixin()
        trainer.args, trainer.optimizer, trainer.lr_scheduler = args, opt, None
        sched = trainer.create_scheduler(n, opt)
        return _run(opt, sched, n), n


def _run(opt: torch.optim.Optimizer, sched: Any, n: int) -> np.ndarray:
    lrs = []
    for _ in range(n):
        lrs.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
    return np.asarray(lrs)


class LlamaFactory:
    def __init__(self, root: Path) -> None:
        funcs = _functions(root / "src/llamafactory/train/trainer_utils.py", ("create_custom_scheduler",))
        ns: dict[str, Any] = {
            "DummyOptimizer": type("DummyOptimizer", (), {}),
            "get_scheduler": get_scheduler,
            "torch": torch,
            "Optional": Any,
        }
        module = ast.fix_missing_locations(ast.Module(body=funcs, type_ignores=[]))
        exec(compile(module, "<trainer_utils>", "exec"), ns)  # the framework's own code
        self.custom = ns["create_custom_scheduler"]

    def curve(self, data: dict[str, Any], dataset_steps: int, v1: bool) -> tuple[np.ndarray, int]:
        lr = float(data.get("learning_rate", 1e-4 if v1 else 5e-5))
        param = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([param], lr=lr)
        max_steps = data.get("max_steps")
        n = int(max_steps) if max_steps and max_steps > 0 else dataset_steps
        if v1:
            return _run(opt, torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lambda x: 1.0), n), n
        keys = ("lr_scheduler_type", "lr_scheduler_kwargs", "warmup_steps", "warmup_ratio", "max_steps")
        given = {k: data[k] for k in keys if data.get(k) is not None}
        if "warmup_ratio" in given:
            # transformers 4 (LLaMA-Factory allows >= 4.55): ceil(N * warmup_ratio) when warmup_steps is 0; newer
            # releases dropped the key and read a warmup_steps below 1 as that same ratio
            ratio = given.pop("warmup_ratio")
            if not given.get("warmup_steps"):
                given["warmup_steps"] = ratio
        args = TrainingArguments(output_dir="/tmp/lrkit-parity", learning_rate=lr, report_to=[], **given)
        self.custom(args, n, opt)
        sched = get_scheduler(
            args.lr_scheduler_type,
            optimizer=opt,
            num_warmup_steps=args.get_warmup_steps(n),
            num_training_steps=n,
            scheduler_specific_kwargs=args.lr_scheduler_kwargs,
        )
        return _run(opt, sched, n), n


def _examples(root: Path) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(root.glob("examples/**/*")):
        if path.suffix not in (".yml", ".yaml", ".json"):
            continue
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError:
            continue
        if isinstance(data, dict) and "learning_rate" in data:
            out.append((str(path.relative_to(root)), data))
    return out


def _synthetic_axolotl() -> list[tuple[str, dict[str, Any]]]:
    base = {"base_model": "m", "datasets": [{"path": "d"}], "micro_batch_size": 1, "learning_rate": 3e-4}
    scheds = [
        "cosine",
        "linear",
        "constant_with_warmup",
        "polynomial",
        "cosine_with_restarts",
        "inverse_sqrt",
        "rex",
        "one_cycle",
    ]
    warm = [{}, {"warmup_steps": 1}, {"warmup_steps": 37}, {"warmup_ratio": 0.07}, {"warmup_ratio": 0.0}]
    extras = [
        {},
        {"cosine_min_lr_ratio": 0.1},
        {"cosine_min_lr_ratio": 0.1, "cosine_constant_lr_ratio": 0.8},
        {"lr_quadratic_warmup": True},
        {"cosine_constant_lr_ratio": 0.5},
    ]
    lengths = [{}, {"max_steps": 450}]
    rls = [{}, {"rl": "dpo"}, {"rl": "grpo"}]
    out = []
    for s, w, e, n, r in itertools.product(scheds, warm, extras, lengths, rls):
        if r.get("rl") == "grpo" and not n:
            n = {"max_steps": 450}
        out.append((f"synthetic {s} {w} {e} {n} {r}", {**base, "lr_scheduler": s, **w, **e, **n, **r}))
    jagged = [
        {"jagged_restart_steps": 150},
        {"jagged_restart_steps": 97, "jagged_restart_warmup_steps": 13, "jagged_restart_anneal_steps": 5},
    ]
    for s, j, e in itertools.product(scheds, jagged, extras[:3]):
        out.append((f"synthetic jagged {s} {j} {e}", {**base, "lr_scheduler": s, "warmup_ratio": 0.05, **j, **e}))
    return out


def _compare(name: str, data: dict[str, Any], fmt: str, reference, total: int, stats: dict[str, Any]) -> None:
    try:
        ours = load_config(dict(data), total_steps=total)
    except ConfigError as err:
        stats["refused"].append((name, str(err).splitlines()[0][:160]))
        return
    try:
        ref, n = reference(data, total)
    except Exception as err:  # whatever the framework raises is its refusal
        stats["framework refuses"].append((name, repr(err)[:160]))
        return
    got = ours.lr_schedule(np.arange(n))
    peak = max(float(np.max(np.abs(ref))), 1e-300)
    diff = float(np.max(np.abs(got - ref))) / peak if n else 0.0
    stats["max"] = max(stats["max"], diff)
    (stats["exact"] if diff <= 1e-12 and ours.format == fmt else stats["wrong"]).append((name, diff, ours.format))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--axolotl", type=Path, help="checkout of axolotl-ai-cloud/axolotl")
    p.add_argument("--llamafactory", type=Path, help="checkout of hiyouga/LLaMA-Factory")
    p.add_argument("--total-steps", type=int, default=1000, help="updates the data gives (default 1000)")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    logging.disable(logging.WARNING)
    groups = []
    if a.axolotl:
        ax = Axolotl(a.axolotl)
        groups.append(("axolotl examples", _examples(a.axolotl), "axolotl", ax.curve))
        groups.append(("axolotl synthetic grid", _synthetic_axolotl(), "axolotl", ax.curve))
    if a.llamafactory:
        lf = LlamaFactory(a.llamafactory)
        ex = _examples(a.llamafactory)
        groups.append(
            (
                "LLaMA-Factory v0 examples",
                [e for e in ex if "/v1/" not in e[0]],
                "llamafactory",
                lambda d, t: lf.curve(d, t, v1=False),
            )
        )
        groups.append(
            (
                "LLaMA-Factory v1 examples",
                [e for e in ex if "/v1/" in e[0]],
                "llamafactory_v1",
                lambda d, t: lf.curve(d, t, v1=True),
            )
        )
    bad = 0
    for title, items, fmt, ref in groups:
        stats: dict[str, Any] = {"exact": [], "wrong": [], "refused": [], "framework refuses": [], "max": 0.0}
        for name, data in items:
            _compare(name, data, fmt, ref, a.total_steps, stats)
        print(
            f"{title}: {len(items)} configs | exact {len(stats['exact'])} | wrong {len(stats['wrong'])} | "
            f"refused by lrkit {len(stats['refused'])} | refused by the framework {len(stats['framework refuses'])} | "
            f"max |diff|/peak {stats['max']:.2e}"
        )
        for key in ("wrong", "refused", "framework refuses"):
            for item in stats[key][: (None if a.verbose else 8)]:
                print(f"  {key}: {item}")
        bad += len(stats["wrong"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
