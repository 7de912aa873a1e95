"""Read training logs back: lrkit's own CSV/JSONL, any CSV/JSONL/JSON with a step and a loss
column, and TensorBoard event files.

A crash can leave the last line of a log half-written; a last line that does not parse is
skipped (and said so in :attr:`RunLog.notes`). A line that does not parse anywhere else is
bad input: a :class:`~lrkit.ConfigError` naming the file and the line.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lrkit.errors import ConfigError, did_you_mean

__all__ = ["EVAL_COLUMNS", "LOSS_COLUMNS", "LR_COLUMNS", "STEP_COLUMNS", "RunLog", "read_log"]

#: column names tried, in order, when none is given
STEP_COLUMNS = ("step", "global_step", "trainer/global_step", "iteration", "iter", "steps", "_step", "Step")
LOSS_COLUMNS = (
    "loss",
    "train_loss",
    "train/loss",
    "training_loss",
    "loss/train",
    "Loss/train",
    "train/loss_step",
    "train_loss_step",  # Lightning's per-step series (more points than the per-epoch one)
    "train_loss_epoch",
    "train/loss_epoch",
    "mean_loss",
    "train/box_loss",  # Ultralytics
    "Loss",
    "Value",  # a TensorBoard scalar export (Wall time,Step,Value)
)
LR_COLUMNS = (
    "lr",
    "learning_rate",
    "train/learning_rate",
    "lr/group0",
    "learning-rate",
    "lr-AdamW",  # Lightning's LearningRateMonitor names the column after the optimizer
    "lr-Adam",
    "lr-SGD",
    "lr/pg0",  # Ultralytics
)
#: evaluation-loss column names tried, in order, when none is given
EVAL_COLUMNS = (
    "eval_loss",
    "val_loss",
    "validation_loss",
    "valid_loss",
    "eval/loss",
    "val/loss",
    "loss/val",
    "Loss/val",
    "loss/eval",
    "val/box_loss",  # Ultralytics
    "val_loss_epoch",
)
#: used as the step when no step column exists (Keras CSVLogger, Ultralytics log one row per epoch)
EPOCH_COLUMNS = ("epoch", "Epoch")

_TB_MARK = "tfevents"


@dataclass(frozen=True)
class RunLog:
    """A training log as arrays aligned on the step.

    Attributes:
        steps: optimizer updates (int64), sorted, unique (a later row for the same step -- a
            resumed run -- replaces the earlier one).
        losses: loss at each step (float64); NaN where the loss was NaN *or* missing -- see
            :attr:`has_loss`.
        has_loss: whether a loss was logged at that step.
        lrs: the learning rate at each step (first parameter group), or ``None`` if the log has none.
        columns: every numeric column, aligned with ``steps`` (NaN where absent).
        source: the file it came from.
        step_col, loss_col, lr_col: the columns used (``step_col`` is ``None`` when the row
            order stood in for the step).
        notes: what the reader had to assume or skip.
    """

    steps: np.ndarray
    losses: np.ndarray
    has_loss: np.ndarray
    lrs: np.ndarray | None
    columns: dict[str, np.ndarray]
    source: str
    step_col: str | None = "step"
    loss_col: str | None = "loss"
    lr_col: str | None = None
    notes: tuple[str, ...] = field(default=())
    eval_col: str | None = None
    runs: int = 1

    def eval_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, eval_losses)`` of the rows that have a finite evaluation loss (empty without one)."""
        if self.eval_col is None or self.eval_col not in self.columns:
            return np.empty(0, dtype=np.int64), np.empty(0)
        v = self.columns[self.eval_col]
        m = np.isfinite(v)
        return self.steps[m], v[m]

    def __len__(self) -> int:
        return int(self.steps.size)

    @property
    def step_unit(self) -> str:
        """What one step of the log counts: ``"epoch"`` when an ``epoch`` column is the step (Keras
        ``CSVLogger``, Ultralytics), else ``"step"`` (optimizer updates, or the row order)."""
        return "epoch" if self.step_col is not None and self.step_col.lower() in EPOCH_COLUMNS else "step"

    def loss_curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(steps, losses, lrs)`` of the rows that have a loss (NaN losses kept: they matter)."""
        m = self.has_loss
        return self.steps[m], self.losses[m], None if self.lrs is None else self.lrs[m]

    def group_lrs(self) -> dict[str, np.ndarray]:
        """LR per parameter group (``lr/<name>`` columns); ``{"lr": lrs}`` for a single group."""
        groups = {k.split("/", 1)[1]: v for k, v in self.columns.items() if k.startswith("lr/")}
        if groups:
            return groups
        return {} if self.lrs is None else {self.lr_col or "lr": self.lrs}

    @classmethod
    def from_records(
        cls,
        records: Sequence[Mapping[str, Any]],
        *,
        source: str,
        step_col: str | None = None,
        loss_col: str | None = None,
        lr_col: str | None = None,
        eval_col: str | None = None,
        notes: Iterable[str] = (),
        lines: Sequence[int] | None = None,
        require_loss: bool = True,
    ) -> RunLog:
        """Build from row mappings (values: numbers, numeric strings, ``""``/``None`` for missing).

        Several runs appended to one file (a Keras ``CSVLogger(append=True)``, a script re-run into
        the same log) are told apart where the step goes back to (or below) the first step of the
        run so far: only the last run is kept, and the notes say so. A step that goes back less far
        (a resume from a checkpoint re-logging some steps) is merged, later values winning."""
        notes = list(notes)
        if not records:
            raise _bad_log(source, ": the log has no rows.", fix="point at a log with at least one training step.")
        names = _column_names(records)
        keys = _choose_columns(
            names, records, source, notes, step_col, loss_col, lr_col, eval_col, require_loss=require_loss
        )
        rows = _RowSteps.read(records, keys.step, source, lines, notes)
        merged = _merge_repeats(rows, notes)
        steps_sorted = sorted(merged)
        columns, present = _numeric_columns(names, merged, source, skip=keys.step, strict=(keys.loss, keys.lr))
        empty = len(steps_sorted)
        losses = columns[keys.loss] if keys.loss in columns else np.full(empty, np.nan)
        has_loss = present[keys.loss] if keys.loss in present else np.zeros(empty, dtype=bool)
        if not has_loss.any() and require_loss:
            raise ConfigError(
                f"{source}: column {keys.loss!r} has no values.",
                field="loss_col",
                value=keys.loss,
                fix="use --loss-col to pick the column with the training loss.",
            )
        lrs = columns.get(keys.lr) if keys.lr else None
        return cls(
            steps=np.asarray(steps_sorted, dtype=np.int64),
            losses=losses,
            has_loss=has_loss,
            lrs=lrs,
            columns=columns,
            source=source,
            step_col=keys.step,
            loss_col=keys.loss,
            lr_col=keys.lr if lrs is not None else None,
            notes=tuple(notes),
            eval_col=keys.eval if keys.eval in columns and present[keys.eval].any() else None,
            runs=rows.runs,
        )


def _column_names(records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key of every record, in the order first seen."""
    return list(dict.fromkeys(k for rec in records for k in rec))


