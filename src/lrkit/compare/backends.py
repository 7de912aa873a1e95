"""Where trials run: in worker processes on this machine, or as Ray tasks.

Every backend takes a list of :class:`~lrkit.compare.spec.TrialSpec` and calls back in the
main process: ``on_start(key)`` when a trial starts (local backends), ``on_progress(key, step,
loss)`` a few times per trial (local backends), ``on_result(result)`` once per trial with
:func:`~lrkit.compare.runner.run_trial`'s plain-data result. Only the main process touches the
results store.

Workers run one trial at a time with ``torch.set_num_threads(1)``, so a trial's result depends
only on its seed, not on which worker ran it or how many ran beside it.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue as queue_mod
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from lrkit.compare.spec import TrialSpec
from lrkit.errors import ConfigError

__all__ = ["Backend", "InlineBackend", "LocalBackend", "RayBackend", "make_backend", "default_workers", "failed_result"]

OnStart = Callable[[str], None]
OnProgress = Callable[[str, int, float], None]
OnResult = Callable[[dict[str, Any]], None]


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def failed_result(spec: TrialSpec, reason: str) -> dict[str, Any]:
    """A result for a trial whose worker never returned (it died, or Ray lost it)."""
    return {
        "key": spec.key(),
        "spec": spec.to_dict(),
        "status": "failed",
        "reason": reason,
        "eval": None,
        "final_loss": None,
        "steps_done": 0,
        "lrs": [],
        "losses": [],
        "evals": [],
        "train_s": 0.0,
        "eval_s": 0.0,
        "wall_s": 0.0,
        "worker": "",
    }


class Backend:
    """Runs trials; subclasses implement :meth:`run`."""

    name = "backend"
    workers = 1

    def run(
        self,
        trials: Sequence[TrialSpec],
        *,
        on_result: OnResult,
        on_start: OnStart | None = None,
        on_progress: OnProgress | None = None,
    ) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"


class InlineBackend(Backend):
    """Trials one after the other in this process (``--workers 0``; for debugging)."""

    name = "inline"
    workers = 1

    def run(self, trials, *, on_result, on_start=None, on_progress=None) -> None:
        import torch

        from lrkit.compare.runner import run_trial

        old = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for spec in trials:
                if on_start is not None:
                    on_start(spec.key())
                on_result(run_trial(spec, on_progress))
        finally:
            torch.set_num_threads(old)


# -- local worker processes -------------------------------------------------------------------

_QUEUE: Any = None


def _init_worker(progress_queue: Any, sys_path: list[str]) -> None:
    global _QUEUE
    _QUEUE = progress_queue
    # the forkserver is started once per process; a user task's folder may have joined the
    # parent's path since, so each worker takes the parent's current path
    sys.path[:] = sys_path + [p for p in sys.path if p not in sys_path]
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)


def _send(event: tuple) -> None:
    if _QUEUE is not None:
        # progress is best effort; a full or closed queue must not fail a trial
        with contextlib.suppress(Exception):
            _QUEUE.put_nowait(event)


def _worker_trial(spec_dict: dict[str, Any]) -> dict[str, Any]:
    from lrkit.compare.runner import run_trial

    spec = TrialSpec.from_plain(spec_dict)
    _send(("start", spec.key()))
    return run_trial(spec, lambda key, step, loss: _send(("step", key, step, loss)))


class LocalBackend(Backend):
    """Trials in parallel worker processes on this machine (default: one per core).

    Workers come from a ``forkserver`` that has imported torch and lrkit once and has never run
    a parallel torch op, so each fork starts in milliseconds and is safe to use torch in.
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else int(workers)
        if self.workers < 1:
            raise ConfigError(
                f"needs at least one worker, got {workers!r}.",
                field="workers",
                value=workers,
                fix="use --workers N with N >= 1 (or 0 to run in the main process).",
            )

    def _context(self) -> Any:
        methods = mp.get_all_start_methods()
        if "forkserver" in methods:
            ctx = mp.get_context("forkserver")
            # torch._dynamo is imported by the first optimizer built (seconds); pay it once, in the server
            ctx.set_forkserver_preload(["torch", "torch._dynamo", "lrkit.compare.runner"])
            return ctx
        return mp.get_context("spawn")

    def run(self, trials, *, on_result, on_start=None, on_progress=None) -> None:
        if not trials:
            return
        ctx = self._context()
        progress_queue = ctx.Queue()
        specs = {spec.key(): spec for spec in trials}
        started: set[str] = set()

        def start_event(key: str) -> None:
            # once per trial: the worker's "start" travels on the progress queue, its result on the
            # pool's pipe, so either may arrive first (a result implies the start)
            if key in started:
                return
            started.add(key)
            if on_start is not None:
                on_start(key)

        waiting = list(specs)  # keys not yet handed to a pool
        pool: ProcessPoolExecutor | None = None
        pending: dict[Future, str] = {}
        clean = False
        try:
            while waiting or pending:
                if pool is None:
                    pool = ProcessPoolExecutor(
                        max_workers=min(self.workers, len(waiting)),
                        mp_context=ctx,
                        initializer=_init_worker,
                        initargs=(progress_queue, list(sys.path)),
                    )
                    started_before = len(started)
                broken = False
                try:
                    while waiting:
                        pending[pool.submit(_worker_trial, specs[waiting[0]].to_dict())] = waiting[0]
                        waiting.pop(0)
                    done, _ = wait(list(pending), timeout=0.2, return_when=FIRST_COMPLETED)
                except BrokenProcessPool:
                    broken, done = True, set()
                if broken or any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    # a broken pool fails every future; collect them all before deciding
                    broken = True
                    rest, _ = wait(list(pending), timeout=60)
                    done = set(done) | set(rest)
                self._drain(progress_queue, start_event, on_progress)
                for fut in done:
                    key = pending.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        if key not in started:  # queued behind the crash: run it in a fresh pool
                            waiting.append(key)
                            continue
                        result = failed_result(
                            specs[key],
                            "the worker pool broke while this trial ran (a worker was killed, ran out of memory "
                            "or crashed)",
                        )
                    except Exception as err:  # an error pickling the result, for example
                        result = failed_result(specs[key], f"{type(err).__name__}: {err} (in the worker)")
                    start_event(key)
                    on_result(result)
                if broken:
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = None
                    waiting.extend(pending.values())
                    pending = {}
                    if len(started) == started_before:  # no trial even started: it would never end
                        raise RuntimeError(
                            "lrkit compare: the worker processes keep dying before running a trial (see the errors "
                            "above). A script that calls run_comparison needs the `if __name__ == '__main__':` guard "
                            "that multiprocessing requires; or run with workers=0 to stay in this process."
                        )
            clean = True
        finally:
            if pool is not None:
                pool.shutdown(wait=clean, cancel_futures=True)
            progress_queue.close()
            progress_queue.cancel_join_thread()

    @staticmethod
    def _drain(q: Any, on_start: OnStart | None, on_progress: OnProgress | None) -> None:
        while True:
            try:
                event = q.get_nowait()
            except (queue_mod.Empty, OSError, ValueError):
                return
            if event[0] == "start" and on_start is not None:
                on_start(event[1])
            elif event[0] == "step" and on_progress is not None:
                on_progress(event[1], event[2], event[3])


