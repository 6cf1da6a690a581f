/* scheduler/injector.c — the inject queue: a lock-free ring, and an
 * overflow FIFO behind a mutex for bursts that fill it (injector.h). */
#include <stdint.h>
#include <stdlib.h>

#include "core.h"

#define MASK ((size_t)WEFT__INJECTOR_RING - 1)
#define FIRST_CAP 64

void weft__injector_init(weft__injector *q)
{
    atomic_init(&q->enq, 0);
    atomic_init(&q->deq, 0);
    /* Cell i is free for the push at position i. */
    for (size_t i = 0; i < WEFT__INJECTOR_RING; i++) {
        atomic_init(&q->ring[i].seq, i);
        q->ring[i].item = NULL;
    }
    atomic_init(&q->spilled, 0);
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

/* ---- the ring ------------------------------------------------------------- */

/* 0 when queued, -1 when the ring is full. */
static int ring_push(weft__injector *q, struct weft_task *t)
{
    size_t pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
    for (;;) {
        weft__injector_cell *c = &q->ring[pos & MASK];
        size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        intptr_t dif = (intptr_t)seq - (intptr_t)pos;
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->enq, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                c->item = t;
                atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
                return 0;
            }
        } else if (dif < 0) {
            return -1; /* the cell still holds the item of a lap ago */
        } else {
            pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
        }
    }
}

static struct weft_task *ring_take(weft__injector *q)
{
    size_t pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
    for (;;) {
        weft__injector_cell *c = &q->ring[pos & MASK];
        size_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
        intptr_t dif = (intptr_t)seq - (intptr_t)(pos + 1);
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&q->deq, &pos, pos + 1, memory_order_relaxed,
                                                      memory_order_relaxed)) {
                struct weft_task *t = c->item;
                atomic_store_explicit(&c->seq, pos + MASK + 1, memory_order_release); /* free for the next lap */
                return t;
            }
        } else if (dif < 0) {
            return NULL; /* not filled yet: empty */
        } else {
            pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
        }
    }
}

/* ---- the overflow, under m ------------------------------------------------------ */

/* Room for one more item, unwrapped into a ring twice the size when full.
 * 0 or WEFT_ENOMEM. */
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

static struct weft_task *spill_take(weft__injector *q)
{
    if (q->n == 0) return NULL;
    struct weft_task *t = q->buf[q->head];
    q->head = (q->head + 1) % q->cap;
    atomic_store_explicit(&q->spilled, --q->n, memory_order_relaxed);
    return t;
}

/* ---- the queue ---------------------------------------------------------------- */

int weft__injector_push(weft__injector *q, struct weft_task *t)
{
    /* While older items wait in the overflow, newer ones queue behind them. */
    if (atomic_load_explicit(&q->spilled, memory_order_relaxed) == 0 && ring_push(q, t) == 0) return 0;
    pthread_mutex_lock(&q->m);
    int rc = 0;
    if (q->n == 0 && ring_push(q, t) == 0) goto out; /* drained meanwhile */
    rc = make_room(q);
    if (rc == 0) {
        q->buf[(q->head + q->n++) % q->cap] = t;
        atomic_store_explicit(&q->spilled, q->n, memory_order_relaxed);
    }
out:
    pthread_mutex_unlock(&q->m);
    return rc;
}

/* The ring first; the overflow only when it holds items, taking its lock
 * (wait) or skipping it when another thread holds it (!wait). */
static struct weft_task *take(weft__injector *q, int wait)
{
    struct weft_task *t = ring_take(q);
    if (t || atomic_load_explicit(&q->spilled, memory_order_relaxed) == 0) return t;
    if (wait) pthread_mutex_lock(&q->m);
    else if (pthread_mutex_trylock(&q->m) != 0) return NULL;
    t = ring_take(q); /* a push may have gone to the ring before the overflow filled */
    if (!t) t = spill_take(q);
    pthread_mutex_unlock(&q->m);
    return t;
}

struct weft_task *weft__injector_steal(weft__injector *q) { return take(q, 0); }

struct weft_task *weft__injector_pop(weft__injector *q) { return take(q, 1); }

size_t weft__injector_len(const weft__injector *q)
{
    size_t enq = atomic_load_explicit(&q->enq, memory_order_relaxed);
    size_t deq = atomic_load_explicit(&q->deq, memory_order_relaxed);
    return (enq > deq ? enq - deq : 0) + atomic_load_explicit(&q->spilled, memory_order_relaxed);
}
