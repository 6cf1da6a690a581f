/* fuzz/fuzz_cl_rewrite.c — the kernel-source scanner of coexec/cl_rewrite.c
 * on arbitrary text.
 *
 * Input: byte 0 picks the entry's name (and whether build options are
 * given); the rest is the OpenCL source. weft__cl_find_entry() must either
 * refuse with a reason or give positions inside the source that hold what
 * they claim; weft__cl_rewrite_entry() must agree with it, and its text must
 * carry the hidden parameter; weft__cl_sized_source() must end with the
 * source unchanged. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coexec/cl_rewrite.h"

static const char *const ENTRIES[] = {"k", "kern", "add", "weft__geometry", "get_group_id", "main"};
#define NENTRIES (sizeof ENTRIES / sizeof ENTRIES[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    const char *entry = ENTRIES[data[0] % NENTRIES];
    const char *options = (data[0] & 0x80) ? "-D N=4 -cl-fast-relaxed-math" : NULL;
    size_t len = size - 1;
    char *src = malloc(len + 1);
    if (!src) abort();
    memcpy(src, data + 1, len);
    src[len] = '\0';
    len = strlen(src); /* the scanner reads a C string */

    weft__cl_entry_loc loc;
    const char *why = weft__cl_find_entry(src, entry, options, &loc);
    if (!why) {
        if (loc.name >= len || loc.params_close >= len || loc.body_open >= len) abort();
        if (loc.body_end > len || loc.body_end <= loc.body_open) abort();
        if (src[loc.params_close] != ')' || src[loc.body_open] != '{' || src[loc.body_end - 1] != '}') abort();
        if (strncmp(src + loc.name, entry, strlen(entry)) != 0) abort();
    }
    const char *why_not = NULL;
    char *entry_form = weft__cl_rewrite_entry(src, entry, options, &why_not);
    if (entry_form) {
        if (why) abort(); /* found and rewritten must agree */
        if (!strstr(entry_form, WEFT__CL_GEOMETRY)) abort();
        if (strlen(entry_form) < len) abort();
        free(entry_form);
    } else if (!why_not && why) {
        abort(); /* a refusal says why; NULL alone means out of memory */
    }
    char *sized = weft__cl_sized_source(src, 1024, 1);
    if (sized) {
        size_t n = strlen(sized);
        if (n < len || strcmp(sized + n - len, src) != 0) abort();
        free(sized);
    }
    free(src);
    return 0;
}
