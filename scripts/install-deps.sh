#!/usr/bin/env bash
# Install the Debian 12 packages weft needs to build, test and benchmark.
# Run as root. Idempotent: packages already installed are left alone, and
# `apt-get update` runs only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential    # gcc and g++ (the bench's oneTBB baseline), libgomp (gcc's OpenMP runtime), make, libc headers
  cmake
  pkg-config
  ocl-icd-opencl-dev # OpenCL ICD loader (libOpenCL.so)
  opencl-headers
  pocl-opencl-icd    # PoCL: OpenCL on the CPU, the default device
  clinfo
  libclblast-dev     # CLBlast: BLAS on OpenCL devices (bench baselines)
  libcmocka-dev      # test framework
  libopenblas-dev    # CPU BLAS baseline for the benchmarks
  libtbb-dev         # oneTBB: the benchmarks' task_group spawn+join baseline (TBBConfig.cmake)
  libopenmpi-dev     # Open MPI: weft_mpi (weft/mpi.h), one operation across the ranks of an MPI job
  openmpi-bin        # mpirun, to run weft_mpi's tests and benchmark
  libomp-dev         # LLVM's OpenMP runtime, for OpenMP builds with clang
  valgrind           # scripts/test.sh valgrind
  clang              # second compiler
  libclang-rt-dev    # clang's libFuzzer and sanitizer runtimes (scripts/fuzz.sh)
  doxygen            # the API reference, and the test that every public name is documented
  python3-matplotlib # the benchmark's charts (bench/plot.py)
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root (or install them by hand)" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
