#!/usr/bin/env bash
# Runs the libFuzzer executables built by `make fuzz` (see Fuzz/README.md).
# Usage: Fuzz/run.sh BIN_DIR SECONDS MERGE TARGET...
# Each target runs for SECONDS over a scratch corpus (.build-fuzz/corpus/TARGET, where new inputs go) and the
# committed seeds (Fuzz/corpus/TARGET, read only). Crashes land in .build-fuzz/artifacts/TARGET/. With MERGE=1,
# the inputs that add coverage are merged into Fuzz/corpus/TARGET afterwards.
set -uo pipefail
cd "$(dirname "$0")/.."
bin="$1"; seconds="$2"; merge="$3"; shift 3
scratch=.build-fuzz
summary=()
failed=0
for target in "$@"; do
    exe="$bin/fuzz-$target"
    mkdir -p "$scratch/corpus/$target" "$scratch/artifacts/$target" "$scratch/logs" "Fuzz/corpus/$target"
    log="$scratch/logs/$target.log"
    echo "== fuzz-$target: ${seconds}s"
    "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$scratch/artifacts/$target/" "$scratch/corpus/$target" "Fuzz/corpus/$target" >"$log" 2>&1
    status=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    if [ -z "$runs" ]; then runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#'); fi
    rate=$(( ${runs:-0} / (seconds > 0 ? seconds : 1) ))
    crashes=$(ls "$scratch/artifacts/$target" | wc -l)
    if [ $status -ne 0 ]; then
        failed=1
        echo "   FAILED (exit $status): see $log and $scratch/artifacts/$target/"
        grep -m1 -E "ERROR: libFuzzer|ERROR: AddressSanitizer|Fatal error|deadly signal" "$log" | sed 's/^/   /'
    fi
    if [ "$merge" = "1" ]; then
        "$exe" -merge=1 -max_len=65536 "Fuzz/corpus/$target" "$scratch/corpus/$target" >>"$log" 2>&1
    fi
    summary+=("$(printf '%-14s %6ss %12s execs %8s exec/s %4s artifacts  exit %s' "$target" "$seconds" "${runs:-?}" "$rate" "$crashes" "$status")")
done
echo
echo "== fuzz summary (logs in $scratch/logs)"
printf '%s\n' "${summary[@]}"
exit $failed
