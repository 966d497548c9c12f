# GenMimic: `make demo` and `make test` set everything up on first use (Debian, Python 3.11).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PACKAGES := core lift retarget policy deploy bench
APT_PACKAGES := libosmesa6 libgl1 libglib2.0-0
VIDEO ?=
# The stages' commands (genmimic-lift, ...) are found in the environment.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: help install system-deps browser-deps test test-slow demo bench lint clean

help:
	@echo "make demo     set up (first run), then run the main job on the bundled input"
	@echo "make test     set up (first run), then run every test"
	@echo "make test-slow  every test plus the opt-in slow ones (GENMIMIC_SLOW_TESTS=1)"
	@echo "make bench    speed and accuracy benchmarks; table on stdout, results in bench_out/"
	@echo "make lint     ruff"
	@echo "make install  create $(VENV) with all six packages installed editable"

# System libraries: offscreen rendering (OSMesa) and OpenCV's runtime (libGL, GLib).
system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages; run: sudo apt-get install -y $$missing"; exit 1; \
	  fi; \
	fi

# Headless Chromium for the viewer's browser test (the test skips, saying why, where it is missing).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium (for the viewer test)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	      echo "could not install chromium: the viewer's browser test will be skipped"; \
	  else \
	    echo "chromium not found (sudo apt-get install -y chromium): the viewer's browser test will be skipped"; \
	  fi; }

# The environment is rebuilt when the constraints, a package's metadata or this file change.
# setuptools warns once per editable namespace package ("Editable installation ... folders with the same
# name"), a 10-line wall each that says nothing about this layout: silenced by its message.
$(STAMP): constraints.txt Makefile $(foreach p,$(PACKAGES),packages/genmimic-$(p)/pyproject.toml)
	@$(MAKE) --no-print-directory system-deps
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found (set PYTHON=...)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
	  { echo "$(PYTHON) is older than Python 3.11"; exit 1; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install -q -c constraints.txt \
	  -e "packages/genmimic-core[smpl,pinocchio,test,view,report]" \
	  $(foreach p,$(filter-out core policy bench,$(PACKAGES)),-e packages/genmimic-$(p)) -e "packages/genmimic-policy[train]" \
	  -e "packages/genmimic-bench[ray]" \
	  pytest ruff scipy
	$(PY) -m pip check
	@touch $(STAMP)

install: $(STAMP)

# pytest exits 5 when no test ran; make passes any non-zero status on, so that fails too.
test: $(STAMP) browser-deps
	MUJOCO_GL=osmesa $(PY) -m pytest

# The same, plus the opt-in tests too slow for every run (MJX compiles on a CPU: minutes each).
test-slow: $(STAMP) browser-deps
	GENMIMIC_SLOW_TESTS=1 MUJOCO_GL=osmesa $(PY) -m pytest

demo: $(STAMP)
	MUJOCO_GL=osmesa $(PY) scripts/demo.py $(if $(VIDEO),--video "$(VIDEO)")

bench: $(STAMP)
	MUJOCO_GL=osmesa $(PY) benchmarks/run.py --out bench_out

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) demo_out bench_out .pytest_cache .ruff_cache
