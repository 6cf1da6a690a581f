/* test_callers.c — threads from outside the pool that block in weft work
 * meanwhile, each in a caller slot of its own: 8 external threads at once
 * spawn and join, open scopes with nested joins, and detach tasks, on pools
 * of 1 and 2 workers; every result is right and every task runs exactly
 * once. Also: a task spawned and joined from outside may run on the joining
 * thread itself (its caller slot), and one worker plus a caller can hold
 * two tasks that wait for each other (the pool alone could not). */
#define _GNU_SOURCE
#include "weft_test.h"

#include <pthread.h>
#include <stdlib.h>

enum { CALLERS = 8, ROUNDS = 400, FANOUT = 6 };

static void *square(void *arg)
{
    long x = (long)arg;
    return (void *)(x * x);
}

typedef struct caller {
    weft_runtime_t *rt;
    int id;
    long sum;               /* what the scopes' tasks added */
    atomic_long scope_sum;
    atomic_int *runs;       /* one counter per (caller, round, task) */
    int failed;
    char why[160];
} caller;

typedef struct item {
    caller *c;
    int slot;
    long value;
} item;

static void *count_and_add(void *arg)
{
    item *it = arg;
    atomic_fetch_add(&it->c->runs[it->slot], 1);
    atomic_fetch_add(&it->c->scope_sum, it->value);
    return NULL;
}

/* A task that spawns two children and joins them (a nested wait). */
static void *nested(void *arg)
{
    item *it = arg;
    weft_handle_t *a, *b;
    void *ra = NULL, *rb = NULL;
    if (weft_spawn(it->c->rt, square, (void *)it->value, &a)) return (void *)-1L;
    if (weft_spawn(it->c->rt, square, (void *)(it->value + 1), &b)) {
        weft_join(a, NULL, NULL);
        return (void *)-1L;
    }
    if (weft_join(a, &ra, NULL) || weft_join(b, &rb, NULL)) return (void *)-1L;
    atomic_fetch_add(&it->c->runs[it->slot], 1);
    return (void *)((long)ra + (long)rb);
}

typedef struct round_arg {
    caller *c;
    item items[FANOUT];
    void *nested_result;
} round_arg;

static int round_body(weft_scope_t *s, void *arg)
{
    round_arg *r = arg;
    for (int i = 0; i < FANOUT - 1; i++)
        if (weft_scope_spawn(s, count_and_add, &r->items[i], NULL)) return -1;
    weft_handle_t *h;
    if (weft_scope_spawn(s, nested, &r->items[FANOUT - 1], &h)) return -1;
    return weft_join(h, &r->nested_result, NULL); /* the body waits too */
}

static void *caller_main(void *arg)
{
    caller *c = arg;
    for (int round = 0; round < ROUNDS && !c->failed; round++) {
        /* spawn + join one at a time */
        weft_handle_t *h;
        void *r = NULL;
        long x = c->id * 1000 + round;
        if (weft_spawn(c->rt, square, (void *)x, &h) || weft_join(h, &r, NULL) || (long)r != x * x) {
            snprintf(c->why, sizeof c->why, "caller %d round %d: square(%ld) = %ld", c->id, round, x, (long)r);
            c->failed = 1;
            break;
        }
        /* a scope of FANOUT tasks, one of which nests a spawn and two joins */
        round_arg ra = {.c = c};
        for (int i = 0; i < FANOUT; i++) {
            ra.items[i] = (item){.c = c, .slot = round * FANOUT + i, .value = round + i};
            if (i < FANOUT - 1) c->sum += round + i;
        }
        int rc = weft_scope(c->rt, round_body, &ra, NULL);
        void *nr = ra.nested_result;
        long v = ra.items[FANOUT - 1].value;
        if (rc || (long)nr != v * v + (v + 1) * (v + 1)) {
            snprintf(c->why, sizeof c->why, "caller %d round %d: scope %d, nested %ld", c->id, round, rc, (long)nr);
            c->failed = 1;
        }
    }
    return NULL;
}

