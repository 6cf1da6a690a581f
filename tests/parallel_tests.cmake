# tests/parallel_tests.cmake — co-execution tests: weft_parallel_for,
# weft_scope_parallel_for and weft_parallel_run splitting one operation across
# CPU workers and OpenCL devices. Included at the end of tests/CMakeLists.txt
# (which defines weft_add_test); shared helpers in parallel_kernels.h.
#
# Each runs with two CPU workers and two PoCL CPU devices (device 0 = basic,
# device 1 = pthread). With no OpenCL device at all, the device place mixes
# are left out (and the device-only cases skip). Labels: "parallel" and
# "device" (`ctest -L parallel` runs only these).

set(WEFT_PARALLEL_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
set(WEFT_PARALLEL_ENV "POCL_DEVICES=pthread basic")

foreach(t
    matrix      # every policy x place mix: each element written once and right (1-D, 2-D)
    group_id    # kernels see whole-range group ids, group counts, global sizes
    stencil     # halo reads across chunk borders, 10 ping-pong iterations
    reduce      # block-ordered reductions: bit-identical across splits; identity when empty
    fault       # propagate / failover of device faults and CPU panics
    borrow      # WEFT_EBORROW for overlapping writes of running operations
    validation  # WEFT_EINVAL with messages for bad requests
    trace       # Chrome trace events, one per chunk
    )
  weft_add_test(test_parallel_${t} ${WEFT_PARALLEL_TEST_DIR}/test_parallel_${t}.c
    ENV ${WEFT_PARALLEL_ENV} LABELS parallel device TIMEOUT 120)
endforeach()
