/* scheduler/injector.h — the runtime's inject queue: tasks pushed from
 * threads outside the pool (the main thread, dedicated threads, driver
 * callbacks), taken by workers. Many producers, many consumers, first in
 * first out.
 *
 * A bounded lock-free ring first (Vyukov's multi-producer multi-consumer
 * queue: each cell carries a sequence number that says whose turn it is),
 * and an overflow FIFO behind a mutex for the rare burst that fills it.
 * Idle workers poll the injector all the time, and a thread from outside
 * may push thousands of tasks at once: a ring costs a producer and a
 * consumer one compare-and-swap each and lets pollers read without writing,
 * where a mutex made them fight the producer for its cache line.
 *
 * Order: first in first out per producer. While the overflow holds items,
 * pushes go there too, and consumers drain the ring first (its items are the
 * older), so one producer's items always leave in the order it pushed them.
 *
 * Who may call what: init and destroy, one thread while no other uses the
 * injector; push, steal, pop and len, any thread at any time. A cell's
 * sequence number, stored with release after the item and loaded with
 * acquire before it, carries what the pusher wrote into a task to the
 * thread that takes it; the overflow's mutex does the same for its items.
 * len is a snapshot that may be stale, as any emptiness test of a shared
 * queue is a moment later. */
#ifndef WEFT_SCHEDULER_INJECTOR_H
#define WEFT_SCHEDULER_INJECTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

struct weft_task;

#define WEFT__INJECTOR_RING 1024 /* cells; a power of two */

typedef struct weft__injector_cell {
    atomic_size_t seq;
    struct weft_task *item;
} weft__injector_cell;

typedef struct weft__injector {
    atomic_size_t enq;            /* next position to fill */
    char pad0[64 - sizeof(atomic_size_t)];
    atomic_size_t deq;            /* next position to take */
    char pad1[64 - sizeof(atomic_size_t)];
    weft__injector_cell ring[WEFT__INJECTOR_RING];
    /* the overflow, behind m */
    atomic_size_t spilled;        /* items in the overflow, readable without m */
    pthread_mutex_t m;
    struct weft_task **buf;
    size_t cap, head, n;          /* items at buf[(head + i) % cap], i < n */
} weft__injector;

void weft__injector_init(weft__injector *q);
/* Free q's ring. Items still queued are dropped. */
void weft__injector_destroy(weft__injector *q);
/* Queue t last. 0, or WEFT_ENOMEM when the ring was full and the overflow
 * could not grow (t is not queued then). */
int weft__injector_push(weft__injector *q, struct weft_task *t);
/* The oldest task; NULL when empty, or when the ring is empty and another
 * thread holds the overflow's lock (a poller skips a busy overflow rather
 * than queue on it; callers look again). */
struct weft_task *weft__injector_steal(weft__injector *q);
/* The oldest task, waiting for the lock; NULL only when empty. */
struct weft_task *weft__injector_pop(weft__injector *q);
/* The number of tasks queued: a snapshot that may already be stale. */
size_t weft__injector_len(const weft__injector *q);

#endif
