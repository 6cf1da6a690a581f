/* test_nested.c — waits inside workers help run other tasks: nested scopes and
 * joins inside tasks finish on a single worker, without deadlock. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <stdlib.h>

/* ---- nested scopes, 8 deep --------------------------------------------------------- */
#define DEPTH 8
#define LEVEL_N 256

typedef struct half {
    const int *data;
    size_t n;
    long sum;
} half;

typedef struct level {
    weft_runtime_t *rt;
    int data[LEVEL_N];  /* borrowed by this level's tasks */
    half halves[2];
    long joined_sum;    /* from a task the body joins itself */
    int body_rc;
    int scope_rc;       /* of the scope a task of the level above opened, -99: never */
    int worker;         /* where that task ran */
    struct level *next; /* opened by a task of this level */
} level;

static void *sum_half(void *arg)
{
    half *h = arg;
    long s = 0;
    for (size_t i = 0; i < h->n; i++) s += h->data[i];
    h->sum = s;
    return (void *)(intptr_t)s;
}

static int level_body(weft_scope_t *s, void *arg);

/* A task of one level that opens the scope of the next level. */
static void *open_next(void *arg)
{
    level *l = arg;
    l->worker = weft_current_worker();
    l->scope_rc = weft_scope(l->rt, level_body, l, NULL);
    return NULL;
}

static int level_body(weft_scope_t *s, void *arg)
{
    level *l = arg;
    l->halves[0] = (half){l->data, LEVEL_N / 2, -1};
    l->halves[1] = (half){l->data + LEVEL_N / 2, LEVEL_N - LEVEL_N / 2, -1};
    int rc = weft_scope_spawn(s, sum_half, &l->halves[0], NULL);
    if (!rc) rc = weft_scope_spawn(s, sum_half, &l->halves[1], NULL);
    if (!rc && l->next) rc = weft_scope_spawn(s, open_next, l->next, NULL);
    /* and a join inside the body: on a worker, it runs the queue meanwhile */
    weft_handle_t *j = NULL;
    half whole = {l->data, LEVEL_N, -1};
    if (!rc) rc = weft_scope_spawn(s, sum_half, &whole, &j);
    void *r = NULL;
    if (!rc) rc = weft_join(j, &r, NULL);
    l->joined_sum = (long)(intptr_t)r;
    l->body_rc = rc;
    return rc;
}

static void nested_scopes_on(int workers)
{
    weft_runtime_t *rt = wt_runtime(workers, WT_NO_DEVICES, 0);
    level *lv = calloc(DEPTH, sizeof *lv);
    assert_non_null(lv);
    for (int d = 0; d < DEPTH; d++) {
        lv[d].rt = rt;
        lv[d].scope_rc = -99;
        lv[d].worker = -99;
        lv[d].body_rc = -99;
        for (int i = 0; i < LEVEL_N; i++) lv[d].data[i] = (d + 1) * 1000 + i;
        lv[d].next = d + 1 < DEPTH ? &lv[d + 1] : NULL;
    }
    assert_int_equal(weft_scope(rt, level_body, &lv[0], NULL), 0);
    for (int d = 0; d < DEPTH; d++) {
        long expect_lo = 0, expect_hi = 0;
        for (int i = 0; i < LEVEL_N / 2; i++) expect_lo += lv[d].data[i];
        for (int i = LEVEL_N / 2; i < LEVEL_N; i++) expect_hi += lv[d].data[i];
        assert_int_equal(lv[d].body_rc, 0);
        assert_int_equal(lv[d].halves[0].sum, expect_lo);
        assert_int_equal(lv[d].halves[1].sum, expect_hi);
        assert_int_equal(lv[d].joined_sum, expect_lo + expect_hi);
        if (d > 0) {
            assert_int_equal(lv[d].scope_rc, 0);
            assert_in_range(lv[d].worker, 0, workers); /* workers: the main thread's caller slot */
        }
    }
    free(lv);
    weft_runtime_destroy(rt);
}

