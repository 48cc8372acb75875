# The two commands a newcomer needs:  make course   and   make test
# (both run `make setup` first when the virtual environment is missing or stale).

VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
KIT     := $(VENV)/bin/coursekit
STAMP   := $(VENV)/.installed

# Real data for tests and fast-mode runs: ../shared/data beside the checkout, if present.
SHARED_DATA := $(wildcard ../shared/data)
ifneq ($(SHARED_DATA),)
export COURSE_DATA_DIR ?= $(abspath $(SHARED_DATA))
endif

COLAB   ?= .venv-colab

.PHONY: colab setup browser-deps postgres-deps sandbox-deps course test lint lab notebooks check-notebooks execute publish check-publish site bench clean help

help:
	@echo "make course   set up (if needed) and build the whole course: notebooks, package checks"
	@echo "make test     run the test suite (pytest)"
	@echo "make lab      start JupyterLab"
	@echo "make lint     ruff"
	@echo "make colab    a stand-in of Colab's runtime (.venv-colab) that make test then runs the course in"
	@echo "make bench    run the benchmarks in benchmarks/ and write benchmarks/RESULTS.md"
	@echo "instructors:  make assignments | make collect HANDINS=folder | make grade | make feedback"
	@echo "              make publish DEST=folder   (the students' repository and its website; or: coursekit --help)"
	@echo "make site     the course website into _build/site/html (coursekit site)"

setup: $(STAMP) browser-deps postgres-deps sandbox-deps

# Debian's Chromium for the browser tests (Playwright's own browser download needs internet).
# Best effort: without root or apt the browser tests are skipped, everything else works.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
	  echo "chromium not installed: browser tests will be skipped (apt-get install chromium)"
	@# a Japanese font, so the browser (and matplotlib) draw the seeds' Japanese instead of boxes
	@ls /usr/share/fonts/*/fonts-japanese-gothic* /usr/share/fonts/opentype/ipafont-gothic >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ipafont-gothic >/dev/null) ; } || \
	  echo "no Japanese font: Japanese text shows as boxes in screenshots (apt-get install fonts-ipafont-gothic)"

# Debian's bubblewrap for the grading jail (coursekit.grade.jail: namespaces, cgroups, rlimits).
# Best effort: without it `coursekit grade` says which limits are off, and the limit tests skip.
sandbox-deps: | postgres-deps
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap libseccomp2 >/dev/null) ; } || \
	  echo "bubblewrap not installed: grading runs without resource limits (apt-get install bubblewrap)"

# Debian's PostgreSQL server binaries (initdb, pg_ctl) for tests/test_gradebook_postgres.py, which
# starts a private server of its own (no system service is used). Best effort, like browser-deps.
postgres-deps: | browser-deps  # one apt-get at a time, also under make -j
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) ; } || \
	  echo "PostgreSQL not installed: the PostgreSQL gradebook test will be skipped (apt-get install postgresql)"

# What `coursekit colab standin` needs before the rest is installed (pydantic reads course.toml):
# `make -j2 setup colab` (CI) then fills both environments at once, each pip unpacking on its own core.
BOOT    := $(VENV)/.boot
$(BOOT): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet $$(grep -E '^pydantic==' requirements.txt)
	touch $@

$(STAMP): $(BOOT) requirements.txt pyproject.toml
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -e .
	# triton (pulled in by torch) crashes the process when TensorFlow was imported first;
	# CPU training does not need it. See README, "Both frameworks in one kernel".
	$(PIP) uninstall --quiet -y triton || true
	# rfc3987-syntax (jsonschema's optional IRI format check, pulled in by jupyter-events) builds a
	# parser when imported: `import nbformat` takes 3.0 s with it, 0.3 s without, in each coursekit
	# command, nbgrader worker and alembic run. Nothing here checks IRIs; jsonschema skips that format.
	$(PIP) uninstall --quiet -y rfc3987-syntax || true
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $@

course: setup check-notebooks execute assignments selfcheck check-publish lint
	$(PY) -c "import course_utils, sys; assert 'torch' not in sys.modules and 'tensorflow' not in sys.modules; print('course_utils', course_utils.__version__, 'OK')"

# Every notebook (lessons, lecture solutions, assignments) is built from its percent source.
notebooks: setup
	$(KIT) build

check-notebooks: setup
	$(KIT) check

execute: setup
	COURSE_FAST=1 $(KIT) execute

# The students' repository: make publish DEST=../dl-course (then commit and push it there).
publish: setup
	@test -n "$(DEST)" || { echo "usage: make publish DEST=folder  (the students' repository)" >&2; exit 2; }
	$(KIT) publish "$(DEST)"

# The course website alone (publish writes it too, into DEST/docs): _build/site/html/index.html
site: setup
	$(KIT) site

# What make course checks: a publish (with the website) into a temporary folder, with its leak scan.
check-publish: setup
	@d=$$(mktemp -d) && $(KIT) publish "$$d/students" && rm -rf "$$d"

# Two pytest-xdist workers: most of the suite (kernels, Keras' per-step overhead) keeps one core
# busy per process. A file's tests stay on one worker (its module fixtures run once), the longest
# files start first (tests/conftest.py). One process: make test TEST_WORKERS=0.
TEST_WORKERS ?= 2
test: setup
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# A stand-in of Colab's runtime (colab/pip-freeze.txt's versions, ~7 GB): tests/coursekit/test_colab.py
# runs the published course in it. `coursekit colab refresh` updates Colab's list first.
colab: $(BOOT)
	PYTHONPATH=$(CURDIR) $(PY) -m coursekit colab standin $(COLAB)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lab: setup
	$(VENV)/bin/jupyter lab

bench: setup
	$(PY) -m benchmarks.run_all

clean:
	rm -rf _build .pytest_cache

# Targets added by later parts of the course (assignments, grading, browser tests).
-include mk/*.mk
