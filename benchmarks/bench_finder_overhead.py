"""Time of a range test vs a bare training loop and vs torch-lr-finder (same model, data, steps).

The bare loop is what any range test must at least do: set the LR, draw a batch, forward,
backward, optimizer step, keep the loss on the device. lrkit adds the per-group ramp, the
snapshot/restore, a host read every ``check_every`` updates and the suggestion; torch-lr-finder
calls ``loss.item()`` every step (a host-device sync on an accelerator) and saves its state
with ``state_dict()``. Ratios are printed, best-of-N and median (target: lrkit <= 1.1x the bare loop).

Runs on CUDA when available, else on CPU and says so (on CPU a ``.item()`` costs no sync, so
the CPU numbers show the bookkeeping overhead only, not the sync cost).
Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_finder_overhead.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
import warnings

import torch
from torch import nn

import lrkit
from lrkit.finder.ramp import ramp_lrs


def make(device: torch.device, width: int, depth: int):
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(width, 10)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)
    data = [
        (torch.randn(128, width, generator=g).to(device), torch.randint(0, 10, (128,), generator=g).to(device))
        for _ in range(16)
    ]
    return model, opt, data


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_loop(model, opt, data, steps: int, device) -> float:
    lrs = ramp_lrs(1e-7, 1e-4, steps)  # small LRs: nothing diverges
    losses = torch.empty(steps, device=device)
    crit = nn.CrossEntropyLoss()
    sync(device)
    t = time.perf_counter()
    for k in range(steps):
        for g in opt.param_groups:
            g["lr"] = float(lrs[k])
        x, y = data[k % len(data)]
        opt.zero_grad(set_to_none=True)
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
        losses[k] = loss.detach()
    losses.cpu()
    sync(device)
    return time.perf_counter() - t


def lrkit_finder(model, opt, data, steps: int, device) -> float:
    sync(device)
    t = time.perf_counter()
    # the range test alone (trials and the zoom pass are more updates, not overhead per update)
    lrkit.find_lr(
        model, opt, data, nn.CrossEntropyLoss(), start_lr=1e-7, end_lr=1e-4, num_steps=steps, trials=False, zoom=False
    )
    sync(device)
    return time.perf_counter() - t


def torch_lr_finder(model, opt, data, steps: int, device) -> float:
    from torch_lr_finder import LRFinder

    loader = torch.utils.data.DataLoader(data, batch_size=None, shuffle=False)
    sync(device)
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        finder = LRFinder(model, opt, nn.CrossEntropyLoss(), device=device)
        finder.range_test(loader, start_lr=1e-7, end_lr=1e-4, num_iter=steps)
        finder.reset()
    sync(device)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--depth", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, opt, data = make(device, args.width, args.depth)
    runners = {"bare loop": bare_loop, "lrkit.find_lr": lrkit_finder, "torch-lr-finder": torch_lr_finder}
    for fn in runners.values():  # warm-up (allocator, kernels, imports)
        fn(model, opt, data, 20, device)
    times: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(args.repeats):
        for name, fn in runners.items():  # interleaved, so drift hits all alike
            times[name].append(fn(model, opt, data, args.steps, device))
    # best-of-N (timeit's convention: the least disturbed run) and the median, both as ratios
    best_base = min(times["bare loop"])
    med_base = statistics.median(times["bare loop"])
    if device.type == "cuda":
        where = torch.cuda.get_device_name(device)
    else:
        where = "CPU (no GPU here: no host-device sync cost measured)"
    print(
        f"device: {where}; model: {args.depth}x{args.width} MLP, batch 128, {args.steps} updates, "
        f"{args.repeats} repeats"
    )
    print(f"{'runner':18s} {'best s':>8s} {'x bare (best)':>14s} {'median s':>9s} {'x bare (median)':>16s}")
    for name, ts in times.items():
        b, m = min(ts), statistics.median(ts)
        print(f"{name:18s} {b:8.3f} {b / best_base:14.2f} {m:9.3f} {m / med_base:16.2f}")


if __name__ == "__main__":
    main()
