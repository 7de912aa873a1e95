"""Every example in README.md and docs/**.md runs as written.

Collected: every fenced ```python block, and every ``lrkit ...`` command line in ```bash,
```console, ```sh and ```shell blocks (``$ `` prompts and ``\\`` continuations understood; other
commands such as ``make`` or ``sqlite3`` are not run).

How they run, as a reader following the page would:

- In a fresh folder that holds a copy of ``src/lrkit/examples`` and ``src/lrkit/data``, so the
  relative paths the docs use resolve; a block preceded by ``<!-- example: NAME.py -->`` is also
  saved there as ``NAME.py`` (the page tells the reader to save it so), for the page's other blocks.
- Python: the page's Python blocks up to and including this one, concatenated into one script and
  run with the dev set-up's interpreter in a subprocess (later blocks may use earlier blocks' names).
- Commands: through the installed ``lrkit`` entry point in ``bash``, one block's commands in order in
  one folder. A command must exit 0 or 1 (1: findings) without a traceback; a command the page
  shows followed by an ``lrkit: error:`` line must exit 2 with that kind of line.
- Heavy commands run with a cheap override (:func:`_cheap`): ``lrkit compare`` trains 1 seed of
  5 updates at a given LR in this process. ``lrkit find`` and ``lrkit demo`` (the finder alone
  takes minutes here) are only parsed -- every flag and value checked by the real command line
  -- and run for real elsewhere (:data:`PARSED_ONLY`).

Skipped: a block whose fence is preceded, on the line just before, by the HTML comment
``<!-- fragment -->`` (optionally with a reason: ``<!-- fragment: needs a Ray cluster -->``).
Use it for pieces that cannot run alone (they use your model, a cluster, a file of yours) and
say why. Every subcommand of ``lrkit`` must still be run by at least one collected command.

Blocks of other pages known to fail are listed in ``KNOWN_BROKEN`` (strict xfail, so fixing the
page makes the test fail until its entry is removed).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELL_LANGS = {"bash", "console", "sh", "shell"}
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
FRAGMENT = re.compile(r"^\s*<!--\s*fragment\b.*-->\s*$")
EXAMPLE_FILE = re.compile(r"^\s*<!--\s*example:\s*([\w./-]+\.py)\s*-->\s*$")

#: (page, first line of the block's text) -> why it is known to fail; the lead removes entries
#: as pages are fixed (strict xfail: a fixed block fails here until its entry goes)
KNOWN_BROKEN: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Block:
    page: str  # relative to the repository root
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    fragment: bool
    example_file: str | None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def first_line(self) -> str:
        return next((x.strip() for x in self.text.splitlines() if x.strip()), "")


def collect(path: Path, root: Path = ROOT) -> list[Block]:
    """The fenced blocks of one Markdown page (named relative to ``root``)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(2), m.group(3).lower(), i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence[:3]):
            body.append(lines[i])
            i += 1
        before = lines[start - 1] if start > 0 else ""
        example = EXAMPLE_FILE.match(before)
        blocks.append(
            Block(
                page=str(path.relative_to(root)),
                line=start + 1,
                lang=lang,
                text=textwrap.dedent("\n".join(body)) + "\n",  # a block inside a list item is indented
                fragment=bool(FRAGMENT.match(before)),
                example_file=example.group(1) if example else None,
            )
        )
        i += 1
    return blocks


@dataclass(frozen=True)
class Command:
    line: int  # 1-based line in the page
    text: str  # as written, continuations joined, prompt removed
    shows_error: bool  # the page shows an `lrkit: error:` line right after it


def commands_of(block: Block) -> list[Command]:
    """The ``lrkit ...`` command lines of a shell block."""
    raw = block.text.splitlines()
    out: list[Command] = []
    i = 0
    while i < len(raw):
        line, first = raw[i], i
        prompt = block.lang == "console"
        if prompt and not line.startswith("$ "):
            i += 1
            continue
        text = line[2:] if prompt else line
        while text.rstrip().endswith("\\") and i + 1 < len(raw):
            i += 1
            text = text.rstrip()[:-1].rstrip() + " " + raw[i].strip()
        i += 1
        if not re.match(r"\s*lrkit(\s|$)", text):
            continue
        following = raw[i] if i < len(raw) else ""
        out.append(Command(block.line + 1 + first, text.strip(), following.startswith("lrkit: error:")))
    return out


