/* scheduler/latch.c — set once, waited on: how joins and scopes wait.
 *
 * The latch is one atomic word (core.h). A waiter (weft__wait, worker.c)
 * runs the pool's tasks while it waits; when it finds none it registers its
 * parker in the word and sleeps (idle.c). The setter exchanges the word for
 * "set" and, if it took a parker out, unparks it: the exchange is its last
 * access to the latch, and the parker belongs to the runtime, so the waiter
 * may return (and free the latch) as soon as it sees the latch set. */
#include <sched.h>

#include "core.h"

#define LATCH_UNSET ((uintptr_t)0)
#define LATCH_SET ((uintptr_t)1)

void weft__latch_init(weft__latch *l) { atomic_init(&l->state, LATCH_UNSET); }

void weft__latch_set(weft__latch *l)
{
    uintptr_t old = atomic_exchange_explicit(&l->state, LATCH_SET, memory_order_acq_rel);
    if (old != LATCH_UNSET && old != LATCH_SET) weft__unpark((weft__parker *)old);
}

int weft__latch_is_set(const weft__latch *l)
{
    return atomic_load_explicit(&l->state, memory_order_acquire) == LATCH_SET;
}

int weft__latch_register(weft__latch *l, weft__parker *p)
{
    uintptr_t expect = LATCH_UNSET;
    if (atomic_compare_exchange_strong(&l->state, &expect, (uintptr_t)p)) return 1;
    if (expect == (uintptr_t)p) return 1;
    return expect == LATCH_SET ? 0 : -1;
}

void weft__latch_unregister(weft__latch *l, weft__parker *p)
{
    uintptr_t expect = (uintptr_t)p;
    atomic_compare_exchange_strong(&l->state, &expect, LATCH_UNSET);
}

void weft__latch_park(weft__latch *l, weft__parker *p)
{
    int registered = l ? weft__latch_register(l, p) : 1;
    if (registered > 0) weft__park(p);
    else if (registered < 0) sched_yield(); /* another thread sleeps on l: poll it */
    if (l && registered > 0) weft__latch_unregister(l, p);
}
