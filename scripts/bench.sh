#!/usr/bin/env bash
# The main job: install what is missing, build weft and its benchmark program
# in Release (build-release/), run the bundled benchmarks, and draw them;
# then (without options) the same operations across 1, 2 and 4 MPI ranks
# (weft-bench --mpi --quick).
#   bash scripts/bench.sh [weft-bench options...]
# Extra arguments go to weft-bench after --quick, for example
#   bash scripts/bench.sh --workload spawn --csv bench.csv
# The results go to build-release/bench-results/weft-bench.json (or to the
# file named with --json), and bench/plot.py draws them beside it as .svg and
# .png (build-release/bench-results/weft-bench.svg, .png).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

# Tests are not needed here: scripts/test.sh builds them in build-test/.
# The build log goes to stderr: stdout is the benchmark's report alone.
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release \
  -DWEFT_BUILD_BENCH=ON -DWEFT_BUILD_TESTS=OFF >&2
cmake --build build-release -j2 >&2

json=""
args=("$@")
nargs=$#
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --json) json="${args[i + 1]:-}" ;;
    --json=*) json="${args[i]#--json=}" ;;
  esac
done
if [[ -z "$json" ]]; then
  mkdir -p build-release/bench-results
  json=build-release/bench-results/weft-bench.json
  set -- --json "$json" "$@"
fi

start=$(date +%s)
status=0
build-release/bench/weft-bench --quick "$@" || status=$?
# Draw what this run wrote (--list, --help and usage errors write nothing).
if [[ -f "$json" && $(stat -c %Y "$json") -ge $start ]]; then
  /usr/bin/python3 bench/plot.py "$json" || status=1
fi
# The same operations across MPI ranks (1, 2 and 4) against one process,
# when weft_mpi was built (docs/benchmarks.md, "Across MPI ranks"); a run
# given its own options (a workload, say) runs only what they ask for.
if ((nargs > 0)); then
  :
elif [[ -x build-release/bench/weft-bench-mpi ]]; then
  build-release/bench/weft-bench --mpi --quick || status=1
else
  echo "bench.sh: weft-bench-mpi was not built (no MPI): the MPI rows are left out" >&2
fi
exit "$status"
