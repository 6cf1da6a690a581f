/* coexec/borrow.c — C's stand-in for Rust's Send/Sync checks: two running
 * parallel operations may not write the same bytes. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"

/* Whether contiguous bytes [lo, hi) meet a row of rectangle s. */
static int range_meets_rows(const char *lo, const char *hi, const weft__region *s)
{
    if (hi <= s->begin || lo >= s->end) return 0;
    if (lo <= s->begin) return 1; /* reaches the first row's first byte */
    size_t at = (size_t)(lo - s->begin), into = at % s->pitch;
    if (into < s->width) return 1; /* starts inside a row */
    const char *next = lo + (s->pitch - into); /* the next row's start */
    return next < hi && next < s->end;
}

/* Rows of a and b (same pitch p): a's row i is [ab + i p, + wa), b's row j
 * [bb + j p, + wb). Rows whose starts differ by d = bb - ab + (j - i) p meet
 * when -wb < d < wa; as widths are at most p, only two row offsets can. */
static int rows_meet(const weft__region *a, const weft__region *b)
{
    size_t p = a->pitch;
    size_t na = (size_t)(a->end - a->begin - (ptrdiff_t)a->width) / p + 1;
    size_t nb = (size_t)(b->end - b->begin - (ptrdiff_t)b->width) / p + 1;
    ptrdiff_t d0 = b->begin - a->begin;
    /* k = i - j; row offset d = d0 - k p; try k = floor(d0 / p) and one more */
    ptrdiff_t k0 = d0 >= 0 ? d0 / (ptrdiff_t)p : -((-d0 + (ptrdiff_t)p - 1) / (ptrdiff_t)p);
    for (ptrdiff_t k = k0; k <= k0 + 1; k++) {
        ptrdiff_t d = d0 - k * (ptrdiff_t)p;
        if (!(d > -(ptrdiff_t)b->width && d < (ptrdiff_t)a->width)) continue;
        /* some i in [0, na) with j = i - k in [0, nb) */
        ptrdiff_t lo = k > 0 ? k : 0, hi = (ptrdiff_t)nb + k < (ptrdiff_t)na ? (ptrdiff_t)nb + k : (ptrdiff_t)na;
        if (lo < hi) return 1;
    }
    return 0;
}

int weft__region_overlap(const weft__region *a, const weft__region *b)
{
    if (a->begin >= b->end || b->begin >= a->end) return 0;
    if (!a->pitch && !b->pitch) return 1;
    if (!a->pitch) return range_meets_rows(a->begin, a->end, b);
    if (!b->pitch) return range_meets_rows(b->begin, b->end, a);
    if (a->pitch == b->pitch) return rows_meet(a, b);
    return 1; /* different pitches: the ranges overlap, and that is enough */
}

/* Bytes the ranges of a and b share (for a rectangle, its range's: an
 * upper bound). */
static size_t shared_bytes(const weft__region *a, const weft__region *b)
{
    const char *lo = a->begin > b->begin ? a->begin : b->begin;
    const char *hi = a->end < b->end ? a->end : b->end;
    return (size_t)(hi - lo);
}

static const char *bytes_word(size_t n) { return n == 1 ? "byte" : "bytes"; }

int weft__borrow_take(weft_runtime_t *rt, unsigned long id, const char *kernel, const weft__region *r, size_t n)
{
    /* Within the operation: no two of its arguments may write a byte (which
     * would win is up to the places' timing). */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (weft__region_overlap(&r[i], &r[j])) {
                size_t k = shared_bytes(&r[i], &r[j]);
                size_t x = r[i].arg < r[j].arg ? r[i].arg : r[j].arg, y = r[i].arg < r[j].arg ? r[j].arg : r[i].arg;
                return weft__fail(WEFT_EBORROW, "kernel '%s': arguments %zu and %zu both write the same %zu %s: "
                                  "one operation writes a byte through one argument only", kernel, x, y, k,
                                  bytes_word(k));
            }
    pthread_mutex_lock(&weft__engine_of(rt)->m);
    for (size_t i = 0; i < n; i++) {
        for (weft__borrow *b = weft__engine_of(rt)->borrows; b; b = b->next) {
            if (b->id != id && weft__region_overlap(&r[i], &b->r)) {
                size_t k = shared_bytes(&r[i], &b->r), other_arg = b->r.arg;
                /* The other operation may finish (and free its name) as
                 * soon as the lock goes: copy the name first. */
                char other[128];
                snprintf(other, sizeof other, "%s", b->kernel);
                pthread_mutex_unlock(&weft__engine_of(rt)->m);
                weft__borrow_release(rt, id);
                return weft__fail(WEFT_EBORROW,
                                  "kernel '%s' argument %zu would write %zu %s that running kernel '%s' "
                                  "(its argument %zu) also writes: join it first or write disjoint ranges",
                                  kernel, r[i].arg, k, bytes_word(k), other, other_arg);
            }
        }
        weft__borrow *nb = malloc(sizeof *nb);
        if (!nb) {
            pthread_mutex_unlock(&weft__engine_of(rt)->m);
            weft__borrow_release(rt, id);
            return weft__fail(WEFT_ENOMEM, "out of memory recording a write borrow");
        }
        nb->r = r[i];
        nb->kernel = kernel;
        nb->id = id;
        nb->next = weft__engine_of(rt)->borrows;
        weft__engine_of(rt)->borrows = nb;
    }
    pthread_mutex_unlock(&weft__engine_of(rt)->m);
    return 0;
}

void weft__borrow_release(weft_runtime_t *rt, unsigned long id)
{
    pthread_mutex_lock(&weft__engine_of(rt)->m);
    weft__borrow **p = &weft__engine_of(rt)->borrows;
    while (*p) {
        if ((*p)->id == id) {
            weft__borrow *dead = *p;
            *p = dead->next;
            free(dead);
        } else {
            p = &(*p)->next;
        }
    }
    pthread_mutex_unlock(&weft__engine_of(rt)->m);
}

void weft__borrows_free(weft_runtime_t *rt)
{
    while (weft__engine_of(rt)->borrows) {
        weft__borrow *next = weft__engine_of(rt)->borrows->next;
        free(weft__engine_of(rt)->borrows);
        weft__engine_of(rt)->borrows = next;
    }
}
