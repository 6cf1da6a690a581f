# cmake/check_layers.cmake — the library's layers point one way.
#
#   cmake -DROOT=<source dir> -P cmake/check_layers.cmake
#       reads every #include of the library's sources and fails on one that
#       points up a layer (or into another layer's private header);
#   cmake -DSELFTEST=<scratch dir> -P cmake/check_layers.cmake
#       builds a small tree with one upward include in the scratch dir and
#       passes only if the check above rejects it.
#
# The layers, bottom up (a folder may include its own files and those of the
# folders before it):
#   scheduler  the CPU task runtime
#   host       the OpenCL host layer
#   coexec     the co-execution engine
#   runtime    the composition root
# Besides:
#   - include/weft (public headers) includes only weft/ headers and the C
#     library; CL/cl.h only from weft/opencl.h;
#   - kernels/ and mpi/ use only public headers (weft/...) and their own files;
#   - MPI (<mpi.h>) only from weft/mpi.h and mpi/: the core never depends on it;
#   - scheduler/ never includes OpenCL;
#   - scheduler/core.h is the scheduler's own: no other folder includes it.
cmake_minimum_required(VERSION 3.25)

set(WEFT_LAYERS scheduler host coexec runtime)

function(check_tree root out_errors)
  set(errors "")
  file(GLOB_RECURSE files RELATIVE "${root}"
    "${root}/scheduler/*.[ch]" "${root}/host/*.[ch]" "${root}/coexec/*.[ch]"
    "${root}/runtime/*.[ch]" "${root}/kernels/*.[ch]" "${root}/mpi/*.[ch]" "${root}/include/weft/*.h")
  foreach(f IN LISTS files)
    string(REGEX MATCH "^[^/]+" folder "${f}")
    if(folder STREQUAL "include")
      set(folder "include/weft")
    endif()
    list(FIND WEFT_LAYERS "${folder}" rank)
    file(STRINGS "${root}/${f}" lines REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS lines)
      if(NOT line MATCHES "#[ \t]*include[ \t]*([<\"])([^>\"]+)[>\"]")
        continue()
      endif()
      set(kind "${CMAKE_MATCH_1}")
      set(target "${CMAKE_MATCH_2}")
      set(bad "")
      if(target STREQUAL "mpi.h")
        if(NOT folder STREQUAL "mpi" AND NOT f STREQUAL "include/weft/mpi.h")
          set(bad "only weft/mpi.h and mpi/ include MPI")
        endif()
      elseif(target MATCHES "^CL/")
        if(folder STREQUAL "scheduler")
          set(bad "the scheduler includes no OpenCL")
        elseif(folder STREQUAL "include/weft" AND NOT f STREQUAL "include/weft/opencl.h")
          set(bad "only weft/opencl.h among the public headers includes OpenCL")
        endif()
      elseif(kind STREQUAL "\"" AND NOT target MATCHES "^weft/")
        # A quoted path: resolve it against the including file's folder.
        get_filename_component(dir "${f}" DIRECTORY)
        get_filename_component(abs "${root}/${dir}/${target}" ABSOLUTE)
        file(RELATIVE_PATH rel "${root}" "${abs}")
        string(REGEX MATCH "^[^/]+" tfolder "${rel}")
        list(FIND WEFT_LAYERS "${tfolder}" trank)
        if(rel STREQUAL "scheduler/core.h" AND NOT folder STREQUAL "scheduler")
          set(bad "scheduler/core.h is private to the scheduler")
        elseif(folder STREQUAL "include/weft")
          set(bad "public headers include only weft/ headers")
        elseif(folder STREQUAL "kernels" AND NOT tfolder STREQUAL "kernels" AND NOT rel MATCHES "^\\.\\.")
          set(bad "kernels/ uses only the public headers")
        elseif(folder STREQUAL "mpi" AND NOT tfolder STREQUAL "mpi")
          set(bad "mpi/ uses only the public headers")
        elseif(rank GREATER_EQUAL 0 AND trank GREATER rank)
          set(bad "${folder}/ is below ${tfolder}/")
        endif()
      endif()
      if(bad)
        if(kind STREQUAL "<")
          set(shown "<${target}>")
        else()
          set(shown "\"${target}\"")
        endif()
        string(APPEND errors "  ${f}: #include ${shown}: ${bad}\n")
      endif()
    endforeach()
  endforeach()
  set(${out_errors} "${errors}" PARENT_SCOPE)
endfunction()

if(DEFINED SELFTEST)
  file(REMOVE_RECURSE "${SELFTEST}")
  file(WRITE "${SELFTEST}/scheduler/pool.c" "#include \"core.h\"\n#include \"../host/host.h\"\n")
  file(WRITE "${SELFTEST}/scheduler/core.h" "#include <pthread.h>\n")
  file(WRITE "${SELFTEST}/host/host.h" "#include \"../scheduler/internal.h\"\n")
  check_tree("${SELFTEST}" errors)
  string(FIND "${errors}" "scheduler/pool.c: #include \"../host/host.h\": scheduler/ is below host/" at)
  if(at LESS 0)
    message(FATAL_ERROR "the layering check missed an upward include; it said:\n${errors}")
  endif()
  message(STATUS "the layering check rejects an upward include:\n${errors}")
  return()
endif()

if(NOT DEFINED ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source dir> -P check_layers.cmake")
endif()
check_tree("${ROOT}" errors)
if(errors)
  message(FATAL_ERROR "includes that point the wrong way:\n${errors}")
endif()
message(STATUS "layers point one way: scheduler < host < coexec < runtime; kernels/ and mpi/ on the public headers")
