# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SHARED ?= ../shared/data
OUT    ?= out/demo

.PHONY: venv test demo bench lint clean default-model

# No pip cache: torch's CUDA wheels are ~3 GB, and keeping a second copy of them in the cache
# filled a CI machine's disk (OSError 28 during install).
export PIP_NO_CACHE_DIR := 1

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

# Retrain the shipped model (~3-15 min on 2 cores): MKNet by the accuracy benchmark's recipe on
# every labelled real spectrum in $(SHARED) plus 2 LAMOST-like simulations of each library star
# (docs/accuracy.md scores this recipe on held-out stars and releases), then copy it in place.
DM := out/default_model
default-model: $(STAMP)
	$(VENV)/bin/spectype benchmark train-release $(SHARED)/lamost $(SHARED)/sdss --data-root $(SHARED) --sim-per-source 2 --epochs 30 --seed 0 -o $(DM)/mknet
	rm -rf src/spectype/pretrained/default && mkdir -p src/spectype/pretrained
	cp -r $(DM)/mknet src/spectype/pretrained/default

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks studies

clean:
	rm -rf out .pytest_cache

# One GPU, under 10 minutes: throughput, table4 paper seed 0, LCGAN paper seed 0 (docs/reproduction.md).
GPU_PACK ?= out/real/lamost.h5
.PHONY: gpu-check
gpu-check: $(STAMP)
	$(PY) -m benchmarks.gpu_check --pack $(GPU_PACK) --data-root $(SHARED) --out out/gpu_check
