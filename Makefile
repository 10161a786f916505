# `make run` and `make test` each do all set-up on a fresh Debian machine, then run.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Qt's xcb platform plugin (the window on an X desktop) needs the libxcb-* and xkbcommon-x11 libraries;
# xvfb and xauth give the tests a real X server (tests/xserver.py).
QT_X11_PACKAGES := libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0 \
  libxcb-xkb1 libxkbcommon-x11-0 libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-sync1 libxcb-shm0 libx11-xcb1
APT_PACKAGES := fluidsynth fluid-soundfont-gm jackd2 libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 \
  $(QT_X11_PACKAGES) xvfb xauth
# MuseScore 3: tests/test_leadsheet.py imports the lead sheet in it (106 packages, 37 s from the local mirror)
APT_PACKAGES += musescore3
export DEBIAN_FRONTEND := noninteractive

.PHONY: run test setup sysdeps lint bench screenshot bundle bundle-smoke clean

# The display check says in words what is missing (no DISPLAY, an X library, no X server) before Qt aborts.
run: setup
	@$(PY) -m musicvae_app.displaycheck
	$(VENV)/bin/musicvae-app

test: setup
	$(PY) -m ruff check musicvae_app tests benchmarks
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

setup: sysdeps $(STAMP)

# System libraries (FluidSynth, a GM soundfont, JACK, Qt's runtime) when missing and running as root.
sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	  else echo "missing system packages:$$missing (install them with apt-get as root)"; fi; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

lint: setup
	$(PY) -m ruff check musicvae_app tests benchmarks

bench: setup
	$(PY) benchmarks/bench_generate.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_startup.py
	$(PY) benchmarks/bench_playback.py

screenshot: setup
	QT_QPA_PLATFORM=offscreen $(PY) packaging/screenshot.py

bundle: setup
	bash packaging/build_bundle.sh

bundle-smoke:
	QT_QPA_PLATFORM=offscreen dist/musicvae-app/musicvae-app --self-test

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