@dataclass(frozen=True)
class _Keys:
    """The columns a log is read by (``None``: absent)."""

    step: str | None
    loss: str | None
    lr: str | None
    eval: str | None


def _choose_columns(
    names: list[str],
    records: Sequence[Mapping[str, Any]],
    source: str,
    notes: list[str],
    step_col: str | None,
    loss_col: str | None,
    lr_col: str | None,
    eval_col: str | None,
    *,
    require_loss: bool,
) -> _Keys:
    """The step, loss, LR and eval-loss columns: the one given, else the first known name present,
    else the one column named like it (an ``epoch`` of whole numbers for the step); ``notes`` say
    what was assumed."""
    step_key = _pick(names, step_col, STEP_COLUMNS, "step_col", source, required=False)
    if step_key is None and step_col is None:
        step_key = next((c for c in EPOCH_COLUMNS if c in names and _whole(records, c)), None)
        if step_key is not None:
            notes.append(f"no step column; using {step_key!r} as the step (one row per epoch).")
    loss_key = _pick(names, loss_col, LOSS_COLUMNS, "loss_col", source, required=False)
    if loss_key is None and loss_col is None:
        # a log of the eval loss alone (Lightning with only validation_step logging) is read as
        # its curve, and says so; with no eval loss either, the question stands
        only_eval = None if eval_col is not None else _only_eval_loss(names)
        loss_key = _training_loss_like(names, source, required=require_loss and only_eval is None)
        if loss_key is not None:
            notes.append(f"loss column {loss_key!r}: the only training-loss-like column.")
        elif only_eval is not None:
            loss_key = only_eval
            notes.append(
                f"no training-loss column; reading the eval loss ({only_eval!r}) as the curve "
                "(pass --loss-col to read another column)."
            )
    lr_key = _pick(names, lr_col, LR_COLUMNS, "lr_col", source, required=False)
    if lr_key is None and lr_col is None:
        lr_key = next((n for n in names if n.lower().startswith("lr") or "learning_rate" in n.lower()), None)
    eval_key = _pick(names, eval_col, EVAL_COLUMNS, "eval_col", source, required=False)
    if eval_key is None and eval_col is None:
        eval_key = _eval_loss_like(names, notes)
    return _Keys(step=step_key, loss=loss_key, lr=lr_key, eval=None if eval_key == loss_key else eval_key)


