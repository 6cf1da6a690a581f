/* test_spawn_join.c — weft_spawn / weft_join: owned arguments, returned values,
 * spawn-all-then-join, is_finished, detach, and destroy waiting for tasks. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <stdlib.h>

/* ---- spawn with an owned argument ------------------------------------------ */
typedef struct job {
    int a, b;
    char label[16];
} job;

/* Takes ownership of the heap argument: reads it, frees it, returns a value. */
static void *consume_job(void *arg)
{
    job *j = arg;
    intptr_t r = (intptr_t)j->a * 100 + j->b + (intptr_t)strlen(j->label);
    free(j);
    return (void *)r;
}

/* Takes the argument, changes it and hands it back as its result. */
static void *transform_job(void *arg)
{
    job *j = arg;
    j->a *= 2;
    j->b += 1;
    snprintf(j->label, sizeof j->label, "done-%d", j->a);
    return j;
}

static void spawn_owned_argument(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);

    job *j = malloc(sizeof *j);
    assert_non_null(j);
    *j = (job){.a = 7, .b = 5, .label = "abcd"};
    weft_handle_t *h = NULL;
    assert_int_equal(weft_spawn(rt, consume_job, j, &h), 0);
    assert_non_null(h);
    void *r = NULL;
    weft_panic_t *p = (weft_panic_t *)1;
    assert_int_equal(weft_join(h, &r, &p), 0);
    assert_null(p);
    assert_int_equal((intptr_t)r, 7 * 100 + 5 + 4);

    job *k = malloc(sizeof *k);
    assert_non_null(k);
    *k = (job){.a = 21, .b = 1, .label = ""};
    assert_int_equal(weft_spawn(rt, transform_job, k, &h), 0);
    assert_int_equal(weft_join(h, &r, NULL), 0);
    assert_ptr_equal(r, k);
    job *back = r;
    assert_int_equal(back->a, 42);
    assert_int_equal(back->b, 2);
    assert_string_equal(back->label, "done-42");
    free(back);

    weft_runtime_destroy(rt);
}

/* ---- join returning a computed vector --------------------------------------- */
#define VEC_LEN 10000

static void *make_squares(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    uint64_t *v = malloc(n * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++) v[i] = (uint64_t)i * i + 3;
    return v;
}

static void join_returns_vector(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, make_squares, (void *)(uintptr_t)VEC_LEN, &h), 0);
    void *r = NULL;
    assert_int_equal(weft_join(h, &r, NULL), 0);
    uint64_t *v = r;
    assert_non_null(v);
    for (size_t i = 0; i < VEC_LEN; i++)
        if (v[i] != (uint64_t)i * i + 3) fail_msg("v[%zu] = %llu", i, (unsigned long long)v[i]);
    free(v);
    weft_runtime_destroy(rt);
}

/* ---- spawn all, then join: parallel sums -------------------------------------- */
typedef struct slice {
    const uint32_t *data;
    size_t begin, end;
} slice;

static void *sum_slice(void *arg)
{
    const slice *s = arg;
    uint64_t *sum = malloc(sizeof *sum);
    if (!sum) return NULL;
    *sum = 0;
    for (size_t i = s->begin; i < s->end; i++) *sum += s->data[i];
    return sum;
}

static void parallel_sum(int workers, size_t n, size_t ntasks)
{
    weft_runtime_t *rt = wt_runtime(workers, WT_NO_DEVICES, 0);
    uint32_t *data = malloc(n * sizeof *data);
    assert_non_null(data);
    uint64_t expect = 0;
    for (size_t i = 0; i < n; i++) {
        data[i] = (uint32_t)(i * 2654435761u % 1000003u);
        expect += data[i];
    }
    slice *slices = calloc(ntasks, sizeof *slices);
    weft_handle_t **hs = calloc(ntasks, sizeof *hs);
    assert_non_null(slices);
    assert_non_null(hs);
    for (size_t t = 0; t < ntasks; t++) {
        slices[t] = (slice){data, n * t / ntasks, n * (t + 1) / ntasks};
        assert_int_equal(weft_spawn(rt, sum_slice, &slices[t], &hs[t]), 0);
    }
    uint64_t total = 0;
    for (size_t t = 0; t < ntasks; t++) {
        void *r = NULL;
        assert_int_equal(weft_join(hs[t], &r, NULL), 0);
        assert_non_null(r);
        uint64_t part = 0;
        for (size_t i = slices[t].begin; i < slices[t].end; i++) part += data[i];
        assert_int_equal(*(uint64_t *)r, part);
        total += *(uint64_t *)r;
        free(r);
    }
    assert_int_equal(total, expect);
    free(hs);
    free(slices);
    free(data);
    weft_runtime_destroy(rt);
}

