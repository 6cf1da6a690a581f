/* test_injector.c — the inject queue (scheduler/injector.h), alone:
 *  - first in, first out through growth and wrap-around, pop and steal
 *    alike, NULL when empty, len says how many;
 *  - many producers and many consumers at once: every item taken exactly
 *    once, and each consumer sees each producer's items in the order they
 *    were pushed.
 * White-box: it calls the scheduler's internal functions. Items are
 * addresses into a flag array, never dereferenced as tasks. The count
 * scales with rel_scale() (tests/reliability/reliability_util.h). */
#define _GNU_SOURCE
#include "weft_test.h"

#include "scheduler/injector.h"
#include "tests/reliability/reliability_util.h"

#include <sched.h>

static atomic_uchar *flags;

static struct weft_task *item(size_t i) { return (struct weft_task *)(void *)&flags[i]; }

static size_t index_of(struct weft_task *t) { return (size_t)((atomic_uchar *)(void *)t - flags); }

static void fifo_through_growth(void **state)
{
    (void)state;
    enum { N = 1000 };
    flags = calloc(N, sizeof *flags);
    assert_non_null(flags);
    weft__injector q;
    weft__injector_init(&q);
    assert_null(weft__injector_pop(&q));
    assert_null(weft__injector_steal(&q));
    /* the head moves on before the first ring (64) fills, so it is full
     * with its items wrapped round its end when it grows, and again later */
    size_t pushed = 0, taken = 0;
    for (; pushed < 50; pushed++) assert_int_equal(weft__injector_push(&q, item(pushed)), 0);
    for (; taken < 40; taken++) assert_ptr_equal(weft__injector_pop(&q), item(taken));
    while (pushed < N) {
        for (int k = 0; k < 5 && pushed < N; k++, pushed++)
            assert_int_equal(weft__injector_push(&q, item(pushed)), 0);
        /* nobody else holds the lock: steal takes like pop */
        assert_ptr_equal(weft__injector_steal(&q), item(taken));
        taken++;
        assert_int_equal(weft__injector_len(&q), pushed - taken);
    }
    for (; taken < N; taken++)
        assert_ptr_equal(taken % 2 ? weft__injector_pop(&q) : weft__injector_steal(&q), item(taken));
    assert_null(weft__injector_pop(&q));
    assert_null(weft__injector_steal(&q));
    assert_int_equal(weft__injector_len(&q), 0);
    weft__injector_destroy(&q);
    free(flags);
    flags = NULL;
}

enum { PRODUCERS = 3, CONSUMERS = 3 };

typedef struct shared {
    weft__injector q;
    size_t per_producer;  /* producer p pushes [p * per_producer, (p + 1) * per_producer) */
    atomic_size_t taken, duplicates, out_of_order, push_failures;
} shared;

typedef struct role {
    shared *s;
    int index;
} role;

static void *produce(void *arg)
{
    role *r = arg;
    shared *s = r->s;
    size_t first = s->per_producer * (size_t)r->index;
    for (size_t i = first; i < first + s->per_producer; i++) {
        if (weft__injector_push(&s->q, item(i)) != 0) {
            atomic_fetch_add(&s->push_failures, 1);
            atomic_fetch_add(&s->taken, 1); /* never queued: the count still ends */
        }
    }
    return NULL;
}

/* Take until every item is taken, by steal and by pop in turn; what one
 * consumer takes of one producer must come in push order (FIFO). */
static void *consume(void *arg)
{
    role *r = arg;
    shared *s = r->s;
    size_t total = s->per_producer * PRODUCERS;
    size_t next_of[PRODUCERS] = {0}; /* lowest index this consumer may still see, per producer */
    for (unsigned n = 0; atomic_load_explicit(&s->taken, memory_order_relaxed) < total; n++) {
        struct weft_task *t = n % 2 ? weft__injector_pop(&s->q) : weft__injector_steal(&s->q);
        if (!t) {
            sched_yield();
            continue;
        }
        size_t i = index_of(t), p = i / s->per_producer;
        if (atomic_fetch_add_explicit(&flags[i], 1, memory_order_relaxed) != 0)
            atomic_fetch_add(&s->duplicates, 1);
        if (i < next_of[p]) atomic_fetch_add(&s->out_of_order, 1);
        next_of[p] = i + 1;
        atomic_fetch_add_explicit(&s->taken, 1, memory_order_relaxed);
    }
    return NULL;
}

static void many_producers_many_consumers(void **state)
{
    (void)state;
    shared *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->per_producer = rel_scaled(300000, 20000);
    size_t total = s->per_producer * PRODUCERS;
    flags = calloc(total, sizeof *flags);
    assert_non_null(flags);
    weft__injector_init(&s->q);
    role rs[PRODUCERS + CONSUMERS];
    pthread_t th[PRODUCERS + CONSUMERS];
    for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
        rs[i] = (role){.s = s, .index = i < PRODUCERS ? i : i - PRODUCERS};
        assert_int_equal(pthread_create(&th[i], NULL, i < PRODUCERS ? produce : consume, &rs[i]), 0);
    }
    for (int i = 0; i < PRODUCERS + CONSUMERS; i++) pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&s->push_failures), 0);
    assert_int_equal(atomic_load(&s->duplicates), 0);
    assert_int_equal(atomic_load(&s->out_of_order), 0);
    size_t lost = 0;
    for (size_t i = 0; i < total; i++) lost += atomic_load(&flags[i]) == 0;
    assert_int_equal(lost, 0);
    assert_int_equal(weft__injector_len(&s->q), 0);
    weft__injector_destroy(&s->q);
    free(flags);
    flags = NULL;
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifo_through_growth),
        cmocka_unit_test(many_producers_many_consumers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