ALL_BLOCKS = [b for page in PAGES for b in collect(page)]
PYTHON_BLOCKS = [b for b in ALL_BLOCKS if b.lang == "python"]
SHELL_BLOCKS = [b for b in ALL_BLOCKS if b.lang in SHELL_LANGS and commands_of(b)]


def _marks(block: Block) -> list[pytest.MarkDecorator]:
    reason = KNOWN_BROKEN.get((block.page, block.first_line))
    return [pytest.mark.xfail(reason=reason, strict=True)] if reason else []


def _params(blocks: list[Block]) -> list:
    return [pytest.param(b, id=b.where, marks=_marks(b)) for b in blocks if not b.fragment]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(
        MPLBACKEND="Agg",
        NO_COLOR="1",
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DISABLED="true",
        MLFLOW_TRACKING_URI="file:./mlruns",
        PYTHONWARNINGS="ignore",
        RAY_USAGE_STATS_ENABLED="0",
    )
    return env


def _context(tmp_path: Path, page: str) -> Path:
    """A folder where the docs' relative paths resolve, with the page's example files saved."""
    for sub in ("src/lrkit/examples", "src/lrkit/data"):
        shutil.copytree(ROOT / sub, tmp_path / sub)
    for b in PYTHON_BLOCKS:
        if b.page == page and b.example_file:
            (tmp_path / b.example_file).write_text(b.text, encoding="utf-8")
    return tmp_path


# Cheap overrides: (subcommand, flags appended; click keeps the last value of a single option)
_GLOB = re.compile(r"[\w./*?=:,@+%-]+")


def _cheap(command: str) -> str:
    """``command`` with flags appended that make a heavy run short, comments dropped."""
    tokens = shlex.split(command, comments=True)
    text = " ".join(t if _GLOB.fullmatch(t) else shlex.quote(t) for t in tokens)
    sub = tokens[1] if len(tokens) > 1 else ""
    if "--help" in tokens or "-h" in tokens or "--report-only" in tokens:
        return text
    if sub == "compare":
        text += " --steps 5 --seeds 1 --workers 0"
        if "--lr" not in tokens and "--find-lr" not in tokens:
            text += " --lr 0.05"
    return text


#: subcommand -> the test that runs it for real; the docs test only parses its command lines
PARSED_ONLY = {
    "find": "tests/test_finder.py runs `lrkit find --task digits` and `--entry`",
    "demo": "tests/test_cli.py::test_demo_runs_end_to_end",
}


def _parse_only(command: str) -> None:
    """Parse ``command`` with lrkit's real command line, without running it (a bad flag or value
    raises click's UsageError)."""
    import typer.main

    from lrkit.cli import app

    tokens = shlex.split(command, comments=True)[1:]
    group = typer.main.get_command(app)
    with group.make_context("lrkit", list(tokens)) as ctx:
        left = [*getattr(ctx, "_protected_args", getattr(ctx, "protected_args", [])), *ctx.args]
        name, cmd, rest = group.resolve_command(ctx, left)
        assert cmd is not None, command
        cmd.make_context(name, rest, parent=ctx)


def test_pages_are_collected():
    assert len(PYTHON_BLOCKS) >= 10 and len(SHELL_BLOCKS) >= 5
    assert all(p.exists() for p in PAGES)


def test_known_broken_entries_name_blocks_that_exist():
    """An entry whose block was rewritten or marked a fragment goes too."""
    live = {(b.page, b.first_line) for b in ALL_BLOCKS if not b.fragment}
    assert set(KNOWN_BROKEN) <= live, set(KNOWN_BROKEN) - live


