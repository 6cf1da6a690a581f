/* test_deque.c — the workers' Chase–Lev deque (scheduler/deque.h), alone:
 *  - the owner pops newest first, thieves steal oldest first, both NULL when
 *    empty, len says how many;
 *  - growth past the first array while items are in flight (top moved on,
 *    indices wrapped round the ring): nothing lost, order kept;
 *  - the owner's pop racing a thief for the deque's only item, round after
 *    round: each item goes to exactly one of them;
 *  - the stress: 10^7 items pushed and taken across threads (four deques,
 *    each with its owner pushing in bursts and popping, every thread
 *    stealing from the others), every item taken exactly once.
 * White-box: it calls the scheduler's internal functions. Items are
 * addresses into a flag array, never dereferenced as tasks. The stress count
 * scales with rel_scale() (tests/reliability/reliability_util.h: 1
 * natively, less under ThreadSanitizer and valgrind). */
#define _GNU_SOURCE
#include "weft_test.h"

#include "scheduler/deque.h"
#include "tests/reliability/reliability_util.h"

#include <sched.h>

/* ---- items: index i is the address of flags[i] ------------------------------ */

static atomic_uchar *flags;

static struct weft_task *item(size_t i) { return (struct weft_task *)(void *)&flags[i]; }

static size_t index_of(struct weft_task *t) { return (size_t)((atomic_uchar *)(void *)t - flags); }

static void flags_alloc(size_t n)
{
    flags = calloc(n, sizeof *flags);
    assert_non_null(flags);
}

static void flags_free(void)
{
    free(flags);
    flags = NULL;
}

/* ---- one thread ------------------------------------------------------------- */

static void empty_deque(void **state)
{
    (void)state;
    weft__deque q;
    weft__deque_init(&q);
    assert_null(weft__deque_pop(&q));
    assert_null(weft__deque_steal(&q));
    assert_int_equal(weft__deque_len(&q), 0);
    weft__deque_destroy(&q);
}

static void owner_lifo_thief_fifo(void **state)
{
    (void)state;
    flags_alloc(10);
    weft__deque q;
    weft__deque_init(&q);
    for (size_t i = 0; i < 10; i++) assert_int_equal(weft__deque_push(&q, item(i)), 0);
    assert_int_equal(weft__deque_len(&q), 10);
    /* from both ends at once: 9 0 8 1 7 2 ... */
    for (size_t k = 0; k < 5; k++) {
        assert_ptr_equal(weft__deque_pop(&q), item(9 - k));
        assert_ptr_equal(weft__deque_steal(&q), item(k));
        assert_int_equal(weft__deque_len(&q), 8 - 2 * k);
    }
    assert_null(weft__deque_pop(&q));
    assert_null(weft__deque_steal(&q));
    /* usable again once empty; a lone item goes to the first taker */
    assert_int_equal(weft__deque_push(&q, item(3)), 0);
    assert_ptr_equal(weft__deque_steal(&q), item(3));
    assert_null(weft__deque_pop(&q));
    assert_int_equal(weft__deque_push(&q, item(4)), 0);
    assert_ptr_equal(weft__deque_pop(&q), item(4));
    assert_null(weft__deque_steal(&q));
    assert_int_equal(weft__deque_len(&q), 0);
    weft__deque_destroy(&q);
    flags_free();
}

static void grows_with_items_in_flight(void **state)
{
    (void)state;
    enum { N = 5000 };
    flags_alloc(N);
    weft__deque q;
    weft__deque_init(&q);
    /* top moves on first, so the live items straddle the ring's end when
     * each growth copies them (the first array has 64 slots) */
    size_t pushed = 0, stolen = 0;
    for (; pushed < 50; pushed++) assert_int_equal(weft__deque_push(&q, item(pushed)), 0);
    for (; stolen < 40; stolen++) assert_ptr_equal(weft__deque_steal(&q), item(stolen));
    while (pushed < N) {
        for (int k = 0; k < 7 && pushed < N; k++, pushed++)
            assert_int_equal(weft__deque_push(&q, item(pushed)), 0);
        assert_ptr_equal(weft__deque_steal(&q), item(stolen));
        stolen++;
        assert_int_equal(weft__deque_len(&q), pushed - stolen);
    }
    /* the rest: oldest from the top, newest from the bottom, meeting once */
    size_t newest = N;
    while (stolen < newest) {
        assert_ptr_equal(weft__deque_pop(&q), item(--newest));
        if (stolen < newest) {
            assert_ptr_equal(weft__deque_steal(&q), item(stolen));
            stolen++;
        }
    }
    assert_null(weft__deque_pop(&q));
    assert_null(weft__deque_steal(&q));
    weft__deque_destroy(&q);
    flags_free();
}

