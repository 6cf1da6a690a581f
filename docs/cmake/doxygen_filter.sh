#!/bin/sh
# docs/cmake/doxygen_filter.sh — Doxygen INPUT_FILTER for the public headers.
# Doxygen documents a C file's functions only when the file itself carries a
# @file comment; the headers open with a plain comment instead. This puts
# "/** @file */" in front of line 1 (on the same line, so that the line
# numbers in warnings stay those of the header).
printf '/** @file */'
cat "$1"
