/* scheduler/deque.c — a growable double-ended task queue behind a mutex.
 * The owner pushes and pops at the tail (newest first, cache-warm); thieves
 * take from the head (oldest first, usually the biggest piece of work). */
#include <stdlib.h>

#include "core.h"

void weft__deque_init(weft__deque *q)
{
    atomic_init(&q->count, 0);
    pthread_mutex_init(&q->m, NULL);
    q->buf = NULL;
    q->cap = q->head = q->tail = 0;
}

void weft__deque_destroy(weft__deque *q)
{
    pthread_mutex_destroy(&q->m);
    free(q->buf);
}

int weft__deque_push(weft__deque *q, struct weft_task *t)
{
    pthread_mutex_lock(&q->m);
    if (q->tail - q->head == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct weft_task **buf = malloc(cap * sizeof *buf);
        if (!buf) {
            pthread_mutex_unlock(&q->m);
            return WEFT_ENOMEM;
        }
        for (size_t i = q->head; i < q->tail; i++) buf[i - q->head] = q->buf[i % q->cap];
        free(q->buf);
        q->tail -= q->head;
        q->head = 0;
        q->buf = buf;
        q->cap = cap;
    }
    q->buf[q->tail++ % q->cap] = t;
    atomic_fetch_add_explicit(&q->count, 1, memory_order_release);
    pthread_mutex_unlock(&q->m);
    return 0;
}

struct weft_task *weft__deque_pop(weft__deque *q)
{
    struct weft_task *t = NULL;
    if (atomic_load_explicit(&q->count, memory_order_acquire) == 0) return NULL;
    pthread_mutex_lock(&q->m);
    if (q->tail > q->head) {
        t = q->buf[--q->tail % q->cap];
        atomic_fetch_sub_explicit(&q->count, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&q->m);
    return t;
}

struct weft_task *weft__deque_steal(weft__deque *q)
{
    struct weft_task *t = NULL;
    /* Thieves poll often: an empty deque costs them no lock traffic, and a
     * busy one is skipped rather than queued on (no herd of sleepers). */
    if (atomic_load_explicit(&q->count, memory_order_acquire) == 0) return NULL;
    if (pthread_mutex_trylock(&q->m) != 0) return NULL;
    if (q->tail > q->head) {
        t = q->buf[q->head++ % q->cap];
        atomic_fetch_sub_explicit(&q->count, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&q->m);
    return t;
}