/* ---- the last item ------------------------------------------------------------- */

/* Rounds in lockstep: the owner pushes one item, lets the thief go, waits a
 * random moment and pops, while the thief steals: the pop and the steal
 * race for the deque's only item, at every offset, and only the CAS on top
 * settles it. Each round's item goes to exactly one of them. */
typedef struct duel {
    weft__deque q;
    size_t n;
    atomic_size_t go;     /* rounds the thief may steal in */
    atomic_size_t done;   /* rounds the thief has tried */
    atomic_size_t stolen, duplicates;
} duel;

static void take_once(atomic_size_t *duplicates, struct weft_task *t)
{
    if (atomic_fetch_add_explicit(&flags[index_of(t)], 1, memory_order_relaxed) != 0)
        atomic_fetch_add(duplicates, 1);
}

/* Until *a reaches at least v; the other side may be off its core. */
static void wait_for(atomic_size_t *a, size_t v)
{
    for (unsigned spins = 1; atomic_load(a) < v; spins++)
        if (spins % 256 == 0) sched_yield();
}

static void *duel_thief(void *arg)
{
    duel *d = arg;
    for (size_t round = 1; round <= d->n; round++) {
        wait_for(&d->go, round);
        struct weft_task *t = weft__deque_steal(&d->q);
        if (t) {
            take_once(&d->duplicates, t);
            atomic_fetch_add_explicit(&d->stolen, 1, memory_order_relaxed);
        }
        atomic_store(&d->done, round);
    }
    return NULL;
}

static void last_item_races(void **state)
{
    (void)state;
    duel d = {.n = rel_scaled(200000, 10000)};
    flags_alloc(d.n);
    weft__deque_init(&d.q);
    pthread_t thief;
    assert_int_equal(pthread_create(&thief, NULL, duel_thief, &d), 0);
    size_t popped = 0;
    uint64_t seed = 42;
    for (size_t round = 1; round <= d.n; round++) {
        assert_int_equal(weft__deque_push(&d.q, item(round - 1)), 0);
        atomic_store(&d.go, round);
        for (volatile unsigned spin = (unsigned)(rel_rand(&seed) % 256); spin > 0; spin--) {
        }
        struct weft_task *t = weft__deque_pop(&d.q);
        if (t) {
            take_once(&d.duplicates, t);
            popped++;
        }
        wait_for(&d.done, round);
    }
    pthread_join(thief, NULL);
    size_t stolen = atomic_load(&d.stolen);
    fprintf(stderr, "note: %zu rounds: %zu popped, %zu stolen\n", d.n, popped, stolen);
    assert_int_equal(atomic_load(&d.duplicates), 0);
    assert_int_equal(popped + stolen, d.n);
    for (size_t i = 0; i < d.n; i++) assert_int_equal(atomic_load(&flags[i]), 1);
    assert_int_equal(weft__deque_len(&d.q), 0);
    weft__deque_destroy(&d.q);
    flags_free();
}

/* ---- the stress ---------------------------------------------------------------- */

enum {
    DEQUES = 4,           /* each with its owner thread */
    THIEVES = 2,          /* threads that only steal */
    EPOCHS = 10,          /* fresh deques each: growth happens under thieves */
    LAST_BURST = 100,     /* an owner's last push per epoch, never popped */
};

typedef struct stress {
    size_t per_deque;     /* items each owner pushes per epoch */
    weft__deque q[DEQUES];
    pthread_barrier_t start, done;
    atomic_size_t taken;  /* items taken this epoch */
    atomic_size_t pops, steals, duplicates, push_failures;
} stress;

typedef struct worker {
    stress *s;
    int index;            /* < DEQUES: owner of q[index]; else a thief */
    uint64_t seed;
} worker;

static void record(stress *s, struct weft_task *t, atomic_size_t *how)
{
    take_once(&s->duplicates, t);
    atomic_fetch_add_explicit(how, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->taken, 1, memory_order_relaxed);
}

static void push_one(stress *s, weft__deque *q, size_t i)
{
    if (weft__deque_push(q, item(i)) != 0) {
        /* not queued: count it as taken so the epoch still ends */
        atomic_fetch_add(&s->push_failures, 1);
        atomic_fetch_add(&s->taken, 1);
    }
}

/* Steal from a random deque other than q[self] (self < 0: any) until every
 * item of the epoch is taken. */
static void steal_until_done(stress *s, int self, uint64_t *seed)
{
    size_t total = s->per_deque * DEQUES;
    unsigned misses = 0;
    while (atomic_load_explicit(&s->taken, memory_order_relaxed) < total) {
        int v = (int)(rel_rand(seed) % DEQUES);
        if (v == self) continue;
        struct weft_task *t = weft__deque_steal(&s->q[v]);
        if (t) record(s, t, &s->steals);
        else if (++misses % 64 == 0) sched_yield(); /* fewer cores than threads: let owners run */
    }
}

