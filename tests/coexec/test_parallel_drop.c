/* test_parallel_drop.c — a place that would lengthen the operation is
 * dropped: a device deliberately slowed (its kernel spins thousands of
 * rounds per item, the CPU body none) beside the CPU workers, named
 * explicitly. Guided gives it its measuring chunk and then nothing that
 * outlasts the CPU; adaptive, once its model knows both speeds, drops it
 * before it runs anything, and says so in the run stats. The results are
 * complete and right every time. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { N = 16 * 1024, GROUP = 64, SPIN = 20000 };

static void fill_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *out = argv[0];
    for (size_t i = b; i < e; i++) out[i] = (uint32_t)i * 3u + 1u;
}

/* The same values after `spin` rounds of an LCG the compiler cannot drop
 * (the result decides a term that is 0 for any spin > 0 in practice, and
 * nothing says so at compile time). */
static const char *const SLOW_CL = "__kernel void slow_fill(__global uint *out, uint spin) {\n"
                                   "    uint i = (uint)get_global_id(0), x = i;\n"
                                   "    for (uint k = 0; k < spin; k++) x = x * 1664525u + 1013904223u;\n"
                                   "    out[i] = i * 3u + 1u + (x == 0xFFFFFFFFu && spin == 1u ? 1u : 0u);\n"
                                   "}\n";

static const weft_kernel_t SLOW = {.name = "drop_slow_fill", .cpu = fill_cpu, .cl_source = SLOW_CL,
                                   .cl_entry = "slow_fill"};

static weft_run_stats_t run(weft_runtime_t *rt, uint32_t *out, weft_policy_kind_t kind, uint64_t device_bit,
                            const char *what)
{
    memset(out, 0, N * sizeof *out);
    uint32_t spin = SPIN;
    weft_arg_t a[] = {weft_arg_split(out, N * sizeof *out, sizeof *out, WEFT_WRITE), weft_arg_scalar(&spin, sizeof spin)};
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = kind;
    pol.devices = device_bit;
    WT_CHECK(weft_parallel_run(rt, &SLOW, weft_range_1d(N, GROUP), a, 2, &pol, WT_PANIC));
    for (size_t i = 0; i < N; i++)
        if (out[i] != (uint32_t)i * 3u + 1u) fail_msg("%s: out[%zu] = %u", what, i, out[i]);
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    size_t sum = 0;
    for (int i = 0; i < 65; i++) sum += st.items[i];
    if (sum != N) fail_msg("%s: %zu items done, expected %d", what, sum, N);
    return st;
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d) closedir(d);
    rmdir(dir);
}

static void slow_device_is_dropped(void **state)
{
    (void)state;
    char dir[] = "/tmp/weft-drop-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *saved = getenv("WEFT_CACHE_DIR") ? strdup(getenv("WEFT_CACHE_DIR")) : NULL;
    assert_int_equal(setenv("WEFT_CACHE_DIR", dir, 1), 0);
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    if (!rt) {
        rm_dir(dir);
        skip();
    }
    uint32_t *out = malloc(N * sizeof *out);
    assert_non_null(out);
    uint64_t dev0 = 1; /* device 0, named: the default set may leave it out */

    /* Guided: its measuring chunk (a 32nd of the range), then nothing that
     * would outlast the CPU. */
    weft_run_stats_t st = run(rt, out, WEFT_POLICY_GUIDED, dev0, "guided");
    if (st.items[1] > N / 8) fail_msg("guided: the slowed device did %zu of %d items", st.items[1], N);
    assert_int_equal(st.dropped[0], 0);

    /* Adaptive: the first run calibrates both and stores their speeds;
     * from then on the model drops the device before it runs anything. */
    run(rt, out, WEFT_POLICY_ADAPTIVE, dev0, "adaptive, calibrating");
    for (int i = 0; i < 3; i++) {
        st = run(rt, out, WEFT_POLICY_ADAPTIVE, dev0, "adaptive, from the model");
        if (st.items[1] != 0 || !st.dropped[1])
            fail_msg("adaptive run %d: the slowed device did %zu items, dropped %d", i, st.items[1], st.dropped[1]);
        assert_int_equal(st.items[0], N);   /* the CPU took the rest as one chunk */
        assert_int_equal(st.chunks, 1);
        assert_int_equal(st.dropped[0], 0);
    }

    free(out);
    weft_runtime_destroy(rt);
    rm_dir(dir);
    if (saved) setenv("WEFT_CACHE_DIR", saved, 1);
    else unsetenv("WEFT_CACHE_DIR");
    free(saved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slow_device_is_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
