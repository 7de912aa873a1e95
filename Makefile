# Two commands do all set-up on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install bench lint docs clean

$(STAMP): pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -e .
	@# timm pulls torchvision, whose PyPI wheel is a CUDA build that cannot load against the
	@# CPU torch pinned above and then breaks transformers' and Lightning's imports. Nothing in
	@# lrkit or its tests needs torchvision (the timm parity tests load timm's scheduler modules).
	$(PY) -m pip uninstall -q -y torchvision
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lrkit demo

# CI installs every extra (ray, lightning, timm, ...): LRKIT_REQUIRE_EXTRAS=1 turns a test's
# "skipped: needs ray" into a failure, so CI never passes by skipping (tests/_extras.py).
# Lint runs first: a ruff, format or mypy error fails `make test` (and so .ci/run).
test: $(STAMP) lint
	LRKIT_REQUIRE_EXTRAS=1 $(PY) -m pytest -q -n 2

# ruff (rules in pyproject.toml), the formatter's check and mypy (strict on the algebra and
# the adapter); `make test` runs it first. ruff and mypy are pinned in requirements-dev.txt:
# a newer release adds rules and checks, which would fail CI on unchanged code.
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

# API reference from the docstrings (pdoc), written to docs/api/ (git ignores it)
docs: $(STAMP)
	$(VENV)/bin/pdoc --docformat google -o docs/api lrkit

bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache lrkit-out docs/api
