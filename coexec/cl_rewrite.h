/* coexec/cl_rewrite.h — the OpenCL source a device place builds for an
 * operation's kernel: the user's source, with the work-item builtins that a
 * chunk would answer for itself made those of the whole range. Pure text,
 * no OpenCL (tests/coexec/test_cl_rewrite.c tests it alone). Internal.
 *
 * Two forms:
 *   - the entry form (weft__cl_rewrite_entry), the same text for every range:
 *     the entry kernel gets one hidden last parameter, `ulong4 weft__geometry`
 *     (s0, s1: the whole range's global sizes in x and y; s2 = 1, s3 = 0),
 *     which the place sets at launch, and around its definition, only there,
 *     get_global_size, get_num_groups, get_group_id, get_global_offset and
 *     get_global_linear_id are macros that read it. A program is then built
 *     once per (source, entry, options, device), whatever the range.
 *   - the sized form (weft__cl_sized_source), when the entry form cannot be
 *     made safely: the same macros before the whole source, with the sizes
 *     written in as numbers (a build per range size).
 * Both keep the build log's line (and column) numbers those of the user's
 * source. */
#ifndef WEFT_COEXEC_CL_REWRITE_H
#define WEFT_COEXEC_CL_REWRITE_H

#include <stddef.h>

/* The hidden parameter's name, as the macros use it. */
#define WEFT__CL_GEOMETRY "weft__geometry"

/* Where the entry's definition lies in a source (byte offsets). */
typedef struct weft__cl_entry_loc {
    size_t name;          /* the entry's name, where the definition names it */
    size_t params_close;  /* the ')' that closes its parameter list */
    int params;           /* 0: "()"; -1: "(void)"; 1: parameters */
    size_t void_begin;    /* params == -1: the `void` token [void_begin, void_end) */
    size_t void_end;
    size_t body_open;     /* the '{' that opens its body */
    size_t body_end;      /* one past the '}' that closes it */
} weft__cl_entry_loc;

/* Find the definition of kernel `entry` in src and check that the entry form
 * gives every builtin it reaches whole-range values. NULL and *loc when it
 * does; otherwise why not (a static string), and the sized form must be used:
 *   - the source cannot be read with certainty: an unterminated comment,
 *     unbalanced parentheses or braces (also within one branch of an
 *     #if/#ifdef group), #include or #line (also in options: -include,
 *     -imacros), a directive between the entry's name and its body;
 *   - the entry has no definition, more than one, or is named anywhere
 *     else (a prototype, a call, a macro);
 *   - a function the entry may call (through its body, macros or options,
 *     transitively), or code outside any function, uses one of the five
 *     builtins: there the real builtin would answer for the chunk;
 *   - the source or the options define, undefine or use one of the five
 *     builtins' names as a macro, or use the name weft__geometry.
 * options: the build options (may be NULL); the identifiers in them count as
 * used from outside the entry (a -D macro may name a helper). */
const char *weft__cl_find_entry(const char *src, const char *entry, const char *options,
                                weft__cl_entry_loc *loc);

/* The entry form of src (see the top); NULL when it cannot be made (*why_not
 * says why, as weft__cl_find_entry does) or memory ran out (*why_not NULL).
 * The caller frees the result. */
char *weft__cl_rewrite_entry(const char *src, const char *entry, const char *options, const char **why_not);

/* The sized form: src after macros that give the builtins the global sizes
 * gs0 (x) and gs1 (y) of the whole range. NULL when memory ran out. */
char *weft__cl_sized_source(const char *src, size_t gs0, size_t gs1);

#endif
