# ctcbias: `make demo` runs the main job, `make test` runs the tests. Both set up everything.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
APT_PKGS := espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts fortunes fortunes-min
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: setup system-deps demo test test-fast data evalsets lint clean-venv

$(BIN)/python:
	@command -v $(PY) >/dev/null || { echo "need $(PY)"; exit 1; }
	$(PY) -m venv $(VENV)

# (setup.py builds the compiled beam search from its .pyx: a change to it reinstalls)
$(VENV)/.installed: pyproject.toml setup.py src/ctcbias/decode/_search.pyx | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,serve,onnx,tts,hf]'
	# peers and fast LM queries: kenlm compiles in ~2.5 min; pyctcdecode 0.5.0 pins numpy<2
	# but works with numpy 2, so it goes in without its pins
	$(BIN)/pip install -q kenlm
	$(BIN)/pip install -q --no-deps pyctcdecode==0.5.0 pygtrie sortedcontainers
	touch $@

# Debian TTS engines: needed to build corpora and by the tests that synthesize speech.
system-deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  ($$SUDO apt-get update -qq || true) && $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

setup: system-deps $(VENV)/.installed

demo: setup
	@echo "== plain transcription (greedy, no entity list) =="
	$(BIN)/ctcbias transcribe --greedy examples/*.ogg
	@echo "== with examples/entities.txt =="
	$(BIN)/ctcbias transcribe --entities examples/entities.txt --json examples/*.ogg
	@echo "== voices the model was trained on, new sentences and names: plain, then with the list =="
	$(BIN)/ctcbias transcribe examples/seen_voice/*.ogg
	$(BIN)/ctcbias transcribe --entities examples/entities.txt examples/seen_voice/*.ogg

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

# Build the training corpus (about 19 h of synthetic speech; ~40 min on 2 cores) and the
# evaluation sets. Resumable: rerun to continue.
data: setup
	$(BIN)/ctcbias data synth
	$(BIN)/ctcbias data respeak
	$(BIN)/ctcbias data prepare
	$(BIN)/ctcbias data evalsets

evalsets: setup
	$(BIN)/ctcbias data evalsets

lint: setup
	$(BIN)/ruff check src tests

clean-venv:
	rm -rf $(VENV)
