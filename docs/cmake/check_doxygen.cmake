# docs/cmake/check_doxygen.cmake — run Doxygen and fail when the public
# headers are not fully documented.
#
#   cmake -DDOXYGEN=<doxygen> -DDOXYFILE=<Doxyfile> -DWARNINGS=<log>
#         -DHEADERS=<include/weft directory> -P check_doxygen.cmake
#
# Every warning is printed. The check fails when Doxygen fails to run, or on
#  - any warning at all about a header of HEADERS other than kernels.h
#    (undocumented typedefs, enumerators, fields, macros, parameters or return
#    values, unknown commands, stray HTML, ...);
#  - an undocumented function anywhere (kernels.h included: its other
#    warnings are reported but tolerated while it is being written).
# Warnings about other inputs (the Markdown guides, the configuration) are
# reported but tolerated.
#
# A warning belongs to the file it names ("/path/x.h:12: warning: ..."). Some
# name no file but a member ("<weft_foo_at>:1: warning: ...", when a member
# has only a brief description): those belong to the header that declares
# that identifier. Lines that follow a warning without a location of their
# own ("  parameter 'rt'") are part of it.
cmake_minimum_required(VERSION 3.25)
foreach(v DOXYGEN DOXYFILE WARNINGS HEADERS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_doxygen.cmake: -D${v}=... is required")
  endif()
endforeach()

get_filename_component(HEADERS "${HEADERS}" ABSOLUTE)

# Headers held to the strict rule: every *.h of HEADERS but kernels.h.
set(lenient_name "kernels.h")
file(GLOB headers LIST_DIRECTORIES false "${HEADERS}/*.h")
set(strict_headers "")
foreach(h IN LISTS headers)
  get_filename_component(name "${h}" NAME)
  if(NOT name STREQUAL lenient_name)
    list(APPEND strict_headers "${h}")
  endif()
endforeach()
if(NOT strict_headers)
  message(FATAL_ERROR "check_doxygen.cmake: no header found in ${HEADERS}")
endif()

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

# The header ("strict:<path>", "lenient") or "other" a warning entry belongs to.
function(weft__owner entry out)
  set(owner "other")
  if(entry MATCHES "${location_re}")
    set(where "${CMAKE_MATCH_1}")
    if(where MATCHES "^<([A-Za-z_][A-Za-z0-9_]*)>$")
      # A member, not a file: find the header that declares it.
      set(ident_re "(^|[^A-Za-z0-9_])${CMAKE_MATCH_1}([^A-Za-z0-9_]|$)")
      foreach(h IN LISTS strict_headers)
        file(READ "${h}" text)
        if(text MATCHES "${ident_re}")
          set(${out} "strict:${h}" PARENT_SCOPE)
          return()
        endif()
      endforeach()
      if(EXISTS "${HEADERS}/${lenient_name}")
        file(READ "${HEADERS}/${lenient_name}" text)
        if(text MATCHES "${ident_re}")
          set(owner "lenient")
        endif()
      endif()
    else()
      get_filename_component(where_abs "${where}" ABSOLUTE)
      if(where_abs IN_LIST strict_headers)
        set(owner "strict:${where_abs}")
      elseif(where_abs STREQUAL "${HEADERS}/${lenient_name}")
        set(owner "lenient")
      endif()
    endif()
  endif()
  set(${out} "${owner}" PARENT_SCOPE)
endfunction()

# Sort one complete warning entry into the failures it causes.
function(weft__classify entry)
  math(EXPR n "${ntotal} + 1")
  set(ntotal ${n} PARENT_SCOPE)
  weft__owner("${entry}" owner)
  if(owner MATCHES "^strict:")
    math(EXPR n "${nstrict} + 1")
    set(nstrict ${n} PARENT_SCOPE)
    set(strict_failures "${strict_failures}${entry}\n" PARENT_SCOPE)
  elseif(entry MATCHES "\\(function\\)[^\n]*is not documented")
    math(EXPR n "${nundoc} + 1")
    set(nundoc ${n} PARENT_SCOPE)
    set(undocumented "${undocumented}${entry}\n" PARENT_SCOPE)
  endif()
endfunction()

# ---- split the log into warnings and sort them -------------------------------
# A line "<location>:<line>: warning|error: ..." (or one starting "warning:")
# starts an entry; the lines after it without such a start belong to it. The
# log is walked with string(FIND) rather than as a CMake list, which brackets
# and semicolons in messages would upset.
set(location_re "^([^\n]+):([0-9]+): (warning|error): ")
set(ntotal 0)
set(nstrict 0)
set(nundoc 0)
set(strict_failures "")
set(undocumented "")
set(rest "${log}")
set(current "")
while(NOT rest STREQUAL "")
  string(FIND "${rest}" "\n" nl)
  if(nl EQUAL -1)
    set(line "${rest}")
    set(rest "")
  else()
    string(SUBSTRING "${rest}" 0 ${nl} line)
    math(EXPR next "${nl} + 1")
    string(SUBSTRING "${rest}" ${next} -1 rest)
  endif()
  if(line MATCHES "${location_re}" OR line MATCHES "^(warning|error): ")
    if(NOT current STREQUAL "")
      weft__classify("${current}")
    endif()
    set(current "${line}")
  elseif(NOT line STREQUAL "")
    if(current STREQUAL "")
      set(current "${line}")
    else()
      string(APPEND current "\n${line}")
    endif()
  endif()
endwhile()
if(NOT current STREQUAL "")
  weft__classify("${current}")
endif()

message("doxygen: ${ntotal} warning(s):\n${log}")
set(failures "")
if(nstrict GREATER 0)
  string(APPEND failures
    "${nstrict} warning(s) about the public headers (every one must be fixed; "
    "only ${lenient_name} is exempt):\n${strict_failures}")
endif()
if(nundoc GREATER 0)
  string(APPEND failures "${nundoc} public function(s) without documentation:\n${undocumented}")
endif()
if(NOT failures STREQUAL "")
  message(FATAL_ERROR "${failures}")
endif()
message(STATUS "doxygen: ${ntotal} tolerated warning(s) (${lenient_name} or non-header inputs); "
               "none about the other public headers")