@dataclass(frozen=True)
class _RowSteps:
    """The records of the run analysed, each with its step and where it stands in the file."""

    records: list[Mapping[str, Any]]
    steps: list[int]
    places: list[str]  # "line 12" / "row 3", for messages
    runs: int = 1

    @classmethod
    def read(
        cls,
        records: Sequence[Mapping[str, Any]],
        step_key: str | None,
        source: str,
        lines: Sequence[int] | None,
        notes: list[str],
    ) -> _RowSteps:
        """Each record's step (the row order without a step column; rows without a step, such as
        an eval summary, are not training steps), keeping only the last of several appended runs."""
        places = [f"line {lines[k]}" if lines is not None else f"row {k + 1}" for k in range(len(records))]
        if step_key is None:
            notes.append(f"no step column (tried {', '.join(STEP_COLUMNS)}); using the row order as the step.")
            return cls(list(records), list(range(len(records))), places)
        rows = cls([], [], [])
        for rec, place in zip(records, places, strict=True):
            step = _step_value(rec.get(step_key), step_key, source, place)
            if step is not None:
                rows.records.append(rec)
                rows.steps.append(step)
                rows.places.append(place)
        starts = _run_starts(rows.steps)
        if len(starts) == 1:
            return rows
        notes.append(
            f"{len(starts)} runs appended in one log ({step_key} goes back to its start at "
            f"{', '.join(rows.places[i] for i in starts[1:])}); analysing the last run only."
        )
        k = starts[-1]
        return cls(rows.records[k:], rows.steps[k:], rows.places[k:], runs=len(starts))


def _step_value(raw: Any, step_key: str, source: str, place: str) -> int | None:
    """A step as an int (``None`` when missing); a ConfigError when not a whole number >= 0."""
    v = _number(raw, step_key, source, place)
    if v is None:
        return None
    if not math.isfinite(v) or v < 0 or v != int(v):
        raise ConfigError(
            f"{source}, {place}: step {raw!r} is not a whole number >= 0.",
            field=step_key,
            value=raw,
            fix="use --step-col to pick the column that counts optimizer updates.",
        )
    return int(v)


def _merge_repeats(rows: _RowSteps, notes: list[str]) -> dict[int, tuple[dict[str, Any], str]]:
    """One record per step, with the place of its last row. A repeated step is merged key by key,
    later values winning: a resumed run re-logs the steps since its checkpoint, and an eval row
    shares its step with a training row."""
    merged: dict[int, tuple[dict[str, Any], str]] = {}
    repeats = 0
    for rec, s, place in zip(rows.records, rows.steps, rows.places, strict=True):
        if s in merged:
            repeats += 1
            kept = merged[s][0]
            kept.update({k: v for k, v in rec.items() if v is not None and v != ""})
            merged[s] = (kept, place)
        else:
            merged[s] = (dict(rec), place)
    if repeats:
        notes.append(f"{repeats} rows repeated an earlier step; their values were merged, later ones winning.")
    return merged


