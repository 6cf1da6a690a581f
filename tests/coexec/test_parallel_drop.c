/* test_parallel_drop.c — a place that would lengthen the operation is
 * dropped: a device deliberately slowed (its kernel spins thousands of
 * rounds per item, the CPU body none) beside the CPU workers, named
 * explicitly. Guided gives it its measuring chunk and then nothing that
 * outlasts the CPU; adaptive, once its model knows both speeds, drops it
 * before it runs anything, and says so in the run stats. The results are
 * complete and right every time. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <stdlib.h>
#include <string.h>

#include "parallel_kernels.h"

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

static void slow_device_is_dropped(void **state)
{
    (void)state;
    char dir[256];
    pk_cache_begin(dir, sizeof dir, "drop");
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    if (!rt) {
        pk_cache_end(dir);
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
    pk_cache_end(dir);
}

/* ---- adaptive's choice of place sets ---------------------------------------- */

static void fast_cpu(size_t b, size_t e, void *const *argv) { fill_cpu(b, e, argv); }

static const char *const FAST_CL = "__kernel void fast_fill(__global uint *out) {\n"
                                   "    uint i = (uint)get_global_id(0);\n"
                                   "    out[i] = i * 3u + 1u;\n"
                                   "}\n";

static const weft_kernel_t SETS = {.name = "drop_sets", .cpu = fast_cpu, .cl_source = FAST_CL, .cl_entry = "fast_fill"};

/* Write the model of SETS: both places' speeds (indices per second; the
 * device the slower, so the one a smaller set leaves out, though not so slow
 * that it loses on speed alone) and the given set throughputs (groups per
 * second, 0: none), for the size class of N items in groups of GROUP. */
static void write_model(const char *dir, const char *device, double cpu_and_dev, double cpu_alone)
{
    char path[512];
    snprintf(path, sizeof path, "%s/drop_sets.model", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "2^8 cpu:2\t2e8\n2^8 %s\t1e8\n", device);
    if (cpu_and_dev > 0) fprintf(f, "2^8 set:3\t%g\n", cpu_and_dev);
    if (cpu_alone > 0) fprintf(f, "2^8 set:1\t%g\n", cpu_alone);
    assert_int_equal(fclose(f), 0);
}

/* One adaptive run of SETS on the CPU and device 0 with the model as
 * written; the run's stats. A fresh runtime each time: the model is read
 * from the file. */
static weft_run_stats_t run_sets(const char *dir, double cpu_and_dev, double cpu_alone, const char *what)
{
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, 0, &info));
    write_model(dir, info.name, cpu_and_dev, cpu_alone);
    uint32_t *out = calloc(N, sizeof *out);
    assert_non_null(out);
    weft_arg_t a = weft_arg_split(out, N * sizeof *out, sizeof *out, WEFT_WRITE);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_ADAPTIVE;
    pol.devices = 1;
    WT_CHECK(weft_parallel_run(rt, &SETS, weft_range_1d(N, GROUP), &a, 1, &pol, WT_PANIC));
    for (size_t i = 0; i < N; i++)
        if (out[i] != (uint32_t)i * 3u + 1u) fail_msg("%s: out[%zu] = %u", what, i, out[i]);
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    if (st.items[0] + st.items[1] != N) fail_msg("%s: %zu + %zu items", what, st.items[0], st.items[1]);
    free(out);
    weft_runtime_destroy(rt);
    return st;
}

/* A place's speed is measured while the others run: two places that slow
 * each other down look fine one by one. Adaptive keeps each place set's
 * throughput over whole operations and runs the best one it knows,
 * measuring an untried smaller set before it settles. */
static void adaptive_chooses_place_sets(void **state)
{
    (void)state;
    char dir[256];
    pk_cache_begin(dir, sizeof dir, "sets");
    weft_runtime_t *probe = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    if (!probe) {
        pk_cache_end(dir);
        skip();
    }
    weft_runtime_destroy(probe);

    /* The CPU alone was measured twice as fast as with the device: the
     * device is left out (and said so). */
    weft_run_stats_t st = run_sets(dir, 100, 200, "CPU alone faster");
    assert_int_equal(st.items[1], 0);
    assert_int_equal(st.dropped[1], 1);
    assert_int_equal(st.items[0], N);
    /* The set it was preferred to drifts up, to be tried again some day. */
    char path[512], text[1024] = "";
    snprintf(path, sizeof path, "%s/drop_sets.model", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t got = fread(text, 1, sizeof text - 1, f);
    text[got] = '\0';
    fclose(f);
    wt_assert_contains(text, "2^8 set:3\t102\n");
    wt_assert_contains(text, "2^8 set:1\t"); /* this run's, blended in */

    /* Only the pair measured: the CPU alone is tried, to measure it. */
    st = run_sets(dir, 200, 0, "CPU alone untried");
    assert_int_equal(st.items[1], 0);
    assert_int_equal(st.dropped[1], 1);

    /* The pair measured faster than the CPU alone: both run (the device
     * takes work; whether its last chunks are worth it is the speeds' call,
     * which a slow build or a sanitizer can tip). */
    st = run_sets(dir, 200, 100, "pair faster");
    assert_true(st.items[1] > 0);

    pk_cache_end(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slow_device_is_dropped),
        cmocka_unit_test(adaptive_chooses_place_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
