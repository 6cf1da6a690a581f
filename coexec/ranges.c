/* coexec/ranges.c — a sorted set of disjoint byte ranges. */
#include <stdlib.h>
#include <string.h>

#include "ranges.h"

/* First range whose end reaches lo or beyond (hi >= lo: a range ending at
 * lo touches [lo, ...) and merges with it). */
static size_t first_reaching(const weft__ranges *s, size_t lo)
{
    size_t a = 0, b = s->n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (s->v[m].hi < lo) a = m + 1;
        else b = m;
    }
    return a;
}

static int reserve(weft__ranges *s, size_t n)
{
    if (n <= s->cap) return 0;
    size_t cap = s->cap ? s->cap * 2 : 4;
    while (cap < n) cap *= 2;
    weft__range *v = realloc(s->v, cap * sizeof *v);
    if (!v) return -1;
    s->v = v;
    s->cap = cap;
    return 0;
}

int weft__ranges_add(weft__ranges *s, size_t lo, size_t hi)
{
    if (lo >= hi) return 0;
    size_t i = first_reaching(s, lo), j = i;
    /* [i, j): the ranges that overlap or touch [lo, hi), merged into one. */
    while (j < s->n && s->v[j].lo <= hi) j++;
    if (i == j) {
        if (reserve(s, s->n + 1)) return -1;
        memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
        s->v[i] = (weft__range){lo, hi};
        s->n++;
        return 0;
    }
    if (s->v[i].lo < lo) lo = s->v[i].lo;
    if (s->v[j - 1].hi > hi) hi = s->v[j - 1].hi;
    s->v[i] = (weft__range){lo, hi};
    memmove(&s->v[i + 1], &s->v[j], (s->n - j) * sizeof *s->v);
    s->n -= j - i - 1;
    return 0;
}

int weft__ranges_remove(weft__ranges *s, size_t lo, size_t hi)
{
    if (lo >= hi || !s->n) return 0;
    size_t i = first_reaching(s, lo);
    if (i < s->n && s->v[i].hi == lo) i++; /* touching is not overlapping */
    if (i < s->n && s->v[i].lo < lo && s->v[i].hi > hi) {
        /* [lo, hi) inside one range: it splits in two. */
        if (reserve(s, s->n + 1)) return -1;
        memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
        s->n++;
        s->v[i].hi = lo;
        s->v[i + 1].lo = hi;
        return 0;
    }
    if (i < s->n && s->v[i].lo < lo) {
        s->v[i].hi = lo; /* keeps its head */
        i++;
    }
    size_t j = i;
    while (j < s->n && s->v[j].hi <= hi) j++; /* wholly inside: gone */
    if (j < s->n && s->v[j].lo < hi) s->v[j].lo = hi; /* keeps its tail */
    memmove(&s->v[i], &s->v[j], (s->n - j) * sizeof *s->v);
    s->n -= j - i;
    return 0;
}

int weft__ranges_covers(const weft__ranges *s, size_t lo, size_t hi)
{
    if (lo >= hi) return 1;
    size_t i = first_reaching(s, lo);
    if (i < s->n && s->v[i].hi == lo) i++;
    return i < s->n && s->v[i].lo <= lo && s->v[i].hi >= hi;
}

int weft__ranges_each(const weft__ranges *s, size_t lo, size_t hi, int in,
                      int (*fn)(size_t lo, size_t hi, void *ctx), void *ctx)
{
    size_t at = lo;
    for (size_t i = first_reaching(s, lo); i < s->n && at < hi && s->v[i].lo < hi; i++) {
        size_t b = s->v[i].lo > at ? s->v[i].lo : at, e = s->v[i].hi < hi ? s->v[i].hi : hi;
        if (b >= e) continue;
        int rc = in ? fn(b, e, ctx) : (at < b ? fn(at, b, ctx) : 0);
        if (rc) return rc;
        at = e;
    }
    if (!in && at < hi) return fn(at, hi, ctx);
    return 0;
}

static int add_len(size_t lo, size_t hi, void *ctx)
{
    *(size_t *)ctx += hi - lo;
    return 0;
}

size_t weft__ranges_count(const weft__ranges *s, size_t lo, size_t hi)
{
    size_t n = 0;
    weft__ranges_each(s, lo, hi, 1, add_len, &n);
    return n;
}

void weft__ranges_clear(weft__ranges *s) { s->n = 0; }

void weft__ranges_free(weft__ranges *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}
