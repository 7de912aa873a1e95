# Two commands do all set-up on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install bench clean

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

test: $(STAMP)
	$(PY) -m pytest -q -n 2

bench: $(STAMP)
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache lrkit-out
