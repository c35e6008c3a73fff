# Two commands a fresh machine needs: `make demo` and `make test`.
# Each creates (or reuses) a local .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test test-quick lint docs bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The main job: LeNet-5 on 5,000 real MNIST digits; prints accuracy, writes curves,
# confusion matrix, graph and metrics to runs/demo (--overwrite: each `make demo` replaces the
# last demo's outputs, which the command otherwise refuses to do).
demo: $(STAMP)
	$(BIN)/python -m nn.vision train --model lenet5 --data mnist-5k --epochs 40 \
		--batch-size 32 --optimizer adamw --lr 3e-3 --weight-decay 1e-2 --dropout 0.1 \
		--schedule cosine --augment --out runs/demo --overwrite

# ruff first, then every test, one worker per core (pytest-xdist); pytest's exit code 5 (no
# tests collected) fails the target.
test: $(STAMP)
	$(BIN)/ruff check .
	$(MAKE) docs
	$(BIN)/python -m pytest -n auto autodiff nn tests docs/doctest_fences.py

# The edit-and-test loop: every test but those marked slow (more than ~5 s each), quick
# hypothesis profile; CI runs `make test`, which runs them all.
test-quick: $(STAMP)
	$(BIN)/python -m pytest -n auto -m "not slow" -q autodiff nn tests docs/doctest_fences.py

# The documentation site (MkDocs, Material, API pages from the docstrings), warnings as errors.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every workload side by side: this engine, hand-written NumPy, PyTorch CPU (the `bench`
# extra; pip takes the CPU build of torch==2.13.0 from this machine's disk). Without PyTorch
# the benchmarks run and report the other two.
BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]' || echo "PyTorch not installed"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
