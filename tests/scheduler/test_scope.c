/* test_scope.c — weft_scope: borrowing, waiting for every task (also tasks
 * spawned by tasks), and the outcome rules for panics. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <stdlib.h>

/* ---- borrow two arrays and sum both ------------------------------------------ */
typedef struct borrow {
    const int *data;
    size_t n;
    long sum;
} borrow;

static void *sum_borrowed(void *arg)
{
    borrow *b = arg;
    long s = 0;
    for (size_t i = 0; i < b->n; i++) s += b->data[i];
    b->sum = s;
    return NULL;
}

typedef struct two_arrays {
    borrow a, b;
    weft_runtime_t *seen_rt;
} two_arrays;

static int sum_two_body(weft_scope_t *s, void *arg)
{
    two_arrays *t = arg;
    t->seen_rt = weft_scope_runtime(s);
    int rc = weft_scope_spawn(s, sum_borrowed, &t->a, NULL);
    if (rc) return rc;
    weft_handle_t *h = NULL;
    rc = weft_scope_spawn(s, sum_borrowed, &t->b, &h);
    if (rc) return rc;
    return 0; /* h left unjoined on purpose: the scope joins it */
}

static void scope_borrows_two_arrays(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    int a[1000], b[2500];
    for (int i = 0; i < 1000; i++) a[i] = i + 1;
    for (int i = 0; i < 2500; i++) b[i] = 3 * i;
    two_arrays t = {.a = {a, 1000, -1}, .b = {b, 2500, -1}};
    weft_panic_t *p = (weft_panic_t *)1;
    assert_int_equal(weft_scope(rt, sum_two_body, &t, &p), 0);
    assert_null(p);
    assert_ptr_equal(t.seen_rt, rt);
    assert_int_equal(t.a.sum, 1000L * 1001 / 2);
    assert_int_equal(t.b.sum, 3L * 2499 * 2500 / 2);
    /* still ours, unchanged */
    for (int i = 0; i < 1000; i++) assert_int_equal(a[i], i + 1);
    for (int i = 0; i < 2500; i++) assert_int_equal(b[i], 3 * i);
    a[0] = 5;
    assert_int_equal(a[0], 5);
    assert_null(weft_scope_runtime(NULL));
    weft_runtime_destroy(rt);
}

/* ---- tasks write disjoint slices of a borrowed output; body's own code ------------ */
typedef struct chunk {
    int *out;
    size_t begin, end;
} chunk;

static void *write_chunk(void *arg)
{
    chunk *c = arg;
    for (size_t i = c->begin; i < c->end; i++) c->out[i] = (int)(i * i % 9973);
    return NULL;
}

#define OUT_N 50000
#define OUT_TASKS 13

typedef struct fill_all {
    int *out;
    chunk chunks[OUT_TASKS];
} fill_all;

static int fill_body(weft_scope_t *s, void *arg)
{
    fill_all *f = arg;
    for (size_t t = 0; t < OUT_TASKS; t++) {
        f->chunks[t] = (chunk){f->out, OUT_N * t / OUT_TASKS, OUT_N * (t + 1) / OUT_TASKS};
        int rc = weft_scope_spawn(s, write_chunk, &f->chunks[t], NULL);
        if (rc) return rc;
    }
    return 77; /* the body's own code comes back as the scope's result */
}

static void scope_every_element_written(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    int *out = malloc(OUT_N * sizeof *out);
    assert_non_null(out);
    for (size_t i = 0; i < OUT_N; i++) out[i] = -1;
    fill_all f = {.out = out};
    assert_int_equal(weft_scope(rt, fill_body, &f, NULL), 77);
    for (size_t i = 0; i < OUT_N; i++)
        if (out[i] != (int)(i * i % 9973)) fail_msg("out[%zu] = %d", i, out[i]);
    free(out);
    weft_runtime_destroy(rt);
}

/* ---- tasks spawned by tasks have all finished when weft_scope returns ------------- */
typedef struct tree {
    weft_scope_t *s;
    atomic_int *count;
    int depth;
    int fanout;
} tree;

static void *grow(void *arg)
{
    tree *t = arg;
    if (t->depth > 0) {
        for (int i = 0; i < t->fanout; i++) {
            tree *child = malloc(sizeof *child);
            if (!child) break;
            *child = (tree){t->s, t->count, t->depth - 1, t->fanout};
            if (weft_scope_spawn(t->s, grow, child, NULL)) free(child);
        }
    }
    weft_sleep_ns(200000); /* finish after the spawner: nothing joins us */
    atomic_fetch_add(t->count, 1);
    free(t);
    return NULL;
}

typedef struct tree_root {
    atomic_int count;
    int depth, fanout;
} tree_root;

static int tree_body(weft_scope_t *s, void *arg)
{
    tree_root *r = arg;
    tree *t = malloc(sizeof *t);
    if (!t) return -100;
    *t = (tree){s, &r->count, r->depth, r->fanout};
    return weft_scope_spawn(s, grow, t, NULL);
}

