# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SHARED ?= ../shared/data
OUT    ?= out/demo

.PHONY: venv test demo bench lint clean default-model

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile

demo: $(STAMP)
	$(VENV)/bin/spectype demo --data-root $(SHARED) -o $(OUT)

bench: $(STAMP)
	$(PY) -m benchmarks.run

# Retrain the shipped model (minutes on 2 cores): simulate+mix -> train -> evaluate -> copy.
DM := out/default_model
default-model: $(STAMP)
	$(VENV)/bin/spectype simulate --per-class 800 --real $(SHARED)/lamost --max-real-fraction 0.5 --data-root $(SHARED) --seed 0 -o $(DM)/data.h5
	$(VENV)/bin/spectype train --config default_model --data $(DM)/data.h5 -o $(DM)/run
	$(VENV)/bin/spectype evaluate $(DM)/run --data $(DM)/data.h5 --split test -o $(DM)/eval
	$(PY) -m studies.default_model.evaluate_heldout --model $(DM)/run/best --pack $(DM)/data.h5 --data $(SHARED) --out $(DM)/heldout
	rm -rf src/spectype/pretrained/default && mkdir -p src/spectype/pretrained
	cp -r $(DM)/run/best src/spectype/pretrained/default

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks studies

clean:
	rm -rf out .pytest_cache
