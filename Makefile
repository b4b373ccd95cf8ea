# The README's two commands are `make sample` and `make test`; both set everything up first.
# `make test` lints (ruff: pyproject.toml) before it tests.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.earlyfuse-installed

.PHONY: setup sample test bench clean

$(STAMP): pyproject.toml constraints.txt jobs/install_models.py pipelines/jvm.py
	@command -v $(PYTHON) >/dev/null || { echo "earlyfuse needs $(PYTHON) (Python 3.11)"; exit 1; }
	@bash scripts/ensure_java.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test]"
	$(BIN)/python -m jobs.install_models -q
	$(BIN)/python -m pipelines.jvm -q
	@touch $(STAMP)

setup: $(STAMP)

sample: setup
	$(BIN)/earlyfuse run
	$(BIN)/earlyfuse stats out/sample

test: setup
	@bash scripts/ensure_chromium.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: setup
	@# The video benchmark's baseline is the FFmpeg command line (PyAV full decode without it);
	@# datatrove's WARC reader needs libmagic.
	@{ command -v ffmpeg >/dev/null && ldconfig -p | grep -q libmagic.so.1; } || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg libmagic1 >/dev/null; } || true
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test,bench]"
	@# img2dataset, the fetch benchmark's baseline, pins an older webdataset: its own venv.
	@test -x .venv-img2dataset/bin/python || { python3 -m venv .venv-img2dataset && \
	  .venv-img2dataset/bin/python -m pip install -q img2dataset==1.47.0; }
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .venv-img2dataset out data
