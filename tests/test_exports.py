"""The package's public names: every name in ``lrkit.__all__`` resolves to what its module
defines, and ``import lrkit`` alone stays light (no torch, no matplotlib)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import pytest

import lrkit


def test_all_has_no_duplicates_and_dir_lists_it():
    assert len(lrkit.__all__) == len(set(lrkit.__all__))
    assert set(lrkit.__all__) <= set(dir(lrkit))


@pytest.mark.parametrize("name", lrkit.__all__)
def test_every_public_name_resolves(name):
    value = getattr(lrkit, name)
    assert value is not None
    module = lrkit._LAZY.get(name)
    if module is None:
        return  # imported eagerly by lrkit/__init__.py
    mod = importlib.import_module(module)
    if isinstance(value, types.ModuleType):
        assert value is mod  # a subpackage exported as itself (lrkit.schedules, lrkit.tasks)
    else:
        assert value is getattr(mod, name)


def test_functions_of_the_linter_and_diagnosis_packages():
    import lrkit.diagnosis
    import lrkit.linter

    assert callable(lrkit.lint) and lrkit.lint is lrkit.linter.lint
    assert callable(lrkit.diagnose) and lrkit.diagnose is lrkit.diagnosis.diagnose


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        lrkit.no_such_name  # noqa: B018


@pytest.mark.slow
def test_import_lrkit_imports_neither_torch_nor_matplotlib():
    code = (
        "import sys, lrkit\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'matplotlib'})\n"
        "print(','.join(heavy) or 'none')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "none"


def test_the_lazy_table_and_the_names_type_checkers_see_agree():
    """Every lazily exported name is also imported under TYPE_CHECKING (so mypy sees
    ``lrkit.find_lr`` as the function, not Any), from the module the lazy table names."""
    import ast
    import pathlib

    tree = ast.parse(pathlib.Path(lrkit.__file__).read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    typed = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom)
        for alias in node.names:
            typed[alias.name] = f"{node.module}.{alias.name}" if node.module == "lrkit" else node.module
    assert set(typed) == set(lrkit._LAZY)
    for name, module in lrkit._LAZY.items():
        assert typed[name] == (f"lrkit.{name}" if name in lrkit._MODULES else module), name


def test_a_misspelt_lazy_name_is_an_error_not_the_module(monkeypatch):
    monkeypatch.setitem(lrkit._LAZY, "find_lrr", "lrkit.finder")
    with pytest.raises(AttributeError, match="find_lrr"):
        lrkit.find_lrr  # noqa: B018
