/* scheduler/event.c — one-shot events: how joins and scopes wait.
 *
 * A waiter first spins (on a worker: running other tasks while it spins), then
 * parks on the event's condition variable. A task's setter takes the mutex
 * only when someone parked; a scope's setter always takes it, so a waiter that
 * saw `set` only has to pass the mutex once to know the setter is done with
 * the event — which lets scopes live on the stack. */
#include <sched.h>
#include <time.h>

#include "internal.h"

#define SPIN_ROUNDS 4000
#define WORKER_PARK_NS 200000 /* a parked worker looks for work this often */

void weft__event_init(weft__event *e)
{
    atomic_init(&e->set, 0);
    atomic_init(&e->parked, 0);
    pthread_mutex_init(&e->m, NULL);
    pthread_cond_init(&e->c, NULL);
}

void weft__event_destroy(weft__event *e)
{
    pthread_cond_destroy(&e->c);
    pthread_mutex_destroy(&e->m);
}

void weft__event_set(weft__event *e)
{
    /* Dekker pairing with park(): either the parking waiter sees set, or we
     * see it parked and wake it under the mutex. */
    atomic_store_explicit(&e->set, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&e->parked, memory_order_seq_cst)) {
        pthread_mutex_lock(&e->m);
        pthread_cond_broadcast(&e->c);
        pthread_mutex_unlock(&e->m);
    }
}

void weft__event_set_locked(weft__event *e)
{
    pthread_mutex_lock(&e->m);
    atomic_store_explicit(&e->set, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&e->parked, memory_order_relaxed))
        pthread_cond_broadcast(&e->c);
    pthread_mutex_unlock(&e->m);
}

int weft__event_is_set(const weft__event *e)
{
    return atomic_load_explicit(&e->set, memory_order_acquire);
}

static void park(weft__event *e, int timed)
{
    pthread_mutex_lock(&e->m);
    atomic_store_explicit(&e->parked, 1, memory_order_seq_cst);
    if (!atomic_load_explicit(&e->set, memory_order_seq_cst)) {
        if (timed) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += WORKER_PARK_NS;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_nsec -= 1000000000L;
                ts.tv_sec++;
            }
            pthread_cond_timedwait(&e->c, &e->m, &ts);
        } else {
            while (!atomic_load_explicit(&e->set, memory_order_acquire))
                pthread_cond_wait(&e->c, &e->m);
        }
    }
    pthread_mutex_unlock(&e->m);
}

void weft__event_wait(weft_runtime_t *rt, weft__event *e)
{
    weft__thread_ctx *ctx = weft__ctx();
    int helping = ctx->worker && ctx->rt == rt;
    unsigned spins = 0;
    while (!weft__event_is_set(e)) {
        if (helping) {
            /* Run other tasks while waiting: this is what keeps nested scopes
             * and joins from deadlocking a pool, even with one worker. */
            struct weft_task *t = weft__pool_find(rt);
            if (t) {
                weft__task_execute(t);
                spins = 0;
                continue;
            }
        }
        if (spins < SPIN_ROUNDS) {
            spins++;
            if (spins % 64 == 0) sched_yield();
            else weft__cpu_relax();
            continue;
        }
        park(e, helping);
    }
    /* A locked setter holds m while it touches e: passing through m orders
     * its last access before our return (see weft__event_set_locked). */
    pthread_mutex_lock(&e->m);
    pthread_mutex_unlock(&e->m);
}
