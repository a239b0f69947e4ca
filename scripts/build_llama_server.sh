#!/usr/bin/env bash
# Build (or reuse) llama.cpp's C++ `llama-server`, for the harness's real-server tests.
#
# Source: the llama.cpp tree vendored inside the llama-cpp-python sdist on PyPI
# (PyPI is reachable here; GitHub is not). The binary is static and built with
# GGML_NATIVE=OFF so a cached copy runs on any x86-64 CI runner.
#
# Cache: ${LLMBENCH_CACHE:-~/.cache/llmbench}/llama-server-<version>/llama-server
# Idempotent: when that binary exists and runs, nothing is rebuilt.
# The last line printed on stdout is the binary's path; progress goes to stderr.
#
# Needs: cmake, ninja-build, g++ (Debian: apt-get install -y cmake ninja-build g++),
# and pip (the venv's, or $PIP) to fetch the sdist.
#
# Usage: scripts/build_llama_server.sh [--version X.Y.Z] [--jobs N] [--force]
SCRIPT=build_llama_server
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
JOBS="${LLMBENCH_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --version) VERSION="$2"; shift 2 ;;
        --jobs) JOBS="$2"; shift 2 ;;
        *) common_option "$1"; shift ;;
    esac
done

DEST="$CACHE_ROOT/llama-server-$VERSION"
BIN="$DEST/llama-server"

if [[ $FORCE -eq 0 && -x "$BIN" ]] && "$BIN" --version >/dev/null 2>&1; then
    log "reusing $BIN"
    echo "$BIN"
    exit 0
fi

for tool in cmake ninja g++; do
    command -v "$tool" >/dev/null || { log "missing '$tool' (Debian: apt-get install -y cmake ninja-build g++)"; exit 1; }
done

PIP="${PIP:-}"
if [[ -z "$PIP" ]]; then
    if [[ -x "$REPO_ROOT/.venv/bin/pip" ]]; then PIP="$REPO_ROOT/.venv/bin/pip"; else PIP="python3 -m pip"; fi
fi

mkdir -p "$CACHE_ROOT"
WORK="$(mktemp -d "$CACHE_ROOT/.llama-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

log "fetching llama-cpp-python==$VERSION sdist"
SDIST_DIR="$CACHE_ROOT/sdist"
mkdir -p "$SDIST_DIR"
SDIST="$(ls "$SDIST_DIR"/llama_cpp_python-"$VERSION".tar.gz 2>/dev/null || true)"
if [[ -z "$SDIST" ]]; then
    $PIP download --quiet --no-binary :all: --no-deps \
        -d "$SDIST_DIR" "llama-cpp-python==$VERSION" >&2
    SDIST="$(ls "$SDIST_DIR"/llama_cpp_python-"$VERSION".tar.gz)"
fi

log "extracting vendor/llama.cpp"
tar -xzf "$SDIST" -C "$WORK" "llama_cpp_python-$VERSION/vendor/llama.cpp"
SRC="$WORK/llama_cpp_python-$VERSION/vendor/llama.cpp"

log "configuring (static, GGML_NATIVE=OFF, no curl, no web UI)"
cmake -S "$SRC" -B "$WORK/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=OFF \
    -DGGML_OPENMP=OFF \
    -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF \
    -DLLAMA_USE_PREBUILT_UI=OFF \
    -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_TOOLS=ON >&2

log "building llama-server with $JOBS jobs (about 5 minutes on 2 cores)"
cmake --build "$WORK/build" --target llama-server -j "$JOBS" >&2

BUILT="$(find "$WORK/build" -type f -name llama-server -perm -u+x | head -n 1)"
[[ -n "$BUILT" ]] || { log "build finished but no llama-server binary was found"; exit 1; }

# Install atomically so a concurrent reader never sees a half-written binary.
mkdir -p "$DEST"
cp "$BUILT" "$DEST/.llama-server.tmp"
strip "$DEST/.llama-server.tmp" 2>/dev/null || true
mv -f "$DEST/.llama-server.tmp" "$BIN"
"$BIN" --version >&2 2>&1 || true
log "installed $BIN"
echo "$BIN"
