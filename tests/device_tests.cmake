# tests/device_tests.cmake — the OpenCL device tests, included at the end of
# tests/CMakeLists.txt (which defines weft_add_test).
#
# Every test here skips itself (cmocka skip()) when the runtime finds no
# OpenCL device; with PoCL installed they run for real. POCL_DEVICES picks
# PoCL's devices: "pthread basic" gives two CPU devices, unset gives one.
# Label: "device" (run only these with `ctest -L device`).
#
# Except test_device_two and test_device_select, which choose their own
# devices, the tests use every device $WEFT_DEVICES selects (all when unset):
# `WEFT_DEVICES=gpu ctest -L device` runs them on the machine's GPUs.

set(WEFT_DEVICE_TEST_DIR ${CMAKE_CURRENT_LIST_DIR})
set(WEFT_TWO_POCL_DEVICES "POCL_DEVICES=pthread basic")

# Register one more CTest entry for an already built test executable, with its
# own arguments and environment:
#   weft_device_test_run(<name> <target> [ARGS a ...] [ENV k=v ...])
function(weft_device_test_run name target)
  cmake_parse_arguments(PARSE_ARGV 2 ARG "" "" "ARGS;ENV")
  add_test(NAME ${name} COMMAND ${target} ${ARG_ARGS})
  set_tests_properties(${name} PROPERTIES TIMEOUT 120 LABELS "device")
  if(ARG_ENV)
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ARG_ENV}")
  endif()
endfunction()

# Kernels, programs, buffers on every device (one PoCL device by default) ...
weft_add_test(test_device_kernel ${WEFT_DEVICE_TEST_DIR}/test_device_kernel.c LABELS device)
# ... and the same on two devices.
weft_device_test_run(test_device_kernel_two_devices test_device_kernel ENV ${WEFT_TWO_POCL_DEVICES})

weft_add_test(test_device_two ${WEFT_DEVICE_TEST_DIR}/test_device_two.c
  ENV ${WEFT_TWO_POCL_DEVICES} LABELS device)
weft_add_test(test_device_build_error ${WEFT_DEVICE_TEST_DIR}/test_device_build_error.c LABELS device)
weft_add_test(test_device_buffer_limits ${WEFT_DEVICE_TEST_DIR}/test_device_buffer_limits.c LABELS device)

# Fault injection through the API; then the same binary, given "env", reads
# the fault from $WEFT_FAULT at runtime creation.
weft_add_test(test_device_fault ${WEFT_DEVICE_TEST_DIR}/test_device_fault.c LABELS device)
weft_device_test_run(test_device_fault_env test_device_fault ARGS env
  ENV "WEFT_FAULT=device=0,launch=1,status=CL_INVALID_VALUE")

weft_add_test(test_device_scope_mixed ${WEFT_DEVICE_TEST_DIR}/test_device_scope_mixed.c LABELS device)
weft_add_test(test_device_select ${WEFT_DEVICE_TEST_DIR}/test_device_select.c
  ENV ${WEFT_TWO_POCL_DEVICES} LABELS device)
weft_add_test(test_device_interop ${WEFT_DEVICE_TEST_DIR}/test_device_interop.c LABELS device)
weft_add_test(test_device_validation ${WEFT_DEVICE_TEST_DIR}/test_device_validation.c LABELS device)

# weft-devices (tools/) must list PoCL's pthread device, and explain a bad
# selection. tools/ may be added to the build after tests/, so these are
# registered once the whole project has been read, and only when the tool is
# part of the build.
function(weft__device_tool_tests)
  if(NOT TARGET weft-devices)
    return()
  endif()
  add_test(NAME weft_devices_lists_pocl COMMAND weft-devices)
  set_tests_properties(weft_devices_lists_pocl PROPERTIES
    TIMEOUT 60 LABELS "device;tools"
    PASS_REGULAR_EXPRESSION "pthread")
  add_test(NAME weft_devices_bad_selection COMMAND weft-devices nosuchdevice)
  set_tests_properties(weft_devices_bad_selection PROPERTIES
    TIMEOUT 60 LABELS "device;tools"
    PASS_REGULAR_EXPRESSION "cannot create a runtime: WEFT_EINVAL: .*no device name contains \"nosuchdevice\"; found")
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL weft__device_tool_tests)
