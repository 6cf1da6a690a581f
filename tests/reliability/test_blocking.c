/* test_blocking.c — a blocked worker keeps its place, and a waiting thread
 * runs nothing it must not.
 *
 *  - A task sleeping in weft_sleep_ns or waiting for a contended weft mutex
 *    does not take a core from the pool: a spare thread runs the queued
 *    tasks meanwhile (on one worker, another task completes while the first
 *    still sleeps; four sleepers on two workers all sleep at once).
 *  - A thread holding a weft mutex runs no queued task while it waits (one
 *    could need the same lock, on the same thread).
 *  - A worker waiting on another runtime's task parks: it runs none of that
 *    runtime's tasks, and A→B→A joins with one worker each complete.
 *  - A join of what the pool cannot run (a dedicated thread) parks: the
 *    worker nests no queued task inside the join, even holding a lock.
 *  - Helping nests at most WEFT_HELP_DEPTH_MAX tasks on one thread.
 *
 * No timing is asserted: a task waits for what it must see with a generous
 * deadline, and alarm() turns a deadlock into a failure. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#define DEADLOCK_S 120           /* alarm: a deadlock fails the test */
#define DEADLINE_NS 10000000000ull /* what a task waits for at most */
#define NAP_NS 2000000ull          /* one sleep of a waiting task: 2 ms */

/* ---- one worker: a sleeper does not stop the pool ------------------------------ */

typedef struct sleep_pair {
    atomic_int sleeping;   /* the sleeper is in its sleep */
    atomic_int other_done; /* the second task completed */
    int seen_while_asleep; /* the sleeper saw it before its sleep ended */
} sleep_pair;

static void *sleeper(void *arg)
{
    sleep_pair *s = arg;
    atomic_store(&s->sleeping, 1);
    /* Sleep (200 ms a time) until the other task is seen done, or give up. */
    uint64_t until = wt_now_ns() + DEADLINE_NS;
    while (!atomic_load(&s->other_done) && wt_now_ns() < until) weft_sleep_ns(200000000ull);
    s->seen_while_asleep = atomic_load(&s->other_done);
    return NULL;
}

static void *other(void *arg)
{
    sleep_pair *s = arg;
    atomic_store(&s->other_done, 1);
    return (void *)7;
}

static void sleeper_leaves_pool_running(void **state)
{
    (void)state;
    alarm(DEADLOCK_S);
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    sleep_pair s = {.seen_while_asleep = -1};
    atomic_init(&s.sleeping, 0);
    atomic_init(&s.other_done, 0);
    weft_handle_t *hs, *ho;
    WT_CHECK(weft_spawn(rt, sleeper, &s, &hs));
    assert_true(WT_WAIT_UNTIL(atomic_load(&s.sleeping), 30));
    /* The one worker sleeps: the second task must still run. The test thread
     * only polls (a join would run it in the caller's slot). */
    WT_CHECK(weft_spawn(rt, other, &s, &ho));
    assert_true(WT_WAIT_UNTIL(weft_handle_is_finished(hs), 60));
    WT_CHECK(weft_join(hs, NULL, WT_PANIC));
    assert_int_equal(s.seen_while_asleep, 1);
    void *r = NULL;
    WT_CHECK(weft_join(ho, &r, WT_PANIC));
    assert_ptr_equal(r, (void *)7);
    weft_runtime_destroy(rt);
    alarm(0);
}

/* ---- two workers: four sleepers sleep at once ------------------------------------ */

enum { SLEEPERS = 4 };
static atomic_int asleep_now, asleep_max, sleepers_done;

static void *overlapping_sleeper(void *arg)
{
    (void)arg;
    int n = atomic_fetch_add(&asleep_now, 1) + 1;
    int m = atomic_load(&asleep_max);
    while (n > m && !atomic_compare_exchange_weak(&asleep_max, &m, n)) {
    }
    /* 50 ms naps until all four are asleep together (or the deadline). */
    uint64_t until = wt_now_ns() + DEADLINE_NS;
    while (atomic_load(&asleep_max) < SLEEPERS && wt_now_ns() < until) weft_sleep_ns(50000000ull);
    atomic_fetch_sub(&asleep_now, 1);
    atomic_fetch_add(&sleepers_done, 1);
    return NULL;
}

