"""Reading a bash script without running it: variables, arrays and launch lines.

A launch script (``train.sh``) carries a run's settings as variable assignments
(``LR=3e-4``, ``export X=...``, ``${X:-default}``, ``$((A * B))``), arrays and strings of
arguments (``TRAINING_ARGS=( --lr 3e-4 ... )``, ``ARGS+=(...)``), line continuations,
here-documents and the launch line (``torchrun ... pretrain_gpt.py ${TRAINING_ARGS[@]} ...``,
``axolotl train cfg.yml``). **Nothing is executed**: the script is tokenised with :mod:`shlex`,
and ``$(...)`` command substitutions and variables the script does not set stay unknown (a marker
the readers ask for by name, never drop). This module knows bash, not any trainer: what the
arguments mean is :mod:`lrkit.config.megatron_args` (Megatron-LM) and
:mod:`lrkit.config.trainer_launch` (the other trainers), so both read scripts the same way.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MARKER_RE",
    "ShellArgs",
    "Unknown",
    "is_shell_script",
    "parse_shell",
    "split_words",
    "unmarked",
    "written_files",
]

MARKER_RE = re.compile(r"@@LRKIT_UNKNOWN_\d+@@")
_ENTRY_RE = re.compile(r"(^|/)[\w.-]+\.py$")


@dataclass(frozen=True)
class Unknown:
    """A shell value the script does not fix: an unset variable, ``$1``, ``$(...)``."""

    name: str  # what to --set (a variable name), or "" when nothing can be set
    why: str
    #: bash itself fails here (the value is empty when the script runs), not just unknown to lrkit
    bash_error: bool = False


_ASSIGN_RE = re.compile(r"^(?:export\s+|declare\s+(?:-\w+\s+)*|local\s+|readonly\s+)?([A-Za-z_]\w*)(\+?)=(.*)$", re.S)
_OPENERS = {"if", "case", "for", "while", "until", "select"}
_CLOSERS = {"fi", "esac", "done"}


def _end_of_arith(text: str, j: int) -> int:
    """The index just after the ``))`` that closes the ``((`` at ``text[j]`` (nesting counted)."""
    depth = 0
    while j < len(text):
        if text.startswith("((", j):
            depth += 1
            j += 2
            continue
        if text.startswith("))", j):
            depth -= 1
            j += 2
            if depth == 0:
                break
            continue
        j += 1
    return j


def _closing_paren(text: str, j: int) -> int:
    """The index of the ``)`` that closes the ``(`` at ``text[j]`` (or the end of the text)."""
    depth = 0
    while j < len(text):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                break
        j += 1
    return j


class _Shell:
    """Variables and arrays of a script, evaluated in order without running anything."""

    def __init__(self, overrides: Mapping[str, str], source: str, skip: frozenset[str] = frozenset()) -> None:
        self.vars: dict[str, str | list[str] | Unknown] = {}
        self.conditional: set[str] = set()
        self.skip = skip
        #: every unknown met, by its marker (markers are unique across the script)
        self.unknowns: dict[str, Unknown] = {}
        self.overrides = dict(overrides)
        self.source = source
        self.used: set[str] = set()

    # expansion: returns text where unknowns are replaced by a marker that survives shlex
    def lookup(self, name: str) -> str | list[str] | Unknown | None:
        if name in self.overrides:
            self.used.add(name)
            return self.overrides[name]
        return self.vars.get(name)

    def expand(self, text: str, unknowns: dict[str, Unknown]) -> str:
        # "${ARR[@]}" is one word per element, as unquoted ${ARR[@]} splits them here
        text = re.sub(r'"(\$\{[A-Za-z_]\w*\[[@*]\]\})"', r"\1", text)
        out: list[str] = []
        i = 0
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                out.append(text[i : i + 2])
                i += 2
                continue
            if c == "'":
                j = text.find("'", i + 1)
                j = len(text) - 1 if j < 0 else j
                out.append(text[i : j + 1])
                i = j + 1
                continue
            if c != "$":
                out.append(c)
                i += 1
                continue
            rest = text[i + 1 :]
            if rest.startswith("(("):
                j = _end_of_arith(text, i + 1)
                expr = text[i + 3 : j - 2]
                out.append(self._arith(expr, unknowns))
                i = j
                continue
            if rest.startswith("("):
                j = _closing_paren(text, i + 1)
                out.append(self._mark(Unknown("", f"the command substitution {text[i : j + 1]!r}"), unknowns))
                i = j + 1
                continue
            if rest.startswith("{"):
                j = text.find("}", i)
                if j < 0:
                    out.append(c)
                    i += 1
                    continue
                out.append(self._param(text[i + 2 : j], unknowns))
                i = j + 1
                continue
            m = re.match(r"[A-Za-z_]\w*|[0-9@*#?$!-]", rest)
            if not m:
                out.append(c)
                i += 1
                continue
            out.append(self._value_text(m.group(0), unknowns, quoted=False))
            i += 1 + len(m.group(0))
        return "".join(out)

    def _mark(self, unknown: Unknown, unknowns: dict[str, Unknown]) -> str:
        marker = f"@@LRKIT_UNKNOWN_{len(self.unknowns)}@@"
        self.unknowns[marker] = unknown
        unknowns[marker] = unknown
        return marker

    def _value_text(self, name: str, unknowns: dict[str, Unknown], *, quoted: bool, index: str | None = None) -> str:
        value = self.lookup(name)
        if value is None:
            what = f"the script's argument ${name}" if name.isdigit() else f"${name}, which the script does not set"
            return self._mark(Unknown(name, what), unknowns)
        if isinstance(value, Unknown):
            return self._mark(value, unknowns)
        if isinstance(value, list):
            if index in ("@", "*"):
                return " ".join(shlex.quote(v) for v in value)
            if index is not None and index.isdigit():
                k = int(index)
                return shlex.quote(value[k]) if k < len(value) else ""
            return shlex.quote(value[0]) if value else ""
        return value

    def _param(self, body: str, unknowns: dict[str, Unknown]) -> str:
        m = re.match(r"^([A-Za-z_]\w*|[0-9]+)(?:\[([^\]]+)\])?(?:(:?[-=+?])(.*))?$", body, re.S)
        if not m:
            return self._mark(Unknown("", f"the expansion ${{{body}}}"), unknowns)
        name, index, op, word = m.groups()
        value = self.lookup(name)
        if op and op.lstrip(":") in ("-", "="):
            unset = value is None or (op.startswith(":") and value == "")
            if unset:
                default = self.expand(word or "", unknowns)
                if op.lstrip(":") == "=":
                    self.vars[name] = default
                return default
        if op and op.lstrip(":") == "+":
            return self.expand(word or "", unknowns) if value not in (None, "") else ""
        return self._value_text(name, unknowns, quoted=False, index=index)

    def _arith(self, expr: str, unknowns: dict[str, Unknown]) -> str:
        text = self.expand(expr, unknowns)
        markers = [m for m in unknowns if m in text]
        if markers:
            return markers[0]
        bad = next((w for w in re.findall(r"(?<![\w@])\d\w*", text) if not _BASH_NUMBER.fullmatch(w)), None)
        if bad is not None:
            # 126_953_125 is a Python literal, not a bash number: bash prints "value too great for base"
            # and the command (an assignment) does not run, so the value is empty
            return self._mark(
                Unknown(
                    "",
                    f"the arithmetic $(({expr})), which bash cannot evaluate ({bad!r} is not a bash number; bash "
                    "reports 'value too great for base' and the value stays empty)",
                    bash_error=True,
                ),
                unknowns,
            )
        names = {}

        def repl(m: re.Match[str]) -> str:
            v = self.lookup(m.group(0))
            if v is None or isinstance(v, Unknown | list):
                names[m.group(0)] = v
                return "0"
            return f"({v})"

        text = re.sub(r"[A-Za-z_]\w*", repl, text)
        if names:
            name = next(iter(names))
            return self._mark(Unknown(name, f"${name} in $(({expr}))"), unknowns)
        try:
            return str(_eval_int(text))
        except (ValueError, SyntaxError, ZeroDivisionError, TypeError):
            return self._mark(Unknown("", f"the arithmetic $(({expr}))"), unknowns)

    # assignments
    def assign(self, name: str, append: bool, rhs: str, depth: int) -> None:
        if depth > 0:
            self.conditional.add(name)
            if name in self.skip:
                return  # the other branch: the assignment inside the block does not run
        unknowns = self.unknowns
        rhs = rhs.strip()
        if rhs.startswith("(") and rhs.endswith(")"):
            items = split_words(self.expand(rhs[1:-1], unknowns))
            words = [self._restore(t, unknowns) for t in items]
            old = self.vars.get(name) if append else None
            value: str | list[str] | Unknown = [*old, *words] if isinstance(old, list) else words
        else:
            words = split_words(self.expand(rhs, unknowns)) if rhs else [""]
            value = self._restore(" ".join(words), unknowns)
            if append and isinstance(self.vars.get(name), str):
                value = str(self.vars[name]) + str(value)
        self.vars[name] = value

    def _restore(self, token: str, unknowns: Mapping[str, Unknown]) -> str:
        # unknowns keep their marker in the text; tokens carry them to the argument values
        return token


#: an integer constant bash reads in $((...)): decimal, 0x hex (0-octal is decimal-looking, read elsewhere)
_BASH_NUMBER = re.compile(r"\d+|0[xX][0-9A-Fa-f]+")


def _eval_int(text: str) -> int:
    """Bash integer arithmetic on numbers (+ - * / % **, parentheses); no names, no calls."""
    tree = ast.parse(text.replace("**", "^^").replace("^^", "**"), mode="eval")

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div | ast.FloorDiv):
                q = abs(a) // abs(b)  # bash truncates towards zero
                return q if (a >= 0) == (b >= 0) else -q
            if isinstance(node.op, ast.Mod):
                return a - b * int(a / b)
            if isinstance(node.op, ast.Pow) and 0 <= b <= 64:
                return a**b
        raise ValueError("not integer arithmetic")

    return ev(tree)


def split_words(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True, posix=True)
    except ValueError:
        return text.split()


def _logical_lines(text: str) -> list[str]:
    """Lines with continuations joined and multi-line ``( ... )`` arrays and quotes kept whole."""
    joined = re.sub(r"\\\r?\n", " ", text)
    out: list[str] = []
    buf = ""
    for line in joined.splitlines():
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        buf = f"{buf}\n{line}" if buf else line
        if _balanced(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def _balanced(text: str) -> bool:
    """True when quotes are closed and an array assignment's ``(`` is closed."""
    depth = 0
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c == "\\":
            i += 2
            continue
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n"):
            nl = text.find("\n", i)
            if nl < 0:
                break
            i = nl
            continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        i += 1
    return not quote and depth <= 0


def _strip_comment(line: str) -> str:
    """Drop ``# ...`` comments outside quotes, line by line (arrays span lines)."""
    out = []
    for part in line.splitlines():
        quote = ""
        cut = len(part)
        for i, c in enumerate(part):
            if quote:
                if c == quote:
                    quote = ""
            elif c in "'\"":
                quote = c
            elif c == "#" and (i == 0 or part[i - 1] in " \t"):
                cut = i
                break
        out.append(part[:cut])
    return "\n".join(out)


@dataclass(frozen=True)
class ShellArgs:
    """What a script passes to Megatron: the arguments of each launch line (``--k`` tokens
    after the ``*.py`` entry point), the unknowns they carry, and the variables set."""

    launches: tuple[tuple[str, ...], ...]
    unknowns: Mapping[str, Unknown]
    variables: Mapping[str, Any]
    used_overrides: frozenset[str]
    #: variables assigned inside an if/case/for/while block or a function
    conditional: frozenset[str] = frozenset()
    #: for each launch, the trainer command it runs (:data:`_TRAINER_CLIS`: ``axolotl``,
    #: ``llamafactory``) and its words up to the subcommand; ``("", ...)`` for a ``*.py`` / ``-m`` entry
    programs: tuple[tuple[str, str], ...] = ()

    def program(self, k: int) -> tuple[str, str]:
        return self.programs[k] if k < len(self.programs) else ("", "")


def parse_shell(
    text: str,
    *,
    overrides: Mapping[str, str] | None = None,
    source: str = "<script>",
    skip: frozenset[str] = frozenset(),
) -> ShellArgs:
    """Evaluate a script's assignments in order and collect the arguments of its launch lines.
    ``skip``: variables whose assignments inside blocks are not applied (the other branch)."""
    sh = _Shell(overrides or {}, source, skip)
    unknowns = sh.unknowns
    launches: list[tuple[str, ...]] = []
    programs: list[tuple[str, str]] = []
    depth = 0
    for raw in _logical_lines(text):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        for stmt in _statements(line):
            words = stmt.split(None, 1)
            head = words[0] if words else ""
            if head in _OPENERS:
                depth += 1
                continue
            if head in _CLOSERS or head.rstrip(";") in _CLOSERS:
                depth = max(0, depth - 1)
                continue
            if head in ("then", "do", "else", "elif", "{", "}", ";;") or re.match(r"^[\w-]+\s*\(\)\s*\{?$", stmt):
                if re.match(r"^[\w-]+\s*\(\)", stmt):
                    depth += 1
                elif head == "}":
                    depth = max(0, depth - 1)
                continue
            if re.match(r"^[^()\s]+\)$", head) and depth:  # a case pattern
                continue
            stmt = _command_after_env(stmt)
            m = _ASSIGN_RE.match(stmt)
            if m and "\n" not in m.group(1):
                sh.assign(m.group(1), m.group(2) == "+", m.group(3), depth)
                continue
            for tokens in _wrapped(split_words(sh.expand(stmt, unknowns))):
                # strings of arguments ("$GPT_ARGS" quoted) split into words like an unquoted use
                flat: list[str] = []
                for t in tokens:
                    # blanks before the first flag (OPTS="  \<newline> --lr ...") are word separators too
                    flat.extend(
                        split_words(t) if t.lstrip().startswith("--") and any(ch.isspace() for ch in t) else [t]
                    )
                launch = _launch(flat)
                if launch is not None:
                    launches.append(launch[1])
                    programs.append(launch[0])
    return ShellArgs(
        tuple(launches),
        unknowns,
        dict(sh.vars),
        frozenset(sh.used),
        frozenset(sh.conditional),
        tuple(programs),
    )


#: one ``NAME=value`` word before a command: the value a plain, quoted or ``$VAR``/``${VAR}`` word (a
#: ``$(...)``, backquote or array value is left to the assignment reading)
_ENV_WORD_RE = re.compile(
    # each $NAME takes all its word characters ((?!\w)): one way to match a word, so no backtracking blow-up
    r"""[A-Za-z_]\w*=(?:[^\s'"`$()\\]|\\.|'[^']*'|"(?:[^"\\`$]|\\.|\$\w+(?!\w)|\$\{\w+\})*"|\$\{\w+\}|\$\w+(?!\w))*\s+"""
)


def _command_after_env(stmt: str) -> str:
    """``CUDA_VISIBLE_DEVICES=0,1 torchrun train.py ...``: bash runs the command with those variables
    in its environment and sets none of them in the script, so the statement is the command (a launch
    line like any other), not an assignment of ``0,1 torchrun ...``; any other statement as it is."""
    rest = stmt
    while m := _ENV_WORD_RE.match(rest):
        rest = rest[m.end() :]
    if rest is stmt or not rest.strip() or rest.lstrip().startswith("#") or _ASSIGN_RE.match(rest):
        return stmt
    return rest


#: trainers run by a command of their own whose settings are a config file: the command's last word,
#: or ``-m`` module, followed by its subcommand -> the trainer (the format lrkit reads its file as)
_TRAINER_CLIS: dict[tuple[str, str], str] = {
    ("axolotl", "train"): "axolotl",  # axolotl train cfg.yml (axolotl.cli.main)
    ("axolotl.cli.train", ""): "axolotl",  # python -m / accelerate launch -m axolotl.cli.train cfg.yml
    ("axolotl.cli.main", "train"): "axolotl",
    ("llamafactory-cli", "train"): "llamafactory",  # llamafactory-cli train cfg.yaml (also lmf)
    ("lmf", "train"): "llamafactory",
}


def _trainer_cli(words: Sequence[str]) -> tuple[str, int] | None:
    """``(trainer, index of its first argument)`` when ``words`` run one of :data:`_TRAINER_CLIS`."""
    for k, w in enumerate(words):
        module = words[k + 1] if w == "-m" and k + 1 < len(words) else None
        name = module if module is not None else w.rsplit("/", 1)[-1]
        at = k + 2 if module is not None else k + 1
        if (name, "") in _TRAINER_CLIS:
            return _TRAINER_CLIS[(name, "")], at
        if at < len(words) and (name, words[at]) in _TRAINER_CLIS:
            return _TRAINER_CLIS[(name, words[at])], at + 1
    return None


def _launch(words: list[str]) -> tuple[tuple[str, str], tuple[str, ...]] | None:
    """A command that starts training: ``((trainer, command), arguments)``; the trainer is ``""``
    for a ``*.py`` / ``-m`` entry point (Megatron, or a trainer lrkit cannot name)."""
    cli = _trainer_cli(words)
    entry = _entry_point(words)
    if cli is not None and (entry is None or entry >= cli[1] - 2):
        trainer, at = cli
        return (trainer, " ".join(words[:at])), tuple(words[at:])
    if entry is not None:
        return ("", " ".join(words[: entry + 1])), tuple(words[entry + 1 :])
    return None


def _wrapped(words: list[str]) -> list[list[str]]:
    """The commands a statement runs: itself, or for ``sbatch --wrap="cmd; cmd"`` the commands of
    the wrapped string (the job runs them, not sbatch)."""
    if not words or words[0].rsplit("/", 1)[-1] != "sbatch":
        return [words]
    for k, w in enumerate(words):
        inner = w[len("--wrap=") :] if w.startswith("--wrap=") else None
        if w == "--wrap" and k + 1 < len(words):
            inner = words[k + 1]
        if inner is not None:
            return [split_words(_command_after_env(stmt)) for stmt in _statements(inner)]
    return [words]


def _entry_point(words: list[str]) -> int | None:
    """Where the training program starts: a ``*.py`` word, or ``-m package.module`` (not the
    ``torch.distributed.run`` launcher itself); None for a line that launches nothing."""
    for k, w in enumerate(words):
        if _ENTRY_RE.search(w):
            return k
        if w == "-m" and k + 1 < len(words) and not words[k + 1].startswith("torch.distributed."):
            return k + 1
    return None


def _statements(line: str) -> list[str]:
    """Split on ``;`` and ``&&``/``||`` outside quotes and brackets (multi-line arrays stay whole)."""
    out, buf, quote, depth = [], [], "", 0
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            buf.append(c)
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
            buf.append(c)
        elif c in "({":
            depth += 1
            buf.append(c)
        elif c in ")}":
            depth -= 1
            buf.append(c)
        elif depth <= 0 and (c == ";" or line.startswith("&&", i) or line.startswith("||", i)):
            if line.startswith(";;", i):
                i += 1
            out.append("".join(buf).strip())
            buf = []
            if c in "&|":
                i += 1
        else:
            buf.append(c)
        i += 1
    out.append("".join(buf).strip())
    return [s for s in out if s]


def unmarked(value: Any, unknowns: Mapping[str, Unknown]) -> Any:
    """A value with each unknown's marker replaced by what the unknown is (``<unknown: $2>``)."""
    if not isinstance(value, str):
        return value
    return MARKER_RE.sub(
        lambda m: f"<unknown: {unknowns[m.group(0)].why}>" if m.group(0) in unknowns else "<unknown>", value
    )


_HEREDOC_RE = re.compile(r"<<(-?)\s*(['\"]?)(\w+)\2")


def written_files(text: str, parsed: ShellArgs, overrides: Mapping[str, str]) -> dict[str, str]:
    """The files the script writes with a here-document (``cat <<EOT > $CONFIG_JSON`` ... ``EOT``), by
    their path expanded with the script's variables (unknowns keep their markers, as in the arguments)."""
    sh = _Shell(overrides, "<heredoc>")
    sh.vars = dict(parsed.variables)
    sh.unknowns = dict(parsed.unknowns)
    lines = text.splitlines()
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _HEREDOC_RE.search(line)
        i += 1
        if m is None or line.lstrip().startswith("#"):
            continue
        target = re.search(r">\s*(\S+)", line[m.end() :]) or re.search(r">\s*(\S+)", line[: m.start()])
        body = []
        while i < len(lines) and (lines[i].strip() if m.group(1) else lines[i]) != m.group(3):
            body.append(lines[i])
            i += 1
        i += 1
        if target is not None:
            words = split_words(sh.expand(target.group(1), {}))
            if words:
                out[unmarked(words[0], sh.unknowns)] = "\n".join(body)
    return out


def is_shell_script(path: Path, text: str) -> bool:
    """A ``.sh``/``.bash`` file, or one starting with a shell ``#!``."""
    if path.suffix in (".sh", ".bash", ".slurm", ".sbatch"):
        return True
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return bool(re.match(r"#!.*\b(ba|z|k|da)?sh\b", first))
