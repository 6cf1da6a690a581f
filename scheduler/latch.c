/* scheduler/latch.c — set once, waited on: how joins and scopes wait.
 *
 * A waiter outside the pool spins (rt->join_spins rounds, $WEFT_WAIT_POLICY),
 * then sleeps on the latch's condition
 * variable; a worker waits through weft__wait (worker.c), which runs other
 * tasks and sleeps on its own parker, named in `helper` (idle.c). A task's
 * setter takes the mutex only when a thread sleeps on the condition; a
 * scope's setter always takes it, so a waiter that saw `set` only has to pass
 * the mutex once (weft__latch_settle) to know the setter is done with the
 * latch — which lets scopes keep their latch on the stack. */
#include <sched.h>

#include "core.h"

void weft__latch_init(weft__latch *l)
{
    atomic_init(&l->set, 0);
    atomic_init(&l->parked, 0);
    atomic_init(&l->helper, NULL);
    pthread_mutex_init(&l->m, NULL);
    pthread_cond_init(&l->c, NULL);
}

void weft__latch_destroy(weft__latch *l)
{
    pthread_cond_destroy(&l->c);
    pthread_mutex_destroy(&l->m);
}

/* Wake whoever waits: the worker helping (its parker lives as long as the
 * runtime), then sleepers on the condition. */
static void wake_waiters(weft__latch *l, int locked)
{
    weft__parker *h = atomic_load(&l->helper);
    if (h) weft__unpark(h);
    if (atomic_load(&l->parked)) {
        if (!locked) pthread_mutex_lock(&l->m);
        pthread_cond_broadcast(&l->c);
        if (!locked) pthread_mutex_unlock(&l->m);
    }
}

void weft__latch_set(weft__latch *l)
{
    /* Dekker pairing with the waiters: either a waiter sees set, or we see
     * it parked (or helping) and wake it. */
    atomic_store(&l->set, 1);
    wake_waiters(l, 0);
}

void weft__latch_set_locked(weft__latch *l)
{
    pthread_mutex_lock(&l->m);
    atomic_store(&l->set, 1);
    wake_waiters(l, 1);
    pthread_mutex_unlock(&l->m);
}

int weft__latch_is_set(const weft__latch *l)
{
    return atomic_load_explicit(&l->set, memory_order_acquire);
}

void weft__latch_settle(weft__latch *l)
{
    /* A locked setter holds m while it touches l: passing through m orders
     * its last access before our return. */
    pthread_mutex_lock(&l->m);
    pthread_mutex_unlock(&l->m);
}

void weft__latch_block(weft__latch *l, unsigned max_spins)
{
    for (unsigned spins = 0; !weft__latch_is_set(l) && spins < max_spins; spins++) {
        if (spins % 64 == 63) sched_yield();
        else weft__cpu_relax();
    }
    if (!weft__latch_is_set(l)) {
        pthread_mutex_lock(&l->m);
        atomic_store(&l->parked, 1);
        while (!atomic_load(&l->set)) pthread_cond_wait(&l->c, &l->m);
        pthread_mutex_unlock(&l->m);
    }
    weft__latch_settle(l);
}