static void scope_waits_for_grandchildren(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    tree_root r = {.depth = 3, .fanout = 4}; /* 1 + 4 + 16 + 64 tasks */
    atomic_init(&r.count, 0);
    assert_int_equal(weft_scope(rt, tree_body, &r, NULL), 0);
    assert_int_equal(atomic_load(&r.count), 1 + 4 + 16 + 64);

    /* a deep chain: each task spawns one more */
    tree_root chain = {.depth = 40, .fanout = 1};
    atomic_init(&chain.count, 0);
    assert_int_equal(weft_scope(rt, tree_body, &chain, NULL), 0);
    assert_int_equal(atomic_load(&chain.count), 41);
    weft_runtime_destroy(rt);
}

/* ---- panics ------------------------------------------------------------------------- */
static void *panic_with_arg(void *arg)
{
    weft_panic("task %s failed", (const char *)arg);
}

/* Spawn the panicking tasks one after another, each finished before the next
 * starts, so "the first panic" is well defined. */
typedef struct panicky {
    int n;              /* panicking tasks */
    int join_first;     /* join (and so absorb) the first one */
    int body_panics;    /* the body panics at the end */
    int join_rc;
    char joined_msg[64];
    int wait_failed;
} panicky;

static const char *const names[] = {"first", "second", "third", "fourth"};

static int panicky_body(weft_scope_t *s, void *arg)
{
    panicky *pk = arg;
    for (int i = 0; i < pk->n; i++) {
        weft_handle_t *h = NULL;
        int rc = weft_scope_spawn(s, panic_with_arg, (void *)names[i], &h);
        if (rc) return rc;
        if (i == 0 && pk->join_first) {
            weft_panic_t *p = NULL;
            pk->join_rc = weft_join(h, NULL, &p);
            snprintf(pk->joined_msg, sizeof pk->joined_msg, "%s", p ? weft_panic_message(p) : "");
            weft_panic_destroy(p);
            continue;
        }
        if (!WT_WAIT_UNTIL(weft_handle_is_finished(h), 30)) pk->wait_failed = 1;
    }
    if (pk->body_panics) weft_panic("body failed after %d tasks", pk->n);
    return 0;
}

