# Derm-Assist workshop pack. Two commands do everything on a fresh machine:
#   make workshop   set up, start the local mock, execute every notebook, write build/index.html
#   make test       set up, run the unit tests and execute each notebook once and check what it shows (in parallel),
#                   then drive JupyterLab in Chromium (browser tests, timed apart; they skip without Chromium)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXTRAS ?= mock,offline,onnx-export,dev,evaluation,app,space,lab,browser
# The reference environment: the real Hugging Face inference toolkit + Multi Model Server (tests/reference).
REFERENCE_VENV ?= .venv-reference
REFERENCE_STAMP := $(REFERENCE_VENV)/.installed
comma  := ,
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
BUILD  ?= build
# SageMaker Studio's Python (the studio-check venv): this machine's pyenv 3.12, else python3.12 on the PATH.
STUDIO_PYTHON ?= $(firstword $(wildcard /root/.pyenv/versions/3.12*/bin/python) $(shell command -v python3.12))
# pytest-xdist workers for `make test`. The suite waits a lot (notebook kernels, endpoints provisioning, retry back-off),
# so 4 workers finish sooner than fewer even on 2 cores (measured on a shared 2-core machine: 109-118 s with 4 workers,
# 126 s with 3, for about 175-190 s of CPU; TEST_WORKERS=2 is kinder to a busy machine).
# `--dist loadfile` keeps each test file on one worker, so tests/test_notebooks.py executes the notebooks once
# (`loadgroup` does not group under pytest 9: xdist 3.8 sets a node id attribute pytest 9 no longer reads).
TEST_WORKERS ?= 4
# Python's bytecode caches stay on for everything make runs, whatever the shell says: one test run imports the
# pack and its libraries in some 60 processes (pytest workers, notebook kernels, the CLI), and without the caches
# each of them compiles the same modules again (and pytest re-rewrites every test module). Measured on 2 cores:
# 240 s instead of 254 s of CPU for the unit and notebook tests. The caches go to __pycache__/, which git ignores.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup workshop test test-core lint nbval browser studio-check benchmark mock app space clean strip lock reference reference-test reference-lock

help:
	@echo "make workshop   execute every notebook against the local mock; report in $(BUILD)/index.html"
	@echo "make test       lint + unit and notebook tests (each notebook once, in parallel) + reference test + browser tests"
	@echo "make test-core  only the unit and notebook tests: the fast loop (no Java, no reference venv, no browser)"
	@echo "make reference-test  only the differential test: the mock against the real inference toolkit (needs Java)"
	@echo "make nbval      re-execute the notebooks make test executed and compare what they show (nbval)"
	@echo "make browser    only the browser tests: JupyterLab 4 in Chromium (apt-get install chromium)"
	@echo "make studio-check  install the pack over SageMaker Studio's package versions (Python 3.12) and run the tests there"
	@echo "make benchmark  print the wall time of each notebook, payload, latency, deploy-wait and test-loop figures next to their targets"
	@echo "make mock       serve the local mock on 127.0.0.1:5055 for an offline rehearsal"
	@echo "make app        serve the Derm-Assist web app on 127.0.0.1:7860 over your remembered endpoint"
	@echo "make space      write $(BUILD)/space/, the folder to upload as a Hugging Face Space"
	@echo "make clean      remove $(BUILD)/ (your work/ folder is never touched)"

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[$(EXTRAS)]"
	-$(BIN)/nbstripout --install 2>/dev/null
	@rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

