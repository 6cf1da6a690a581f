/* coexec/write_check.h — checking that a chunk writes only the bytes its
 * split arguments declare (weft_runtime_options_t::check_writes). For a
 * device that copies: before the chunk, each written split array's device
 * buffer gets an image — the host's bytes where the chunk may read them, a
 * canary everywhere else; after it, the whole buffer comes back and every
 * byte outside the chunk's write span must still be the image's. Internal. */
#ifndef WEFT_COEXEC_WRITE_CHECK_H
#define WEFT_COEXEC_WRITE_CHECK_H

#include <stddef.h>

#include "op.h"

/* The canary byte: what no declared write leaves behind by chance often. */
#define WEFT__CANARY 0xc5u

/* For one place: per argument, the image sent and the buffer read back
 * (NULL for arguments that are not written splits). */
typedef struct weft__write_check {
    unsigned char **image;
    unsigned char **after;
} weft__write_check;

/* Build the images for op's chunk of groups [gb, ge). 0, or -1 when memory
 * ran out (nothing is kept then). */
int weft__write_check_prepare(const weft__op *op, size_t gb, size_t ge, weft__write_check *wc);
/* After the chunk: NULL when every written split kept its image outside the
 * chunk's write span (then the span is copied to the host array), else a
 * panic naming the first argument, chunk and offset that differ. The images
 * are freed either way. */
weft_panic_t *weft__write_check_finish(const weft__op *op, const weft__place *pl, weft__write_check *wc);
/* Free what prepare made (a chunk that failed before finish). */
void weft__write_check_free(const weft__op *op, weft__write_check *wc);

#endif