def _numeric_columns(
    names: Sequence[str],
    merged: Mapping[int, tuple[Mapping[str, Any], str]],
    source: str,
    *,
    skip: str | None,
    strict: tuple[str | None, ...],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Every numeric column aligned with the sorted steps (NaN where absent) and where each has a
    value. A text column (a run name, a phase label) is not ours to read and is left out, unless it
    is one of ``strict`` (the loss and LR columns): then its first non-number is a ConfigError."""
    cells = [merged[s] for s in sorted(merged)]
    columns: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for name in names:
        if name == skip:
            continue
        try:
            values = [_number(rec.get(name), name, source, place) for rec, place in cells]
        except ConfigError:
            if name in strict:
                raise
            continue
        present[name] = np.array([v is not None for v in values], dtype=bool)
        columns[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return columns, present


def _run_starts(steps: Sequence[int]) -> list[int]:
    """Indices where a new run begins: the step goes back to or below the first step of the run
    so far, after at least 3 distinct steps (fewer is a resume re-logging its first steps)."""
    starts = [0]
    seen: set[int] = {steps[0]} if steps else set()
    for i in range(1, len(steps)):
        first = steps[starts[-1]]
        if steps[i] < steps[i - 1] and steps[i] <= first and len(seen) >= 3:
            starts.append(i)
            seen = set()
        seen.add(steps[i])
    return starts


def _training_loss_names(names: Sequence[str]) -> list[str]:
    """Columns named like a training loss: ``*loss*``, not val/eval/test."""
    held_out = ("val", "eval", "test", "valid")
    return [n for n in names if "loss" in n.lower() and not any(h in n.lower() for h in held_out)]


def _eval_loss_names(names: Sequence[str]) -> list[str]:
    """Columns named like an eval loss: a ``val*``/``eval*`` prefix and ``loss`` in the name."""
    return [n for n in names if n.lower().startswith(("val", "eval")) and "loss" in n.lower()]


def _training_loss_like(names: Sequence[str], source: str, *, required: bool) -> str | None:
    """The one column named like a training loss (``*loss*``, not val/eval/test), preferring
    names that start with ``train``; several candidates are an error that lists them."""
    cands = _training_loss_names(names)
    train = [n for n in cands if n.lower().startswith("train")]
    pick = train if len(train) == 1 else cands
    if len(pick) == 1:
        return pick[0]
    if required:
        listed = ", ".join(pick) if pick else ", ".join(names[:20])
        raise ConfigError(
            f"{source}: no loss column (tried {', '.join(LOSS_COLUMNS[:6])}, ...); "
            + (f"several could be it: {listed}." if pick else f"columns: {listed}."),
            field="loss_col",
            fix="pass --loss-col NAME with the column that holds the training loss.",
        )
    return None


def _only_eval_loss(names: Sequence[str]) -> str | None:
    """The eval-loss column of a log that has no training-loss-like column at all, if exactly one."""
    if _training_loss_names(names):
        return None
    cands = _eval_loss_names(names)
    return cands[0] if len(cands) == 1 else None


def _eval_loss_like(names: Sequence[str], notes: list[str]) -> str | None:
    """The one column named like an eval loss (``val*``/``eval*``/``valid*`` prefix, ``loss``
    in it: TensorBoard's ``val/loss_epoch``, ``eval/loss``); several are left for ``--eval-col``."""
    cands = _eval_loss_names(names)
    if len(cands) == 1:
        return cands[0]
    if len(cands) > 1:
        notes.append(f"several eval-loss columns ({', '.join(cands)}); pass --eval-col to read one.")
    return None


def _whole(records: Sequence[Mapping[str, Any]], name: str) -> bool:
    """Whether every value of a column is a whole number >= 0 (or missing)."""
    for rec in records:
        v = rec.get(name)
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        try:
            x = float(v)
        except (TypeError, ValueError):
            return False
        if not math.isfinite(x) or x < 0 or x != int(x):
            return False
    return True


def _pick(
    names: Sequence[str], given: str | None, candidates: Sequence[str], option: str, source: str, *, required: bool
) -> str | None:
    if given is not None:
        if given in names:
            return given
        raise ConfigError(
            f"{source}: no column {given!r}.{did_you_mean(given, names)} Columns: {', '.join(names[:20])}.",
            field=option,
            value=given,
            fix=f"pass --{option.replace('_', '-')} with one of the columns above.",
        )
    for c in candidates:
        if c in names:
            return c
    lowered = {n.lower(): n for n in names}
    for c in candidates:
        if c.lower() in lowered:
            return lowered[c.lower()]
    if required:
        raise ConfigError(
            f"{source}: no {option.split('_')[0]} column (tried {', '.join(candidates[:6])}, ...). "
            f"Columns: {', '.join(names[:20])}.",
            field=option,
            fix=f"pass --{option.replace('_', '-')} NAME with the column that holds it.",
        )
    return None


def _number(raw: Any, name: str, source: str, where: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            pass
    raise ConfigError(
        f"{source}, {where}: {name} is {raw!r}, not a number.",
        field=name,
        value=raw,
        fix="check the column choice (--step-col/--loss-col) or the file.",
    )


# -- formats ------------------------------------------------------------------------------------


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{key}/"))
        else:
            out[key] = v
    return out


def _bad_log(path: Path | str, detail: str, *, fix: str | None = None) -> ConfigError:
    """A log that cannot be read: the message is the file's name followed by ``detail``
    (``": not a text file"``, ``", line 7: ..."``), on the field ``log``."""
    return ConfigError(f"{path}{detail}", field="log", value=str(path), fix=fix)


def _read_text(path: Path) -> str:
    if path.is_dir():
        raise _bad_log(path, " is a folder, not a log file.", fix="give the log file inside it (CSV, JSON, JSONL).")
    try:
        # utf-8-sig: a spreadsheet-saved CSV starts with a BOM, which must not become part of "step"
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise _bad_log(
            path,
            f": not a text file ({err.reason}).",
            fix="give a CSV or JSONL log, or a TensorBoard event file/folder.",
        ) from None


def _read_csv(path: Path, delimiter: str, text: str | None = None) -> tuple[list[dict[str, Any]], list[int], list[str]]:
    text = _read_text(path) if text is None else text
    notes: list[str] = []
    lines = text.splitlines()
    unterminated = bool(text) and not text.endswith(("\n", "\r"))
    if not lines:
        return [], [], notes
    # older Ultralytics results.csv pad their names with spaces ("      train/box_loss")
    header = [h.strip() for h in next(csv.reader([lines[0]], delimiter=delimiter))]
    if not header or all(not h.strip() for h in header):
        raise _bad_log(path, ": the first line is not a CSV header.")
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    reader = csv.reader(io.StringIO("\n".join(lines[1:])), delimiter=delimiter)
    body = list(reader)
    for i, row in enumerate(body):
        lineno = i + 2
        if not row:
            continue
        last = i == len(body) - 1
        if len(row) != len(header):
            if last and (unterminated or len(row) < len(header)):
                notes.append(f"line {lineno} is cut short (a crash mid-write?); skipped.")
                break
            raise _bad_log(
                path,
                f", line {lineno}: {len(row)} fields where the header has {len(header)}.",
                fix="repair or remove that line.",
            )
        rows.append(dict(zip(header, row, strict=True)))
        numbers.append(lineno)
    return rows, numbers, notes


def _read_jsonl(path: Path, text: str | None = None) -> tuple[list[dict[str, Any]], list[int], list[str]]:
    notes: list[str] = []
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    lines = (_read_text(path) if text is None else text).splitlines()
    last_nonempty = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if i == last_nonempty:
                notes.append(f"line {i + 1} is not complete JSON (a crash mid-write?); skipped.")
                break
            raise _bad_log(
                path,
                f", line {i + 1}: not a JSON object.",
                fix="repair or remove that line.",
            ) from None
        if not isinstance(obj, Mapping):
            raise _bad_log(
                path,
                f", line {i + 1}: expected a JSON object per line, got {type(obj).__name__}.",
            )
        rows.append(_flatten(obj))
        numbers.append(i + 1)
    return rows, numbers, notes


def _read_json(path: Path, text: str | None = None) -> tuple[list[dict[str, Any]], list[int] | None, list[str]]:
    text = _read_text(path) if text is None else text
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        # a JSON-lines file with a .json suffix
        return _read_jsonl(path, text)
    if isinstance(data, Mapping) and isinstance(data.get("log_history"), list):
        data = data["log_history"]  # a Hugging Face trainer_state.json
    if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
        raise _bad_log(
            path,
            ": expected a list of records (or a trainer_state.json with log_history).",
            fix="give one JSON object per step.",
        )
    return [_flatten(r) for r in data], None, []


def _tb_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob(f"*{_TB_MARK}*") if p.is_file())


def _read_tensorboard(path: Path) -> tuple[list[dict[str, Any]], None, list[str]]:
    files = _tb_files(path)
    if not files:
        raise _bad_log(
            path,
            ": no TensorBoard event files (events.out.tfevents.*) here.",
            fix="point at the run's log folder or one event file.",
        )
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    by_step: dict[int, dict[str, Any]] = {}
    for f in files:
        acc = EventAccumulator(str(f), size_guidance={"scalars": 0})
        try:
            acc.Reload()
        except Exception as err:  # corrupt event file: bad input, said in one line
            raise _bad_log(f, f": cannot read TensorBoard events ({err}).") from None
        for tag in acc.Tags().get("scalars", []):
            for ev in acc.Scalars(tag):
                by_step.setdefault(int(ev.step), {"step": int(ev.step)})[tag] = float(ev.value)
    notes = [f"read {len(files)} event file(s)."]
    return [by_step[s] for s in sorted(by_step)], None, notes


def read_log(
    path: str | Path,
    *,
    step_col: str | None = None,
    loss_col: str | None = None,
    lr_col: str | None = None,
    eval_col: str | None = None,
    format: str | None = None,
) -> RunLog:
    """Read a training log.

    ``path`` ``"-"`` reads standard input (CSV, JSON or JSON lines, told apart by the first
    character unless ``format`` says). ``format`` is ``"csv"``, ``"tsv"``, ``"jsonl"``,
    ``"json"`` or ``"tensorboard"``; by default it follows the suffix (a folder, or a file named
    ``*tfevents*``, is TensorBoard). Columns default to the first of :data:`STEP_COLUMNS` /
    :data:`LOSS_COLUMNS` / :data:`LR_COLUMNS` / :data:`EVAL_COLUMNS` present (header names are
    stripped of padding); without a step column an ``epoch`` column of whole numbers is the
    step, else the row order.
    """
    p, fmt, text = _open_source(path, format)
    reader = _READERS.get(fmt)
    if reader is None:
        raise ConfigError(
            f"unknown log format {fmt!r}.",
            field="format",
            value=fmt,
            fix="use csv, tsv, jsonl, json or tensorboard.",
        )
    rows, lines, notes = reader(p, text)
    return RunLog.from_records(
        rows,
        source=str(p),
        step_col=step_col,
        loss_col=loss_col,
        lr_col=lr_col,
        eval_col=eval_col,
        notes=notes,
        lines=lines,
    )


def _open_source(path: str | Path, format: str | None) -> tuple[Path, str, str | None]:
    """``(path, format, text)``: standard input (``"-"``) is read here, its format told by its first
    character (JSON or CSV) unless given; a file's format follows its suffix unless given."""
    if str(path) != "-":
        p = Path(path)
        if not p.exists():
            raise _bad_log(p, ": no such file or folder.", fix="check the path.")
        return p, str(format or _guess_format(p)).lower(), None
    import sys

    text = sys.stdin.read()
    if not text.strip():
        raise ConfigError(
            "standard input is empty.",
            field="log",
            value="-",
            fix="pipe a log in, e.g. lrkit diagnose - < metrics.csv.",
        )
    fmt = str(format or ("json" if text.lstrip()[:1] in ("{", "[") else "csv")).lower()
    if fmt in ("tensorboard", "tb"):
        raise ConfigError(
            "TensorBoard event files cannot be read from standard input.",
            field="format",
            value=fmt,
            fix="give the event file or its folder as a path.",
        )
    return Path("<stdin>"), fmt, text


_Rows = tuple[list[dict[str, Any]], list[int] | None, list[str]]


def _csv_reader(delimiter: str) -> Callable[[Path, str | None], _Rows]:
    def read(p: Path, text: str | None) -> _Rows:
        return _read_csv(p, delimiter, text)

    return read


#: the reader of each format: ``(path, text read from standard input or None) -> (rows, line numbers, notes)``
_READERS: dict[str, Callable[[Path, str | None], _Rows]] = {
    "csv": _csv_reader(","),
    "tsv": _csv_reader("\t"),
    "jsonl": _read_jsonl,
    "ndjson": _read_jsonl,
    "json": _read_json,
    "tensorboard": lambda p, _text: _read_tensorboard(p),
    "tb": lambda p, _text: _read_tensorboard(p),
}


def _guess_format(p: Path) -> str:
    if p.is_dir() or _TB_MARK in p.name:
        return "tensorboard"
    suffix = p.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    if suffix == ".tsv":
        return "tsv"
    if suffix in (".csv", ".txt", ".log", ""):
        return "csv"
    raise ConfigError(
        f"{p}: cannot tell the log format from the suffix {suffix!r}.",
        field="format",
        value=suffix,
        fix="use a .csv/.tsv/.jsonl/.json file or a TensorBoard folder (or pass the format).",
    )
