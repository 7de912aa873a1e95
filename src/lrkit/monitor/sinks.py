"""Where monitor records go: CSV and JSONL files, TensorBoard, Weights & Biases, MLflow.

A record is a flat mapping ``{"step": int, "loss": float | None, "lr": float, ...}`` (see
:mod:`lrkit.monitor.recorder` for the keys). File sinks append and flush after every record,
so a crash loses at most the line being written; when such a file is opened again, the
truncated last line is cut off before appending, so the file stays readable. W&B and MLflow
are imported only when asked for.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from lrkit.errors import ConfigError, did_you_mean

__all__ = [
    "Sink",
    "CSVSink",
    "JSONLSink",
    "TensorBoardSink",
    "WandbSink",
    "MLflowSink",
    "make_sink",
    "SINK_NAMES",
    "repair_tail",
]

#: the columns every lrkit log starts with, in this order
BASE_COLUMNS = ("step", "loss", "grad_norm", "lr", "momentum", "weight_decay")


@runtime_checkable
class Sink(Protocol):
    """Anything that takes monitor records."""

    def write(self, record: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


def repair_tail(path: Path) -> bool:
    """Cut a last line that lacks its newline (a write interrupted by a crash).

    Returns whether anything was cut. Reads only the end of the file.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size == 0:
        return False
    with open(path, "rb+") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return False
        pos = size
        chunk = 1 << 16
        while pos > 0:
            start = max(0, pos - chunk)
            fh.seek(start)
            data = fh.read(pos - start)
            nl = data.rfind(b"\n")
            if nl >= 0:
                fh.truncate(start + nl + 1)
                return True
            pos = start
        fh.truncate(0)
        return True


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # shortest round-trip form; 'nan' / 'inf' stay readable
    return str(value)


class _FileSink:
    def __init__(self, path: str | Path, *, append: bool = True) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if append:
            repair_tail(self.path)
        else:
            self.path.unlink(missing_ok=True)
        self._fh: io.TextIOWrapper | None = None

    def _open(self) -> io.TextIOWrapper:
        if self._fh is None:
            # the sink keeps its file open across writes; close() closes it
            self._fh = open(self.path, "a", encoding="utf-8", newline="")  # noqa: SIM115
        return self._fh

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CSVSink(_FileSink):
    """One CSV row per record. The header is fixed by the first record (or, when appending to
    an existing log, read from the file); keys that appear later and are not in the header are
    dropped from this file (with one warning) -- the JSONL sink keeps everything."""

    def __init__(self, path: str | Path, *, append: bool = True, columns: Sequence[str] | None = None) -> None:
        super().__init__(path, append=append)
        self.columns: list[str] | None = list(columns) if columns is not None else self._existing_header()
        self._warned: set[str] = set()

    def _existing_header(self) -> list[str] | None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        with open(self.path, encoding="utf-8", newline="") as fh:
            first = fh.readline()
        row = next(csv.reader([first]), None)
        return list(row) if row else None

    def write(self, record: Mapping[str, Any]) -> None:
        fh = self._open()
        if self.columns is None:
            keys = [c for c in BASE_COLUMNS] + [k for k in record if k not in BASE_COLUMNS]
            self.columns = keys
        if fh.tell() == 0:
            fh.write(_csv_line(self.columns))
        extra = [k for k in record if k not in self.columns and k not in self._warned]
        if extra:
            self._warned.update(extra)
            warnings.warn(
                f"{self.path}: columns {extra} appeared after the header was written; the CSV log "
                "leaves them out (the JSONL log keeps them).",
                stacklevel=3,
            )
        fh.write(_csv_line([_format(record.get(c)) for c in self.columns]))
        fh.flush()


