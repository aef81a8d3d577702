# Two commands do everything on a fresh machine: `make solve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MODEL  ?= models/optimised.toml

.PHONY: venv solve test test-slow bench lint compare sweep clean mutate mutate-sample

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

solve: $(STAMP)
	$(BIN)/optimiser solve $(MODEL)

test: $(STAMP)
	$(BIN)/ruff check optimiser tests
	$(BIN)/python -m pytest

# End-to-end checks too long for every run (every commissioning model solved twice).
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# Mutation testing (not run in CI): plants one small change at a time in the model, the
# parameters, the loader and the checker and runs only the tests that reach the changed
# function. MUTANTS narrows a run, e.g. MUTANTS='optimiser.inputs.load*'. Results stay in
# mutants/ so a second run only tries what is new; see README.md for the measured kill rate.
MUTANTS ?=
mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[mutate]"
	$(BIN)/mutmut run --max-children 1 $(MUTANTS)
	$(BIN)/mutmut export-cicd-stats

# The whole scope is days of CPU; this runs a seeded stratified sample of it (SAMPLE mutants)
# and reports the kill rate with its 95 % interval (tests/mutation_sample.py).
SAMPLE ?= 300
SAMPLE_SEED ?= 1
mutate-sample: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[mutate]"
	$(BIN)/mutmut run --max-children 1 'optimiser.inputs.queueing.x_erlang_b__mutmut_1'
	$(BIN)/python tests/mutation_sample.py draw --size $(SAMPLE) --seed $(SAMPLE_SEED) \
		--out mutants/sample-$(SAMPLE_SEED).txt > /dev/null
	$(BIN)/mutmut run --max-children $(WORKERS) $$(cat mutants/sample-$(SAMPLE_SEED).txt)
	$(BIN)/python tests/mutation_sample.py report --sample mutants/sample-$(SAMPLE_SEED).txt

bench: $(STAMP)
	$(BIN)/python -m optimiser.bench

lint: $(STAMP)
	$(BIN)/ruff check optimiser tests

MODELS  ?=
SWEEP   ?= sweeps/night-rates.toml
WORKERS ?= 2

sweep: $(STAMP)
	$(BIN)/optimiser sweep --file $(SWEEP) --workers $(WORKERS)

compare: $(STAMP)
	$(BIN)/optimiser compare $(MODELS)

clean:
	rm -rf $(VENV) results bench/out
