/* test_stress_spawn.c — many tasks: 100 000 spawns joined with every result
 * right, a large scope, and tasks that spawn and join many tasks themselves. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <stdlib.h>

static void *affine(void *arg)
{
    uintptr_t i = (uintptr_t)arg;
    return (void *)(i * 2654435761u % 4294967291u + 1);
}

static void hundred_thousand_spawns(void **state)
{
    (void)state;
    enum { N = 100000 };
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    weft_handle_t **hs = malloc(N * sizeof *hs);
    assert_non_null(hs);
    for (uintptr_t i = 0; i < N; i++)
        if (weft_spawn(rt, affine, (void *)i, &hs[i])) fail_msg("spawn %zu: %s", (size_t)i, weft_last_error_message());
    for (uintptr_t i = 0; i < N; i++) {
        void *r = NULL;
        if (weft_join(hs[i], &r, NULL)) fail_msg("join %zu failed", (size_t)i);
        if ((uintptr_t)r != i * 2654435761u % 4294967291u + 1) fail_msg("task %zu returned %p", (size_t)i, r);
    }
    free(hs);
    weft_runtime_destroy(rt);
}

typedef struct cell {
    uint64_t *out;
    size_t i;
} cell;

static void *write_cell(void *arg)
{
    cell *c = arg;
    c->out[c->i] = (uint64_t)c->i * 3 + 1;
    return NULL;
}

typedef struct many {
    size_t n;
    cell *cells;
    uint64_t *out;
} many;

static int many_body(weft_scope_t *s, void *arg)
{
    many *m = arg;
    for (size_t i = 0; i < m->n; i++) {
        m->cells[i] = (cell){m->out, i};
        int rc = weft_scope_spawn(s, write_cell, &m->cells[i], NULL);
        if (rc) return rc;
    }
    return 0;
}

static void large_scope(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    many m = {.n = 30000};
    m.cells = malloc(m.n * sizeof *m.cells);
    m.out = calloc(m.n, sizeof *m.out);
    assert_non_null(m.cells);
    assert_non_null(m.out);
    assert_int_equal(weft_scope(rt, many_body, &m, NULL), 0);
    for (size_t i = 0; i < m.n; i++)
        if (m.out[i] != (uint64_t)i * 3 + 1) fail_msg("out[%zu] = %llu", i, (unsigned long long)m.out[i]);
    free(m.cells);
    free(m.out);
    weft_runtime_destroy(rt);
}

/* Tasks that each spawn and join a batch: pushes go to the workers' own
 * queues, and idle workers steal from them. */
typedef struct spawner {
    weft_runtime_t *rt;
    uintptr_t base;
    size_t n;
    uint64_t sum;
    int failures;
} spawner;

static void *spawn_batch(void *arg)
{
    spawner *sp = arg;
    weft_handle_t **hs = malloc(sp->n * sizeof *hs);
    if (!hs) {
        sp->failures = -1;
        return NULL;
    }
    size_t started = 0;
    for (; started < sp->n; started++)
        if (weft_spawn(sp->rt, affine, (void *)(sp->base + started), &hs[started])) break;
    sp->failures += (int)(sp->n - started);
    for (size_t i = 0; i < started; i++) {
        void *r = NULL;
        if (weft_join(hs[i], &r, NULL)) sp->failures++;
        sp->sum += (uintptr_t)r;
    }
    free(hs);
    return NULL;
}

static void tasks_spawning_tasks(void **state)
{
    (void)state;
    enum { SPAWNERS = 6, EACH = 5000 };
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    spawner sp[SPAWNERS];
    weft_handle_t *hs[SPAWNERS];
    for (int k = 0; k < SPAWNERS; k++) {
        sp[k] = (spawner){rt, (uintptr_t)k * EACH, EACH, 0, 0};
        assert_int_equal(weft_spawn(rt, spawn_batch, &sp[k], &hs[k]), 0);
    }
    for (int k = 0; k < SPAWNERS; k++) {
        assert_int_equal(weft_join(hs[k], NULL, NULL), 0);
        assert_int_equal(sp[k].failures, 0);
        uint64_t expect = 0;
        for (uintptr_t i = sp[k].base; i < sp[k].base + EACH; i++)
            expect += i * 2654435761u % 4294967291u + 1;
        assert_int_equal(sp[k].sum, expect);
    }
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hundred_thousand_spawns),
        cmocka_unit_test(large_scope),
        cmocka_unit_test(tasks_spawning_tasks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
