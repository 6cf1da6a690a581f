/* coexec/ranges.h — a set of byte ranges: sorted, disjoint, never touching
 * (adjacent ranges are merged). What a registered array's copy in one place
 * holds current (coexec/array.c). Pure bookkeeping; the caller serialises
 * calls. Internal. */
#ifndef WEFT_COEXEC_RANGES_H
#define WEFT_COEXEC_RANGES_H

#include <stddef.h>

typedef struct weft__range {
    size_t lo, hi;                /* bytes [lo, hi), lo < hi */
} weft__range;

typedef struct weft__ranges {
    weft__range *v;
    size_t n, cap;
} weft__ranges;

/* Add [lo, hi) (nothing when lo >= hi). 0, or -1 when memory ran out (the
 * set is then unchanged). */
int weft__ranges_add(weft__ranges *s, size_t lo, size_t hi);
/* Remove [lo, hi). 0, or -1 when memory ran out (splitting a range in two
 * needs room; the set is then unchanged). */
int weft__ranges_remove(weft__ranges *s, size_t lo, size_t hi);
/* 1 when every byte of [lo, hi) is in the set (an empty range always is). */
int weft__ranges_covers(const weft__ranges *s, size_t lo, size_t hi);
/* The parts of [lo, hi) that are (in = 1) or are not (in = 0) in the set, in
 * order: calls fn(lo', hi', ctx) for each; stops early when fn returns
 * nonzero and returns that value, else 0. */
int weft__ranges_each(const weft__ranges *s, size_t lo, size_t hi, int in,
                      int (*fn)(size_t lo, size_t hi, void *ctx), void *ctx);
/* Bytes of [lo, hi) in the set. */
size_t weft__ranges_count(const weft__ranges *s, size_t lo, size_t hi);
void weft__ranges_clear(weft__ranges *s);
void weft__ranges_free(weft__ranges *s);

#endif
