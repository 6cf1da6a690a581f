/* coexec/borrow.c — C's stand-in for Rust's Send/Sync checks: two running
 * parallel operations may not write the same bytes. */
#include <stdlib.h>

#include "engine.h"

int weft__borrow_take(weft_runtime_t *rt, unsigned long id, const char *kernel,
                      const char *const *begin, const char *const *end, size_t n)
{
    pthread_mutex_lock(&weft__engine_of(rt)->m);
    for (size_t i = 0; i < n; i++) {
        for (weft__borrow *b = weft__engine_of(rt)->borrows; b; b = b->next) {
            if (b->id != id && begin[i] < b->end && b->begin < end[i]) {
                const char *lo = begin[i] > b->begin ? begin[i] : b->begin;
                const char *hi = end[i] < b->end ? end[i] : b->end;
                pthread_mutex_unlock(&weft__engine_of(rt)->m);
                weft__borrow_release(rt, id);
                return weft__fail(WEFT_EBORROW,
                                  "kernel '%s' would write %zu bytes at %p that running kernel '%s' "
                                  "also writes: join it first or write disjoint ranges",
                                  kernel, (size_t)(hi - lo), (const void *)lo, b->kernel);
            }
        }
        weft__borrow *nb = malloc(sizeof *nb);
        if (!nb) {
            pthread_mutex_unlock(&weft__engine_of(rt)->m);
            weft__borrow_release(rt, id);
            return weft__fail(WEFT_ENOMEM, "out of memory recording a write borrow");
        }
        nb->begin = begin[i];
        nb->end = end[i];
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