# -- Ray ----------------------------------------------------------------------------------------


def _ray_trial(spec_dict: dict[str, Any]) -> dict[str, Any]:
    import torch

    from lrkit.compare.runner import run_trial

    torch.set_num_threads(1)
    return run_trial(TrialSpec.from_plain(spec_dict))


class RayBackend(Backend):
    """Each trial is a Ray task (``num_cpus=1``) on an existing cluster (``address``) or on a
    local Ray instance started for the comparison (``num_cpus=workers``, no dashboard).

    The workers must be able to import lrkit (and a user task's module): on a cluster, install
    them in the nodes' environment or pass a ``runtime_env`` (see ``docs/compare.md``).
    """

    name = "ray"

    def __init__(
        self, address: str | None = None, workers: int | None = None, runtime_env: dict[str, Any] | None = None
    ) -> None:
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ConfigError(
                "the ray backend needs Ray, which is not installed.",
                field="backend",
                value="ray",
                fix="pip install 'lrkit[ray]' (or use --backend local).",
            ) from None
        if address:
            _check_reachable(address)
        self.address = address
        self.workers = default_workers() if workers is None else max(1, int(workers))
        self.runtime_env = runtime_env

    def describe(self) -> str:
        where = self.address or f"local Ray instance, {self.workers} CPUs"
        return f"ray ({where})"

    def run(self, trials, *, on_result, on_start=None, on_progress=None) -> None:
        import ray

        if not trials:
            return
        started_here = False
        if not ray.is_initialized():
            import logging

            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": logging.WARNING,
            }
            if self.runtime_env:
                kwargs["runtime_env"] = self.runtime_env
            try:
                if self.address:
                    ray.init(address=self.address, **kwargs)
                else:
                    ray.init(num_cpus=self.workers, **kwargs)
            except (ConnectionError, TimeoutError, RuntimeError) as err:
                raise ConfigError(
                    f"cannot connect to the Ray cluster at {self.address!r}: {err}",
                    field="ray_address",
                    value=self.address,
                    fix="check the address (ray://host:10001 or host:6379) and that the cluster is up.",
                ) from None
            started_here = True
        remote = ray.remote(num_cpus=1, max_retries=0)(_ray_trial)
        specs = {spec.key(): spec for spec in trials}
        refs = {remote.remote(spec.to_dict()): key for key, spec in specs.items()}
        try:
            while refs:
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=0.5)
                for ref in ready:
                    key = refs.pop(ref)
                    try:
                        result = ray.get(ref)
                    except Exception as err:  # worker crash, lost node: the trial failed, go on
                        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
                        result = failed_result(specs[key], f"Ray task failed: {type(err).__name__}: {first}")
                    on_result(result)
        finally:
            for ref in refs:
                ray.cancel(ref, force=True)
            if started_here:
                ray.shutdown()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a cluster address nobody listens on (Ray itself retries for minutes)."""
    import socket

    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rsplit("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"cannot read {address!r} as a Ray address.",
            field="ray_address",
            value=address,
            fix="use ray://HOST:10001 (Ray Client), HOST:6379 (the head's GCS) or auto.",
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise ConfigError(
            f"nothing answers at {host}:{port} ({err.strerror or err}).",
            field="ray_address",
            value=address,
            fix="start the cluster (ray start --head) or check the address and that the port is open.",
        ) from None


def make_backend(
    name: str, *, workers: int | None = None, ray_address: str | None = None, runtime_env: dict | None = None
) -> Backend:
    """The backend called ``name`` (``local`` or ``ray``); ``workers=0`` with ``local`` runs
    in this process."""
    if name == "local":
        if ray_address:
            raise ConfigError(
                "--ray-address is given but the backend is local.",
                field="ray_address",
                value=ray_address,
                fix="add --backend ray, or drop --ray-address.",
            )
        if runtime_env:
            raise ConfigError(
                "a Ray runtime_env is given but the backend is local.",
                field="ray_runtime_env",
                value=runtime_env,
                fix="add --backend ray, or drop --ray-runtime-env.",
            )
        if workers == 0:
            return InlineBackend()
        return LocalBackend(workers)
    if name == "ray":
        return RayBackend(ray_address, workers, runtime_env)
    from lrkit.errors import did_you_mean

    raise ConfigError(
        f"unknown backend {name!r}.{did_you_mean(str(name), ['local', 'ray'])}",
        field="backend",
        value=name,
        fix="use --backend local (worker processes on this machine) or --backend ray.",
    )