def _csv_line(values: Sequence[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


class JSONLSink(_FileSink):
    """One JSON object per line. Non-finite numbers are written as ``NaN``/``Infinity`` (what
    Python's json and pandas read back), since a NaN loss is exactly what a diagnosis needs."""

    def write(self, record: Mapping[str, Any]) -> None:
        fh = self._open()
        fh.write(json.dumps({k: v for k, v in record.items() if v is not None}) + "\n")
        fh.flush()


class TensorBoardSink:
    """Scalars in TensorBoard event files, one tag per record key (``lr``, ``loss``,
    ``lr/<group>``...), at the record's step. Give a ``log_dir`` or your own ``SummaryWriter``."""

    def __init__(self, log_dir: str | Path | None = None, *, writer: Any = None, flush: bool = True) -> None:
        if writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as err:  # tensorboard missing
                raise _missing("tensorboard", "tensorboard") from err
            writer = SummaryWriter(log_dir=None if log_dir is None else str(log_dir))
            self._owned = True
        else:
            self._owned = False
        self.writer = writer
        self._flush = flush

    def write(self, record: Mapping[str, Any]) -> None:
        step = int(record["step"])
        for key, value in record.items():
            if key == "step" or value is None or not isinstance(value, int | float):
                continue
            self.writer.add_scalar(key, float(value), step)
        if self._flush:
            self.writer.flush()

    def close(self) -> None:
        if self._owned:
            self.writer.close()
        else:
            self.writer.flush()


def _missing(sink: str, package: str) -> ConfigError:
    return ConfigError(
        f"the {sink!r} sink needs the {package!r} package, which is not installed.",
        field="sinks",
        value=sink,
        fix=f"pip install {package}, or leave {sink!r} out of sinks.",
    )


def _import(sink: str, package: str) -> Any:
    try:
        return importlib.import_module(package)
    except ImportError as err:
        raise _missing(sink, package) from err


def _numeric(record: Mapping[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in record.items()
        if k != "step" and v is not None and isinstance(v, int | float) and not isinstance(v, bool)
    }


class WandbSink:
    """Logs each record to a Weights & Biases run (``run.log(metrics, step=step)``): the given
    run, the active ``wandb.run``, or a new one from ``wandb.init(**init_kwargs)`` -- which
    this sink then finishes on :meth:`close` (a run you gave or started stays open)."""

    def __init__(self, run: Any = None, **init_kwargs: Any) -> None:
        wandb = _import("wandb", "wandb")
        self._owned = run is None and wandb.run is None
        if self._owned and init_kwargs.get("dir") is not None:
            Path(init_kwargs["dir"]).mkdir(parents=True, exist_ok=True)  # wandb.init does not create it
        self.run = run or wandb.run or wandb.init(**init_kwargs)

    def write(self, record: Mapping[str, Any]) -> None:
        self.run.log(_numeric(record), step=int(record["step"]))

    def close(self) -> None:
        if self._owned and self.run is not None:
            self.run.finish()
            self.run = None  # safe to call twice


_GROUP_KEYS = ("lr", "momentum", "weight_decay")

#: characters MLflow accepts in a metric name (alphanumerics, _ - . space / :)
_MLFLOW_KEY = re.compile(r"[^\w\-. /:]")


def mlflow_key(key: str) -> str:
    """``key`` with the characters MLflow rejects replaced by ``_`` (``lr/head#1`` -> ``lr/head_1``)."""
    return _MLFLOW_KEY.sub("_", key)


class MLflowSink:
    """Logs each record to the active MLflow run (``mlflow.log_metrics(metrics, step=step)``).
    With no active run it starts one, and ends it on :meth:`close` (a run you started stays
    open). NaN and infinite values are skipped (MLflow rejects some of them); characters MLflow
    refuses in a name become ``_`` (a second group named ``head`` is ``lr/head#1`` in the record,
    ``lr/head_1`` here). With several parameter groups the bare ``lr``, ``momentum`` and
    ``weight_decay`` (the first group's, repeated as ``lr/<group>``) are left out: MLflow's file
    store keeps a metric ``lr/x`` in a folder ``lr``, which a metric ``lr`` would collide with."""

    def __init__(self) -> None:
        self._mlflow = _import("mlflow", "mlflow")
        self._run = None
        if self._mlflow.active_run() is None:
            self._run = self._mlflow.start_run()

    def write(self, record: Mapping[str, Any]) -> None:
        values = _numeric(record)
        metrics = {
            mlflow_key(k): v
            for k, v in values.items()
            if math.isfinite(v) and not (k in _GROUP_KEYS and any(x.startswith(k + "/") for x in values))
        }
        if metrics:
            self._mlflow.log_metrics(metrics, step=int(record["step"]))

    def close(self) -> None:
        if self._run is not None:
            active = self._mlflow.active_run()
            if active is not None and active.info.run_id == self._run.info.run_id:
                self._mlflow.end_run()
            self._run = None


SINK_NAMES = ("csv", "jsonl", "tensorboard", "wandb", "mlflow")


def make_sink(spec: Any, *, log_dir: str | Path | None, name: str = "lrkit", append: bool = True) -> Sink:
    """A sink from a name (``"csv"``, ``"jsonl"``, ``"tensorboard"``, ``"wandb"``, ``"mlflow"``), a
    ``SummaryWriter`` (written to, flushed, left open) or an object with ``write``/``close``. File sinks write
    ``<log_dir>/<name>.csv`` / ``<name>.jsonl``; TensorBoard writes under ``<log_dir>/tensorboard``."""
    if not isinstance(spec, str):
        if isinstance(spec, Sink):
            return spec
        if hasattr(spec, "add_scalar"):  # a SummaryWriter (torch's or tensorboardX's)
            return TensorBoardSink(writer=spec)
        raise ConfigError(
            f"a sink must be one of {', '.join(SINK_NAMES)} or an object with write() and close(), got {spec!r}.",
            field="sinks",
            value=spec,
            fix="pass sink names like ['csv', 'jsonl'] or your own sink object.",
        )
    key = spec.lower()
    if key == "tb":
        key = "tensorboard"
    if key in ("csv", "jsonl", "tensorboard") and log_dir is None:
        raise ConfigError(
            f"the {spec!r} sink writes files but no log_dir was given.",
            field="log_dir",
            fix="pass LRMonitor(log_dir='runs/my-run'), or sinks=[] to keep records in memory only.",
        )
    if key == "csv":
        return CSVSink(Path(log_dir) / f"{name}.csv", append=append)  # type: ignore[arg-type]
    if key == "jsonl":
        return JSONLSink(Path(log_dir) / f"{name}.jsonl", append=append)  # type: ignore[arg-type]
    if key == "tensorboard":
        return TensorBoardSink(os.path.join(log_dir, "tensorboard"))  # type: ignore[arg-type]
    if key == "wandb":  # a new run keeps its folder with the other logs
        return WandbSink() if log_dir is None else WandbSink(dir=str(log_dir))
    if key == "mlflow":
        return MLflowSink()
    raise ConfigError(
        f"unknown sink {spec!r}.{did_you_mean(spec, SINK_NAMES)}",
        field="sinks",
        value=spec,
        fix=f"use one of: {', '.join(SINK_NAMES)}.",
    )