static void nested_scopes_8_deep_one_worker(void **state)
{
    (void)state;
    nested_scopes_on(1);
}

static void nested_scopes_8_deep_two_workers(void **state)
{
    (void)state;
    nested_scopes_on(2);
}

/* ---- joins inside tasks: recursive fib by spawn/join --------------------------------- */
typedef struct fibarg {
    weft_runtime_t *rt;
    int n;
} fibarg;

static void *fib_task(void *arg)
{
    fibarg *f = arg;
    if (f->n < 2) return (void *)(intptr_t)f->n;
    fibarg a = {f->rt, f->n - 1}, b = {f->rt, f->n - 2};
    weft_handle_t *ha, *hb;
    if (weft_spawn(f->rt, fib_task, &a, &ha)) return (void *)(intptr_t)-1000000;
    if (weft_spawn(f->rt, fib_task, &b, &hb)) {
        weft_join(ha, NULL, NULL);
        return (void *)(intptr_t)-1000000;
    }
    void *ra = NULL, *rb = NULL;
    int rc = weft_join(hb, &rb, NULL); /* newest first, then the older */
    rc |= weft_join(ha, &ra, NULL);
    if (rc) return (void *)(intptr_t)-1000000;
    return (void *)((intptr_t)ra + (intptr_t)rb);
}

static void joins_inside_tasks(int workers)
{
    weft_runtime_t *rt = wt_runtime(workers, WT_NO_DEVICES, 0);
    fibarg f = {rt, 17};
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, fib_task, &f, &h), 0);
    void *r = NULL;
    assert_int_equal(weft_join(h, &r, NULL), 0);
    assert_int_equal((intptr_t)r, 1597);
    weft_runtime_destroy(rt);
}

static void joins_inside_tasks_one_worker(void **state)
{
    (void)state;
    joins_inside_tasks(1);
}

static void joins_inside_tasks_three_workers(void **state)
{
    (void)state;
    joins_inside_tasks(3);
}

/* ---- a panic caught by a join inside a task leaves the task working ------------------ */
static void *inner_panic(void *arg)
{
    (void)arg;
    weft_panic("inner");
}

typedef struct outer_state {
    weft_runtime_t *rt;
    int join_rc;
    char inner_msg[32];
} outer_state;

static void *outer_then_panic(void *arg)
{
    outer_state *o = arg;
    weft_handle_t *h;
    o->join_rc = weft_spawn(o->rt, inner_panic, NULL, &h);
    if (o->join_rc) return NULL;
    weft_panic_t *p = NULL;
    o->join_rc = weft_join(h, NULL, &p);
    snprintf(o->inner_msg, sizeof o->inner_msg, "%s", p ? weft_panic_message(p) : "(none)");
    weft_panic_destroy(p);
    /* the boundary is ours again: this panic must reach our joiner */
    weft_panic("outer after %s", o->inner_msg);
}

static void nested_panic_boundaries(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    wt_capture_install();
    outer_state o = {.rt = rt};
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, outer_then_panic, &o, &h), 0);
    weft_panic_t *p = NULL;
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    assert_int_equal(o.join_rc, WEFT_EPANIC);
    assert_string_equal(o.inner_msg, "inner");
    assert_string_equal(weft_panic_message(p), "outer after inner");
    weft_panic_destroy(p);
    assert_int_equal(wt_capture_count(), 2);
    wt_capture_restore();

    /* the worker is still healthy */
    fibarg f = {rt, 10};
    assert_int_equal(weft_spawn(rt, fib_task, &f, &h), 0);
    void *r = NULL;
    assert_int_equal(weft_join(h, &r, NULL), 0);
    assert_int_equal((intptr_t)r, 55);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nested_scopes_8_deep_one_worker),
        cmocka_unit_test(nested_scopes_8_deep_two_workers),
        cmocka_unit_test(joins_inside_tasks_one_worker),
        cmocka_unit_test(joins_inside_tasks_three_workers),
        cmocka_unit_test(nested_panic_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
