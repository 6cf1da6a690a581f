# docs/cmake/check_docs.cmake — keep the markdown and the example files equal.
#
#   cmake -DDOCS=<docs dir> -DMD=<file.md>[;<file.md>...] [-DUPDATE=ON] -P check_docs.cmake
#
# In the markdown, a line
#     <!-- include: examples/01_first_spawn.c -->
# followed by a fenced code block means: this block is that file, verbatim
# (path relative to DOCS). The check fails when a block differs from its file,
# when a named file is missing, or when an example program (examples/*.c) is
# quoted nowhere. With -DUPDATE=ON it rewrites the blocks from the files
# instead (run it after editing an example, then review the diff).
cmake_minimum_required(VERSION 3.25)

foreach(v DOCS MD)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_docs.cmake: -D${v}=... is required")
  endif()
endforeach()

set(marker "<!-- include: ")
set(problems "")
set(quoted "")

foreach(md IN LISTS MD)
  file(READ "${md}" text)
  set(rest "${text}")
  set(rewritten "")
  set(changed FALSE)
  while(TRUE)
    string(FIND "${rest}" "${marker}" at)
    if(at EQUAL -1)
      string(APPEND rewritten "${rest}")
      break()
    endif()
    string(SUBSTRING "${rest}" 0 ${at} before)
    string(APPEND rewritten "${before}")
    string(SUBSTRING "${rest}" ${at} -1 rest)
    # The marker line.
    string(FIND "${rest}" "\n" nl)
    string(SUBSTRING "${rest}" 0 ${nl} mline)
    string(REGEX MATCH "^<!-- include: ([^ ]+) -->$" ok "${mline}")
    if(NOT ok)
      string(APPEND problems "${md}: malformed marker: ${mline}\n")
      math(EXPR nl "${nl} + 1")
      string(SUBSTRING "${rest}" 0 ${nl} keep)
      string(APPEND rewritten "${keep}")
      string(SUBSTRING "${rest}" ${nl} -1 rest)
      continue()
    endif()
    set(name "${CMAKE_MATCH_1}")
    list(APPEND quoted "${name}")
    math(EXPR nl "${nl} + 1")
    string(SUBSTRING "${rest}" 0 ${nl} keep)
    string(APPEND rewritten "${keep}")
    string(SUBSTRING "${rest}" ${nl} -1 rest)
    # The opening fence must be the very next line.
    string(FIND "${rest}" "\n" nl)
    string(SUBSTRING "${rest}" 0 ${nl} fence)
    if(NOT fence MATCHES "^```")
      string(APPEND problems "${md}: ${name}: the line after the marker is not a ``` fence\n")
      continue()
    endif()
    math(EXPR nl "${nl} + 1")
    string(SUBSTRING "${rest}" 0 ${nl} keep)
    string(APPEND rewritten "${keep}")
    string(SUBSTRING "${rest}" ${nl} -1 rest)
    # The block runs to the closing fence at the start of a line (an empty
    # block closes at once).
    string(FIND "${rest}" "```" close)
    if(NOT close EQUAL 0)
      string(FIND "${rest}" "\n```" close)
      if(close EQUAL -1)
        string(APPEND problems "${md}: ${name}: the code block is not closed\n")
        break()
      endif()
      math(EXPR close "${close} + 1")
    endif()
    string(SUBSTRING "${rest}" 0 ${close} block)
    string(SUBSTRING "${rest}" ${close} -1 rest)
    if(NOT EXISTS "${DOCS}/${name}")
      string(APPEND problems "${md}: ${name}: no such file under ${DOCS}\n")
      string(APPEND rewritten "${block}")
      continue()
    endif()
    file(READ "${DOCS}/${name}" want)
    if(NOT "${block}" STREQUAL "${want}")
      if(UPDATE)
        set(changed TRUE)
        message(STATUS "${md}: updated the block of ${name}")
      else()
        string(APPEND problems "${md}: the block of ${name} differs from the file "
               "(cmake -DDOCS=${DOCS} \"-DMD=${md}\" -DUPDATE=ON -P ${CMAKE_CURRENT_LIST_FILE} rewrites it)\n")
      endif()
    endif()
    string(APPEND rewritten "${want}")
  endwhile()
  # Rewrite only a file that was read without problems.
  if(UPDATE AND changed AND problems STREQUAL "")
    file(WRITE "${md}" "${rewritten}")
  endif()
endforeach()

# Every example program is quoted somewhere.
file(GLOB programs RELATIVE "${DOCS}" "${DOCS}/examples/*.c")
foreach(p IN LISTS programs)
  list(FIND quoted "${p}" i)
  if(i EQUAL -1)
    string(APPEND problems "${p} is quoted in no markdown file\n")
  endif()
endforeach()

if(problems)
  message(FATAL_ERROR "docs are out of date:\n${problems}")
endif()
list(LENGTH quoted n)
message(STATUS "${n} quoted files match")
