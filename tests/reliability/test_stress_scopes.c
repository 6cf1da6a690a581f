/* test_stress_scopes.c — scopes opened from 4 outside threads at once.
 * Four plain pthreads (not workers) share one runtime and each opens scope
 * after scope. In every scope the body spawns tasks; each task spawns more
 * tasks into the same scope (nested spawns the scope must wait for) and
 * opens a nested scope of its own on the worker it runs on. Every task
 * writes its own cell; after each scope returns the thread checks that every
 * cell of that scope is right (the scope waited for all of them), and the
 * test thread checks the threads' tallies after joining them. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "reliability_util.h"

#include <pthread.h>
#include <stdlib.h>

enum {
    THREADS = 4,
    TOP = 8,      /* tasks the body spawns */
    CHILDREN = 6, /* tasks each top task spawns into the same scope */
    INNER = 4,    /* tasks of each top task's nested scope */
    CELLS = TOP * (1 + CHILDREN + INNER),
};

typedef struct round_ctx {
    uint64_t cells[CELLS];
    uint64_t salt;
} round_ctx;

static uint64_t want(uint64_t salt, size_t cell) { return salt * 1000003u + cell * 7919u + 1; }

typedef struct job {
    round_ctx *rc;
    weft_scope_t *scope;
    size_t cell;
} job;

typedef struct top_job {
    job self;
    job children[CHILDREN];
    job inner[INNER];
    int inner_rc;
    int spawn_failures;
} top_job;

static void *leaf(void *arg)
{
    job *j = arg;
    j->rc->cells[j->cell] = want(j->rc->salt, j->cell);
    return NULL;
}

static int inner_body(weft_scope_t *s, void *arg)
{
    top_job *t = arg;
    for (int k = 0; k < INNER; k++) {
        t->inner[k].scope = s;
        if (weft_scope_spawn(s, leaf, &t->inner[k], NULL)) t->spawn_failures++;
    }
    return 7; /* the body's own value comes back from weft_scope */
}

static void *top_task(void *arg)
{
    top_job *t = arg;
    leaf(&t->self);
    for (int c = 0; c < CHILDREN; c++)
        if (weft_scope_spawn(t->self.scope, leaf, &t->children[c], NULL)) t->spawn_failures++;
    t->inner_rc = weft_scope(weft_scope_runtime(t->self.scope), inner_body, t, NULL);
    return NULL;
}

typedef struct body_ctx {
    round_ctx *rc;
    top_job tops[TOP];
    weft_handle_t *joined[TOP];
} body_ctx;

static int outer_body(weft_scope_t *s, void *arg)
{
    body_ctx *b = arg;
    for (int t = 0; t < TOP; t++) {
        top_job *tj = &b->tops[t];
        size_t base = (size_t)t * (1 + CHILDREN + INNER);
        tj->self = (job){b->rc, s, base};
        for (int c = 0; c < CHILDREN; c++) tj->children[c] = (job){b->rc, s, base + 1 + (size_t)c};
        for (int k = 0; k < INNER; k++) tj->inner[k] = (job){b->rc, NULL, base + 1 + CHILDREN + (size_t)k};
        tj->inner_rc = -1;
        tj->spawn_failures = 0;
        /* Half are joined in the body, half left to the scope. */
        if (weft_scope_spawn(s, top_task, tj, t % 2 ? &b->joined[t] : NULL)) return -1;
        if (t % 2 == 0) b->joined[t] = NULL;
    }
    for (int t = 1; t < TOP; t += 2)
        if (weft_join(b->joined[t], NULL, NULL)) return -2;
    return 0;
}

typedef struct thread_ctx {
    weft_runtime_t *rt;
    int index;
    size_t rounds;
    size_t scopes_ok, bad_cells, bad_rc;
} thread_ctx;

static void *outside_thread(void *arg)
{
    thread_ctx *tc = arg;
    round_ctx *rc = malloc(sizeof *rc);
    body_ctx *b = malloc(sizeof *b);
    if (!rc || !b) {
        free(rc);
        free(b);
        tc->bad_rc = SIZE_MAX;
        return NULL;
    }
    for (size_t r = 0; r < tc->rounds; r++) {
        memset(rc, 0, sizeof *rc);
        rc->salt = (uint64_t)tc->index * 1000000u + r;
        b->rc = rc;
        weft_panic_t *p = NULL;
        int ret = weft_scope(tc->rt, outer_body, b, &p);
        if (ret != 0 || p) tc->bad_rc++;
        weft_panic_destroy(p);
        for (int t = 0; t < TOP; t++)
            if (b->tops[t].inner_rc != 7 || b->tops[t].spawn_failures) tc->bad_rc++;
        size_t bad = 0;
        for (size_t c = 0; c < CELLS; c++) bad += rc->cells[c] != want(rc->salt, c);
        tc->bad_cells += bad;
        tc->scopes_ok += ret == 0 && bad == 0;
    }
    free(rc);
    free(b);
    return NULL;
}

