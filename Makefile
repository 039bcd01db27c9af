# Every target does its own set-up: a .venv, torch 2.13.0 (CPU) before anything that
# depends on it, then the project with the extras the target needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install chromium demo test test-fast lint docs docs-check cli-reference notebook bench \
	bench-retrieval clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first: a plain "torch" requirement would pull several GB of CUDA wheels.
$(VENV)/.torch: | $(PY)
	$(PIP) install "torch==2.13.0"
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -e ".[test,notebook,bench,ray,onnx,serve,llm,docs,mcp,langchain,llama-index,watch]"
	touch $@

install: $(VENV)/.installed

# Debian's chromium, for the real-browser tests (driven by Playwright, which downloads no
# browser). Installed only where missing and where we may (root with apt-get); elsewhere
# those tests skip, and under CI (CI set) they fail.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "chromium is missing: the browser tests need it (apt-get install chromium)"; fi

demo: install
	$(VENV)/bin/citeseek demo

test: install chromium
	$(PY) -m pytest -q

test-fast: install chromium
	$(PY) -m pytest -q -m "not model and not slow and not ray"

# ruff over everything; mypy (strict, settings in pyproject.toml) over the package.
lint: install
	$(VENV)/bin/ruff check src tests benchmarks docs
	$(VENV)/bin/mypy

# The documentation site (docs/, mkdocs.yml): served locally with live reload, or built
# strictly (a broken link, anchor or reference fails) into a temporary folder.
docs: install
	$(VENV)/bin/mkdocs serve

docs-check: install
	@site=$$(mktemp -d) && trap 'rm -rf "$$site"' EXIT && \
		$(VENV)/bin/mkdocs build --strict --site-dir "$$site"

# docs/cli-reference.md from the live --help (tests/project/test_docs.py checks it is current).
cli-reference: install
	$(PY) docs/cli_reference.py

notebook: install
	$(VENV)/bin/jupyter lab notebooks/

# Speed and scale figures (docs/speed.md, docs/performance.md); about an hour on 2 cores.
bench: install
	$(PY) benchmarks/bench_cold.py
	$(PY) benchmarks/bench_build.py
	$(PY) benchmarks/bench_static.py
	$(PY) benchmarks/bench_search.py
	$(PY) benchmarks/bench_encoders.py
	$(PY) benchmarks/bench_memory.py

bench-retrieval: install
	$(PY) benchmarks/bench_retrieval.py

clean:
	rm -rf $(VENV) embeddings/*/ .pytest_cache
