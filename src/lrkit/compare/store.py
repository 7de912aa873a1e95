"""The results store: one SQLite file (``results.sqlite``) in the comparison's output folder.

Tables:

- ``meta(key, value)``: JSON values -- the current ``plan`` (settings, schedules with their
  lint findings, trial keys), finder results (``finder:<hash>``), lrkit's version;
- ``trials(key, ...)``: one row per finished trial (ok, diverged or failed), keyed by the
  trial's content hash (:meth:`lrkit.compare.spec.TrialSpec.key`);
- ``steps(key, step, lr, loss)``: the LR and training loss of every update of every trial;
- ``evals(key, step, value)``: the held-out metric every ``eval_every`` updates.

Only the main process writes, one transaction per trial, so an interrupted comparison holds
complete trials only and resumes by skipping the keys it finds.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lrkit.errors import ConfigError

__all__ = ["ResultStore", "DB_NAME", "TrialRecord"]

DB_NAME = "results.sqlite"
_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    key TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'diverged', 'failed')),
    reason TEXT NOT NULL DEFAULT '',
    eval REAL,
    final_loss REAL,
    steps_done INTEGER NOT NULL,
    wall_s REAL NOT NULL,
    train_s REAL NOT NULL,
    eval_s REAL NOT NULL DEFAULT 0,
    worker TEXT NOT NULL DEFAULT '',
    finished_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS steps (
    key TEXT NOT NULL, step INTEGER NOT NULL, lr REAL, loss REAL,
    PRIMARY KEY (key, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS evals (
    key TEXT NOT NULL, step INTEGER NOT NULL, value REAL,
    PRIMARY KEY (key, step)
) WITHOUT ROWID;
"""

TrialRecord = dict[str, Any]


def _num(x: Any) -> float | None:
    """SQLite has no NaN (it stores NULL); keep +-inf, map NaN to None."""
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


class ResultStore:
    """Read and write a comparison's results in ``<folder>/results.sqlite``."""

    def __init__(self, folder: str | Path, *, create: bool = True) -> None:
        self.folder = Path(folder)
        self.path = self.folder / DB_NAME
        if not create and not self.path.is_file():
            raise ConfigError(
                f"no comparison results in {self.folder} (no {DB_NAME}).",
                field="output",
                value=str(self.folder),
                fix="run `lrkit compare -o DIR` first, or point -o at the folder of an earlier comparison.",
            )
        if self.folder.exists() and not self.folder.is_dir():
            raise ConfigError(
                f"{self.folder} is a file, not a folder.",
                field="output",
                value=str(self.folder),
                fix="point -o at a folder (it is created if missing).",
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path)
            self.conn.executescript(_SCHEMA)
            version = self.get_meta("schema_version")
        except sqlite3.DatabaseError as err:
            raise ConfigError(
                f"{self.path} is not a readable lrkit results database ({err}).",
                field="output",
                value=str(self.path),
                fix="choose another output folder with -o.",
            ) from None
        if version is None:
            self.set_meta("schema_version", _SCHEMA_VERSION)
        elif version != _SCHEMA_VERSION:
            raise ConfigError(
                f"{self.path} was written by an lrkit with results schema {version}, this one reads {_SCHEMA_VERSION}.",
                field="output",
                value=str(self.path),
                fix="choose another output folder with -o.",
            )

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value, allow_nan=True))
            )

    # -- trials -----------------------------------------------------------------------------
    def finished_keys(self, *, statuses: Iterable[str] = ("ok", "diverged", "failed")) -> set[str]:
        wanted = tuple(statuses)
        marks = ",".join("?" * len(wanted))
        rows = self.conn.execute(f"SELECT key FROM trials WHERE status IN ({marks})", wanted)
        return {r[0] for r in rows}

    def save(self, result: Mapping[str, Any]) -> None:
        """Write one trial's result (replacing an earlier one with the same key) atomically."""
        key = result["key"]
        steps = [
            (key, i, _num(lr), _num(loss))
            for i, (lr, loss) in enumerate(zip(result.get("lrs", []), result.get("losses", []), strict=False))
        ]
        evals = [(key, int(s), _num(v)) for s, v in result.get("evals", [])]
        with self.conn:
            self.conn.execute("DELETE FROM steps WHERE key = ?", (key,))
            self.conn.execute("DELETE FROM evals WHERE key = ?", (key,))
            self.conn.execute(
                "INSERT OR REPLACE INTO trials (key, spec, status, reason, eval, final_loss, steps_done, wall_s, "
                "train_s, eval_s, worker, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    json.dumps(result["spec"], sort_keys=True),
                    result["status"],
                    result.get("reason", ""),
                    _num(result.get("eval")),
                    _num(result.get("final_loss")),
                    int(result.get("steps_done", 0)),
                    float(result.get("wall_s", 0.0)),
                    float(result.get("train_s", 0.0)),
                    float(result.get("eval_s", 0.0)),
                    str(result.get("worker", "")),
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                ),
            )
            self.conn.executemany("INSERT INTO steps (key, step, lr, loss) VALUES (?, ?, ?, ?)", steps)
            self.conn.executemany("INSERT INTO evals (key, step, value) VALUES (?, ?, ?)", evals)

    def trials(self, keys: Iterable[str] | None = None) -> dict[str, TrialRecord]:
        """Finished trials (all, or those among ``keys``) with their curves, by key."""
        cols = "key, spec, status, reason, eval, final_loss, steps_done, wall_s, train_s, eval_s, worker, finished_at"
        rows = self.conn.execute(f"SELECT {cols} FROM trials").fetchall()
        wanted = None if keys is None else set(keys)
        out: dict[str, TrialRecord] = {}
        names = [c.strip() for c in cols.split(",")]
        for row in rows:
            rec = dict(zip(names, row, strict=True))
            if wanted is not None and rec["key"] not in wanted:
                continue
            rec["spec"] = json.loads(rec["spec"])
            rec["lrs"], rec["losses"], rec["evals"] = [], [], []
            out[rec["key"]] = rec
        for key, _step, lr, loss in self.conn.execute("SELECT key, step, lr, loss FROM steps ORDER BY key, step"):
            if key in out:
                out[key]["lrs"].append(math.nan if lr is None else lr)
                out[key]["losses"].append(math.nan if loss is None else loss)
        for key, step, value in self.conn.execute("SELECT key, step, value FROM evals ORDER BY key, step"):
            if key in out:
                out[key]["evals"].append([step, math.nan if value is None else value])
        return out

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
