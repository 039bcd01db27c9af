# Every target does its own set-up: a .venv, torch 2.13.0 (CPU) before anything that
# depends on it, then the project with the extras the target needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-fast lint notebook bench bench-retrieval clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first: a plain "torch" requirement would pull several GB of CUDA wheels.
$(VENV)/.torch: | $(PY)
	$(PIP) install "torch==2.13.0"
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -e ".[test,notebook,bench]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/citeseek demo

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not model and not slow"

lint: install
	$(VENV)/bin/ruff check src tests benchmarks

notebook: install
	$(VENV)/bin/jupyter lab notebooks/

# Speed and scale figures (README, "Speed and scale"); about 30-40 minutes on 2 cores.
bench: install
	$(PIP) install -e ".[onnx]"
	$(PY) benchmarks/bench_build.py
	$(PY) benchmarks/bench_search.py
	$(PY) benchmarks/bench_encoders.py
	$(PY) benchmarks/bench_memory.py

bench-retrieval: install
	$(PY) benchmarks/bench_retrieval.py

clean:
	rm -rf $(VENV) embeddings/*/ .pytest_cache
