#!/bin/sh
# docs/cmake/doxygen_filter.sh — Doxygen INPUT_FILTER for public headers that
# have no @file comment of their own (only kernels.h, see Doxyfile.in).
# Doxygen documents a C file's functions only when the file itself carries a
# @file comment. This puts "/** @file */" in front of line 1 (on the same
# line, so that the line numbers in warnings stay those of the header) — and
# passes the file through unchanged once it has a @file comment.
if grep -Eq '^/\*\*[[:space:]]*[@\\]file' "$1"; then
    cat "$1"
    exit
fi
printf '/** @file */'
cat "$1"
