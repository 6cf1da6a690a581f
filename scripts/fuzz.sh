#!/usr/bin/env bash
# Build the libFuzzer harnesses (fuzz/) with clang, AddressSanitizer and UBSan
# and run each for a bounded time on its corpus. Exits non-zero when a
# harness crashes (the reproducer is kept in build-fuzz/artifacts/).
#   bash scripts/fuzz.sh              each harness for $WEFT_FUZZ_SECONDS (default 40 s)
#   bash scripts/fuzz.sh --merge      also minimise: merge what the run found
#                                     into fuzz/corpus/<name>/ (-merge=1)
#   bash scripts/fuzz.sh NAME...      only these harnesses
# The committed corpus is only read (new inputs go to a scratch folder),
# unless --merge is given.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

merge=0
names=()
for a in "$@"; do
  case "$a" in
    --merge) merge=1 ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) names+=("$a") ;;
  esac
done
((${#names[@]})) || names=(fuzz_device_select fuzz_fault_parse fuzz_parallel_args fuzz_cl_rewrite fuzz_model_split)
seconds=${WEFT_FUZZ_SECONDS:-40}
if ((seconds > 60)); then seconds=60; fi # each harness: at most a minute

if ! command -v clang >/dev/null; then
  echo "fuzz.sh: clang not found (scripts/install-deps.sh installs it)" >&2
  exit 1
fi

build=build-fuzz
echo "fuzz.sh: building in $build/ (clang, address+undefined, libFuzzer)" >&2
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_FUZZ=ON -DWEFT_TESTING=ON \
  -DWEFT_SANITIZE=address,undefined -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target "${names[@]}"

work="$root/$build/work"
artifacts="$root/$build/artifacts"
rm -rf "$work"
mkdir -p "$work" "$artifacts"
export WEFT_CACHE_DIR="$work/cache"
# LeakSanitizer: as in scripts/test.sh asan (see there for why).
export ASAN_OPTIONS="intercept_tls_get_addr=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/scripts/sanitizers/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

status=0
total_runs=0
for name in "${names[@]}"; do
  corpus="fuzz/corpus/$name"
  mkdir -p "$corpus" "$work/$name"
  log="$work/$name.log"
  run_for=$seconds
  # Small and fast: the model reader and the split saturate in seconds.
  if [[ $name == fuzz_model_split ]] && ((run_for > 20)); then run_for=20; fi
  echo "fuzz.sh: $name for ${run_for} s (corpus $corpus: $(ls "$corpus" | wc -l) inputs)" >&2
  if ! "$build/fuzz/$name" -max_total_time="$run_for" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/$name-" \
      "$work/$name" "$corpus" >"$log" 2>&1; then
    echo "fuzz.sh: $name FAILED; reproducer in $artifacts/, log:" >&2
    tail -60 "$log" >&2
    status=1
    continue
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  total_runs=$((total_runs + ${runs:-0}))
  echo "fuzz.sh: $name: ${runs:-?} executions, $(grep -o 'cov: [0-9]*' "$log" | tail -1), no crash" >&2
  if ((merge)); then
    "$build/fuzz/$name" -merge=1 "$corpus" "$work/$name" >>"$log" 2>&1
    echo "fuzz.sh: $name: corpus now $(ls "$corpus" | wc -l) inputs" >&2
  fi
done
echo "fuzz.sh: $total_runs executions in all" >&2
exit $status
