"""``charlm``: a small character-level transformer language model on Python's own source.

The text is the source of a few pure-Python standard-library modules (found with
``importlib.util.find_spec``, read as files, never executed), so it ships with every Python
and needs no download; for one Python installation it is the same bytes every time. Characters
are ASCII codes (anything else becomes ``?``), the vocabulary is 128. The last 10% of the text
is held out for :func:`evaluate` (mean next-character cross-entropy in nats over fixed
windows); training windows are drawn at random positions in the first 90% from a generator
seeded by the trial seed.

Model: 2 pre-norm causal transformer blocks, width 64, 4 heads, context 64; AdamW.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import torch
from torch import nn

from lrkit.tasks.base import Task

__all__ = ["make_task", "corpus", "SOURCE_MODULES", "CONTEXT", "BATCH_SIZE", "VOCAB"]

#: standard-library modules whose source is the corpus (pure Python, present everywhere)
SOURCE_MODULES = ("textwrap", "string", "heapq", "bisect", "fnmatch", "colorsys", "difflib", "shlex")
CONTEXT = 64
BATCH_SIZE = 32
VOCAB = 128
WIDTH = 64
LAYERS = 2
HEADS = 4
#: held-out windows used by evaluate (fixed positions, so every trial scores the same text)
EVAL_WINDOWS = 64


@lru_cache(maxsize=1)
def corpus() -> str:
    """The training text: the listed modules' source files, concatenated in order."""
    parts = []
    for name in SOURCE_MODULES:
        spec = importlib.util.find_spec(name)
        origin = getattr(spec, "origin", None)
        if origin and origin.endswith(".py") and Path(origin).is_file():
            parts.append(Path(origin).read_text(encoding="utf-8", errors="replace"))
    text = "\n".join(parts)
    if len(text) < 20 * CONTEXT * BATCH_SIZE:  # a Python without .py sources (some embedded builds)
        raise RuntimeError(
            "charlm needs the .py sources of the standard library, which this Python installation lacks; "
            "use --task digits instead."
        )
    return text


@lru_cache(maxsize=1)
def _tokens() -> tuple[torch.Tensor, torch.Tensor]:
    data = corpus().encode("ascii", errors="replace")  # non-ASCII -> b"?"
    ids = torch.frombuffer(bytearray(data), dtype=torch.uint8).to(torch.long)
    cut = int(len(ids) * 0.9)
    return ids[:cut], ids[cut:]


class CharTransformer(nn.Module):
    """Token + learned position embeddings, causal pre-norm transformer blocks, linear head."""

    mask: torch.Tensor  # a registered buffer: the causal mask over CONTEXT positions

    def __init__(self, vocab: int = VOCAB, width: int = WIDTH, layers: int = LAYERS, heads: int = HEADS) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(CONTEXT, width)
        block = nn.TransformerEncoderLayer(
            width, heads, dim_feedforward=2 * width, dropout=0.0, batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(CONTEXT), persistent=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        n = idx.shape[1]
        h = self.tok(idx) + self.pos(torch.arange(n, device=idx.device))
        h = self.blocks(h, mask=self.mask[:n, :n], is_causal=True)
        return self.head(self.norm(h))


def _make_model(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return CharTransformer()


def _make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)


def _batches(seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    train, _ = _tokens()
    gen = torch.Generator().manual_seed(seed)
    offsets = torch.arange(CONTEXT + 1)
    while True:
        starts = torch.randint(0, len(train) - CONTEXT - 1, (BATCH_SIZE,), generator=gen)
        window = train[starts[:, None] + offsets]
        yield window[:, :-1], window[:, 1:]


def _loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    logits = model(x)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


@lru_cache(maxsize=1)
def _eval_batch() -> tuple[torch.Tensor, torch.Tensor]:
    _, held = _tokens()
    n = min(EVAL_WINDOWS, (len(held) - 1) // CONTEXT)
    x = held[: n * CONTEXT].reshape(n, CONTEXT)
    y = held[1 : n * CONTEXT + 1].reshape(n, CONTEXT)
    return x, y


def _evaluate(model: nn.Module) -> float:
    was_training = model.training
    model.eval()
    with torch.no_grad():
        loss = _loss(model, _eval_batch()).item()
    model.train(was_training)
    return float(loss)


def make_task() -> Task:
    """The embedded ``charlm`` task (300 updates of 32 windows of 64 characters)."""
    return Task(
        name="charlm",
        description=f"char-level transformer ({LAYERS} blocks, width {WIDTH}, context {CONTEXT}) on "
        f"stdlib source ({', '.join(SOURCE_MODULES)}), AdamW, batch {BATCH_SIZE}; "
        "metric: held-out cross-entropy (nats/char)",
        make_model=_make_model,
        make_optimizer=_make_optimizer,
        batches=_batches,
        loss_fn=_loss,
        evaluate=_evaluate,
        default_steps=300,
    )
