"""Megatron-LM command lines: argument lists, shell scripts and YAML with dashed keys.

Three shapes reach :func:`lrkit.config.megatron.resolve_megatron` through here:

- an argument list as ``pretrain_gpt.py`` takes it (``--lr 3e-4 --lr-decay-style cosine ...``;
  ``--k v`` and ``--k=v``; a flag with no value is ``true``; several values make a list);
- a shell script (``train.sh``) as Megatron's examples write them: variable assignments
  (``LR=3e-4``, ``export X=...``, ``${X:-default}``, ``$((A * B))``), arrays of arguments
  (``TRAINING_ARGS=( --lr 3e-4 ... )``, ``ARGS+=(...)``), strings of arguments, line
  continuations, and the launch line (``torchrun ... pretrain_gpt.py ${TRAINING_ARGS[@]} ...``);
- YAML whose keys are dashed flags (``MODEL_ARGS: {--lr: 3.0e-4, ...}``, Megatron's
  functional-test ``model_config.yaml``).

**Nothing is executed.** The script is tokenised with :mod:`shlex`; ``$(...)`` command
substitutions and variables the script does not set stay unknown. A curve argument whose value
depends on an unknown (``--global-batch-size $GBS`` in a sample-based run, ``--lr $1``) is
asked for by name (``--set GBS=512``), never dropped; so is one assigned only inside an
``if``/``case``/``for`` block (the branch taken is not known without running the script).

Which arguments decide the curve is Megatron's own rule (``get_optimizer_param_scheduler`` in
``megatron/training/training.py``): the run is iteration-based when ``--train-iters`` is set,
sample-based when ``--train-samples`` is; the global batch size cancels out of an
iteration-based curve and is needed only for a sample-based one.
"""

from __future__ import annotations

import ast
import difflib
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lrkit.config.megatron import BATCH_ARGS, CURVE_ARGS, GROUP_LR_ARGS, OTHER_ARGS
from lrkit.config.resolved import ResolvedConfig
from lrkit.errors import ConfigError
from lrkit.findings import Finding

__all__ = [
    "CURVE_ARGS",
    "parse_arg_list",
    "parse_shell",
    "read_megatron_args",
    "read_megatron_shell",
    "trainer_shell_args",
    "TRAINER_SHELL_FORMATS",
    "megatron_args_from_yaml",
    "looks_like_dashed_megatron",
]

_MARKER_RE = re.compile(r"@@LRKIT_UNKNOWN_\d+@@")
_ENTRY_RE = re.compile(r"(^|/)[\w.-]+\.py$")


# -- argument lists ---------------------------------------------------------------------------


def _scalar(text: str) -> Any:
    """A token's value as YAML/OmegaConf would read it (``6e-5`` float, ``500000`` int)."""
    from lrkit.config.loading import parse_scalar

    return parse_scalar(text)


def parse_arg_list(tokens: Sequence[str], *, source: str = "<args>") -> tuple[dict[str, Any], dict[str, str]]:
    """``--k v`` / ``--k=v`` / ``--flag`` tokens to ``{k_with_underscores: value}``.

    Returns the arguments and, for each, the flag as written (for messages). Tokens before the
    first flag are refused (they are not Megatron arguments); a flag given twice keeps the last
    value, as argparse does.
    """
    args: dict[str, Any] = {}
    written: dict[str, str] = {}
    i = 0
    toks = list(tokens)
    while i < len(toks):
        tok = toks[i]
        if not isinstance(tok, str) or not tok.startswith("--") or tok == "--":
            raise ConfigError(
                f"{tok!r} is not a --flag (Megatron's arguments are --name value pairs).",
                field="args",
                value=tok,
                fix="write each argument as --name value or --name=value.",
            )
        name, eq, inline = tok[2:].partition("=")
        key = name.replace("-", "_")
        values: list[Any]
        j = i + 1
        while j < len(toks) and not (toks[j].startswith("--") and len(toks[j]) > 2):
            j += 1
        # after --k=v, more words (an unquoted value with spaces) stay with that flag
        values = [inline, *toks[i + 1 : j]] if eq else toks[i + 1 : j]
        # an unknown that is a whole word after a flag's value ($EXTRA_ARGS unset here) is not
        # more of that value: it may hold flags of its own, or nothing
        values = values[:1] + [v for v in values[1:] if not _MARKER_RE.fullmatch(v)]
        i = j
        parsed = [_scalar(v) if isinstance(v, str) and "$" not in v else v for v in values]
        if not parsed and key in CURVE_ARGS:
            # every curve argument takes a value: argparse stops Megatron with "expected one argument"
            raise ConfigError(
                f"--{name} has no value (Megatron's argparse refuses it: expected one argument).",
                field=f"--{name}",
                value=None,
                fix=f"write --{name} VALUE (or --{name}=VALUE).",
            )
        args[key] = True if not parsed else parsed[0] if len(parsed) == 1 else parsed
        written[key] = f"--{name}"
    return args, written


