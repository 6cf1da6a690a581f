#!/usr/bin/env bash
# Build and run the whole test suite. Exits non-zero on any failure.
#   bash scripts/test.sh            RelWithDebInfo, warnings are errors (build-test/)
#   bash scripts/test.sh asan       AddressSanitizer + UBSan          (build-asan/)
#   bash scripts/test.sh tsan       ThreadSanitizer                   (build-tsan/)
#   bash scripts/test.sh valgrind   the CPU-side tests (label cpu) under valgrind
#                                   memcheck (build-valgrind/): device tests spend
#                                   minutes in PoCL's LLVM under valgrind; asan
#                                   covers them
# Extra arguments after the mode go to ctest (e.g. -R scope, -L cpu).
# Every device test also runs on PoCL's "basic" device alone and on two
# "pthread" devices (labels pocl_basic, pocl_pthread2: `-L pocl_basic`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

mode=default
if (($# > 0)) && [[ "$1" != -* ]]; then
  mode=$1
  shift
fi

supp="$root/scripts/sanitizers"
config=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_WERROR=ON -DWEFT_TESTING=ON -DWEFT_BUILD_TESTS=ON -DWEFT_BUILD_BENCH=ON)
case "$mode" in
  default)
    build=build-test
    ;;
  asan)
    build=build-asan
    config+=(-DWEFT_SANITIZE=address,undefined)
    # intercept_tls_get_addr=0: LeakSanitizer's tracer (which stops every
    # thread at exit to scan for leaks) otherwise crashes now and then
    # ("Tracer caught signal 11") in tests whose PoCL devices have threads
    # with dynamic TLS: GCC 12's __tls_get_addr interceptor takes a block that
    # happens to start 16 bytes into a page for a pre-2.25 glibc TLS header and
    # reads a bogus range (fixed in GCC 14 / LLVM 17). Without the interceptor
    # LSan does not scan dlopen()ed libraries' dynamic TLS, which only PoCL,
    # LLVM and the ICD loader use (their allocations are in lsan.supp); weft's
    # own thread-locals are static TLS and still scanned, so every test —
    # device tests included — keeps leak detection.
    export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:intercept_tls_get_addr=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
    export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
    ;;
  tsan)
    build=build-tsan
    config+=(-DWEFT_SANITIZE=thread)
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
    ;;
  valgrind)
    build=build-valgrind
    # add_test() commands that name a target run under this wrapper.
    vg="valgrind;--error-exitcode=1;--leak-check=full;--errors-for-leak-kinds=definite"
    vg+=";--suppressions=$supp/valgrind.supp;--gen-suppressions=all;--quiet"
    config+=("-DCMAKE_CROSSCOMPILING_EMULATOR=$vg")
    ;;
  -h|--help|help)
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "test.sh: unknown mode '$mode' (default, asan, tsan, valgrind)" >&2
    exit 2
    ;;
esac

bash scripts/install-deps.sh

echo "test.sh: mode $mode, building in $build/" >&2
cmake -S . -B "$build" "${config[@]}" >/dev/null
cmake --build "$build" -j2

# Valgrind runs the CPU-side tests only (see the top).
filter=()
if [[ "$mode" == valgrind ]]; then
  filter=(-L cpu)
fi

# --timeout is the default for tests that set no TIMEOUT of their own.
ctest --test-dir "$build" --output-on-failure -j2 --no-tests=error --timeout 600 "${filter[@]}" "$@"
