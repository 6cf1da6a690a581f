/* scheduler/deque.c — the Chase–Lev work-stealing deque; the contract and
 * the reasons for each memory order are at the top of deque.h. */
#include <stdint.h>
#include <stdlib.h>

#include "core.h"

#define FIRST_CAP 64

/* A circular array of 2^k slots. Retired arrays stay linked from the current
 * one (prev) until destroy: a thief may still read them. */
struct weft__deque_array {
    size_t cap;
    struct weft__deque_array *prev;
    _Atomic(struct weft_task *) slot[];
};

static _Atomic(struct weft_task *) *slot_of(struct weft__deque_array *a, int64_t i)
{
    return &a->slot[(size_t)i & (a->cap - 1)];
}

void weft__deque_init(weft__deque *q)
{
    atomic_init(&q->top, 0);
    atomic_init(&q->bottom, 0);
    atomic_init(&q->array, NULL);
}

void weft__deque_destroy(weft__deque *q)
{
    struct weft__deque_array *a = atomic_load_explicit(&q->array, memory_order_relaxed);
    while (a) {
        struct weft__deque_array *prev = a->prev;
        free(a);
        a = prev;
    }
    atomic_store_explicit(&q->array, NULL, memory_order_relaxed);
}

/* Owner: move items [t, b) into an array twice the size of old (or a first
 * one) and publish it. NULL when out of memory (old stays in use). */
static struct weft__deque_array *grow(weft__deque *q, struct weft__deque_array *old, int64_t t,
                                      int64_t b)
{
    size_t cap = old ? old->cap * 2 : FIRST_CAP;
    if (cap > (SIZE_MAX - sizeof(struct weft__deque_array)) / sizeof old->slot[0]) return NULL;
    /* Zeroed: a thief holding a stale top may read a slot the copy did not
     * write; its CAS then fails and the value is dropped, but it is defined. */
    struct weft__deque_array *a = calloc(1, sizeof *a + cap * sizeof a->slot[0]);
    if (!a) return NULL;
    a->cap = cap;
    a->prev = old;
    for (int64_t i = t; i < b; i++)
        atomic_store_explicit(slot_of(a, i), atomic_load_explicit(slot_of(old, i), memory_order_relaxed),
                              memory_order_relaxed);
    atomic_store_explicit(&q->array, a, memory_order_release);
    return a;
}

int weft__deque_push(weft__deque *q, struct weft_task *t)
{
    int64_t b = atomic_load_explicit(&q->bottom, memory_order_relaxed);
    int64_t top = atomic_load_explicit(&q->top, memory_order_acquire);
    struct weft__deque_array *a = atomic_load_explicit(&q->array, memory_order_relaxed);
    if (!a || (size_t)(b - top) >= a->cap) {
        a = grow(q, a, top, b);
        if (!a) return WEFT_ENOMEM;
    }
    atomic_store_explicit(slot_of(a, b), t, memory_order_relaxed);
    /* The paper's release fence + relaxed store, as one release store. */
    atomic_store_explicit(&q->bottom, b + 1, memory_order_release);
    return 0;
}

struct weft_task *weft__deque_pop(weft__deque *q)
{
    int64_t b = atomic_load_explicit(&q->bottom, memory_order_relaxed);
    /* Empty for sure (bottom is ours, top only grows): no locked instruction. */
    if (b <= atomic_load_explicit(&q->top, memory_order_relaxed)) return NULL;
    b--;
    struct weft__deque_array *a = atomic_load_explicit(&q->array, memory_order_relaxed);
    /* seq_cst store, then seq_cst load: the paper's seq_cst fence between
     * them, which ThreadSanitizer would not see (deque.h). */
    atomic_store_explicit(&q->bottom, b, memory_order_seq_cst);
    int64_t t = atomic_load_explicit(&q->top, memory_order_seq_cst);
    if (t > b) { /* thieves emptied it meanwhile */
        atomic_store_explicit(&q->bottom, b + 1, memory_order_relaxed);
        return NULL;
    }
    struct weft_task *x = atomic_load_explicit(slot_of(a, b), memory_order_relaxed);
    if (t == b) { /* the last one: race the thieves for it on top */
        if (!atomic_compare_exchange_strong_explicit(&q->top, &t, t + 1, memory_order_seq_cst,
                                                     memory_order_relaxed))
            x = NULL;
        atomic_store_explicit(&q->bottom, b + 1, memory_order_relaxed);
    }
    return x;
}

struct weft_task *weft__deque_steal(weft__deque *q)
{
    /* Both seq_cst: the paper's acquire load, seq_cst fence, acquire load. */
    int64_t t = atomic_load_explicit(&q->top, memory_order_seq_cst);
    int64_t b = atomic_load_explicit(&q->bottom, memory_order_seq_cst);
    if (t >= b) return NULL;
    /* Loaded after bottom: index t is in this array, or in a newer one. */
    struct weft__deque_array *a = atomic_load_explicit(&q->array, memory_order_acquire);
    struct weft_task *x = atomic_load_explicit(slot_of(a, t), memory_order_relaxed);
    if (!atomic_compare_exchange_strong_explicit(&q->top, &t, t + 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
        return NULL; /* lost to the owner or another thief */
    return x;
}

size_t weft__deque_len(const weft__deque *q)
{
    int64_t b = atomic_load_explicit(&q->bottom, memory_order_relaxed);
    int64_t t = atomic_load_explicit(&q->top, memory_order_relaxed);
    return b > t ? (size_t)(b - t) : 0;
}
