/* test_stress_million.c — one million tiny tasks, every result right.
 *  (a) the main thread spawns them in batches of 10 000 and joins each batch;
 *  (b) the same million spawned and joined from inside tasks: four parent
 *      tasks each spawn their share in batches and join them, so joins run
 *      on workers (helping) while the inject queue and the workers' own
 *      deques are both busy.
 * Counts scale with rel_scale() (1 natively: a full million each). */
#define _GNU_SOURCE
#include "weft_test.h"

#include "reliability_util.h"

#include <stdlib.h>

#define BATCH 10000

static uint64_t mix(uint64_t i) { return (i + 1) * 0x9E3779B97F4A7C15ull ^ (i >> 7); }

static void *tiny(void *arg) { return (void *)(uintptr_t)mix((uintptr_t)arg); }

/* Spawn [first, first+n) in batches and join; returns the number of wrong
 * results (0), or SIZE_MAX when a spawn or join failed. */
static size_t spawn_join_range(weft_runtime_t *rt, size_t first, size_t n, weft_handle_t **hs)
{
    size_t wrong = 0;
    for (size_t b = 0; b < n; b += BATCH) {
        size_t m = n - b < BATCH ? n - b : BATCH;
        for (size_t j = 0; j < m; j++)
            if (weft_spawn(rt, tiny, (void *)(uintptr_t)(first + b + j), &hs[j])) {
                for (size_t k = 0; k < j; k++) weft_join(hs[k], NULL, NULL);
                return SIZE_MAX;
            }
        for (size_t j = 0; j < m; j++) {
            void *r = NULL;
            if (weft_join(hs[j], &r, NULL)) return SIZE_MAX;
            if ((uintptr_t)r != (uintptr_t)mix(first + b + j)) wrong++;
        }
    }
    return wrong;
}

static void million_from_main(void **state)
{
    (void)state;
    size_t n = rel_scaled(1000000, 20000);
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    weft_handle_t **hs = malloc(BATCH * sizeof *hs);
    assert_non_null(hs);
    uint64_t t0 = wt_now_ns();
    size_t wrong = spawn_join_range(rt, 0, n, hs);
    uint64_t t1 = wt_now_ns();
    free(hs);
    weft_runtime_destroy(rt);
    if (wrong == SIZE_MAX) fail_msg("spawn or join failed: %s", weft_last_error_message());
    assert_int_equal(wrong, 0);
    fprintf(stderr, "note: %zu tasks from the main thread in %.2f s\n", n, (double)(t1 - t0) / 1e9);
}

typedef struct parent {
    weft_runtime_t *rt;
    size_t first, n;
    size_t wrong; /* SIZE_MAX: a spawn or join failed */
} parent;

static void *parent_task(void *arg)
{
    parent *p = arg;
    weft_handle_t **hs = malloc(BATCH * sizeof *hs);
    if (!hs) {
        p->wrong = SIZE_MAX;
        return NULL;
    }
    p->wrong = spawn_join_range(p->rt, p->first, p->n, hs);
    free(hs);
    return NULL;
}

static void million_from_tasks(void **state)
{
    (void)state;
    enum { PARENTS = 4 };
    size_t n = rel_scaled(1000000, 20000);
    weft_runtime_t *rt = wt_runtime(3, WT_NO_DEVICES, 0);
    parent ps[PARENTS];
    weft_handle_t *hs[PARENTS];
    uint64_t t0 = wt_now_ns();
    for (int i = 0; i < PARENTS; i++) {
        size_t b = n * (size_t)i / PARENTS, e = n * (size_t)(i + 1) / PARENTS;
        ps[i] = (parent){.rt = rt, .first = b, .n = e - b, .wrong = SIZE_MAX};
        assert_int_equal(weft_spawn(rt, parent_task, &ps[i], &hs[i]), 0);
    }
    for (int i = 0; i < PARENTS; i++) assert_int_equal(weft_join(hs[i], NULL, NULL), 0);
    uint64_t t1 = wt_now_ns();
    weft_runtime_destroy(rt);
    for (int i = 0; i < PARENTS; i++) {
        if (ps[i].wrong == SIZE_MAX) fail_msg("parent %d: a spawn or join failed", i);
        if (ps[i].wrong) fail_msg("parent %d: %zu wrong results", i, ps[i].wrong);
    }
    fprintf(stderr, "note: %zu tasks from %d tasks in %.2f s\n", n, PARENTS, (double)(t1 - t0) / 1e9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(million_from_main),
        cmocka_unit_test(million_from_tasks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
