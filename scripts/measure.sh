# Shared by the measurement scripts (sourced, not run): `entente` is the CLI binary given as the script's first
# argument, the script runs in a fresh working folder removed at exit, and `measure LABEL COMMAND...` runs a
# command and prints its time and peak RSS (GNU time's maximum resident set size), stopping on failure.
set -euo pipefail
entente=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

measure() {  # label, command...
    local label=$1
    shift
    /usr/bin/time -f "%e %M" -o time.txt "$@" >/dev/null 2>err.txt || { cat err.txt; exit 1; }
    read -r seconds kilobytes <time.txt
    echo "$label: $seconds s, peak RSS $((kilobytes / 1024)) MB"
}