static void run_callers(int workers)
{
    weft_runtime_t *rt = wt_runtime(workers, WT_NO_DEVICES, 0);
    caller cs[CALLERS];
    pthread_t th[CALLERS];
    for (int i = 0; i < CALLERS; i++) {
        cs[i] = (caller){.rt = rt, .id = i};
        atomic_init(&cs[i].scope_sum, 0);
        cs[i].runs = calloc(ROUNDS * FANOUT, sizeof *cs[i].runs);
        assert_non_null(cs[i].runs);
    }
    for (int i = 0; i < CALLERS; i++) assert_int_equal(pthread_create(&th[i], NULL, caller_main, &cs[i]), 0);
    for (int i = 0; i < CALLERS; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < CALLERS; i++) {
        if (cs[i].failed) fail_msg("%d workers: %s", workers, cs[i].why);
        assert_int_equal(atomic_load(&cs[i].scope_sum), cs[i].sum);
        for (int k = 0; k < ROUNDS * FANOUT; k++)
            if (atomic_load(&cs[i].runs[k]) != 1)
                fail_msg("%d workers: caller %d task %d ran %d times", workers, i, k, atomic_load(&cs[i].runs[k]));
        free(cs[i].runs);
    }
    weft_runtime_destroy(rt);
}

static void eight_callers_one_worker(void **state)
{
    (void)state;
    run_callers(1);
}

static void eight_callers_two_workers(void **state)
{
    (void)state;
    run_callers(2);
}

/* ---- the joining thread runs the task -------------------------------------------- */

typedef struct where {
    int worker;
    int on_main;
} where;

static void *record_where(void *arg)
{
    where *w = arg;
    w->worker = weft_current_worker();
    w->on_main = wt_on_main_thread();
    return NULL;
}

static atomic_int hold_worker, hold_started;

static void *hold(void *arg)
{
    (void)arg;
    atomic_store(&hold_started, 1);
    wt_spin_until(&hold_worker, 1);
    return NULL;
}

static void joiner_runs_the_task(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    /* The only worker is busy until the join has returned, so the task can
     * only run on the joining thread, in its caller slot (index 1). */
    atomic_store(&hold_worker, 0);
    atomic_store(&hold_started, 0);
    weft_handle_t *busy, *h;
    WT_CHECK(weft_spawn(rt, hold, NULL, &busy));
    assert_true(WT_WAIT_UNTIL(atomic_load(&hold_started), 30));
    where w = {-2, 0};
    WT_CHECK(weft_spawn(rt, record_where, &w, &h));
    WT_CHECK(weft_join(h, NULL, WT_PANIC));
    atomic_store(&hold_worker, 1);
    WT_CHECK(weft_join(busy, NULL, WT_PANIC));
    assert_true(w.on_main);
    assert_int_equal(w.worker, 1);
    assert_int_equal(weft_current_worker(), -1);
    weft_runtime_destroy(rt);
}

/* ---- two tasks that wait for each other, one worker -------------------------------- */

static atomic_int ping, pong;

static void *ping_side(void *arg)
{
    (void)arg;
    atomic_store(&ping, 1);
    return (void *)(long)wt_spin_until(&pong, 1);
}

static void *pong_side(void *arg)
{
    (void)arg;
    atomic_store(&pong, 1);
    return (void *)(long)wt_spin_until(&ping, 1);
}

static void caller_is_a_second_thread(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    atomic_store(&ping, 0);
    atomic_store(&pong, 0);
    weft_handle_t *a, *b;
    void *ra = NULL, *rb = NULL;
    WT_CHECK(weft_spawn(rt, ping_side, NULL, &a));
    WT_CHECK(weft_spawn(rt, pong_side, NULL, &b));
    WT_CHECK(weft_join(a, &ra, WT_PANIC));
    WT_CHECK(weft_join(b, &rb, WT_PANIC));
    assert_int_equal((long)ra, 1); /* each saw the other run at the same time */
    assert_int_equal((long)rb, 1);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eight_callers_one_worker),
        cmocka_unit_test(eight_callers_two_workers),
        cmocka_unit_test(joiner_runs_the_task),
        cmocka_unit_test(caller_is_a_second_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