static void unjoined_panics_fail_the_scope(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture *c = wt_capture_install();
    panicky pk = {.n = 3};
    weft_panic_t *p = NULL;
    int line = __LINE__; int rc = weft_scope(rt, panicky_body, &pk, &p);
    assert_int_equal(rc, WEFT_EPANIC);
    assert_int_equal(pk.wait_failed, 0);
    assert_non_null(p);
    assert_string_equal(weft_panic_message(p), "a scoped thread panicked");
    /* the scope's own panic is located at the weft_scope call, on the caller */
    assert_string_equal(weft_panic_file(p), __FILE__);
    assert_int_equal(weft_panic_line(p), line);
    assert_string_equal(weft_panic_thread(p), "<unnamed>");
    const weft_panic_t *cause = weft_panic_cause(p);
    assert_non_null(cause);
    assert_string_equal(weft_panic_message(cause), "task first failed");
    assert_string_equal(weft_panic_file(cause), __FILE__);
    assert_string_equal(weft_panic_thread(cause), "<unnamed>");
    assert_null(weft_panic_cause(cause));
    assert_int_equal(weft_panic_suppressed(p), 2);
    /* each task panic reached the hook once */
    int task_panics = 0;
    for (int i = 0; i < wt_capture_count() && i < WT_CAPTURE_FIRST; i++)
        if (strcmp(c->first[i].message, "a scoped thread panicked") != 0) task_panics++;
    assert_int_equal(task_panics, 3);
    assert_string_equal(c->first[0].message, "task first failed");
    weft_panic_destroy(p);

    /* panic out-parameter NULL: still WEFT_EPANIC, the payload is freed */
    pk = (panicky){.n = 1};
    assert_int_equal(weft_scope(rt, panicky_body, &pk, NULL), WEFT_EPANIC);

    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* A scope opened by a named task: its panic carries that task's name. */
typedef struct named_scope {
    weft_runtime_t *rt;
    int rc, line;
    char thread[32], message[64], cause_thread[32];
} named_scope;

static int one_unjoined_panic(weft_scope_t *s, void *arg)
{
    (void)arg;
    return weft_scope_spawn(s, panic_with_arg, (void *)"child", NULL);
}

static void *scope_in_named_task(void *arg)
{
    named_scope *n = arg;
    weft_panic_t *p = NULL;
    n->line = __LINE__; n->rc = weft_scope(n->rt, one_unjoined_panic, NULL, &p);
    if (p) {
        snprintf(n->thread, sizeof n->thread, "%s", weft_panic_thread(p));
        snprintf(n->message, sizeof n->message, "%s", weft_panic_message(p));
        snprintf(n->cause_thread, sizeof n->cause_thread, "%s", weft_panic_thread(weft_panic_cause(p)));
        if (weft_panic_line(p) != n->line) n->line = -weft_panic_line(p);
    }
    weft_panic_destroy(p);
    return NULL;
}

static void scope_panic_names_the_caller(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    wt_capture_install();
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = "scoper";
    named_scope n = {.rt = rt};
    weft_handle_t *h;
    assert_int_equal(weft_builder_spawn(&b, rt, scope_in_named_task, &n, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    assert_int_equal(n.rc, WEFT_EPANIC);
    assert_string_equal(n.message, "a scoped thread panicked");
    assert_string_equal(n.thread, "scoper");
    assert_string_equal(n.cause_thread, "<unnamed>");
    assert_true(n.line > 0); /* the line of the weft_scope call */
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

static void body_panic_wins(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture_install();
    panicky pk = {.n = 2, .body_panics = 1};
    weft_panic_t *p = NULL;
    assert_int_equal(weft_scope(rt, panicky_body, &pk, &p), WEFT_EPANIC);
    assert_non_null(p);
    assert_string_equal(weft_panic_message(p), "body failed after 2 tasks");
    assert_string_equal(weft_panic_file(p), __FILE__);
    assert_string_equal(weft_panic_thread(p), "<unnamed>");
    assert_null(weft_panic_cause(p));
    assert_int_equal(weft_panic_suppressed(p), 0);
    assert_int_equal(wt_capture_count(), 3);
    weft_panic_destroy(p);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

static void joined_panic_does_not_fail_scope(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    wt_capture_install();
    panicky pk = {.n = 1, .join_first = 1};
    weft_panic_t *p = (weft_panic_t *)1;
    assert_int_equal(weft_scope(rt, panicky_body, &pk, &p), 0);
    assert_null(p);
    assert_int_equal(pk.join_rc, WEFT_EPANIC);
    assert_string_equal(pk.joined_msg, "task first failed");

    /* one joined, two not: the cause is the first *unjoined* one */
    pk = (panicky){.n = 3, .join_first = 1};
    assert_int_equal(weft_scope(rt, panicky_body, &pk, &p), WEFT_EPANIC);
    assert_string_equal(weft_panic_message(p), "a scoped thread panicked");
    assert_string_equal(weft_panic_message(weft_panic_cause(p)), "task second failed");
    assert_int_equal(weft_panic_suppressed(p), 1);
    weft_panic_destroy(p);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* A detached scope handle is still waited for by the scope. */
static atomic_int late_flag;

static void *late_task(void *arg)
{
    (void)arg;
    weft_sleep_ns(20 * 1000000ull);
    atomic_store(&late_flag, 1);
    return NULL;
}

static int detach_body(weft_scope_t *s, void *arg)
{
    (void)arg;
    weft_handle_t *h = NULL;
    int rc = weft_scope_spawn(s, late_task, NULL, &h);
    if (rc) return rc;
    weft_handle_detach(h);
    return 0;
}

static void scope_waits_for_detached_handle(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    atomic_store(&late_flag, 0);
    assert_int_equal(weft_scope(rt, detach_body, NULL, NULL), 0);
    assert_int_equal(atomic_load(&late_flag), 1);
    weft_runtime_destroy(rt);
}

/* Joining a scope task inside the body returns its value; bad spawns fail. */
static void *plus_one(void *arg) { return (void *)((uintptr_t)arg + 1); }

typedef struct join_in_body {
    int rc_null_fn, rc_null_scope;
    uintptr_t sum;
} join_in_body;

static int join_body(weft_scope_t *s, void *arg)
{
    join_in_body *j = arg;
    weft_handle_t *hs[10];
    for (uintptr_t i = 0; i < 10; i++)
        if (weft_scope_spawn(s, plus_one, (void *)i, &hs[i])) return -1;
    for (int i = 0; i < 10; i++) {
        void *r = NULL;
        if (weft_join(hs[i], &r, NULL)) return -2;
        j->sum += (uintptr_t)r;
    }
    weft_handle_t *h = (weft_handle_t *)s;
    j->rc_null_fn = weft_scope_spawn(s, NULL, NULL, &h);
    if (h) return -3;
    j->rc_null_scope = weft_scope_spawn(NULL, plus_one, NULL, &h);
    return 0;
}

static void join_inside_body(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    join_in_body j = {0};
    assert_int_equal(weft_scope(rt, join_body, &j, NULL), 0);
    assert_int_equal(j.sum, 55);
    assert_int_equal(j.rc_null_fn, WEFT_EINVAL);
    assert_int_equal(j.rc_null_scope, WEFT_EINVAL);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scope_borrows_two_arrays),
        cmocka_unit_test(scope_every_element_written),
        cmocka_unit_test(scope_waits_for_grandchildren),
        cmocka_unit_test(unjoined_panics_fail_the_scope),
        cmocka_unit_test(scope_panic_names_the_caller),
        cmocka_unit_test(body_panic_wins),
        cmocka_unit_test(joined_panic_does_not_fail_scope),
        cmocka_unit_test(scope_waits_for_detached_handle),
        cmocka_unit_test(join_inside_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
