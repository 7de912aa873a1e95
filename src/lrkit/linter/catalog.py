"""The linter's rule catalogue: every rule id with its default severity and what it finds.

Each rule is documented with an example in ``docs/lint.md``.
"""

from __future__ import annotations

__all__ = ["RULES", "READER_RULES", "LONG_RUN_STEPS", "SEVERITY_ORDER"]

#: rule id -> (default severity, what it finds). Some rules raise or lower their severity with
#: the size of the problem; the message always carries the numbers.
RULES: dict[str, tuple[str, str]] = {
    "zero-lr": ("error", "the learning rate is 0 for the whole run"),
    "total-steps-unknown": ("info", "the run length is not known, so run-length rules were skipped"),
    "decay-horizon-too-long": ("warning", "the decay ends after the run: the LR never gets near its floor"),
    "decay-horizon-too-short": ("warning", "the decay ends well before the run: a share of the run sits at the floor"),
    "warmup-longer-than-run": ("error", "the warm-up is as long as the run or longer"),
    "warmup-too-long": ("warning", "the warm-up takes more than 10% of the run"),
    "warmup-too-short": ("warning", "the warm-up takes less than 1% of the run"),
    "no-warmup": ("info", "the run starts at the peak LR with no warm-up"),
    "first-update-at-zero": ("warning", "the first update is taken at LR 0 and is wasted"),
    "lr-rises-again": ("error", "the curve climbs back up after it has decayed (error when inside the run)"),
    "cosine-tmax-mismatch": ("warning", "a cosine piece's T_max differs from the steps left after the warm-up"),
    "milestones-missing": ("error", "a list of schedulers without milestones to switch between them"),
    "milestones-mismatch": ("error", "milestones do not match the scheduler pieces they switch between"),
    "min-lr-above-peak": ("error", "the floor (min_lr) is at or above the peak LR"),
    "megatron-decay-iters-after-warmup": (
        "warning",
        "lr_decay_iters looks like 'steps after warm-up' rather than Megatron's absolute end step",
    ),
    "wsd-cooldown-too-short": ("warning", "the warmup-stable-decay cool-down is shorter than ~10% of the run"),
    "never-decays": ("warning", "a long run whose LR never decays below 90% of its peak"),
}

#: rule ids the config readers report (documented in ``docs/configs/``): a framework quirk
#: seen while reading, merged into :func:`lrkit.lint`'s findings
READER_RULES: dict[str, str] = {
    "feedback-schedule": "the LR follows a metric (reduce_lr_on_plateau): the preview is the starting LR",
    "inverse-sqrt-cliff": "Megatron's inverse-square-root drops straight to min_lr after lr_decay_iters",
    "nemo-constant-steps-floor": "NeMo CosineAnnealing's constant_steps is a floor tail, not a hold at the peak",
    "nemo-sqrt-not-shifted": "NeMo SquareRootAnnealing decays from step 0, not from the end of the warm-up",
    "nemo-anneal-not-shifted": "NeMo WarmupHoldAnnealLinear / OneMinusSquareRoot without hold_steps anneal from step 0",
    "nemo-lr-unused": "NeMo T5InverseSquareRootAnnealing sets 1/sqrt(step) LRs: optim.lr is not used",
    "noam-peak-scaled": "NeMo NoamAnnealing scales lr by d_model^-0.5 * W^-0.5",
    "no-scheduler": "the config has no scheduler: the LR is constant",
    "piece-never-runs": "a scheduler piece starts at or after the end of the run",
    "wsd-decay-overlaps-warmup": "a WSD cool-down longer than the steps left after the warm-up",
    "assumed-run-length": "the run length was taken from max_steps, which holds when the data covers the run (axolotl)",
    "config-not-merged": "part of a Hydra defaults: list was not merged (it does not reach the curve, or --set it)",
    "duplicate-key": "a key is written twice in the file; the last one is used, as PyYAML keeps it",
    "megatron-group-lr": "Megatron gives some parameter groups another LR; the curve shown is the main group's",
    "ignored-key": "a key the framework does not read (e.g. transformers' name in an axolotl config): no effect",
    "nemo-max-steps-replaced": "NeMo's ModelPT replaces sched.max_steps with trainer.max_steps",
    "nemo-no-decay": "NeMo CosineAnnealing's warm-up (+ constant_steps) reaches max_steps: no decay, then min_lr",
    "nemo-epoch-scheduler": "NeMo steps this torch scheduler once per epoch, not per update",
    "nemo-args-ignored": "keys beside sched.args.params that NeMo does not use",
    "nemo-default-max-steps": "a NeMo 2 scheduler module without max_steps uses its default (10)",
    "nemo-model-implied": "the file names no NeMo model; a key only one model reads says which runs it",
    "nemo-sched-not-read": "this NeMo model builds its optimizer alone: the sched block is never read",
    "nemo-several-optimizers": "this NeMo model trains several optimizers, all on the curve shown",
    "megatron-rampup-ignored": "current Megatron-LM ignores --rampup-batch-size and trains at the global batch",
    "mbridge-scheduler-replaced": "LLaMA-Factory's Megatron Bridge backend runs cosine for a scheduler it lacks",
    "deepspeed-config-not-read": "the DeepSpeed config named by deepspeed: was not found; a scheduler there would win",
    "deepspeed-scheduler": "the DeepSpeed config's scheduler section replaces the trainer's own; its curve is drawn",
    "deepspeed-warmup-type": "a DeepSpeed warmup_type other than log/linear: DeepSpeed warms up with log",
    "deepspeed-group-lr": "a DeepSpeed scheduler gives one LR per parameter group; the curve is the first group's",
    "deepspeed-range-test": "DeepSpeed's LRRangeTest raises the LR without end; the base LR is its start",
    "deepspeed-warmup-zero": "DeepSpeed warmup_num_steps 0: 2 steps up to DeepSpeed 0.19.2, refused from 0.19.3",
    "deepspeed-resumed": "a DeepSpeed scheduler with last_batch_iteration L starts mid-run (update k: iteration k + L)",
    "deepspeed-cosine-past-total": "a run past WarmupCosineLR's end: the floor from DeepSpeed 0.19.3, climbing before",
}

#: a run longer than this that never decays gets ``never-decays``
LONG_RUN_STEPS = 10_000

#: findings are listed errors first
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