def test_every_subcommand_is_run_by_a_documented_command():
    """Each ``lrkit`` subcommand appears in at least one collected (non-fragment) command."""
    import typer.main

    from lrkit.cli import app

    names = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    run = {
        shlex.split(c.text, comments=True)[1]
        for b in SHELL_BLOCKS
        if not b.fragment
        for c in commands_of(b)
        if len(shlex.split(c.text, comments=True)) > 1
    }
    assert names - run == set()


def test_collector_reads_fragments_prompts_and_continuations(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "<!-- fragment: uses your model -->\n```python\nmodel.fit()\n```\n"
        "```console\n$ lrkit show a.yaml\nout\n$ lrkit show \\\n  b.yaml --total-steps 0\nlrkit: error: bad\n```\n"
        "```bash\nmake test\nlrkit list   # families\n```\n",
        encoding="utf-8",
    )
    blocks = collect(page, tmp_path)
    assert [b.fragment for b in blocks] == [True, False, False]
    cmds = commands_of(blocks[1])
    assert [c.text for c in cmds] == ["lrkit show a.yaml", "lrkit show b.yaml --total-steps 0"]
    assert [c.shows_error for c in cmds] == [False, True]
    assert [c.line for c in cmds] == [6, 8]
    assert [c.text for c in commands_of(blocks[2])] == ["lrkit list   # families"]
    cheap = "lrkit compare -s cosine --seeds 5 --steps 5 --seeds 1 --workers 0 --lr 0.05"
    assert _cheap("lrkit compare -s cosine --seeds 5") == cheap
    assert _cheap("lrkit plot src/*.yaml -o c.png  # overlay") == "lrkit plot src/*.yaml -o c.png"
    _parse_only("lrkit find --task digits --steps 150 -o finder.png")
    with pytest.raises(Exception, match="No such option"):
        _parse_only("lrkit find --task digits --stpes 150")
    with pytest.raises(Exception, match="greater than or equal to 1"):
        _parse_only("lrkit demo --steps 0")


@pytest.mark.slow
@pytest.mark.parametrize("block", _params(PYTHON_BLOCKS))
def test_python_block_runs(block: Block, tmp_path):
    ctx = _context(tmp_path, block.page)
    upto = [b for b in PYTHON_BLOCKS if b.page == block.page and not b.fragment and b.line <= block.line]
    if block.example_file:  # a module the page saves: importing it is running it
        upto = [block]
    script = "".join(f"# ---- {b.where} ----\n{b.text}" for b in upto)
    (ctx / "_doc_example.py").write_text(script, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "_doc_example.py"], cwd=ctx, env=_env(), capture_output=True, text=True, timeout=600
    )
    ran = [b.where for b in upto]
    assert proc.returncode == 0, f"{block.where} failed (script: blocks {ran}):\n{proc.stderr[-4000:]}"


@pytest.mark.slow
@pytest.mark.parametrize("block", _params(SHELL_BLOCKS))
def test_command_block_runs(block: Block, tmp_path):
    ctx = _context(tmp_path, block.page)
    for cmd in commands_of(block):
        if shlex.split(cmd.text, comments=True)[1:2] and shlex.split(cmd.text, comments=True)[1] in PARSED_ONLY:
            _parse_only(cmd.text)
            continue
        line = _cheap(cmd.text)
        proc = subprocess.run(["bash", "-c", line], cwd=ctx, env=_env(), capture_output=True, text=True, timeout=600)
        where = f"{block.page}:{cmd.line}: {cmd.text}"
        assert "Traceback" not in proc.stderr, f"{where}\n{proc.stderr[-4000:]}"
        if cmd.shows_error:
            shown = f"{where}\nexit {proc.returncode}\n{proc.stderr}"
            assert proc.returncode == 2 and "lrkit: error:" in proc.stderr, shown
        else:
            assert proc.returncode in (0, 1), f"{where} (ran: {line})\nexit {proc.returncode}\n{proc.stderr[-4000:]}"
