# docs/cmake/check_doxygen.cmake — run Doxygen and fail when a public function
# is undocumented.
#
#   cmake -DDOXYGEN=<doxygen> -DDOXYFILE=<Doxyfile> -DWARNINGS=<log> -P check_doxygen.cmake
#
# Every warning is printed; only "... (function) ... is not documented" ones
# (and Doxygen failing to run) fail the check: undocumented struct fields,
# enum values and macros are reported but tolerated.
cmake_minimum_required(VERSION 3.25)
foreach(v DOXYGEN DOXYFILE WARNINGS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_doxygen.cmake: -D${v}=... is required")
  endif()
endforeach()

file(REMOVE "${WARNINGS}")
execute_process(COMMAND "${DOXYGEN}" "${DOXYFILE}"
  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "doxygen failed (${rc}):\n${err}")
endif()
set(log "")
if(EXISTS "${WARNINGS}")
  file(READ "${WARNINGS}" log)
endif()
if(log STREQUAL "")
  message(STATUS "doxygen: no warnings")
  return()
endif()
message("doxygen warnings:\n${log}")
string(REGEX MATCHALL "[^\n]*\\(function\\)[^\n]*is not documented[^\n]*" undocumented "${log}")
if(undocumented)
  list(LENGTH undocumented n)
  string(REPLACE ";" "\n" undocumented "${undocumented}")
  message(FATAL_ERROR "${n} public function(s) without documentation:\n${undocumented}")
endif()
