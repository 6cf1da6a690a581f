/* test_parallel_priors.c — a static split whose speed model knows only some
 * of its places starts every place from its prior (CPU threads, compute
 * units), never a stored speed set against a prior: after a CPU-only static
 * run stores the CPU's speed, a static run on the CPU and a device gives
 * each its prior share, and every place gets work from the first run. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <stdlib.h>
#include <string.h>

#include "parallel_kernels.h"

static void fill_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *out = argv[0];
    for (size_t i = b; i < e; i++) out[i] = (uint32_t)i * 3u + 1u;
}

static const char *const FILL_CL = "__kernel void fill(__global uint *out) {\n"
                                   "    size_t i = get_global_id(0);\n"
                                   "    out[i] = (uint)i * 3u + 1u;\n"
                                   "}\n";

static const weft_kernel_t FILL = {.name = "priors_fill", .cpu = fill_cpu, .cl_source = FILL_CL, .cl_entry = "fill"};

enum { N = 64 * 1024, GROUP = 64 };

static void run_static(weft_runtime_t *rt, uint32_t *out, uint64_t devices, weft_run_stats_t *st)
{
    memset(out, 0, N * sizeof *out);
    weft_arg_t a = weft_arg_split(out, N * sizeof *out, sizeof *out, WEFT_WRITE);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_STATIC;
    pol.devices = devices;
    WT_CHECK(weft_parallel_run(rt, &FILL, weft_range_1d(N, GROUP), &a, 1, &pol, WT_PANIC));
    for (size_t i = 0; i < N; i++)
        if (out[i] != (uint32_t)i * 3u + 1u) fail_msg("out[%zu] = %u", i, out[i]);
    WT_CHECK(weft_runtime_last_run_stats(rt, st));
}

static void partial_model_uses_priors(void **state)
{
    (void)state;
    char dir[256];
    pk_cache_begin(dir, sizeof dir, "priors");
    weft_runtime_t *rt = wt_runtime(0, "all", 1);
    if (!rt) {
        pk_cache_end(dir);
        skip();
    }
    uint32_t *out = malloc(N * sizeof *out);
    assert_non_null(out);
    weft_run_stats_t st;

    /* CPU alone: the model now holds the CPU's speed, and only it. */
    run_static(rt, out, 0, &st);
    assert_int_equal(st.items[0], N);

    /* The CPU and device 0: the device has no stored speed, so both start
     * from their priors, and the split follows them. */
    run_static(rt, out, 1, &st);
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, 0, &info));
    double cpu = weft_runtime_cpu_threads(rt) + 1.0, dev = info.compute_units ? info.compute_units : 1.0;
    double groups = N / GROUP, want_dev = groups * dev / (cpu + dev);
    double got_dev = (double)st.items[1] / GROUP;
    assert_int_equal(st.items[0] + st.items[1], N);
    if (got_dev < want_dev - 1.5 || got_dev > want_dev + 1.5)
        fail_msg("device 0 got %.0f of %.0f groups; its prior share (%g CPU threads, %g compute units) is %.1f",
                 got_dev, groups, cpu, dev, want_dev);
    assert_true(st.items[0] > 0);

    free(out);
    weft_runtime_destroy(rt);
    pk_cache_end(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(partial_model_uses_priors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
