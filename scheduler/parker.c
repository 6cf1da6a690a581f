/* scheduler/parker.c — a token to sleep on, on a futex: the one primitive
 * every waiting thread of the pool sleeps with (idle.c), so a wake-up is one
 * atomic exchange and, only when the sleeper really sleeps, one system call.
 *
 * The state moves EMPTY -> PARKED (the sleeper, before it sleeps) and
 * anything -> NOTIFIED (the waker). The sleeper consumes a token by moving
 * NOTIFIED back to EMPTY. The waker calls into the kernel only when it took
 * the state from PARKED. */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"

enum { PARK_EMPTY = 0, PARK_PARKED = -1, PARK_NOTIFIED = 1 };

void weft__parker_init(weft__parker *p)
{
    atomic_init(&p->state, PARK_EMPTY);
    p->sleeping = 0;
    p->prev = p->next = NULL;
}

void weft__park(weft__parker *p)
{
    /* NOTIFIED (1) - 1 = EMPTY: a token was there, take it and go on;
     * EMPTY (0) - 1 = PARKED: sleep. */
    if (atomic_fetch_sub_explicit(&p->state, 1, memory_order_acquire) == PARK_NOTIFIED) return;
    for (;;) {
        /* Returns at once when the state is no longer PARKED; spurious and
         * interrupted returns only loop. */
        syscall(SYS_futex, &p->state, FUTEX_WAIT_PRIVATE, PARK_PARKED, NULL, NULL, 0);
        int notified = PARK_NOTIFIED;
        if (atomic_compare_exchange_strong_explicit(&p->state, &notified, PARK_EMPTY, memory_order_acquire,
                                                    memory_order_relaxed))
            return;
    }
}

void weft__unpark(weft__parker *p)
{
    if (atomic_exchange_explicit(&p->state, PARK_NOTIFIED, memory_order_release) == PARK_PARKED)
        syscall(SYS_futex, &p->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
