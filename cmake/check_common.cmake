# cmake/check_common.cmake — what the -P check scripts of cmake/ share.

# Fail unless each named variable was given with -D<name>=...
function(check_require script)
  foreach(v ${ARGN})
    if(NOT DEFINED ${v})
      message(FATAL_ERROR "${script}: -D${v}=... is required")
    endif()
  endforeach()
endfunction()

# Run a command; fail with its output unless it exits 0. Its standard
# output, stripped, goes in run_out.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  string(STRIP "${out}" out)
  set(run_out "${out}" PARENT_SCOPE)
endfunction()
