#!/usr/bin/env bash
# The main job: install what is missing, build weft and its benchmark program
# in Release (build-release/), and run the bundled benchmarks.
#   bash scripts/bench.sh [weft-bench options...]
# Extra arguments go to weft-bench after --quick, for example
#   bash scripts/bench.sh --workload spawn --json bench.json
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh

# Tests are not needed here: scripts/test.sh builds them in build-test/.
# The build log goes to stderr: stdout is the benchmark's report alone.
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release \
  -DWEFT_BUILD_BENCH=ON -DWEFT_BUILD_TESTS=OFF >&2
cmake --build build-release -j2 >&2

exec build-release/bench/weft-bench --quick "$@"