static void sleepers_overlap(void **state)
{
    (void)state;
    alarm(DEADLOCK_S);
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    atomic_store(&asleep_now, 0);
    atomic_store(&asleep_max, 0);
    atomic_store(&sleepers_done, 0);
    weft_handle_t *h[SLEEPERS];
    for (int i = 0; i < SLEEPERS; i++) WT_CHECK(weft_spawn(rt, overlapping_sleeper, NULL, &h[i]));
    /* Poll, not join: the test thread's slot would be a fifth thread. */
    assert_true(WT_WAIT_UNTIL(atomic_load(&sleepers_done) == SLEEPERS, 60));
    for (int i = 0; i < SLEEPERS; i++) WT_CHECK(weft_join(h[i], NULL, WT_PANIC));
    assert_int_equal(atomic_load(&asleep_max), SLEEPERS);
    weft_runtime_destroy(rt);
    alarm(0);
}

/* ---- a contended weft mutex: the waiter's place goes to a spare ----------------- */

typedef struct contended {
    weft_mutex_t m;
    atomic_int held, waiting, third_done;
    int holder_saw_third;
} contended;

static void *hold_until_third(void *arg)
{
    contended *c = arg;
    weft_mutex_lock(&c->m);
    atomic_store(&c->held, 1);
    /* Keep the lock (spinning, not sleeping) until the third task ran. */
    uint64_t until = wt_now_ns() + DEADLINE_NS;
    while (!atomic_load(&c->third_done) && wt_now_ns() < until) sched_yield();
    c->holder_saw_third = atomic_load(&c->third_done);
    weft_mutex_unlock(&c->m);
    return NULL;
}

static void *wait_for_lock(void *arg)
{
    contended *c = arg;
    atomic_store(&c->waiting, 1);
    weft_mutex_lock(&c->m);
    weft_mutex_unlock(&c->m);
    return NULL;
}

static void *third(void *arg)
{
    contended *c = arg;
    atomic_store(&c->third_done, 1);
    return NULL;
}

/* Two workers: one holds the lock, the other waits for it; the third task
 * runs on a spare meanwhile. */
static void contended_lock_leaves_pool_running(void **state)
{
    (void)state;
    alarm(DEADLOCK_S);
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    contended c = {.holder_saw_third = -1};
    assert_int_equal(weft_mutex_init(&c.m), 0);
    atomic_init(&c.held, 0);
    atomic_init(&c.waiting, 0);
    atomic_init(&c.third_done, 0);
    weft_handle_t *hh, *hw, *ht;
    WT_CHECK(weft_spawn(rt, hold_until_third, &c, &hh));
    assert_true(WT_WAIT_UNTIL(atomic_load(&c.held), 30));
    WT_CHECK(weft_spawn(rt, wait_for_lock, &c, &hw));
    assert_true(WT_WAIT_UNTIL(atomic_load(&c.waiting), 30));
    WT_CHECK(weft_spawn(rt, third, &c, &ht));
    /* Poll: a joining test thread would run the third task in its slot. */
    assert_true(WT_WAIT_UNTIL(weft_handle_is_finished(hh), 60));
    WT_CHECK(weft_join(hh, NULL, WT_PANIC));
    assert_int_equal(c.holder_saw_third, 1);
    WT_CHECK(weft_join(hw, NULL, WT_PANIC));
    WT_CHECK(weft_join(ht, NULL, WT_PANIC));
    weft_mutex_destroy(&c.m);
    weft_runtime_destroy(rt);
    alarm(0);
}

/* ---- a waiter holding a weft mutex runs no queued task --------------------------- */

typedef struct lock_join {
    weft_runtime_t *rt;
    weft_mutex_t m;
    int taker_rc;
} lock_join;

static void *quick(void *arg) { return arg; }

static void *take_lock(void *arg)
{
    lock_join *x = arg;
    x->taker_rc = weft_mutex_lock(&x->m);
    weft_mutex_unlock(&x->m);
    return NULL;
}