# -- shell ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unknown:
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
        self.vars: dict[str, str | list[str] | _Unknown] = {}
        self.conditional: set[str] = set()
        self.skip = skip
        #: every unknown met, by its marker (markers are unique across the script)
        self.unknowns: dict[str, _Unknown] = {}
        self.overrides = dict(overrides)
        self.source = source
        self.used: set[str] = set()

    # expansion: returns text where unknowns are replaced by a marker that survives shlex
    def lookup(self, name: str) -> str | list[str] | _Unknown | None:
        if name in self.overrides:
            self.used.add(name)
            return self.overrides[name]
        return self.vars.get(name)

    def expand(self, text: str, unknowns: dict[str, _Unknown]) -> str:
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
                out.append(self._mark(_Unknown("", f"the command substitution {text[i : j + 1]!r}"), unknowns))
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

    def _mark(self, unknown: _Unknown, unknowns: dict[str, _Unknown]) -> str:
        marker = f"@@LRKIT_UNKNOWN_{len(self.unknowns)}@@"
        self.unknowns[marker] = unknown
        unknowns[marker] = unknown
        return marker

    def _value_text(self, name: str, unknowns: dict[str, _Unknown], *, quoted: bool, index: str | None = None) -> str:
        value = self.lookup(name)
        if value is None:
            what = f"the script's argument ${name}" if name.isdigit() else f"${name}, which the script does not set"
            return self._mark(_Unknown(name, what), unknowns)
        if isinstance(value, _Unknown):
            return self._mark(value, unknowns)
        if isinstance(value, list):
            if index in ("@", "*"):
                return " ".join(shlex.quote(v) for v in value)
            if index is not None and index.isdigit():
                k = int(index)
                return shlex.quote(value[k]) if k < len(value) else ""
            return shlex.quote(value[0]) if value else ""
        return value

    def _param(self, body: str, unknowns: dict[str, _Unknown]) -> str:
        m = re.match(r"^([A-Za-z_]\w*|[0-9]+)(?:\[([^\]]+)\])?(?:(:?[-=+?])(.*))?$", body, re.S)
        if not m:
            return self._mark(_Unknown("", f"the expansion ${{{body}}}"), unknowns)
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

    def _arith(self, expr: str, unknowns: dict[str, _Unknown]) -> str:
        text = self.expand(expr, unknowns)
        markers = [m for m in unknowns if m in text]
        if markers:
            return markers[0]
        bad = next((w for w in re.findall(r"(?<![\w@])\d\w*", text) if not _BASH_NUMBER.fullmatch(w)), None)
        if bad is not None:
            # 126_953_125 is a Python literal, not a bash number: bash prints "value too great for base"
            # and the command (an assignment) does not run, so the value is empty
            return self._mark(
                _Unknown(
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
            if v is None or isinstance(v, _Unknown | list):
                names[m.group(0)] = v
                return "0"
            return f"({v})"

        text = re.sub(r"[A-Za-z_]\w*", repl, text)
        if names:
            name = next(iter(names))
            return self._mark(_Unknown(name, f"${name} in $(({expr}))"), unknowns)
        try:
            return str(_eval_int(text))
        except (ValueError, SyntaxError, ZeroDivisionError, TypeError):
            return self._mark(_Unknown("", f"the arithmetic $(({expr}))"), unknowns)

    # assignments
    def assign(self, name: str, append: bool, rhs: str, depth: int) -> None:
        if depth > 0:
            self.conditional.add(name)
            if name in self.skip:
                return  # the other branch: the assignment inside the block does not run
        unknowns = self.unknowns
        rhs = rhs.strip()
        if rhs.startswith("(") and rhs.endswith(")"):
            items = _split(self.expand(rhs[1:-1], unknowns))
            words = [self._restore(t, unknowns) for t in items]
            old = self.vars.get(name) if append else None
            value: str | list[str] | _Unknown = [*old, *words] if isinstance(old, list) else words
        else:
            words = _split(self.expand(rhs, unknowns)) if rhs else [""]
            value = self._restore(" ".join(words), unknowns)
            if append and isinstance(self.vars.get(name), str):
                value = str(self.vars[name]) + str(value)
        self.vars[name] = value

    def _restore(self, token: str, unknowns: Mapping[str, _Unknown]) -> str:
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


def _split(text: str) -> list[str]:
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
    unknowns: Mapping[str, _Unknown]
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
            for tokens in _wrapped(_split(sh.expand(stmt, unknowns))):
                # strings of arguments ("$GPT_ARGS" quoted) split into words like an unquoted use
                flat: list[str] = []
                for t in tokens:
                    # blanks before the first flag (OPTS="  \<newline> --lr ...") are word separators too
                    flat.extend(_split(t) if t.lstrip().startswith("--") and any(ch.isspace() for ch in t) else [t])
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
            return [_split(_command_after_env(stmt)) for stmt in _statements(inner)]
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


# -- from parsed arguments to the curve -------------------------------------------------------


def _check_names(args: Mapping[str, Any], written: Mapping[str, str], source: str) -> None:
    """A dashed key is never ignored: a near-miss of a curve argument is a misspelling."""
    for key in args:
        if key in CURVE_ARGS or key in OTHER_ARGS:
            continue
        if not re.search(r"(^|_)(lr|warmup|decay|train)(_|$)", key):
            continue
        close = difflib.get_close_matches(key, [*CURVE_ARGS, *OTHER_ARGS], n=1, cutoff=0.8)
        if close and close[0] in CURVE_ARGS:
            flag = written.get(key, "--" + key.replace("_", "-"))
            raise ConfigError(
                f"unknown Megatron argument {flag}; did you mean --{close[0].replace('_', '-')}? "
                "Megatron would refuse it (argparse: unrecognized arguments).",
                field=flag,
                value=args[key],
                fix=f"spell it --{close[0].replace('_', '-')}.",
            )


def _curve_args(
    args: Mapping[str, Any], written: Mapping[str, str], unknowns: Mapping[str, _Unknown], source: str
) -> dict[str, Any]:
    """The curve arguments; an unknown among those that matter is asked for by name."""
    needed = [k for k in _curve_reads(args) if k in args]
    for key in needed:
        value = args[key]
        text = " ".join(map(str, value)) if isinstance(value, list) else str(value)
        for marker, unk in unknowns.items():
            if marker in text:
                flag = written.get(key, "--" + key.replace("_", "-"))
                if unk.bash_error:
                    raise ConfigError(
                        f"{flag} is {unk.why}: Megatron gets no value for it, and its argparse refuses {flag} "
                        "without one (expected one argument).",
                        field=flag,
                        value=text.replace(marker, ""),
                        fix="write the script's numbers without '_' (126953125, not 126_953_125): bash has no "
                        "digit separators.",
                    )
                what = unk.name or key
                raise ConfigError(
                    f"{flag} is {unk.why}; it decides the curve, so lrkit will not guess it.",
                    field=flag,
                    value=text.replace(marker, f"${unk.name}" if unk.name else "?"),
                    fix=f"pass --set {what}=<value>.",
                )
        if isinstance(value, str) and "$" in value:
            flag = written.get(key, "--" + key.replace("_", "-"))
            raise ConfigError(
                f"{flag} is {value!r}, which is not resolved.",
                field=flag,
                value=value,
                fix=f"pass --set {key}=<value>.",
            )
    return {k: args[k] for k in CURVE_ARGS if k in args}


def _curve_reads(args: Mapping[str, Any]) -> tuple[str, ...]:
    """The curve arguments this run's curve depends on: the global batch size cancels out of an
    iteration-based run (it counts only per sample or per token), and ``seq_length`` counts only
    tokens (``--lr-decay-tokens``, ``--step-batch-size-schedule`` thresholds)."""
    samples = bool(args.get("train_samples")) and not args.get("train_iters")
    tokens = args.get("lr_decay_tokens") is not None
    per_batch = samples or tokens  # tokens per update need the batch size
    per_token = tokens or args.get("step_batch_size_schedule") is not None
    return tuple(k for k in CURVE_ARGS if (k != "global_batch_size" or per_batch) and (k != "seq_length" or per_token))


def _flag(written: Mapping[str, str], key: str) -> str:
    """An argument as the user wrote it (``--lr``, or the YAML key), else its dashed flag."""
    return written.get(key, "--" + key.replace("_", "-"))


def _overridden(
    args: Mapping[str, Any], written: Mapping[str, str] | None, overrides: Mapping[str, str] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The arguments with ``--set KEY=VALUE`` applied (a value read as the file's scalars are)."""
    written = dict(written or {})
    args = dict(args)
    for key, value in (overrides or {}).items():
        name = key.lstrip("-").replace("-", "_")
        args[name] = _scalar(value) if isinstance(value, str) else value
        written.setdefault(name, "--" + name.replace("_", "-"))
    return args, written


#: Megatron arguments only Megatron-DeepSpeed's parser has (``deepspeed.add_config_arguments`` and its
#: ZeRO group): a script passing one runs on Megatron-DeepSpeed (current Megatron-LM refuses them)
_DEEPSPEED_ARGS = ("deepspeed", "deepspeed_config", "deepscale", "deepscale_config", "zero_stage", "lr_decay_tokens")
#: ``--set`` names that are lrkit's questions, not script variables or Megatron arguments
_CHOICES = ("megatron", "curriculum_learning", "deepspeed_scheduler", "scheduler_from")
#: the yes/no questions among them, with how to answer each
_YES_NO = {
    "curriculum_learning": "--set curriculum_learning=false when the DeepSpeed config does not enable "
    "curriculum_learning.",
    "deepspeed_scheduler": '--set deepspeed_scheduler=false when the DeepSpeed config has no "scheduler" section.',
}
_FLAVORS = {
    "deepspeed": "deepspeed",
    "megatron-deepspeed": "deepspeed",
    "megatron_deepspeed": "deepspeed",
    "ds": "deepspeed",
    "lm": "lm",
    "megatron-lm": "lm",
    "megatron_lm": "lm",
}
_WHICH = "--set megatron=deepspeed (Megatron-DeepSpeed) or --set megatron=lm (current Megatron-LM)"


def _choices(overrides: Mapping[str, str] | None) -> tuple[dict[str, str], dict[str, Any]]:
    """``--set`` split into the overrides proper and lrkit's own questions (:data:`_CHOICES`)."""
    rest = {k: v for k, v in (overrides or {}).items() if k not in _CHOICES}
    chosen: dict[str, Any] = {}
    if "megatron" in (overrides or {}):
        raw = str(overrides["megatron"]).strip().lower()  # type: ignore[index]
        if raw not in _FLAVORS:
            raise ConfigError(
                f"--set megatron={overrides['megatron']!r} names no Megatron lrkit reads.",  # type: ignore[index]
                field="megatron",
                value=overrides["megatron"],  # type: ignore[index]
                fix=f"use {_WHICH}.",
            )
        chosen["megatron"] = _FLAVORS[raw]
    if "scheduler_from" in (overrides or {}):
        raw = str(overrides["scheduler_from"]).strip().lower()  # type: ignore[index]
        if raw not in ("megatron", "deepspeed"):
            raise ConfigError(
                f"--set scheduler_from={overrides['scheduler_from']!r} is neither megatron nor deepspeed.",  # type: ignore[index]
                field="scheduler_from",
                value=overrides["scheduler_from"],  # type: ignore[index]
                fix="--set scheduler_from=megatron (DeepSpeed 0.14.5+) or --set scheduler_from=deepspeed (earlier).",
            )
        chosen["scheduler_from"] = raw
    for name, fix in _YES_NO.items():
        if name in (overrides or {}):
            raw = str(overrides[name]).strip().lower()  # type: ignore[index]
            if raw not in ("true", "false", "none"):
                raise ConfigError(
                    f"--set {name}={overrides[name]!r} is not true or false.",  # type: ignore[index]
                    field=name,
                    value=overrides[name],  # type: ignore[index]
                    fix=fix,
                )
            chosen[name] = raw == "true"
    return rest, chosen


def _flavor(args: Mapping[str, Any], written: Mapping[str, str], chosen: Mapping[str, Any]) -> str | None:
    """``"deepspeed"`` when the arguments (or ``--set megatron=``) say Megatron-DeepSpeed runs them,
    ``"lm"`` when ``--set megatron=lm`` says current Megatron-LM does, else ``None`` (either)."""
    own = [_flag(written, k) for k in _DEEPSPEED_ARGS if args.get(k) is not None and args.get(k) is not False]
    pick = chosen.get("megatron")
    if pick == "lm" and own:
        raise ConfigError(
            f"--set megatron=lm, but the arguments pass {', '.join(own)}, which only Megatron-DeepSpeed's parser has: "
            "Megatron-LM refuses them (argparse: unrecognized arguments).",
            field=own[0],
            value=args.get(own[0].lstrip("-").replace("-", "_")),
            fix="drop --set megatron=lm (the script is Megatron-DeepSpeed's), or remove those arguments.",
        )
    return pick or ("deepspeed" if own else None)


def _deepspeed_checks(args: Mapping[str, Any], written: Mapping[str, str]) -> None:
    """What Megatron-DeepSpeed's parser refuses that Megatron-LM accepts (its megatron/arguments.py)."""
    style = args.get("lr_decay_style")
    if style is not None and style not in ("constant", "linear", "cosine"):
        raise ConfigError(
            f"{_flag(written, 'lr_decay_style')} {style!r}: Megatron-DeepSpeed's argparse refuses it "
            "(choices: constant, linear, cosine).",
            field=_flag(written, "lr_decay_style"),
            value=style,
            fix="use constant, linear or cosine (the others are Megatron-LM's).",
        )
    for key in ("lr_warmup_init", "lr_wsd_decay_style", "lr_wsd_decay_iters", "lr_wsd_decay_samples"):
        if key in args:
            raise ConfigError(
                f"{_flag(written, key)} is a Megatron-LM argument; Megatron-DeepSpeed's argparse refuses it "
                "(unrecognized arguments).",
                field=_flag(written, key),
                value=args[key],
                fix=f"remove it (Megatron-DeepSpeed warms up from 0), or read the script as Megatron-LM's: {_WHICH}.",
            )


def _ds_config_path(args: Mapping[str, Any]) -> str | None:
    config = args.get("deepspeed_config") or args.get("deepscale_config")
    return str(config) if config is not None and config is not True else None


def _ds_config_text(
    args: Mapping[str, Any], configs: Mapping[str, str], unknowns: Mapping[str, _Unknown]
) -> str | None:
    """The DeepSpeed config the script itself writes (``cat <<EOT > $CONFIG_JSON``), if it does: the
    same path, unknowns compared by what they are (``$script_dir/ds_config.json`` on both sides)."""
    path = _ds_config_path(args)
    return None if path is None else configs.get(_unmarked(path, unknowns))


def _deepspeed_scheduler(
    args: Mapping[str, Any],
    written: Mapping[str, str],
    chosen: Mapping[str, Any],
    body: str | None,
    unknowns: Mapping[str, _Unknown],
) -> str | None:
    """Under ``--deepspeed`` Megatron-DeepSpeed hands its scheduler to ``deepspeed.initialize``
    (``lr_scheduler=``). Which one trains when the DeepSpeed config has a ``"scheduler"`` section
    depends on DeepSpeed's release: from 0.14.5 a scheduler passed in wins and the section is unused
    (``_configure_lr_scheduler``); before, the section wins. The script does not say which release
    runs it, so lrkit asks (``--set scheduler_from=megatron|deepspeed``). Returns the section's text
    when DeepSpeed's scheduler is to be drawn, else ``None`` (Megatron's curve)."""
    if not args.get("deepspeed"):
        return None  # without --deepspeed the config is never read
    path = _ds_config_path(args)
    if path is None:
        raise ConfigError(
            "--deepspeed without --deepspeed_config: Megatron-DeepSpeed opens the DeepSpeed config at start-up "
            "(open(args.deepspeed_config)) and fails without one.",
            field="--deepspeed_config",
            fix="pass --deepspeed_config ds_config.json, as the script's launch does.",
        )
    named = f" ({_unmarked(path, unknowns)})"
    source = chosen.get("scheduler_from")
    if source == "megatron":
        return None
    section = _top_level_section(body, "scheduler") if body is not None else None
    has = section is not None if body is not None else chosen.get("deepspeed_scheduler")
    if has is None:
        raise ConfigError(
            f'under --deepspeed, a "scheduler" section in the DeepSpeed config{named} replaces Megatron\'s schedule '
            "on DeepSpeed before 0.14.5 (from 0.14.5 Megatron's, passed to deepspeed.initialize, wins). The script "
            "does not write that file and lrkit does not open it.",
            field=_flag(written, "deepspeed_config") if path else "--deepspeed",
            value=path,
            fix=_YES_NO["deepspeed_scheduler"][:-1] + f", or {_FROM_MEGATRON}.",
        )
    if not has:
        return None
    if source is None:
        raise ConfigError(
            f'the DeepSpeed config{named} has a "scheduler" section; Megatron-DeepSpeed passes its own --lr-* '
            "scheduler to deepspeed.initialize, and which one trains depends on DeepSpeed's release, which the "
            "script does not say.",
            field="scheduler_from",
            value=None,
            fix=f"{_FROM_MEGATRON}, or --set scheduler_from=deepspeed (DeepSpeed before 0.14.5: the section's "
            "scheduler).",
        )
    if body is None or section is None:
        raise ConfigError(
            f"--set scheduler_from=deepspeed: the DeepSpeed config{named} decides the curve, and the script does "
            "not write it, so lrkit does not open it.",
            field="scheduler_from",
            value="deepspeed",
            fix=f"read that file: lrkit show {_unmarked(path, unknowns)} --total-steps N.",
        )
    if args.get("no_pipeline_parallel"):
        raise ConfigError(
            "with --no-pipeline-parallel Megatron-DeepSpeed steps the engine with lr_kwargs={'increment': ...}, "
            "which DeepSpeed's schedulers do not take: the engine then steps them to iteration train_batch_size "
            "every update (its TypeError fallback), holding the LR there. lrkit does not draw that.",
            field="--no-pipeline-parallel",
            value=True,
            fix=f'{_FROM_MEGATRON}, or drop the "scheduler" section.',
        )
    return section


_FROM_MEGATRON = "--set scheduler_from=megatron (DeepSpeed 0.14.5 or later: Megatron's --lr-* schedule trains)"


def _top_level_section(body: str, name: str) -> str | None:
    """The text of the top-level ``"name": {...}`` object of a DeepSpeed config written by a script
    (braces matched, so nested objects are kept; not parsed as JSON, which a here-document with
    ``$GBS`` in it is not), or ``None`` when the config has no such top-level key."""
    depth = 0
    for m in re.finditer(r'[{}]|"([^"\\]*)"\s*:', body):
        if m.group(0) == "{":
            depth += 1
        elif m.group(0) == "}":
            depth -= 1
        elif depth == 1 and m.group(1) == name:
            start = body.find("{", m.end())
            if start < 0 or body[m.end() : start].strip():
                return body[m.end() : m.end() + 40]  # a scalar value: the key is there all the same
            level = 0
            for i in range(start, len(body)):
                level += {"{": 1, "}": -1}.get(body[i], 0)
                if level == 0:
                    return body[start : i + 1]
            return body[start:]
    return None


def _enabled(section: str) -> bool | None:
    """The ``"enabled"`` flag directly inside a section's object: ``False`` when the section has none
    (DeepSpeed's default), ``None`` when its value is not a plain true/false (a ``$VAR``), so lrkit
    asks rather than guesses."""
    inner = section[1:-1] if section.startswith("{") else section
    depth = 0
    for m in re.finditer(r'[{}]|"enabled"\s*:\s*([^,}\s]*)', inner):
        if m.group(0) in "{}":
            depth += 1 if m.group(0) == "{" else -1
        elif depth == 0:
            return {"true": True, "false": False}.get(m.group(1))
    return False


def _curriculum(
    args: Mapping[str, Any], written: Mapping[str, str], chosen: Mapping[str, Any], body: str | None
) -> None:
    """Token-based decay under ``--deepspeed``: the DeepSpeed config may enable curriculum learning,
    whose sequence length per iteration (DeepSpeed's CurriculumScheduler) changes the tokens counted."""
    if args.get("lr_decay_tokens") is None or not args.get("deepspeed"):
        return
    path = _ds_config_path(args)
    named = f" ({_unmarked(path, {})})" if path else ""
    if "curriculum_learning" not in chosen and body is not None:
        section = _top_level_section(body, "curriculum_learning")
        on = False if section is None else _enabled(section)
        if on is not None:
            chosen = {**chosen, "curriculum_learning": on}
    if "curriculum_learning" not in chosen:
        raise ConfigError(
            f"{_flag(written, 'lr_decay_tokens')} decays by tokens consumed: global batch x --seq-length per "
            f"iteration, unless the DeepSpeed config{named} enables curriculum_learning, whose sequence-length "
            "schedule then sets the tokens of each iteration. lrkit does not open that file.",
            field=_flag(written, "lr_decay_tokens"),
            value=args.get("lr_decay_tokens"),
            fix="if its curriculum_learning is absent or not enabled, pass --set curriculum_learning=false.",
        )
    if chosen["curriculum_learning"]:
        raise ConfigError(
            "with curriculum learning the tokens of each iteration follow DeepSpeed's CurriculumScheduler "
            "(the DeepSpeed config's curriculum_learning section), which lrkit does not model: it cannot draw "
            f"the token-based decay of {_flag(written, 'lr_decay_tokens')}.",
            field="curriculum_learning",
            value=True,
            fix="use --lr-decay-samples to see a sample-based curve instead.",
        )


def _batch_ramp_args(
    flat: dict[str, Any], curve: Mapping[str, Any], flavor: str | None, written: Mapping[str, str]
) -> list[Finding]:
    """``--rampup-batch-size``: Megatron-DeepSpeed ramps the batch (its microbatches.py), so its
    sample-counting scheduler moves by a different amount each iteration; current Megatron-LM ignores
    the argument (deprecated for ``--step-batch-size-schedule``). Asks which one runs the script unless
    it says (a DeepSpeed argument, ``--set megatron=``); in an iteration-based run Megatron-DeepSpeed
    asserts, so only Megatron-LM runs it."""
    if "rampup_batch_size" not in curve:
        return []
    flag = _flag(written, "rampup_batch_size")
    iters = bool(curve.get("train_iters"))
    if flavor == "deepspeed":
        if iters:
            raise ConfigError(
                f"{flag} in an iteration-based run (--train-iters): Megatron-DeepSpeed asserts 'expected no "
                "batch-size rampup for iteration-based training'.",
                field=flag,
                value=curve["rampup_batch_size"],
                fix="give the run in samples (--train-samples, --lr-decay-samples, --lr-warmup-samples), or drop it.",
            )
        flat["rampup_batch_size"] = curve["rampup_batch_size"]
        return []
    if flavor == "lm" or iters:
        why = (
            "read as current Megatron-LM (--set megatron=lm)"
            if flavor == "lm"
            else "Megatron-DeepSpeed asserts on a ramp in an iteration-based run, so this runs on Megatron-LM only"
        )
        return [
            Finding(
                rule="megatron-rampup-ignored",
                severity="info",
                message=f"{flag} is ignored: current Megatron-LM ignores it (deprecated for "
                f"--step-batch-size-schedule) and trains at --global-batch-size from the start ({why}).",
                fix="write the ramp as --step-batch-size-schedule if you want one on Megatron-LM.",
                source=flag,
            )
        ]
    raise ConfigError(
        f"{flag} changes the curve only on Megatron-DeepSpeed: there the batch grows during the run and the "
        "scheduler, which counts samples, advances by a different amount each iteration; current Megatron-LM "
        "ignores it (deprecated for --step-batch-size-schedule) and trains at --global-batch-size. The script "
        "does not say which Megatron runs it (no DeepSpeed argument).",
        field=flag,
        value=curve["rampup_batch_size"],
        fix=f"pass {_WHICH}.",
    )


def _flat_curve(curve: Mapping[str, Any], written: Mapping[str, str]) -> dict[str, Any]:
    """The curve arguments :func:`resolve_megatron` takes: the batch size only where it counts,
    the other family's ``*_samples`` / ``*_iters`` defaults (0) dropped."""
    from lrkit.config.megatron import _sample_based

    flat = {k: v for k, v in curve.items() if k not in BATCH_ARGS}
    if "step_batch_size_schedule" in flat:
        return flat  # the schedule gives the batch size; resolve_megatron checks the rest
    tokens = flat.get("lr_decay_tokens") is not None
    if tokens and flat.get("global_batch_size") is None:
        raise ConfigError(
            "token-based decay (--lr-decay-tokens) counts global batch x seq_length tokens per iteration; without "
            "--global-batch-size Megatron-DeepSpeed uses micro-batch size x data-parallel size, which depends on the "
            "cluster.",
            field="--global-batch-size",
            fix="pass --set global_batch_size=<samples per iteration>.",
        )
    if not _sample_based(flat, lambda k: _flag(written, k)):
        if not tokens:
            flat.pop("global_batch_size", None)  # it cancels out of an iteration-based curve
    elif flat.get("global_batch_size") is None:
        raise ConfigError(
            "a sample-based run (--train-samples) needs the global batch size to turn samples into "
            "iterations; without --global-batch-size Megatron uses micro-batch size x data-parallel size, which "
            "depends on the cluster.",
            field="--global-batch-size",
            fix="pass --set global_batch_size=<samples per iteration>.",
        )
    # Megatron's rule: iteration-based when train_iters is set; the *_samples defaults (0) then do not count
    if flat.get("train_iters"):
        if flat.get("lr_warmup_samples") in (0, 0.0):
            flat.pop("lr_warmup_samples")
    elif flat.get("train_samples") and flat.get("lr_warmup_iters") in (0, 0.0):
        flat.pop("lr_warmup_iters")
    return flat


def _group_lr(args: Mapping[str, Any], written: Mapping[str, str]) -> list[Finding]:
    return [
        Finding(
            rule="megatron-group-lr",
            severity="info",
            message=f"{_flag(written, key)} {args[key]} gives some parameter groups (embedding / output layers) "
            "another LR; the curve shown is the main group's.",
            fix="no action needed if that is intended.",
            source=_flag(written, key),
        )
        for key in GROUP_LR_ARGS
        if key in args
    ]


def read_megatron_args(
    args: Mapping[str, Any],
    *,
    total_steps: int | None,
    source: str,
    written: Mapping[str, str] | None = None,
    unknowns: Mapping[str, _Unknown] | None = None,
    raw: Any = None,
    overrides: Mapping[str, str] | None = None,
    ds_configs: Mapping[str, str] | None = None,
) -> ResolvedConfig:
    """Megatron's argument namespace (underscore keys) to its curve. ``ds_configs``: the files a
    script writes itself (heredocs), by path, where a DeepSpeed config may be."""
    from lrkit.config.megatron import read_megatron

    overrides, chosen = _choices(overrides)
    args, written = _overridden(args, written, overrides)
    _check_names(args, written, source)
    if args.get("lr_warmup_tokens") is not None:
        flag = _flag(written, "lr_warmup_tokens")
        raise ConfigError(
            f"{flag} is a token-based warm-up of later microsoft/Megatron-DeepSpeed releases (bigscience-workshop's "
            "Megatron-DeepSpeed and Megatron-LM have no such argument); lrkit does not draw that scheduler.",
            field=flag,
            value=args["lr_warmup_tokens"],
            fix="give the warm-up as --lr-warmup-samples or --lr-warmup-iters to see a curve.",
        )
    flavor = _flavor(args, written, chosen)
    if flavor == "deepspeed":
        _deepspeed_checks(args, written)
    if args.get("skip_train") is True:
        raise ConfigError(
            "--skip-train is set: Megatron does not train, so there is no LR curve.",
            field="--skip-train",
            value=True,
            fix="drop --skip-train to see the training run's curve.",
        )
    curve = _curve_args(args, written, unknowns or {}, source)
    ds_section = None
    if flavor == "deepspeed":
        body = _ds_config_text(args, ds_configs or {}, unknowns or {})
        ds_section = _deepspeed_scheduler(args, written, chosen, body, unknowns or {})
        _curriculum(args, written, chosen, body)
    flat = _flat_curve(curve, written)
    ramp_notes = _batch_ramp_args(flat, curve, flavor, written)
    paths = {k: _flag(written, k) for k in flat}
    paths[""] = ""
    res = read_megatron(flat, total_steps=total_steps, source=source, paths=paths, flavor=flavor)
    if ds_section is not None:
        from lrkit.config.deepspeed import read_launch_scheduler

        # the optimizer's groups hold Megatron's own scheduler's first value (its constructor steps to 0)
        # when DeepSpeed builds the section's scheduler beside it
        return read_launch_scheduler(
            ds_section,
            where=_flag(written, "deepspeed_config"),
            optimizer_lr=float(res.lr_schedule(0)),
            total_steps=total_steps if total_steps is not None else res.total_steps,
            source=source,
            raw=raw if raw is not None else dict(args),
        )
    return ResolvedConfig(
        schedule=res.schedule,
        peak_lr=res.peak_lr,
        total_steps=res.total_steps,
        format="megatron",
        source=source,
        findings=(*res.findings, *ramp_notes, *_group_lr(args, written)),
        context={**res.context, "arguments": dict(args), "megatron": flavor or "either"},
        optimizer=res.optimizer,
        raw=raw if raw is not None else dict(args),
        controller=None,
    )


def read_megatron_argv(
    tokens: Sequence[str],
    *,
    total_steps: int | None = None,
    overrides: Mapping[str, str] | None = None,
    source: str = "<args>",
) -> ResolvedConfig:
    """An argument list (``["--lr", "3e-4", "--lr-decay-style", "cosine", ...]``) to its curve.
    ``overrides`` (``--set``) replace arguments by name (``lr`` or ``--lr``)."""
    args, written = parse_arg_list(tokens, source=source)
    return read_megatron_args(args, total_steps=total_steps, source=source, written=written, overrides=overrides)


#: learning-rate arguments of the trainers that take ``--key value`` like Megatron but are not it
#: (Hugging Face ``TrainingArguments`` and what extends it: TRL, LLaMA-Factory); Megatron has none
_TRAINER_FLAGS = ("learning_rate", "lr_scheduler_type", "lr_scheduler_kwargs", "warmup_ratio", "num_train_epochs")
_CONFIG_FILE_RE = re.compile(r"\.(ya?ml|json)$")
#: flags naming a trainer's own config file; Megatron-LM has none of them (its YAML is --yaml-cfg)
_CONFIG_FLAGS = ("config", "config_file", "cfg")
#: a Hydra / OmegaConf override word (trainer.max_steps=100, +x=1, ++policy.lr=1e-6)
_OVERRIDE_RE = re.compile(r"^\+{0,2}[A-Za-z_][\w.\[\]-]*=")


def _flag_values(words: Sequence[str]) -> dict[str, str]:
    """``--k v`` / ``--k=v`` / ``--flag`` to ``{k_with_underscores: value}`` ('' for a bare flag)."""
    out: dict[str, str] = {}
    for k, t in enumerate(words):
        if not t.startswith("--"):
            continue
        name, eq, value = t[2:].partition("=")
        if not eq:
            value = words[k + 1] if k + 1 < len(words) and not words[k + 1].startswith("--") else ""
        out[name.replace("-", "_")] = value
    return out


def _trainer_config(words: Sequence[str]) -> str | None:
    """The config file a launch hands its trainer: ``--config recipe.yaml`` (TRL, open-r1, NeMo RL),
    Hydra's ``--config-path P --config-name N`` (NeMo, NeMo-Aligner), or a first word that is a
    YAML/JSON file (LLaMA-Factory's ``train.py recipe.yaml``); ``None`` when it names none."""
    flags = _flag_values(words)
    for name in _CONFIG_FLAGS:
        if flags.get(name):
            return flags[name]
    if flags.get("config_name"):
        name = flags["config_name"]
        name = name if _CONFIG_FILE_RE.search(name) else name + ".yaml"
        return f"{flags['config_path']}/{name}" if flags.get("config_path") else name
    if words and not words[0].startswith("--") and _CONFIG_FILE_RE.search(words[0]):
        return words[0]
    return None


def _not_megatron(
    launches: Sequence[Sequence[str]], source: str, unknowns: Mapping[str, _Unknown], *, files: bool = True
) -> ConfigError | None:
    """A script whose launch lines pass no ``--lr`` but another trainer's learning-rate arguments
    (``--learning_rate``, ``--lr_scheduler_type``) or config file (``--config recipe.yaml``,
    ``--config-name``) launches some other trainer: lrkit says so instead of reading its flags as
    Megatron's (whose argparse has none of them). ``files``: whether a config file counts (not for
    argument variables without a launch line, where an accelerate ``--config_file`` may sit)."""
    flags = [_flag_values(ln) for ln in launches]
    if any("lr" in f for f in flags):
        return None
    theirs = sorted({f"--{k}" for f in flags for k in f if k in _TRAINER_FLAGS})
    configs = [c for ln in launches if (c := _trainer_config(ln)) is not None] if files else []
    if not theirs and not configs:
        return None
    if theirs:
        what = (
            f"its launch passes {', '.join(theirs)}: a Hugging Face-style trainer's arguments (TrainingArguments, "
            "TRL, LLaMA-Factory), not Megatron's (which has --lr, and refuses these)"
        )
        fix = (
            "pass --format hf (TrainingArguments, TRL) or --format llamafactory, whichever runs it, to read the "
            "launch's arguments as that trainer's (an axolotl run: read its YAML)"
        )
        value: Any = ["hf", "llamafactory", "axolotl"]
    else:
        named = list(dict.fromkeys(str(_unmarked(c, unknowns)) for c in configs))
        overrides = sum(1 for ln in launches for t in ln if _OVERRIDE_RE.match(t))
        what = f"its launch passes no --lr but the trainer's config file {', '.join(named)}"
        fix = f"read that file instead: lrkit show {named[0]}" + (
            f" (with the launch's {overrides} KEY=VALUE override{'s' if overrides > 1 else ''} as --set KEY=VALUE)"
            if overrides
            else ""
        )
        value = named
    return ConfigError(
        f"{source}: {what}; lrkit reads a shell script only as a Megatron launch and does not guess which "
        "trainer this one runs.",
        field="format",
        value=value,
        fix=fix + "; for a Megatron script, give the launch with --lr.",
    )


#: settings of an axolotl / LLaMA-Factory config the LR curve reads: a launch that overrides one is
#: answered with the --set that gives the file the same value
_LAUNCH_CURVE_KEYS = (
    *_TRAINER_FLAGS,
    "lr_scheduler",
    "num_epochs",
    "warmup_steps",
    "max_steps",
    "cosine_min_lr_ratio",
    "cosine_constant_lr_ratio",
    "lr_quadratic_warmup",
    "micro_batch_size",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "optimizer",
    "optim",
    "deepspeed",
    "rl",
    "stage",
)
_TRAINER_NAMES = {"axolotl": "axolotl", "llamafactory": "LLaMA-Factory"}


def _cli_config(trainer: str, words: Sequence[str]) -> tuple[str | None, list[str]]:
    """The config file a trainer command is given and the launch's overrides of it as ``KEY=VALUE``:
    axolotl's positional CONFIG and its ``--key value`` options (click: dashes for underscores),
    LLaMA-Factory's first word when it is a YAML/JSON file and the ``key=value`` words after it
    (OmegaConf.from_cli). ``(None, [])`` when LLaMA-Factory takes ``--key value`` arguments instead."""
    if trainer == "llamafactory":
        # LLaMA-Factory reads argv[1] as its config when it ends in .yaml/.yml/.json, and argv as
        # --key value arguments otherwise: a first word that is no option is a file ($CONFIG)
        if not words or words[0].startswith("-"):
            return None, []
        sets = [w for w in words[1:] if _OVERRIDE_RE.match(w) and w.split("=", 1)[0] in _LAUNCH_CURVE_KEYS]
        return words[0], sets
    config = next((w for w in words if _CONFIG_FILE_RE.search(w) and not w.startswith("-")), None)
    if config is None:  # CONFIG is click's one positional argument: the first word no option takes
        taking = False
        for w in words:
            if w == "--":
                break
            if w.startswith("-"):
                taking = "=" not in w
                continue
            if not taking:
                config = w
                break
            taking = False
    sets = [f"{k}={v}" for k, v in _flag_values(list(words)).items() if v != "" and k in _LAUNCH_CURVE_KEYS]
    return config, sets


def _trainer_pointer(parsed: ShellArgs, source: str, format: str | None) -> ConfigError | None:
    """The error for a script that runs axolotl or LLaMA-Factory on a config file (or, with
    ``format`` named, any launch that hands its trainer a config file): it names the file and the
    command that reads it; lrkit never reads a file a script names, nor runs the script. ``None``
    when the script runs no such command (or LLaMA-Factory with ``--key value`` arguments, which
    ``--format llamafactory`` reads from the script)."""
    found: list[tuple[str, str, str, list[str], bool]] = []
    for k, words in enumerate(parsed.launches):
        trainer, command = parsed.program(k)
        if trainer not in _TRAINER_NAMES:
            handed = _trainer_config(words) if format is not None else None
            if handed is not None:
                found.append((format or "", command, handed, [], True))
            continue
        config, sets = _cli_config(trainer, words)
        if config is None and trainer == "llamafactory":
            if format is None:
                return ConfigError(
                    f"{source}: it runs LLaMA-Factory ({command}) with its settings as --key value arguments, "
                    "not a config file; lrkit reads them only when told which trainer they are for.",
                    field="format",
                    value="llamafactory",
                    fix=f"pass --format llamafactory: lrkit show {source} --format llamafactory.",
                )
            continue
        found.append((trainer, command, config or "", sets, False))
    if not found:
        return None
    trainer, command, raw, sets, generic = found[-1]
    name = _TRAINER_NAMES.get(trainer, "the trainer")
    config = str(_unmarked(raw, parsed.unknowns))
    configs = list(dict.fromkeys(str(_unmarked(c, parsed.unknowns)) for _, _, c, _, _ in found if c))
    if not configs:
        return ConfigError(
            f"{source}: it runs {name} ({command} ...) without naming its config file on the launch line.",
            field="script",
            fix=f"read the {name} config file the run uses: lrkit show <file> --format {trainer}.",
        )
    # the path with each part the script does not fix as <$NAME>: the user fills it in
    target = _MARKER_RE.sub(
        lambda m: (
            f"<${parsed.unknowns[m.group(0)].name}>"
            if m.group(0) in parsed.unknowns and parsed.unknowns[m.group(0)].name
            else "<unknown>"
        ),
        raw,
    )
    shown = str(_unmarked(command, parsed.unknowns))
    if len(shown) > 80:  # a long launcher prefix (torchrun --rdzv-... ): the trainer's own words tell it
        shown = "... " + " ".join(command.split()[-2:])
    other = f" It runs {name}, not {format}." if format not in (None, trainer) and not generic else ""
    several = (
        f" The launches name {len(configs)} files ({', '.join(configs)}): lrkit does not guess which one you mean."
        if len(configs) > 1
        else ""
    )
    sets_text = "".join(f" --set {kv}" for kv in sets)
    # a *.py / -m entry point (the format is the user's word): the launch hands the file on
    what = (
        f"it runs {name} ({shown} {config}), which takes its settings from that config file"
        if not generic
        else f"its launch ({shown} ... {config}) hands the trainer the config file {config}"
    )
    return ConfigError(
        f"{source}: {what}; lrkit reads the file, not the script that names it.{other}{several}",
        field="script",
        value=configs if len(configs) > 1 else config,
        fix=f"lrkit show {target} --format {trainer}{sets_text}"
        + (" (the launch's overrides of the file)" if sets else "")
        + (" (or another of the files named)" if len(configs) > 1 else "")
        + ".",
    )


def trainer_shell_pointer(
    text: str, *, format: str, overrides: Mapping[str, str] | None = None, source: str = "<script>"
) -> ConfigError:
    """What ``--format axolotl`` on a shell script answers: axolotl takes its settings from its
    YAML, never from launch arguments, so the error names the YAML the script launches axolotl on
    and the command that reads it (or asks for the file when the script names none)."""
    parsed = parse_shell(text, overrides=overrides, source=source)
    pointer = _trainer_pointer(parsed, source, format)
    if pointer is not None:
        return pointer
    return ConfigError(
        f"{source}: axolotl takes its settings from its YAML file, not from launch arguments, and this script "
        "launches no axolotl command that names one (axolotl train cfg.yml, python -m axolotl.cli.train cfg.yml).",
        field="format",
        value=format,
        fix="read the YAML the run uses: lrkit show <file>.yml --format axolotl.",
    )


#: formats whose settings a launch line passes as ``--key value`` (the Hugging Face argument parser)
TRAINER_SHELL_FORMATS = ("hf", "llamafactory")
#: the launch arguments the LR curve of those formats reads: an unknown value among them is asked for
_TRAINER_CURVE_KEYS = (
    *_TRAINER_FLAGS,
    "warmup_steps",
    "max_steps",
    "deepspeed",
    "optim",
    "optim_args",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "stage",
)


def trainer_shell_args(
    text: str, *, format: str, overrides: Mapping[str, str] | None = None, source: str = "<script>"
) -> dict[str, Any]:
    """The settings a shell script passes to a Hugging Face-style trainer (``torchrun train.py
    --learning_rate 2e-5 --lr_scheduler_type cosine ...``), to be read as ``format`` (one of
    :data:`TRAINER_SHELL_FORMATS`, which the user names: lrkit never guesses the trainer). The
    launch's ``--key value`` / ``--key=value`` words become the config (``-`` in a key read as ``_``,
    as the parser accepts both; a bare ``--flag`` is true); ``--set NAME=value`` fills a shell
    variable. Never executed."""
    parsed = parse_shell(text, overrides=overrides, source=source)
    # axolotl's --key value options override its YAML: they are not a Hugging Face launch
    launches = [_flag_values(ln) for k, ln in enumerate(parsed.launches) if parsed.program(k)[0] != "axolotl"]
    launches = [f for f in launches if any(k in f for k in _TRAINER_FLAGS)]
    if not launches and (pointer := _trainer_pointer(parsed, source, format)) is not None:
        raise pointer
    if not launches:
        raise ConfigError(
            f"{source}: no launch line passes a trainer's learning-rate arguments (--learning_rate, "
            "--lr_scheduler_type, --warmup_ratio, ...).",
            field="script",
            fix=f"give the script that launches training, or write its arguments into a YAML file read with "
            f"--format {format}.",
        )
    curves = list(dict.fromkeys(tuple((k, f.get(k)) for k in _TRAINER_CURVE_KEYS) for f in launches))
    if len(curves) > 1:
        lrs = [str(_unmarked(f.get("learning_rate"), parsed.unknowns)) for f in launches]
        raise ConfigError(
            f"{source}: {len(launches)} launch lines pass different learning-rate arguments "
            f"(--learning_rate {', '.join(lrs)}); lrkit does not guess which one trains.",
            field="script",
            value=lrs,
            fix="keep the launch you mean in a script of its own, or write its arguments into a YAML file.",
        )
    data: dict[str, Any] = {}
    for key, value in launches[0].items():
        if _MARKER_RE.search(value):
            if key in _TRAINER_CURVE_KEYS:
                markers = [parsed.unknowns[m] for m in _MARKER_RE.findall(value) if m in parsed.unknowns]
                names = [u.name for u in markers if u.name]
                raise ConfigError(
                    f"{source}: --{key} is {_unmarked(value, parsed.unknowns)!r}, which the script does not fix.",
                    field=f"--{key}",
                    value=_unmarked(value, parsed.unknowns),
                    fix=f"pass --set {names[0]}=VALUE." if names else f"write --{key} out in the script.",
                )
            continue  # a setting the curve does not read (a path, a run name)
        data[key] = True if value == "" else value
    return data


def _has_lr(words: Sequence[str]) -> bool:
    return any(t == "--lr" or t.startswith("--lr=") for t in words)


def _variable_words(parsed: ShellArgs) -> list[str]:
    """The flags of the script's argument variables (``GPT_ARGS="--lr 3e-4 ..."``), in order."""
    words: list[str] = []
    for v in parsed.variables.values():
        items = v if isinstance(v, list) else _split(v) if isinstance(v, str) else []
        if any(str(t).startswith("--") for t in items):
            words.extend(str(t) for t in items)
    return words


def _no_launch() -> ConfigError:
    return ConfigError(
        "no Megatron launch line found (a command running a *.py entry point such as "
        "pretrain_gpt.py with --lr ...), and no argument list with --lr.",
        field="script",
        fix="give the script that launches training, or the arguments themselves: lrkit show -- --lr 3e-4 ...",
    )


def _script_args(parsed: ShellArgs, source: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The arguments of the script's launch line (the one with --lr; several must agree); with
    no such launch line (a file another script sources), the flags of its argument variables.
    A launch without --lr is read as Megatron's (which then needs --lr) only when it passes a
    Megatron argument; one that passes none (an evaluation or conversion command) is no launch."""
    launches = tuple(ln for ln in parsed.launches if _has_lr(ln))
    if not launches:
        if (pointer := _trainer_pointer(parsed, source, None)) is not None:
            raise pointer
        if parsed.launches and (not_ours := _not_megatron(parsed.launches, source, parsed.unknowns)) is not None:
            raise not_ours
        words = _variable_words(parsed)
        if (not_ours := _not_megatron([words], source, parsed.unknowns, files=False)) is not None:
            raise not_ours
        known = {*CURVE_ARGS, *OTHER_ARGS}
        megatron = [ln for ln in parsed.launches if any(k in known for k in _flag_values(ln))]
        if _has_lr(words) or (not megatron and any(t.startswith("--lr") for t in words)):
            launches = (tuple(words),)
        elif megatron:
            launches = tuple(megatron)
        else:
            raise _no_launch()
    readings = []
    for toks in launches:
        toks = tuple(t for t in toks if t)
        first = next((k for k, t in enumerate(toks) if t.startswith("--")), len(toks))
        readings.append(parse_arg_list(toks[first:], source=source))
    args, written = readings[-1]
    for other, _ in readings[:-1]:
        read = set(_curve_reads(args)) | set(_curve_reads(other))
        diff = [k for k in CURVE_ARGS if other.get(k) != args.get(k) and k in read]
        if diff:
            k = diff[0]
            raise ConfigError(
                f"the script launches Megatron {len(readings)} times with different --{k.replace('_', '-')} "
                f"({other.get(k)!r} and {args.get(k)!r}); lrkit cannot tell which run you mean.",
                field="--" + k.replace("_", "-"),
                fix=f"pass --set {k}=<value>, or give the arguments of one run: lrkit show -- --lr ...",
            )
    return args, written


#: Megatron's defaults for curve arguments: an argument left out equals one given its default
_DEFAULTS: dict[str, Any] = {
    "lr_warmup_iters": 0,
    "lr_warmup_samples": 0,
    "lr_warmup_init": 0.0,
    "min_lr": 0.0,
    "lr_decay_style": "linear",
    "lr_wsd_decay_style": "exponential",
    "skip_train": False,
}


def _arg(args: Mapping[str, Any], key: str) -> Any:
    return args.get(key, _DEFAULTS.get(key))


def _unmarked(value: Any, unknowns: Mapping[str, _Unknown]) -> Any:
    """A value with each unknown's marker replaced by what the unknown is (``<unknown: $2>``)."""
    if not isinstance(value, str):
        return value
    return _MARKER_RE.sub(
        lambda m: f"<unknown: {unknowns[m.group(0)].why}>" if m.group(0) in unknowns else "<unknown>", value
    )


def read_megatron_shell(
    text: str, *, total_steps: int | None = None, overrides: Mapping[str, str] | None = None, source: str = "<script>"
) -> ResolvedConfig:
    """A shell script that launches Megatron to its curve (never executed).

    An assignment inside an ``if``/``case``/``for`` block may or may not run: the script is read
    both ways, and when a curve argument differs it is asked for by name.
    """
    overrides = dict(overrides or {})
    questions = {k: v for k, v in overrides.items() if k in _CHOICES}
    overrides = {k: v for k, v in overrides.items() if k not in _CHOICES}
    parsed = parse_shell(text, overrides=overrides, source=source)
    args, written = _script_args(parsed, source)
    arg_over = {k: v for k, v in overrides.items() if k not in parsed.used_overrides}
    pinned = {k.lstrip("-").replace("-", "_") for k in arg_over}
    for name in sorted(parsed.conditional - set(overrides)):
        try:
            other_parsed = parse_shell(text, overrides=overrides, source=source, skip=frozenset({name}))
            other, _ = _script_args(other_parsed, source)
        except ConfigError:
            continue
        # an unknown is compared by what it is ($2, $(shuf ...)), not by its marker's number, which
        # shifts when the block's own unknowns are skipped
        mine = {k: _unmarked(_arg(args, k), parsed.unknowns) for k in CURVE_ARGS}
        theirs = {k: _unmarked(_arg(other, k), other_parsed.unknowns) for k in CURVE_ARGS}
        # a value the curve does not read either way (--seq-length of an iteration-based run) is not asked
        read = set(_curve_reads(args)) | set(_curve_reads(other))
        diff = [k for k in CURVE_ARGS if mine[k] != theirs[k] and k not in pinned and k in read]
        if diff:
            k = diff[0]
            flag = "--" + k.replace("_", "-")
            more = f" (and {', '.join('--' + d.replace('_', '-') for d in diff[1:])})" if diff[1:] else ""
            raise ConfigError(
                f"{flag}{more} depends on an if/case/for block that sets ${name}: {flag} is {mine[k]!r} when the "
                f"block runs and {theirs[k]!r} when it does not; lrkit does not run the script to find out.",
                field=flag,
                fix=" ".join(f"--set {d}=<value>" for d in diff) + f" (or --set {name}=... as the block would set it).",
            )
    for key in arg_over:
        name = key.lstrip("-").replace("-", "_")
        if name not in CURVE_ARGS and name not in args:
            raise ConfigError(
                f"--set {key}: the script neither uses ${key} nor passes --{name.replace('_', '-')}.",
                field=key,
                fix="--set a variable the script reads or a Megatron argument (lr, train_iters, ...).",
            )
    return read_megatron_args(
        args,
        total_steps=total_steps,
        source=source,
        written=written,
        unknowns=parsed.unknowns,
        raw={"arguments": dict(args)},
        overrides={**arg_over, **questions},
        ds_configs=_written_files(text, parsed, overrides),
    )


_HEREDOC_RE = re.compile(r"<<(-?)\s*(['\"]?)(\w+)\2")


def _written_files(text: str, parsed: ShellArgs, overrides: Mapping[str, str]) -> dict[str, str]:
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
            words = _split(sh.expand(target.group(1), {}))
            if words:
                out[_unmarked(words[0], sh.unknowns)] = "\n".join(body)
    return out


# -- YAML with dashed keys --------------------------------------------------------------------


def looks_like_dashed_megatron(data: Any) -> bool:
    """A mapping with ``--lr``-style keys at the top level or one level down (``MODEL_ARGS``)."""
    if not isinstance(data, Mapping):
        return False
    if any(isinstance(k, str) and k.startswith("--") for k in data):
        return True
    return any(
        isinstance(v, Mapping) and any(isinstance(k, str) and k.startswith("--lr") for k in v) for v in data.values()
    )


def megatron_args_from_yaml(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The dashed keys of a mapping (top level and one level down) as Megatron arguments."""
    args: dict[str, Any] = {}
    written: dict[str, str] = {}
    # a functional test's MODEL_ARGS is the (first) run; MODEL_ARGS_2 ... are resumed runs
    sections = [(k, v) for k, v in data.items() if isinstance(v, Mapping)]
    if any(k == "MODEL_ARGS" for k, _ in sections):
        sections = [(k, v) for k, v in sections if k == "MODEL_ARGS"]
    for key, value in data.items():
        if isinstance(key, str) and key.startswith("--"):
            name = key[2:].replace("-", "_")
            args[name] = value
            written[name] = key
    for key, value in sections:
        if isinstance(value, Mapping):
            for k, v in value.items():
                if isinstance(k, str) and k.startswith("--"):
                    name = k[2:].replace("-", "_")
                    args[name] = v
                    written[name] = f"{key}.{k}"
    return args, written


def read_megatron_dashed(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    args, written = megatron_args_from_yaml(data)
    return read_megatron_args(args, total_steps=total_steps, source=source, written=written, raw=dict(data))


def is_shell_script(path: Path, text: str) -> bool:
    """A ``.sh``/``.bash`` file, or one starting with a shell ``#!``."""
    if path.suffix in (".sh", ".bash", ".slurm", ".sbatch"):
        return True
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return bool(re.match(r"#!.*\b(ba|z|k|da)?sh\b", first))