static void spawn_all_then_join_sums(void **state)
{
    (void)state;
    parallel_sum(4, 1u << 20, 8);
    parallel_sum(3, 100003, 7);   /* uneven split */
    parallel_sum(1, 5000, 64);    /* more tasks than workers, one worker */
}

/* ---- is_finished, joining a finished task --------------------------------------- */
static atomic_int gate;

static void *wait_for_gate(void *arg)
{
    wt_spin_until(&gate, 1);
    return arg;
}

static void handle_is_finished(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    atomic_store(&gate, 0);
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, wait_for_gate, (void *)(uintptr_t)99, &h), 0);
    assert_int_equal(weft_handle_is_finished(h), 0);
    assert_int_equal(weft_handle_is_finished(NULL), 0);
    atomic_store(&gate, 1);
    assert_true(WT_WAIT_UNTIL(weft_handle_is_finished(h), 30));
    assert_int_equal(weft_handle_is_finished(h), 1); /* does not consume */
    void *r = NULL;
    assert_int_equal(weft_join(h, &r, NULL), 0);
    assert_int_equal((uintptr_t)r, 99);
    weft_runtime_destroy(rt);
}

/* ---- a task spawns, the test thread joins ----------------------------------------- */
static void *times_three(void *arg) { return (void *)((uintptr_t)arg * 3); }

static void *spawn_inner(void *arg)
{
    weft_runtime_t *rt = arg;
    weft_handle_t *h = NULL;
    if (weft_spawn(rt, times_three, (void *)(uintptr_t)14, &h)) return NULL;
    return h; /* the handle moves to whoever joins this task */
}

static void handle_moves_between_threads(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    weft_handle_t *outer;
    assert_int_equal(weft_spawn(rt, spawn_inner, rt, &outer), 0);
    void *r = NULL;
    assert_int_equal(weft_join(outer, &r, NULL), 0);
    assert_non_null(r);
    void *r2 = NULL;
    assert_int_equal(weft_join((weft_handle_t *)r, &r2, NULL), 0);
    assert_int_equal((uintptr_t)r2, 42);
    weft_runtime_destroy(rt);
}

/* ---- join with NULL out-parameters -------------------------------------------------- */
static void *panics_now(void *arg)
{
    (void)arg;
    weft_panic("dropped payload");
}

static void join_null_outputs(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    weft_handle_t *h;
    assert_int_equal(weft_spawn(rt, times_three, (void *)(uintptr_t)5, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);

    wt_capture *c = wt_capture_install();
    assert_int_equal(weft_spawn(rt, panics_now, NULL, &h), 0);
    void *r = (void *)1;
    /* The payload is destroyed by join (valgrind checks it is not leaked). */
    assert_int_equal(weft_join(h, &r, NULL), WEFT_EPANIC);
    assert_null(r);
    assert_int_equal(wt_capture_count(), 1);
    assert_string_equal(c->first[0].message, "dropped payload");
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* ---- detach; destroy waits for every task -------------------------------------------- */
static atomic_int detached_done;

static void *slow_flag(void *arg)
{
    (void)arg;
    weft_sleep_ns(20 * 1000000ull);
    atomic_fetch_add(&detached_done, 1);
    return NULL;
}

static void destroy_waits_for_detached(void **state)
{
    (void)state;
    atomic_store(&detached_done, 0);
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    for (int i = 0; i < 6; i++) {
        weft_handle_t *h;
        assert_int_equal(weft_spawn(rt, slow_flag, NULL, &h), 0);
        weft_handle_detach(h);
    }
    weft_runtime_destroy(rt);
    assert_int_equal(atomic_load(&detached_done), 6);
    assert_int_equal(weft_runtime_detached_panics(NULL), 0);
}

/* ---- many independent runtimes in turn ------------------------------------------------ */
static void runtimes_create_destroy_repeatedly(void **state)
{
    (void)state;
    for (int i = 1; i <= 20; i++) {
        weft_runtime_t *rt = wt_runtime(1 + i % 3, WT_NO_DEVICES, 0);
        weft_handle_t *h;
        assert_int_equal(weft_spawn(rt, times_three, (void *)(uintptr_t)i, &h), 0);
        void *r;
        assert_int_equal(weft_join(h, &r, NULL), 0);
        assert_int_equal((uintptr_t)r, 3u * (unsigned)i);
        weft_runtime_destroy(rt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spawn_owned_argument),
        cmocka_unit_test(join_returns_vector),
        cmocka_unit_test(spawn_all_then_join_sums),
        cmocka_unit_test(handle_is_finished),
        cmocka_unit_test(handle_moves_between_threads),
        cmocka_unit_test(join_null_outputs),
        cmocka_unit_test(destroy_waits_for_detached),
        cmocka_unit_test(runtimes_create_destroy_repeatedly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