/* Holds m across a join. Its worker's deque holds take_lock (newest) above
 * quick: a waiter that helped would pop take_lock first and lock m again on
 * the same thread. */
static void *lock_across_join(void *arg)
{
    lock_join *x = arg;
    weft_mutex_lock(&x->m);
    weft_handle_t *hq, *ht;
    if (weft_spawn(x->rt, quick, (void *)5, &hq)) return (void *)-1L;
    if (weft_spawn(x->rt, take_lock, x, &ht)) return (void *)-1L;
    void *r = NULL;
    int rc = weft_join(hq, &r, NULL);
    weft_mutex_unlock(&x->m);
    if (weft_join(ht, NULL, NULL)) return (void *)-1L;
    return rc == 0 && r == (void *)5 ? NULL : (void *)-1L;
}

static void holder_of_lock_does_not_help(void **state)
{
    (void)state;
    alarm(DEADLOCK_S);
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    lock_join x = {.rt = rt, .taker_rc = -1};
    assert_int_equal(weft_mutex_init(&x.m), 0);
    weft_handle_t *h;
    WT_CHECK(weft_spawn(rt, lock_across_join, &x, &h));
    /* Poll: a joining test thread could take take_lock off the worker. */
    assert_true(WT_WAIT_UNTIL(weft_handle_is_finished(h), 60));
    void *r = (void *)1L;
    WT_CHECK(weft_join(h, &r, WT_PANIC));
    assert_null(r);
    assert_int_equal(x.taker_rc, 0);
    /* (take_lock may still run on the holder's thread, after the unlock.) */
    weft_mutex_destroy(&x.m);
    weft_runtime_destroy(rt);
    alarm(0);
}

/* ---- A→B→A: a worker waiting on another runtime's task parks ---------------------- */

typedef struct abx {
    weft_runtime_t *a, *b;
    atomic_int a1_joining;
    pthread_t a1_thread, b1_thread, a2_thread;
    int a1_rc, b1_rc;
} abx;

static abx ab;

static void *a2_body(void *arg)
{
    (void)arg;
    ab.a2_thread = pthread_self();
    return (void *)42;
}

static void *b1_body(void *arg)
{
    (void)arg;
    ab.b1_thread = pthread_self();
    weft_handle_t *h;
    if (weft_spawn(ab.a, a2_body, NULL, &h)) return NULL;
    void *r = NULL;
    ab.b1_rc = weft_join(h, &r, NULL);
    return r;
}

/* B's one worker is busy (spinning, not sleeping) while a1 starts waiting. */
static void *b_busy(void *arg)
{
    (void)arg;
    while (!atomic_load(&ab.a1_joining)) sched_yield();
    uint64_t until = wt_now_ns() + 100000000ull;
    while (wt_now_ns() < until) sched_yield();
    return NULL;
}

static void *a1_body(void *arg)
{
    (void)arg;
    ab.a1_thread = pthread_self();
    weft_handle_t *h;
    if (weft_spawn(ab.b, b1_body, NULL, &h)) return NULL;
    atomic_store(&ab.a1_joining, 1);
    void *r = NULL;
    ab.a1_rc = weft_join(h, &r, NULL);
    return r;
}

static void cross_runtime_waits_park(void **state)
{
    (void)state;
    alarm(DEADLOCK_S);
    memset(&ab, 0, sizeof ab);
    ab.a1_rc = ab.b1_rc = -1;
    ab.a = wt_runtime(1, WT_NO_DEVICES, 0);
    ab.b = wt_runtime(1, WT_NO_DEVICES, 0);
    weft_handle_t *busy, *h;
    WT_CHECK(weft_spawn(ab.b, b_busy, NULL, &busy));
    WT_CHECK(weft_spawn(ab.a, a1_body, NULL, &h));
    /* Poll: the test thread would otherwise run a1 or a2 in a caller slot. */
    assert_true(WT_WAIT_UNTIL(weft_handle_is_finished(h), 60));
    void *r = NULL;
    WT_CHECK(weft_join(h, &r, WT_PANIC));
    assert_ptr_equal(r, (void *)42);
    assert_int_equal(ab.a1_rc, 0);
    assert_int_equal(ab.b1_rc, 0);
    /* A's waiting worker ran none of B's tasks, B's none of A's. */
    assert_false(pthread_equal(ab.b1_thread, ab.a1_thread));
    assert_false(pthread_equal(ab.a2_thread, ab.b1_thread));
    WT_CHECK(weft_join(busy, NULL, WT_PANIC));
    weft_runtime_destroy(ab.a);
    weft_runtime_destroy(ab.b);
    alarm(0);
}