static void four_threads_open_scopes(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    size_t rounds = rel_scaled(2000, 10);
    pthread_t th[THREADS];
    thread_ctx tc[THREADS];
    uint64_t t0 = wt_now_ns();
    for (int i = 0; i < THREADS; i++) {
        tc[i] = (thread_ctx){.rt = rt, .index = i, .rounds = rounds};
        assert_int_equal(pthread_create(&th[i], NULL, outside_thread, &tc[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    uint64_t t1 = wt_now_ns();
    weft_runtime_destroy(rt);
    for (int i = 0; i < THREADS; i++) {
        if (tc[i].bad_rc) fail_msg("thread %d: %zu bad scope or task outcomes", i, tc[i].bad_rc);
        if (tc[i].bad_cells) fail_msg("thread %d: %zu wrong cells", i, tc[i].bad_cells);
        assert_int_equal(tc[i].scopes_ok, rounds);
    }
    fprintf(stderr, "note: %d threads x %zu scopes x %d tasks in %.2f s\n", THREADS, rounds, CELLS,
            (double)(t1 - t0) / 1e9);
}

/* The same with a panicking task in every scope of one thread: the other
 * threads' scopes are unaffected, the panicking thread's scopes report it. */
static void *panicker(void *arg)
{
    (void)arg;
    weft_panic("scope stress panic");
}

static int panicking_body(weft_scope_t *s, void *arg)
{
    body_ctx *b = arg;
    int rc = outer_body(s, b);
    if (weft_scope_spawn(s, panicker, NULL, NULL)) return -3;
    return rc;
}

typedef struct panic_thread {
    weft_runtime_t *rt;
    size_t rounds, right;
} panic_thread;

static void *outside_panicking_thread(void *arg)
{
    panic_thread *pt = arg;
    round_ctx *rc = malloc(sizeof *rc);
    body_ctx *b = malloc(sizeof *b);
    for (size_t r = 0; rc && b && r < pt->rounds; r++) {
        memset(rc, 0, sizeof *rc);
        rc->salt = 777000u + r;
        b->rc = rc;
        weft_panic_t *p = NULL;
        int ret = weft_scope(pt->rt, panicking_body, b, &p);
        size_t bad = 0;
        for (size_t c = 0; c < CELLS; c++) bad += rc->cells[c] != want(rc->salt, c);
        const weft_panic_t *cause = weft_panic_cause(p);
        if (ret == WEFT_EPANIC && bad == 0 && cause && strcmp(weft_panic_message(cause), "scope stress panic") == 0 &&
            weft_panic_suppressed(p) == 0)
            pt->right++;
        weft_panic_destroy(p);
    }
    free(rc);
    free(b);
    return NULL;
}

static void one_thread_panics(void **state)
{
    (void)state;
    wt_capture_install();
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    size_t rounds = rel_scaled(200, 5);
    pthread_t th[THREADS];
    thread_ctx tc[THREADS - 1];
    panic_thread pt = {.rt = rt, .rounds = rounds};
    for (int i = 0; i < THREADS - 1; i++) {
        tc[i] = (thread_ctx){.rt = rt, .index = i, .rounds = rounds};
        assert_int_equal(pthread_create(&th[i], NULL, outside_thread, &tc[i]), 0);
    }
    assert_int_equal(pthread_create(&th[THREADS - 1], NULL, outside_panicking_thread, &pt), 0);
    for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    weft_runtime_destroy(rt);
    int heard = wt_capture_count();
    wt_capture_restore();
    for (int i = 0; i < THREADS - 1; i++) {
        assert_int_equal(tc[i].bad_rc, 0);
        assert_int_equal(tc[i].bad_cells, 0);
        assert_int_equal(tc[i].scopes_ok, rounds);
    }
    assert_int_equal(pt.right, rounds);
    assert_int_equal(heard, (int)rounds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(four_threads_open_scopes),
        cmocka_unit_test(one_thread_panics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
