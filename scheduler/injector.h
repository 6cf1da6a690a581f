/* scheduler/injector.h — the runtime's inject queue: tasks pushed from
 * threads outside the pool (the main thread, dedicated threads, driver
 * callbacks), taken by workers. Many producers, many consumers, first in
 * first out.
 *
 * A growable ring behind a mutex: pushes from outside are rare next to the
 * workers' own deques (deque.h). What is frequent is idle workers looking
 * at an empty injector, so an atomic count says "empty" without the lock.
 *
 * Who may call what: init and destroy, one thread while no other uses the
 * injector; push, steal, pop and len, any thread at any time. The mutex
 * orders the items and carries what the pusher wrote into a task to the
 * thread that takes it. The count is written under the mutex and read
 * without it, relaxed: it only decides whether to take the lock. A reader
 * that synchronised with a push some other way (the pool's `queued`) sees
 * that push counted; otherwise what it reads may be stale, as any
 * emptiness test of a shared queue is a moment later. */
#ifndef WEFT_SCHEDULER_INJECTOR_H
#define WEFT_SCHEDULER_INJECTOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

struct weft_task;

typedef struct weft__injector {
    atomic_size_t count;          /* items, readable without the lock */
    pthread_mutex_t m;
    struct weft_task **buf;
    size_t cap, head, n;          /* items at buf[(head + i) % cap], i < n */
} weft__injector;

void weft__injector_init(weft__injector *q);
/* Free q's ring. Items still queued are dropped. */
void weft__injector_destroy(weft__injector *q);
/* Queue t last. 0, or WEFT_ENOMEM when the ring could not grow (t is not
 * queued then). */
int weft__injector_push(weft__injector *q, struct weft_task *t);
/* The oldest task; NULL when empty or when another thread holds the lock
 * (a poller skips a busy injector rather than queue on it; callers look
 * again). */
struct weft_task *weft__injector_steal(weft__injector *q);
/* The oldest task, waiting for the lock; NULL only when empty. */
struct weft_task *weft__injector_pop(weft__injector *q);
/* The number of tasks queued: a snapshot that may already be stale. */
size_t weft__injector_len(const weft__injector *q);

#endif