/* ---- a join of a dedicated thread parks: no nesting, no lock re-entry ------------ */

enum { DEDICATED_JOINERS = 64 };

typedef struct dedicated_joins {
    weft_runtime_t *rt;
    weft_mutex_t m;
    int use_lock;
    long in_lock; /* under m */
    atomic_int done, failed, nest_max;
} dedicated_joins;

static _Thread_local int nest; /* tasks running on this thread now */

static void *nap(void *arg)
{
    (void)arg;
    weft_sleep_ns(NAP_NS);
    return (void *)3;
}

/* Joins a child on a dedicated thread, which the pool cannot run: the
 * worker must park, not run the other queued joiners inside this one. */
static void *join_dedicated(void *arg)
{
    dedicated_joins *d = arg;
    int depth = ++nest;
    int m = atomic_load(&d->nest_max);
    while (depth > m && !atomic_compare_exchange_weak(&d->nest_max, &m, depth)) {
    }
    if (d->use_lock) {
        weft_mutex_lock(&d->m);
        d->in_lock++;
    }
    weft_builder_t b;
    weft_builder_init(&b);
    b.stack_size = (size_t)1 << 20;
    weft_handle_t *h;
    void *r = NULL;
    if (weft_builder_spawn(&b, d->rt, nap, NULL, &h) || weft_join(h, &r, NULL) || r != (void *)3)
        atomic_fetch_add(&d->failed, 1);
    if (d->use_lock) weft_mutex_unlock(&d->m);
    nest--;
    atomic_fetch_add(&d->done, 1);
    return NULL;
}

static void run_dedicated_joiners(int use_lock)
{
    alarm(DEADLOCK_S);
    dedicated_joins d = {.use_lock = use_lock};
    d.rt = wt_runtime(1, WT_NO_DEVICES, 0);
    assert_int_equal(weft_mutex_init(&d.m), 0);
    atomic_init(&d.done, 0);
    atomic_init(&d.failed, 0);
    atomic_init(&d.nest_max, 0);
    weft_handle_t *h[DEDICATED_JOINERS];
    for (int i = 0; i < DEDICATED_JOINERS; i++) WT_CHECK(weft_spawn(d.rt, join_dedicated, &d, &h[i]));
    /* Poll: a joining test thread would run joiners in its caller slot. */
    assert_true(WT_WAIT_UNTIL(atomic_load(&d.done) == DEDICATED_JOINERS, 60));
    for (int i = 0; i < DEDICATED_JOINERS; i++) WT_CHECK(weft_join(h[i], NULL, WT_PANIC));
    assert_int_equal(atomic_load(&d.failed), 0);
    /* Each joiner ran alone on its thread: no join ran another inside it. */
    assert_int_equal(atomic_load(&d.nest_max), 1);
    if (use_lock) assert_int_equal(d.in_lock, DEDICATED_JOINERS);
    weft_mutex_destroy(&d.m);
    weft_runtime_destroy(d.rt);
    alarm(0);
}

static void dedicated_joins_do_not_nest(void **state)
{
    (void)state;
    run_dedicated_joiners(0);
}

/* Holding a weft mutex across the join: before, the joining worker ran
 * another joiner, which took the same lock on the same thread. */
static void lock_held_across_dedicated_join(void **state)
{
    (void)state;
    run_dedicated_joiners(1);
}

