# Sourced by the scripts that build or install a real engine for the harness's tests
# (build_llama_server.sh, setup_vllm_cpu.sh): strict mode, the cache root, log lines
# named after the script, and the options every one of them takes.
# Set SCRIPT (the name log lines carry) before sourcing.
set -euo pipefail

CACHE_ROOT="${LLMBENCH_CACHE:-$HOME/.cache/llmbench}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FORCE=0

log() { echo "$SCRIPT: $*" >&2; }

# The script's header comment (after the #! line) is its help.
usage() { awk 'NR == 1 { next } /^#/ { print; next } { exit }' "$0"; }

# --force, --help, or an unknown argument (exit 2): for the `*)` branch of a script's option loop.
common_option() {
    case "$1" in
        --force) FORCE=1 ;;
        -h|--help) usage; exit 0 ;;
        *) log "unknown argument $1"; exit 2 ;;
    esac
}
