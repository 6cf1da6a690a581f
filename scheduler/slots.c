/* scheduler/slots.c — caller slots: how a thread from outside the pool
 * works while it blocks in weft.
 *
 * A thread that waits (a join, a scope, a parallel operation) and is not a
 * worker of the runtime borrows a slot for the wait: a worker structure
 * with its own deque, parker and worker-locals. In it the thread runs the
 * pool's tasks like a worker (OpenMP's master thread, oneTBB's slot for the
 * calling thread), so a runtime of N-1 workers keeps N cores busy while its
 * caller waits, and a task it spawns and joins at once usually runs on the
 * joining thread itself. Any number of threads may wait at once: each
 * takes a free slot, and a new one is made when all are lent. Slots are
 * never freed before the runtime (a waker may still name a slot's parker),
 * and tasks left in a returned slot's deque are stolen by the others. A
 * thread whose stack is less than half a worker's (a builder's dedicated
 * thread given a small stack) only sleeps in its slot: tasks are written
 * for a worker's stack. A worker of another runtime, or a thread holding a
 * weft mutex, takes no slot to help: it parks (worker.c). Spare threads,
 * which stand in for blocked workers, run in slots too (worker.c). */
#include <pthread.h>
#include <stdlib.h>

#include "core.h"

/* Tasks are written for a worker's stack (the default for new threads). */
static _Thread_local int stack_verdict; /* 0: not measured, 1: may help, -1: blocks */

int weft__stack_can_help(void)
{
    if (stack_verdict) return stack_verdict > 0;
    size_t mine = 0, worker = 0;
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        void *base;
        if (pthread_attr_getstack(&a, &base, &mine) != 0) mine = 0;
        pthread_attr_destroy(&a);
    }
    if (pthread_attr_init(&a) == 0) {
        if (pthread_attr_getstacksize(&a, &worker) != 0) worker = 0;
        pthread_attr_destroy(&a);
    }
    /* Unknown sizes: help. Half a worker's will do: the main thread's stack
     * reads a page short of the limit new threads get. */
    stack_verdict = mine == 0 || worker == 0 || mine >= worker / 2 ? 1 : -1;
    return stack_verdict > 0;
}

weft__worker *weft__slot_next(weft_runtime_t *rt, weft__worker *s)
{
    return s ? s->next_slot : atomic_load_explicit(&rt->slots, memory_order_acquire);
}

weft__worker *weft__slot_acquire(weft_runtime_t *rt)
{
    for (weft__worker *s = weft__slot_next(rt, NULL); s; s = s->next_slot) {
        int free_slot = 0;
        if (atomic_load_explicit(&s->held, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong_explicit(&s->held, &free_slot, 1, memory_order_acquire,
                                                    memory_order_relaxed))
            return s;
    }
    weft__worker *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    weft__worker_init(s, rt, rt->nworkers + atomic_fetch_add(&rt->nslots, 1));
    atomic_init(&s->held, 1);
    /* Publish it: thieves walk the list from its head. */
    weft__worker *head = atomic_load(&rt->slots);
    do {
        s->next_slot = head;
    } while (!atomic_compare_exchange_weak(&rt->slots, &head, s));
    return s;
}

void weft__slot_release(weft__worker *slot) { atomic_store_explicit(&slot->held, 0, memory_order_release); }

void weft__slots_free(weft_runtime_t *rt)
{
    weft__worker *s = atomic_load(&rt->slots);
    while (s) {
        weft__worker *next = s->next_slot;
        weft__deque_destroy(&s->q);
        free(s);
        s = next;
    }
    atomic_store(&rt->slots, NULL);
}