/* ---- nesting is bounded: past WEFT_HELP_DEPTH_MAX a waiter parks -------------------
 * The one worker is held by a spinning task; the test thread joins that task
 * and so helps, taking A1, A2, ... from the inject queue. Each Ai joins Bi,
 * queued behind every A: unbounded helping would nest all the A's on the
 * test thread's stack. Bounded, it nests WEFT_HELP_DEPTH_MAX of them and
 * parks; once the spinner ends, the worker (and spares) run the rest. */

enum { CHAIN = 200 };

typedef struct chain {
    atomic_int spinner_started, a_started, nest_max, failed;
    _Atomic(weft_handle_t *) b[CHAIN];
    weft_runtime_t *rt;
} chain;

static chain ch;
static _Thread_local int a_nest; /* A tasks running on this thread now */

static void *b_body(void *arg) { return arg; }

static void *a_body(void *arg)
{
    int i = (int)(intptr_t)arg;
    int depth = ++a_nest;
    int m = atomic_load(&ch.nest_max);
    while (depth > m && !atomic_compare_exchange_weak(&ch.nest_max, &m, depth)) {
    }
    atomic_fetch_add(&ch.a_started, 1);
    weft_handle_t *h;
    while (!(h = atomic_load(&ch.b[i]))) sched_yield();
    void *r = NULL;
    if (weft_join(h, &r, NULL) || r != (void *)(intptr_t)(i + 1)) atomic_fetch_add(&ch.failed, 1);
    a_nest--;
    return NULL;
}

/* Holds the worker (spinning, not sleeping) until the test thread has nested
 * as deep as the bound allows, and a while more. */
static void *spinner(void *arg)
{
    (void)arg;
    atomic_store(&ch.spinner_started, 1);
    uint64_t deadline = wt_now_ns() + DEADLINE_NS, reached = 0;
    for (;;) {
        uint64_t now = wt_now_ns();
        if (now > deadline) break;
        if (atomic_load(&ch.a_started) >= CHAIN) break;
        if (atomic_load(&ch.a_started) >= WEFT_HELP_DEPTH_MAX) {
            if (!reached) reached = now;
            else if (now - reached > 200000000ull) break;
        }
        sched_yield();
    }
    return NULL;
}

static void help_nesting_is_bounded(void **state)
{
    (void)state;
    alarm(DEADLOCK_S);
    memset(&ch, 0, sizeof ch);
    ch.rt = wt_runtime(1, WT_NO_DEVICES, 0);
    weft_handle_t *g, *a[CHAIN];
    WT_CHECK(weft_spawn(ch.rt, spinner, NULL, &g));
    assert_true(WT_WAIT_UNTIL(atomic_load(&ch.spinner_started), 30));
    for (int i = 0; i < CHAIN; i++) WT_CHECK(weft_spawn(ch.rt, a_body, (void *)(intptr_t)i, &a[i]));
    for (int i = 0; i < CHAIN; i++) {
        weft_handle_t *h;
        WT_CHECK(weft_spawn(ch.rt, b_body, (void *)(intptr_t)(i + 1), &h));
        atomic_store(&ch.b[i], h);
    }
    WT_CHECK(weft_join(g, NULL, WT_PANIC)); /* helps: the A's nest here */
    for (int i = 0; i < CHAIN; i++) WT_CHECK(weft_join(a[i], NULL, WT_PANIC));
    assert_int_equal(atomic_load(&ch.failed), 0);
    assert_int_equal(atomic_load(&ch.a_started), CHAIN);
    /* a worker's own task, and at most the bound nested inside its waits */
    assert_in_range(atomic_load(&ch.nest_max), 1, WEFT_HELP_DEPTH_MAX + 1);
    weft_runtime_destroy(ch.rt);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sleeper_leaves_pool_running),
        cmocka_unit_test(sleepers_overlap),
        cmocka_unit_test(contended_lock_leaves_pool_running),
        cmocka_unit_test(holder_of_lock_does_not_help),
        cmocka_unit_test(cross_runtime_waits_park),
        cmocka_unit_test(dedicated_joins_do_not_nest),
        cmocka_unit_test(lock_held_across_dedicated_join),
        cmocka_unit_test(help_nesting_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
