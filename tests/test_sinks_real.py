"""LRMonitor's W&B and MLflow sinks, run for real and read back.

W&B runs offline (``WANDB_MODE=offline``): it writes its run folder under ``tmp_path``, and the
series it recorded are read back from the run's ``.wandb`` transaction log with wandb's own
reader. MLflow writes to a local file store under ``tmp_path`` and is read back with
``MlflowClient.get_metric_history``. Nothing touches the network.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from lrkit import LRMonitor
from lrkit.monitor.sinks import MLflowSink, WandbSink

STEPS = 6
pytestmark = pytest.mark.slow  # each W&B run starts its service (seconds)


def _train(monitor: LRMonitor, *, groups: int = 1) -> tuple[list[float], list[float]]:
    """A short real run; returns the LR and loss of every update, as the optimizer had them."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    if groups == 1:
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:  # two groups with the same name: the monitor names the second 'head#1'
        opt = torch.optim.SGD(
            [{"params": [model.weight], "name": "head"}, {"params": [model.bias], "name": "head", "lr": 0.01}],
            lr=0.1,
        )
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 / (k + 1))
    lrs, losses = [], []
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    for step in range(STEPS):
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        monitor.log(opt, step, loss=loss)
        lrs.append(opt.param_groups[0]["lr"])
        losses.append(loss.item())
        sched.step()
        opt.zero_grad()
    monitor.close()
    return lrs, losses


# --------------------------------------------------------------------------- W&B


@pytest.fixture
def wandb_offline(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DISABLE_GIT", "true")
    monkeypatch.setenv("WANDB_DISABLE_CODE", "true")
    monkeypatch.setenv("WANDB_ERROR_REPORTING", "false")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb-default"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "wandb-cache"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    monkeypatch.setenv("WANDB_DATA_DIR", str(tmp_path / "wandb-data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _wandb_records(path) -> list[bytes]:
    """The records of a ``.wandb`` transaction log: a 7-byte ``:W&B`` header, then LevelDB's log
    format (32 KiB blocks; each chunk has a 7-byte header: CRC, little-endian length, type
    1 full / 2 first / 3 middle / 4 last). wandb >= 0.19 writes it from Go and ships no Python
    reader, so this is the few lines it takes; the records are wandb's own protobuf messages."""
    import struct

    data = path.read_bytes()
    assert data[:4] == b":W&B", data[:8]
    block, pos, out, pending = 32768, 7, [], b""
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:  # trailer of a block is zero padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        chunk = data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind == 0 and length == 0:
            continue
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            out.append(pending)
    return out


def _wandb_history(root) -> list[dict]:
    """The rows ``run.log`` recorded, read back from the offline run's ``.wandb`` file."""
    import wandb
    from wandb.proto import wandb_internal_pb2

    wandb.teardown()  # finish() returns before wandb's service has written the file out; this waits for it
    files = sorted(root.rglob("*.wandb"))
    assert len(files) == 1, files
    rows = []
    for data in _wandb_records(files[0]):
        rec = wandb_internal_pb2.Record()
        rec.ParseFromString(data)
        if rec.WhichOneof("record_type") == "history":
            items = rec.history.item
            rows.append({item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items})
    return rows


def test_wandb_sink_records_lr_and_loss_offline(wandb_offline):
    monitor = LRMonitor(wandb_offline / "run", sinks=["wandb"])
    lrs, losses = _train(monitor)
    rows = _wandb_history(wandb_offline / "run")
    assert [r["_step"] for r in rows] == list(range(STEPS))
    assert [r["lr"] for r in rows] == pytest.approx(lrs, rel=1e-12)
    assert [r["loss"] for r in rows] == pytest.approx(losses, rel=1e-6)
    assert [r["momentum"] for r in rows] == [0.9] * STEPS
    import wandb

    assert wandb.run is None  # the sink started the run, so closing the monitor finished it


def test_wandb_sink_logs_to_the_users_active_run_and_leaves_it_open(wandb_offline):
    import wandb

    run = wandb.init(project="lrkit-test", dir=str(wandb_offline / "mine"))
    try:
        monitor = LRMonitor(sinks=["wandb"])
        assert monitor.sinks[0].run is run
        lrs, _ = _train(monitor)
        assert wandb.run is run  # still open: the user owns it
    finally:
        run.finish()
    rows = _wandb_history(wandb_offline / "mine")
    assert [r["lr"] for r in rows] == pytest.approx(lrs, rel=1e-12)


def test_wandb_sink_given_settings(wandb_offline):
    sink = WandbSink(project="lrkit-test", dir=str(wandb_offline / "given"))
    lrs, _ = _train(LRMonitor(sinks=[sink]))
    assert [r["lr"] for r in _wandb_history(wandb_offline / "given")] == pytest.approx(lrs, rel=1e-12)


# --------------------------------------------------------------------------- MLflow


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # a local folder; no server, no database
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    mlflow.set_tracking_uri(uri)
    yield mlflow
    while mlflow.active_run() is not None:
        mlflow.end_run()


def _history(mlflow, run_id: str, key: str) -> list[tuple[int, float]]:
    from mlflow.tracking import MlflowClient

    return [(m.step, m.value) for m in sorted(MlflowClient().get_metric_history(run_id, key), key=lambda m: m.step)]


def test_mlflow_sink_records_lr_and_loss_in_a_file_store(mlflow_store):
    mlflow = mlflow_store
    with mlflow.start_run() as run:
        lrs, losses = _train(LRMonitor(sinks=["mlflow"]))
        assert mlflow.active_run().info.run_id == run.info.run_id  # the user's run stays open
    assert _history(mlflow, run.info.run_id, "lr") == [(k, pytest.approx(v, rel=1e-12)) for k, v in enumerate(lrs)]
    assert _history(mlflow, run.info.run_id, "loss") == [(k, pytest.approx(v, rel=1e-6)) for k, v in enumerate(losses)]


def test_mlflow_sink_ends_the_run_it_started(mlflow_store):
    mlflow = mlflow_store
    monitor = LRMonitor(sinks=["mlflow"])
    lrs, _ = _train(monitor)
    assert mlflow.active_run() is None  # no run left RUNNING after close()
    from mlflow.tracking import MlflowClient

    runs = MlflowClient().search_runs(experiment_ids=["0"])
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert [v for _, v in _history(mlflow, runs[0].info.run_id, "lr")] == pytest.approx(lrs, rel=1e-12)


def test_mlflow_sink_group_names_mlflow_refuses_are_made_valid(mlflow_store):
    """Two groups named 'head' are 'lr/head' and 'lr/head#1' in the record; MLflow rejects '#'."""
    mlflow = mlflow_store
    with mlflow.start_run() as run:
        _train(LRMonitor(sinks=["mlflow"]), groups=2)
    keys = set(mlflow.get_run(run.info.run_id).data.metrics)
    assert {"loss", "lr/head", "lr/head_1"} <= keys and "lr" not in keys  # "lr" is "lr/head" again
    assert _history(mlflow, run.info.run_id, "lr/head_1")[0][1] == pytest.approx(0.01)


def test_mlflow_sink_skips_non_finite_values(mlflow_store):
    mlflow = mlflow_store
    with mlflow.start_run() as run:
        sink = MLflowSink()
        sink.write({"step": 0, "lr": 0.1, "loss": math.nan})
        sink.write({"step": 1, "lr": 0.05, "loss": 2.0})
        sink.close()
    assert _history(mlflow, run.info.run_id, "loss") == [(1, 2.0)]
    assert _history(mlflow, run.info.run_id, "lr") == [(0, 0.1), (1, 0.05)]
