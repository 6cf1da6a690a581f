/* scheduler/injector.c — the inject queue: a FIFO ring behind a mutex, with
 * a count read without the lock (injector.h). */
#include <stdint.h>
#include <stdlib.h>

#include "core.h"

#define FIRST_CAP 64

void weft__injector_init(weft__injector *q)
{
    atomic_init(&q->count, 0);
    pthread_mutex_init(&q->m, NULL);
    q->buf = NULL;
    q->cap = q->head = q->n = 0;
}

void weft__injector_destroy(weft__injector *q)
{
    pthread_mutex_destroy(&q->m);
    free(q->buf);
    q->buf = NULL;
}

/* Under the lock: room for one more item, unwrapped into a ring twice the
 * size when full. 0 or WEFT_ENOMEM. */
static int make_room(weft__injector *q)
{
    if (q->n < q->cap) return 0;
    size_t cap = q->cap ? q->cap * 2 : FIRST_CAP;
    if (cap > SIZE_MAX / sizeof *q->buf) return WEFT_ENOMEM;
    struct weft_task **buf = malloc(cap * sizeof *buf);
    if (!buf) return WEFT_ENOMEM;
    for (size_t i = 0; i < q->n; i++) buf[i] = q->buf[(q->head + i) % q->cap];
    free(q->buf);
    q->buf = buf;
    q->cap = cap;
    q->head = 0;
    return 0;
}

int weft__injector_push(weft__injector *q, struct weft_task *t)
{
    pthread_mutex_lock(&q->m);
    int rc = make_room(q);
    if (rc == 0) {
        q->buf[(q->head + q->n++) % q->cap] = t;
        atomic_store_explicit(&q->count, q->n, memory_order_relaxed);
    }
    pthread_mutex_unlock(&q->m);
    return rc;
}

/* Under the lock: the oldest item, or NULL. */
static struct weft_task *take(weft__injector *q)
{
    if (q->n == 0) return NULL;
    struct weft_task *t = q->buf[q->head];
    q->head = (q->head + 1) % q->cap;
    atomic_store_explicit(&q->count, --q->n, memory_order_relaxed);
    return t;
}

struct weft_task *weft__injector_steal(weft__injector *q)
{
    if (atomic_load_explicit(&q->count, memory_order_relaxed) == 0) return NULL;
    if (pthread_mutex_trylock(&q->m) != 0) return NULL;
    struct weft_task *t = take(q);
    pthread_mutex_unlock(&q->m);
    return t;
}

struct weft_task *weft__injector_pop(weft__injector *q)
{
    if (atomic_load_explicit(&q->count, memory_order_relaxed) == 0) return NULL;
    pthread_mutex_lock(&q->m);
    struct weft_task *t = take(q);
    pthread_mutex_unlock(&q->m);
    return t;
}

size_t weft__injector_len(const weft__injector *q)
{
    return atomic_load_explicit(&q->count, memory_order_relaxed);
}
