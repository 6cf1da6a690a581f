/* test_env_threads.c — $WEFT_CPU_THREADS sets the worker count when the
 * options leave it 0, $WEFT_NUM_THREADS (its newer name) wins over it, and
 * with neither the count follows the affinity mask (one less than its
 * CPUs, at least one). Run by CTest with
 * WEFT_CPU_THREADS=3 (and WEFT_NUM_THREADS empty). */
#define _GNU_SOURCE
#include "weft_test.h"

#include <sched.h>
#include <stdlib.h>

typedef struct spot {
    atomic_int *arrived;
    int n;
    int worker;
} spot;

/* Hold a worker until n tasks hold one each. */
static void *occupy(void *arg)
{
    spot *s = arg;
    atomic_fetch_add(s->arrived, 1);
    uint64_t deadline = wt_now_ns() + 30ull * 1000000000u;
    while (atomic_load(s->arrived) < s->n && wt_now_ns() < deadline) weft_sleep_ns(50000);
    s->worker = weft_current_worker();
    return NULL;
}

static void env_sets_thread_count(void **state)
{
    (void)state;
    const char *env = getenv("WEFT_CPU_THREADS");
    if (!env || strcmp(env, "3") != 0) fail_msg("run this test with WEFT_CPU_THREADS=3 (CTest does)");

    weft_runtime_t *rt = NULL;
    assert_int_equal(weft_runtime_create(NULL, &rt), 0);
    assert_int_equal(weft_runtime_cpu_threads(rt), 3);

    /* three workers really run, and the joining thread in its caller slot
     * (index 3) makes a fourth: four tasks each hold one at the same time */
    atomic_int arrived = 0;
    spot s[4];
    weft_handle_t *h[4];
    for (int i = 0; i < 4; i++) {
        s[i] = (spot){&arrived, 4, -2};
        assert_int_equal(weft_spawn(rt, occupy, &s[i], &h[i]), 0);
    }
    int seen = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(weft_join(h[i], NULL, NULL), 0);
        assert_in_range(s[i].worker, 0, 3);
        seen |= 1 << s[i].worker;
    }
    assert_int_equal(seen, 15);
    weft_runtime_destroy(rt);

    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.devices = "none";
    rt = NULL;
    assert_int_equal(weft_runtime_create(&o, &rt), 0); /* cpu_threads 0: from env */
    assert_int_equal(weft_runtime_cpu_threads(rt), 3);
    weft_runtime_destroy(rt);

    o.cpu_threads = 1; /* explicit wins */
    rt = NULL;
    assert_int_equal(weft_runtime_create(&o, &rt), 0);
    assert_int_equal(weft_runtime_cpu_threads(rt), 1);
    weft_runtime_destroy(rt);
}

static int created_threads(void)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.devices = "none";
    weft_runtime_t *rt = NULL;
    int rc = weft_runtime_create(&o, &rt);
    if (rc) return rc;
    int n = weft_runtime_cpu_threads(rt);
    weft_runtime_destroy(rt);
    return n;
}

static void num_threads_wins(void **state)
{
    (void)state;
    assert_int_equal(setenv("WEFT_NUM_THREADS", "2", 1), 0);
    assert_int_equal(created_threads(), 2); /* over WEFT_CPU_THREADS=3 */
    assert_int_equal(setenv("WEFT_NUM_THREADS", "0", 1), 0);
    assert_int_equal(created_threads(), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "WEFT_NUM_THREADS=\"0\"");
    assert_int_equal(setenv("WEFT_NUM_THREADS", "", 1), 0); /* empty: unset */
    assert_int_equal(created_threads(), 3);
    assert_int_equal(unsetenv("WEFT_NUM_THREADS"), 0);
    assert_int_equal(created_threads(), 3);
}

/* As under `taskset -c C`: one CPU in the mask, one worker. */
static void default_follows_affinity(void **state)
{
    (void)state;
    cpu_set_t saved, one;
    assert_int_equal(sched_getaffinity(0, sizeof saved, &saved), 0);
    int cpu = -1;
    for (int c = 0; c < CPU_SETSIZE && cpu < 0; c++)
        if (CPU_ISSET(c, &saved)) cpu = c;
    assert_true(cpu >= 0);
    char *old = strdup(getenv("WEFT_CPU_THREADS"));
    assert_non_null(old);
    assert_int_equal(unsetenv("WEFT_CPU_THREADS"), 0);
    assert_int_equal(unsetenv("WEFT_NUM_THREADS"), 0);
    /* N-1 workers on N CPUs (the caller is the last), at least one */
    int all = created_threads();
    assert_int_equal(all, CPU_COUNT(&saved) > 1 ? CPU_COUNT(&saved) - 1 : 1);
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    assert_int_equal(sched_setaffinity(0, sizeof one, &one), 0);
    int n = created_threads();
    assert_int_equal(sched_setaffinity(0, sizeof saved, &saved), 0);
    assert_int_equal(n, 1);
    assert_int_equal(setenv("WEFT_CPU_THREADS", old, 1), 0);
    free(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(env_sets_thread_count),
        cmocka_unit_test(num_threads_wins),
        cmocka_unit_test(default_follows_affinity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
