# tests/reliability_tests.cmake — stress, fault campaign, recovery and bad
# input tests, included at the end of tests/CMakeLists.txt (which defines
# weft_add_test). Helpers shared by them: reliability_util.h.
#
# Labels: "stress" for the stress tests; "cpu" for everything that runs
# without OpenCL devices (scripts/test.sh valgrind runs only those), "device"
# for what needs PoCL. Stress sizes shrink under sanitizers and valgrind (see
# reliability_util.h; $WEFT_STRESS_SCALE overrides).

set(WEFT_REL_DIR ${CMAKE_CURRENT_LIST_DIR})
set(WEFT_REL_TWO_DEVICES "POCL_DEVICES=pthread basic")

# A second CTest entry for a built test, with arguments:
#   weft_rel_test_run(<name> <target> ARGS a... [ENV k=v...] LABELS l... [TIMEOUT s])
function(weft_rel_test_run name target)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "" "TIMEOUT" "ARGS;ENV;LABELS")
  add_test(NAME ${name} COMMAND ${target} ${ARG_ARGS})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
  if(ARG_ENV)
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ARG_ENV}")
  endif()
endfunction()

# ---- stress (CPU) ------------------------------------------------------------
# One million tiny tasks, from the main thread and from tasks.
weft_add_test(test_stress_million ${WEFT_REL_DIR}/test_stress_million.c
  ENV WEFT_DEVICES=none LABELS stress cpu TIMEOUT 300)
# Panics in a seeded random 10% of tasks: joined, in scopes, detached.
weft_add_test(test_stress_panics ${WEFT_REL_DIR}/test_stress_panics.c
  ENV WEFT_DEVICES=none LABELS stress cpu TIMEOUT 300)
# Scopes opened from 4 outside threads at once, with nested spawns and scopes.
weft_add_test(test_stress_scopes ${WEFT_REL_DIR}/test_stress_scopes.c
  ENV WEFT_DEVICES=none LABELS stress cpu TIMEOUT 300)
# Runtime create/destroy 1000 times without memory growth (no devices) ...
weft_add_test(test_stress_runtime ${WEFT_REL_DIR}/test_stress_runtime.c
  ENV WEFT_DEVICES=none LABELS stress cpu TIMEOUT 300)
# ... and fewer times with two PoCL devices, each running launches.
weft_rel_test_run(test_stress_runtime_devices test_stress_runtime ARGS devices
  ENV ${WEFT_REL_TWO_DEVICES} LABELS stress device TIMEOUT 300)

# ---- fault campaign --------------------------------------------------------------
# A device fault at every launch index in turn of a split run over CPU + two
# PoCL devices, under propagate and failover.
weft_add_test(test_fault_campaign ${WEFT_REL_DIR}/test_fault_campaign.c
  ENV ${WEFT_REL_TWO_DEVICES} LABELS device TIMEOUT 600)

# ---- recovery ----------------------------------------------------------------------
# A panic never leaves a lock held or a device queue wedged.
weft_add_test(test_recovery ${WEFT_REL_DIR}/test_recovery.c
  ENV ${WEFT_REL_TWO_DEVICES} LABELS device TIMEOUT 300)

# ---- bad input ---------------------------------------------------------------------
# Every public function with NULL, zero, negative, overflowing and mismatched
# arguments, against its documented result; the runtime works afterwards.
# With two PoCL devices, and again without any (the rows about having no
# device run there; valgrind runs this one).
weft_add_test(test_bad_input ${WEFT_REL_DIR}/test_bad_input.c
  ENV ${WEFT_REL_TWO_DEVICES} LABELS device TIMEOUT 300)
weft_rel_test_run(test_bad_input_cpu test_bad_input ENV WEFT_DEVICES=none LABELS cpu TIMEOUT 300)
if(WEFT_HAVE_KERNELS)
  target_compile_definitions(test_bad_input PRIVATE WEFT_TEST_HAVE_KERNELS)
endif()
target_link_libraries(test_bad_input PRIVATE m)
