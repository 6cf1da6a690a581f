/* coexec/scatter.h — scattered arrays (weft_arg_scattered) on devices with
 * memory of their own: the array as the operation found it, and the merge
 * of the bytes each device chunk changed, refusing two changes of one byte.
 * Internal. */
#ifndef WEFT_COEXEC_SCATTER_H
#define WEFT_COEXEC_SCATTER_H

#include <pthread.h>
#include <stddef.h>

#include "weft/panic.h"

struct weft__op;
struct weft__place;

/* One merged chunk: which bytes of which argument it changed. */
typedef struct weft__merged {
    size_t arg, lo, hi;           /* changed bytes lie in [lo, hi) */
    size_t ib, ie;                /* the chunk's indices */
    char place[128];
} weft__merged;

typedef struct weft__scatter {
    int ready;                    /* m is initialised */
    pthread_mutex_t m;            /* guards the merges into the host arrays */
    unsigned char **original;     /* per argument: its bytes at the start, or NULL */
    weft__merged *merged;
    size_t nmerged, cap;
} weft__scatter;

/* Keep the starting bytes of op's scattered arguments. 0, or -1 when memory
 * ran out (weft__scatter_free cleans up either way). */
int weft__scatter_init(struct weft__op *op);
void weft__scatter_free(struct weft__op *op);
/* Merge into argument i's host array the bytes that `after` (the device's
 * copy after pl's chunk) changed from the original. NULL, or a panic when a
 * changed byte had already been changed (by another chunk, or in place on
 * the host): nothing of this chunk is merged then. */
weft_panic_t *weft__scatter_merge(struct weft__op *op, const struct weft__place *pl, size_t i,
                                  const unsigned char *after);

#endif