# The real inference toolkit, exactly pinned, in its own venv (its pins conflict with the pack's: numpy<2 etc.).
$(REFERENCE_STAMP): requirements/reference.txt
	$(PYTHON) -m venv $(REFERENCE_VENV)
	$(REFERENCE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(REFERENCE_VENV)/bin/python -m pip install --quiet -r requirements/reference.txt
	touch $@

reference: $(REFERENCE_STAMP)

reference-test: setup reference
	$(BIN)/python -m pytest tests/reference -m reference -p no:cacheprovider -p no:nbval

# Re-resolve the reference environment from its top-level pins and record the result.
reference-lock:
	rm -rf .venv-reference-lock && $(PYTHON) -m venv .venv-reference-lock
	.venv-reference-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-reference-lock/bin/python -m pip install --quiet sagemaker-huggingface-inference-toolkit==2.6.0 \
		transformers==4.51.3 torch==2.13.0 multi-model-server==1.1.11 "setuptools<81"
	{ head -4 requirements/reference.txt; echo torch==2.13.0; .venv-reference-lock/bin/pip freeze | grep -v '^torch=='; \
		echo "setuptools==$$(.venv-reference-lock/bin/python -c 'import setuptools; print(setuptools.__version__)')"; } \
		> requirements/reference.new
	mv requirements/reference.new requirements/reference.txt && rm -rf .venv-reference-lock

workshop: setup
	$(BIN)/derm-assist run --out $(BUILD)
	@echo "Open $(BUILD)/index.html"

# Four runs, each timed on its own: the fast loop, then the two that need a system package and a second environment
# (the real inference toolkit: Java and .venv-reference; JupyterLab in Chromium).
test: setup lint
	$(MAKE) --no-print-directory test-core
	$(MAKE) --no-print-directory reference-test
	$(MAKE) --no-print-directory browser

# The unit and notebook tests, in parallel: the fast loop, and what `make benchmark` times. nbval's plugin is off here
# (only `make nbval` uses it; it costs every worker a second), and --no-loadscope-reorder keeps the slowest-first
# order of tests/conftest.py, so the long files start first.
test-core: setup
	$(BIN)/python -m pytest tests --ignore=tests/browser --ignore=tests/reference -m "not browser and not reference" \
		-p no:nbval -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: setup
	$(BIN)/ruff check helpers tests benchmarks scripts conftest.py

# Re-execute the notebooks that tests/test_notebooks.py executed and compare the cells marked
# NBVAL_CHECK_OUTPUT with what they showed the first time (the key facts must be reproducible). `make test` checks
# those cells against tests/notebook_facts.json without a second run; CI runs this too, nightly.
nbval: setup
	$(BIN)/python -m pytest --nbval-lax --nbval-kernel-name python3 -p no:cacheprovider $(BUILD)/test-notebooks/*.ipynb

# Learners' paths in a real JupyterLab 4 in Chromium, driven by Playwright against the mock. A separate run, so
# its time is reported apart from the unit and notebook tests. Failure screenshots: $(BUILD)/browser-failures/.
browser: setup
	$(BIN)/python -m pytest tests/browser -p no:cacheprovider

# SageMaker Studio's own versions (requirements/studio.txt) in a Python 3.12 venv, the pack installed over them with
# the README's command: nothing Studio ships may change, pip check passes, then the unit and notebook tests run
# there. CI runs it after make test (.ci/run).
studio-check:
	@test -n "$(STUDIO_PYTHON)" || { echo "studio-check needs Python 3.12 (set STUDIO_PYTHON=/path/to/python3.12)"; exit 2; }
	$(STUDIO_PYTHON) scripts/studio_check.py --venv $(BUILD)/studio-venv

benchmark: setup
	$(BIN)/python benchmarks/run_benchmarks.py
	$(BIN)/python benchmarks/evaluation_scale.py
	$(BIN)/python benchmarks/performance.py

mock: setup
	$(BIN)/derm-assist mock --port 5055

app: setup
	$(BIN)/derm-assist app

space: setup
	$(BIN)/python -m helpers.maintainer.space --out $(BUILD)/space

strip: setup
	$(BIN)/nbstripout notebooks/*.ipynb

clean:
	rm -rf $(BUILD)

# Re-resolve every dependency within pyproject.toml's ranges (newest that fit) and record the exact versions.
# torch's local label (+cpu) is dropped: the pin then matches the CPU build here and PyPI's build elsewhere.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e ".[mock,offline,onnx-export,dev,evaluation,app,space,lab,browser]"
	{ head -2 requirements/constraints.txt; .venv-lock/bin/pip freeze --exclude-editable | sed 's/^\(torch==[^+]*\)+.*/\1/'; } > requirements/constraints.new
	mv requirements/constraints.new requirements/constraints.txt && rm -rf .venv-lock
