# docs/cmake/run_example.cmake — run one tutorial example and compare what it
# prints with what the tutorial says it prints.
#
#   cmake -DEXE=<program> -DEXPECTED=<file> [-DEXPECTED_STDERR=<file>]
#         [-DARGS=<a;b;...>] [-DEMULATOR=<cmd;args...>] -P run_example.cmake
#
# EXPECTED holds the exact standard output. A line of it may contain {{*}},
# which stands for any text within that line (for what differs between
# machines: device names, memory sizes, addresses). EXPECTED_STDERR, when
# given and the file exists, is compared with standard error the same way. An example that exits
# with status 77 found no OpenCL device: this script then prints
# "weft-example: skipped", which the test's SKIP_REGULAR_EXPRESSION turns
# into a skipped test (a -P script cannot choose its own exit status).
cmake_minimum_required(VERSION 3.25)

foreach(v EXE EXPECTED)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_example.cmake: -D${v}=... is required")
  endif()
endforeach()

# EMULATOR (for example valgrind and its options) runs the program.
execute_process(COMMAND ${EMULATOR} ${EXE} ${ARGS}
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  RESULT_VARIABLE rc)

if(rc STREQUAL "77")
  message("${out}${err}weft-example: skipped")
  return()
endif()

# 1 in ${result} when `line` matches the pattern `pat` (literal text with
# {{*}} standing for any run of characters), else 0.
function(weft__line_matches line pat result)
  set(star "{{*}}")
  string(FIND "${pat}" "${star}" at)
  if(at EQUAL -1)
    if("${line}" STREQUAL "${pat}")
      set(${result} 1 PARENT_SCOPE)
    else()
      set(${result} 0 PARENT_SCOPE)
    endif()
    return()
  endif()
  # The text before the first {{*}} must start the line.
  string(SUBSTRING "${pat}" 0 ${at} head)
  string(LENGTH "${head}" hlen)
  string(LENGTH "${line}" llen)
  if(hlen GREATER llen)
    set(${result} 0 PARENT_SCOPE)
    return()
  endif()
  string(SUBSTRING "${line}" 0 ${hlen} lhead)
  if(NOT "${lhead}" STREQUAL "${head}")
    set(${result} 0 PARENT_SCOPE)
    return()
  endif()
  string(SUBSTRING "${line}" ${hlen} -1 rest)
  math(EXPR from "${at} + 5")
  string(SUBSTRING "${pat}" ${from} -1 prest)
  # Each further piece: found in order; the last one must end the line.
  while(TRUE)
    string(FIND "${prest}" "${star}" at)
    if(at EQUAL -1)
      string(LENGTH "${prest}" plen)
      string(LENGTH "${rest}" rlen)
      if(plen GREATER rlen)
        set(${result} 0 PARENT_SCOPE)
        return()
      endif()
      math(EXPR off "${rlen} - ${plen}")
      string(SUBSTRING "${rest}" ${off} -1 tail)
      if("${tail}" STREQUAL "${prest}")
        set(${result} 1 PARENT_SCOPE)
      else()
        set(${result} 0 PARENT_SCOPE)
      endif()
      return()
    endif()
    string(SUBSTRING "${prest}" 0 ${at} piece)
    math(EXPR from "${at} + 5")
    string(SUBSTRING "${prest}" ${from} -1 prest)
    string(FIND "${rest}" "${piece}" found)
    if(found EQUAL -1)
      set(${result} 0 PARENT_SCOPE)
      return()
    endif()
    string(LENGTH "${piece}" plen)
    math(EXPR from "${found} + ${plen}")
    string(SUBSTRING "${rest}" ${from} -1 rest)
  endwhile()
endfunction()

# Compare text `got` with the patterns of file `file`, line by line. Sets
# ${result} to "" when they agree, else to a description of the first
# difference. No CMake lists are used: output may hold ';', '[' and ']'.
function(weft__compare got file what result)
  file(READ "${file}" want)
  set(lineno 0)
  while(TRUE)
    math(EXPR lineno "${lineno} + 1")
    if("${want}" STREQUAL "" AND "${got}" STREQUAL "")
      set(${result} "" PARENT_SCOPE)
      return()
    endif()
    if("${want}" STREQUAL "")
      set(${result} "${what} line ${lineno}: expected the end, got more output" PARENT_SCOPE)
      return()
    endif()
    if("${got}" STREQUAL "")
      set(${result} "${what} line ${lineno}: output ended early" PARENT_SCOPE)
      return()
    endif()
    foreach(side want got)
      string(FIND "${${side}}" "\n" nl)
      if(nl EQUAL -1)
        set(${side}_line "${${side}}")
        set(${side} "")
      else()
        string(SUBSTRING "${${side}}" 0 ${nl} ${side}_line)
        math(EXPR nl "${nl} + 1")
        string(SUBSTRING "${${side}}" ${nl} -1 ${side})
      endif()
    endforeach()
    weft__line_matches("${got_line}" "${want_line}" ok)
    if(NOT ok)
      set(${result} "${what} line ${lineno}:\n  expected: ${want_line}\n  got:      ${got_line}" PARENT_SCOPE)
      return()
    endif()
  endwhile()
endfunction()

set(problems "")
if(NOT rc STREQUAL "0")
  string(APPEND problems "exit status ${rc} (expected 0)\n")
endif()
weft__compare("${out}" "${EXPECTED}" "stdout" why)
if(why)
  string(APPEND problems "${why}\n")
endif()
if(DEFINED EXPECTED_STDERR AND EXISTS "${EXPECTED_STDERR}")
  weft__compare("${err}" "${EXPECTED_STDERR}" "stderr" why)
  if(why)
    string(APPEND problems "${why}\n")
  endif()
endif()

if(problems)
  message("---- stdout ----\n${out}---- stderr ----\n${err}----")
  message(FATAL_ERROR "${EXE}:\n${problems}")
endif()
message("${out}")
