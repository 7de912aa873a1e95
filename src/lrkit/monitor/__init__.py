"""Record what the optimizer actually did, step by step, and plot it against the loss.

:class:`LRMonitor` reads every parameter group's learning rate, momentum (or Adam's
``beta1``) and weight decay, plus the loss and gradient norm when given, and hands one
record per optimizer update to its sinks (CSV and JSONL files by default; TensorBoard,
Weights & Biases and MLflow on request). :func:`read_log` reads such logs back -- or any
CSV/JSONL with a step and a loss column, or TensorBoard event files -- for plots and for
:func:`lrkit.diagnose` (the :mod:`lrkit.diagnosis` package).

Importing this package does not import torch or matplotlib.
"""

from lrkit.monitor.readers import RunLog, read_log
from lrkit.monitor.recorder import LRMonitor, grad_norm, group_names, optimizer_record
from lrkit.monitor.sinks import (
    CSVSink,
    JSONLSink,
    MLflowSink,
    Sink,
    TensorBoardSink,
    WandbSink,
    make_sink,
)

__all__ = [
    "LRMonitor",
    "RunLog",
    "read_log",
    "optimizer_record",
    "group_names",
    "grad_norm",
    "Sink",
    "CSVSink",
    "JSONLSink",
    "TensorBoardSink",
    "WandbSink",
    "MLflowSink",
    "make_sink",
]
