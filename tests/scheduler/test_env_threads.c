/* test_env_threads.c — $WEFT_CPU_THREADS sets the worker count when the
 * options leave it 0. Run by CTest with WEFT_CPU_THREADS=3. */
#define _GNU_SOURCE
#include "weft_test.h"

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

    /* three workers really run: three tasks each hold one at the same time */
    atomic_int arrived = 0;
    spot s[3];
    weft_handle_t *h[3];
    for (int i = 0; i < 3; i++) {
        s[i] = (spot){&arrived, 3, -2};
        assert_int_equal(weft_spawn(rt, occupy, &s[i], &h[i]), 0);
    }
    int seen = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(weft_join(h[i], NULL, NULL), 0);
        assert_in_range(s[i].worker, 0, 2);
        seen |= 1 << s[i].worker;
    }
    assert_int_equal(seen, 7);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(env_sets_thread_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