/* An owner's epoch: bursts of pushes (now and then large, to grow the
 * array), each followed by some pops (now and then until empty, racing the
 * thieves for the last item); then a last burst left to the thieves. */
static void own(stress *s, int d, uint64_t *seed)
{
    weft__deque *q = &s->q[d];
    size_t next = s->per_deque * (size_t)d, end = next + s->per_deque - LAST_BURST;
    for (unsigned round = 1; next < end; round++) {
        uint64_t r = rel_rand(seed);
        size_t burst = 1 + (size_t)(r % (r % 16 == 0 ? 2000 : 64));
        if (burst > end - next) burst = end - next;
        for (size_t k = 0; k < burst; k++) push_one(s, q, next++);
        size_t pops = (r >> 32) % 8 == 0 ? SIZE_MAX : (size_t)((r >> 40) % (burst / 2 + 1));
        for (size_t k = 0; k < pops; k++) {
            struct weft_task *t = weft__deque_pop(q);
            if (!t) break;
            record(s, t, &s->pops);
        }
        /* with more threads than cores, a pass at the scheduler now and
         * then lets the thieves in while this deque is busy */
        if (round % 16 == 0) sched_yield();
    }
    for (size_t k = 0; k < LAST_BURST; k++) push_one(s, q, next++);
}

static void *stress_thread(void *arg)
{
    worker *w = arg;
    stress *s = w->s;
    for (int e = 0; e < EPOCHS; e++) {
        pthread_barrier_wait(&s->start);
        if (w->index < DEQUES) own(s, w->index, &w->seed);
        steal_until_done(s, w->index < DEQUES ? w->index : -1, &w->seed);
        pthread_barrier_wait(&s->done);
    }
    return NULL;
}

static void stress_every_item_once(void **state)
{
    (void)state;
    size_t items = rel_scaled(10000000, 200000);
    stress *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->per_deque = items / EPOCHS / DEQUES;
    assert_true(s->per_deque > LAST_BURST);
    size_t per_epoch = s->per_deque * DEQUES;
    flags_alloc(per_epoch);
    pthread_barrier_init(&s->start, NULL, DEQUES + THIEVES + 1);
    pthread_barrier_init(&s->done, NULL, DEQUES + THIEVES + 1);
    worker ws[DEQUES + THIEVES];
    pthread_t th[DEQUES + THIEVES];
    for (int i = 0; i < DEQUES + THIEVES; i++) {
        ws[i] = (worker){.s = s, .index = i, .seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1)};
        assert_int_equal(pthread_create(&th[i], NULL, stress_thread, &ws[i]), 0);
    }
    size_t lost = 0, twice = 0;
    for (int e = 0; e < EPOCHS; e++) {
        memset(flags, 0, per_epoch * sizeof *flags);
        atomic_store(&s->taken, 0);
        for (int d = 0; d < DEQUES; d++) weft__deque_init(&s->q[d]);
        pthread_barrier_wait(&s->start);
        pthread_barrier_wait(&s->done);
        for (int d = 0; d < DEQUES; d++) {
            assert_int_equal(weft__deque_len(&s->q[d]), 0);
            weft__deque_destroy(&s->q[d]);
        }
        for (size_t i = 0; i < per_epoch; i++) {
            unsigned char f = atomic_load(&flags[i]);
            lost += f == 0;
            twice += f > 1;
        }
    }
    for (int i = 0; i < DEQUES + THIEVES; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&s->start);
    pthread_barrier_destroy(&s->done);
    size_t pops = atomic_load(&s->pops), steals = atomic_load(&s->steals);
    fprintf(stderr, "note: %zu items: %zu popped by owners, %zu stolen\n", per_epoch * EPOCHS, pops,
            steals);
    assert_int_equal(atomic_load(&s->push_failures), 0);
    assert_int_equal(atomic_load(&s->duplicates), 0);
    assert_int_equal(lost, 0);
    assert_int_equal(twice, 0);
    assert_int_equal(pops + steals, per_epoch * EPOCHS);
    /* the last bursts can only be stolen; of the owners' many pops, some win */
    assert_true(steals >= (size_t)LAST_BURST * DEQUES * EPOCHS);
    assert_true(pops > 0);
    flags_free();
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_deque),
        cmocka_unit_test(owner_lifo_thief_fifo),
        cmocka_unit_test(grows_with_items_in_flight),
        cmocka_unit_test(last_item_races),
        cmocka_unit_test(stress_every_item_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
