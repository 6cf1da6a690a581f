/* test_parallel_reuse.c — device buffers come back: on a device with memory
 * of its own, an operation's buffers go to the device's pool when it ends and
 * the next operation with arrays of the same size takes them, instead of
 * allocating device memory again. The reused buffers hold the previous
 * operation's bytes: the results must not show it (every element checked,
 * write-only outputs and reductions included). White-box: it looks at the
 * host layer's pool (host/host.h). Runs in separate-memory mode. */
#define _GNU_SOURCE /* mkdtemp, setenv (parallel_kernels.h) */
#include "weft_test.h"
#include "parallel_kernels.h"

#include "host/host.h"

static size_t pooled_buffers(weft_runtime_t *rt, int device)
{
    weft__device *d = weft__host_of(rt)->devices[device];
    size_t n = 0;
    pthread_mutex_lock(&d->pool_m);
    for (weft__devmem *e = d->pool; e; e = e->next) n++;
    pthread_mutex_unlock(&d->pool_m);
    return n;
}

static void buffers_come_back(void **state)
{
    (void)state;
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 2;
    o.separate_memory = 1;
    weft_runtime_t *rt = NULL;
    WT_CHECK(weft_runtime_create(&o, &rt));
    if (weft_device_count(rt) == 0) {
        weft_runtime_destroy(rt);
        skip();
    }
    assert_int_equal(pooled_buffers(rt, 0), 0);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.use_cpu = 0;
    pol.devices = 1; /* device 0 only */
    const size_t n = 5000;
    /* Five rounds, each with fresh host arrays and another seed: a reused
     * buffer still holding the last round's bytes would show. */
    for (uint32_t round = 0; round < 5; round++) {
        char what[64];
        snprintf(what, sizeof what, "round %u", round);
        pk_run_iota(rt, n, 64, &pol, 100 + round, what);
        /* out (write-only) and cnt (read-write) came back to the pool. */
        assert_int_equal(pooled_buffers(rt, 0), 2);
    }
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buffers_come_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
