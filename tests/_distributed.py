"""Run a function on a few gloo ranks in fresh processes, for the distributed tests.

Each rank is a ``spawn``-ed process that joins a gloo group through a file store in its own
directory (no port to race another process for), runs ``fn(rank)`` and writes what it returns to
``rank<r>.pkl`` -- atomically, *before* any teardown -- then meets the other ranks at a barrier
and destroys the group. Everything a rank prints, Python or C++, goes to ``rank<r>.log``, with
marker lines at each phase and a faulthandler dump of every thread if it dies on a signal.

The parent decides from the result files, not from exit codes alone:

* every rank wrote its result: the run is good, even if a rank then died in torch's own
  teardown (the log shows where; :func:`run_ranks` reports it as a warning and in
  ``RankRun.teardown_deaths``);
* a rank did not write its result (it raised, crashed, or hung past the deadline): the test
  fails at once with each rank's exit status and log.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

MARK_STARTED = "harness: started"
MARK_JOINED = "harness: joined the process group"
MARK_RESULT = "harness: result written"
MARK_TEARDOWN = "harness: destroying the process group"
MARK_EXIT = "harness: process group destroyed, exiting"
#: a rank left alone in a collective raises after this long (gloo's own timeout), and its test fails
COLLECTIVE_TIMEOUT_S = 120
#: the last resort against a hang outside any collective: generous, because on a loaded 2-core
#: machine starting the ranks alone can take minutes (no test here measures speed)
DEADLINE_S = 600


def _say(line: str) -> None:
    sys.stdout.write(f"{line} ({time.strftime('%H:%M:%S')}, pid {os.getpid()})\n")
    sys.stdout.flush()


def _rank_main(rank: int, world: int, outdir: str, fn: Callable[..., Any], args: tuple) -> None:
    log = open(Path(outdir, f"rank{rank}.log"), "ab", buffering=0)  # noqa: SIM115 -- lives as long as the process
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log.fileno(), 1)  # C++ writes (gloo, libstdc++'s terminate message) land here too
    os.dup2(log.fileno(), 2)
    faulthandler.enable(file=log, all_threads=True)
    _say(MARK_STARTED)
    if hasattr(signal, "SIGUSR1"):
        # the parent sends this before killing a rank that passed the deadline: the log then says where it was
        faulthandler.register(signal.SIGUSR1, file=log, all_threads=True)

    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    if sys.platform.startswith("linux") and os.path.exists("/sys/class/net/lo"):
        # gloo binds to the hostname's address, which in a container may not route; set in the
        # rank only, so the test process's environment is left as it was
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group(
        "gloo",
        init_method=Path(outdir, "store").as_uri(),
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=COLLECTIVE_TIMEOUT_S),
    )
    _say(MARK_JOINED)
    try:
        result = fn(rank, *args)
        tmp = Path(outdir, f"rank{rank}.pkl.tmp")
        tmp.write_bytes(pickle.dumps(result))
        os.replace(tmp, Path(outdir, f"rank{rank}.pkl"))
        _say(MARK_RESULT)
        # no rank tears gloo down while another still talks to it
        dist.barrier()
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        raise
    finally:
        _say(MARK_TEARDOWN)
        dist.destroy_process_group()
    _say(MARK_EXIT)


@dataclass(frozen=True)
class RankRun:
    results: list[Any]
    exitcodes: list[int]
    logs: list[str]

    @property
    def teardown_deaths(self) -> list[int]:
        """Ranks that wrote their result and then exited non-zero."""
        return [r for r, code in enumerate(self.exitcodes) if code != 0]


def _describe(code: int | None) -> str:
    if code is None:
        return "still running (killed)"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return "<no log>"


def run_ranks(
    fn: Callable[..., Any], *args: Any, outdir: Path, world: int = 2, deadline_s: float = DEADLINE_S
) -> RankRun:
    """Run ``fn(rank, *args)`` on ``world`` gloo ranks; the list of what each rank returned.

    ``fn`` must be a module-level function (it is pickled by name) and its result picklable.
    Fails the calling test, showing every rank's log, when a rank returns no result or the run
    passes ``deadline_s`` (a hang).
    """
    outdir = Path(outdir)
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_rank_main, args=(r, world, str(outdir), fn, args), name=f"rank{r}") for r in range(world)
    ]
    for p in procs:
        p.start()
    deadline = time.monotonic() + deadline_s
    pending = {p.sentinel: p for p in procs}
    hung = False
    try:
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                hung = True
                break
            for s in multiprocessing.connection.wait(list(pending), timeout=left):
                p = pending.pop(s)
                p.join()
                if p.exitcode != 0 and not Path(outdir, f"{p.name}.pkl").exists():
                    # it died without a result: the others may wait for it in a collective
                    pending.clear()
                    break
    finally:
        alive = [p for p in procs if p.is_alive()]
        if alive and hasattr(signal, "SIGUSR1"):
            for p in alive:
                os.kill(p.pid, signal.SIGUSR1)
            time.sleep(2.0)
        for p in alive:
            p.kill()
        for p in procs:
            p.join()
    logs = [_read(Path(outdir, f"rank{r}.log")) for r in range(world)]
    codes = [p.exitcode for p in procs]
    missing = [r for r in range(world) if not Path(outdir, f"rank{r}.pkl").exists()]
    report = "\n".join(
        f"--- rank {r}: {_describe(codes[r])}; result {'MISSING' if r in missing else 'written'}"
        f"; log {outdir}/rank{r}.log:\n{logs[r]}"
        for r in range(world)
    )
    if hung or missing:
        why = f"did not finish within {deadline_s:g} s (a hang)" if hung else f"rank(s) {missing} returned no result"
        pytest.fail(f"distributed run {why}\n{report}", pytrace=False)
    run = RankRun(
        results=[pickle.loads(Path(outdir, f"rank{r}.pkl").read_bytes()) for r in range(world)],
        exitcodes=[int(c) for c in codes],
        logs=logs,
    )
    if run.teardown_deaths:
        # every result is complete; what died is torch's teardown (the log says where): the tests
        # judge the results, and the death shows in pytest's warnings summary
        warnings.warn(
            f"distributed run: rank(s) {run.teardown_deaths} died after writing their result\n{report}", stacklevel=2
        )
    return run


def run_ranks_once(
    fn: Callable[..., Any], *args: Any, name: str, tmp_path_factory: Any, world: int = 2, deadline_s: float = DEADLINE_S
) -> RankRun:
    """:func:`run_ranks`, once per test session: pytest-xdist splits a module's tests over its
    workers and each would otherwise start its own ranks (twice the processes on the machine,
    for the same results). The first worker runs them; the others wait on a lock and read its
    verdict -- the same results, or the same failure (never a second attempt)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's directory, shared by its workers
    try:
        import fcntl
    except ImportError:  # no flock (Windows): every worker runs its own
        return run_ranks(fn, *args, outdir=tmp_path_factory.mktemp(name), world=world, deadline_s=deadline_s)
    outdir = root / f"distributed-{name}"
    verdict = outdir / "verdict.pkl"
    with open(root / f"distributed-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if verdict.exists():
            ok, payload = pickle.loads(verdict.read_bytes())
        else:
            outdir.mkdir(exist_ok=True)
            try:
                ok, payload = True, run_ranks(fn, *args, outdir=outdir, world=world, deadline_s=deadline_s)
            except pytest.fail.Exception as e:
                ok, payload = False, e.msg
            verdict.write_bytes(pickle.dumps((ok, payload)))
    if not ok:
        pytest.fail(payload, pytrace=False)
    return payload
