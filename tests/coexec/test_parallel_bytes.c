/* test_parallel_bytes.c — weft_run_stats_t counts the bytes copied per place
 * and per direction: bytes_up[p] (host to device) and bytes_down[p] (device
 * to host), indexed as items ([0] the CPU, [1 + d] device d), with
 * bytes_moved their total. A kernel reads a split array with a halo of one,
 * a whole array, updates a split array in place and writes a reduction's
 * partials; from the chunks the trace recorded (place, begin, end) the test
 * computes what each device must have copied each way:
 *   up:   the chunk's rows of the halo array with the halo, cut at the ends;
 *         its rows of the read-write array; the whole array once per device
 *   down: its rows of the read-write array; one partial per work-group
 * In separate-memory mode (every device copies, as a discrete GPU does) the
 * counts must match exactly; on unified-memory devices every count is 0. The
 * CPU never copies. The trace's bytes per chunk add up to the same totals. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "parallel_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WN 16 /* floats in the whole array */

static void bytes_cpu(size_t b, size_t e, void *const *argv)
{
    const float *in = argv[0], *w = argv[1];
    float *acc = argv[2], *partials = argv[3];
    uint64_t n = *(const uint64_t *)argv[4], g = *(const uint64_t *)argv[5];
    for (size_t i = b; i < e && i < n; i++) {
        float l = i > 0 ? in[i - 1] : 0.0f, r = i + 1 < n ? in[i + 1] : 0.0f;
        acc[i] += l + in[i] + r + w[i % WN];
    }
    for (size_t grp = b / g; grp * g < e; grp++) partials[grp] = (float)grp;
}

static const char BYTES_SRC[] =
    "__kernel void pk_bytes(__global const float *in, __global const float *w, __global float *acc,\n"
    "                       __global float *partials, ulong n, ulong g)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) {\n"
    "        float l = i > 0 ? in[i - 1] : 0.0f, r = i + 1 < n ? in[i + 1] : 0.0f;\n"
    "        acc[i] += l + in[i] + r + w[i % 16];\n"
    "    }\n"
    "    if (get_local_id(0) == 0) partials[get_group_id(0)] = (float)get_group_id(0);\n"
    "}\n";

static const weft_kernel_t BYTES = {
    .name = "pk_bytes", .cpu = bytes_cpu, .cl_source = BYTES_SRC, .cl_entry = "pk_bytes"};

static void add_f(void *acc, const void *partial) { *(float *)acc += *(const float *)partial; }

/* What place p copied for chunk [b, e) of n items in groups of g. */
static void chunk_bytes(size_t b, size_t e, size_t n, size_t g, uint64_t *up, uint64_t *down)
{
    size_t lo = b > 0 ? b - 1 : 0, hi = e + 1 < n ? e + 1 : n;
    size_t groups = (e + g - 1) / g - b / g;
    *up += (hi - lo) * sizeof(float) + (e - b) * sizeof(float);
    *down += (e - b) * sizeof(float) + groups * sizeof(float);
}

static void run(weft_runtime_t *rt, const wt_mix *mix, size_t n, size_t g, const char *what)
{
    float *in = malloc(n * sizeof *in), *acc = malloc(n * sizeof *acc), w[WN];
    assert_non_null(in);
    assert_non_null(acc);
    for (size_t i = 0; i < n; i++) {
        in[i] = (float)(i % 7);
        acc[i] = 1.0f;
    }
    for (int i = 0; i < WN; i++) w[i] = (float)i;
    float result = -1.0f, zero = 0.0f;
    uint64_t n64 = n, g64 = g;
    weft_arg_t args[] = {
        weft_arg_split_halo(in, n * sizeof *in, sizeof *in, 1),
        weft_arg_whole(w, sizeof w),
        weft_arg_split(acc, n * sizeof *acc, sizeof *acc, WEFT_READ_WRITE),
        weft_arg_reduce(&result, sizeof result, &zero, add_f),
        weft_arg_scalar(&n64, sizeof n64),
        weft_arg_scalar(&g64, sizeof g64),
    };
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_DYNAMIC, mix, 2 * g);
    WT_CHECK(weft_trace_start(rt, NULL)); /* in memory: each chunk's place and range */
    WT_CHECK(weft_parallel_run(rt, &BYTES, weft_range_1d(n, g), args, 6, &pol, WT_PANIC));
    weft_run_stats_t st = wt_check_stats(rt, n, &pol, what);

    /* The results, so that the bytes counted are the bytes that worked. */
    for (size_t i = 0; i < n; i++) {
        float l = i > 0 ? in[i - 1] : 0.0f, r = i + 1 < n ? in[i + 1] : 0.0f;
        float want = 1.0f + (l + in[i] + r + w[i % WN]);
        if (acc[i] != want) fail_msg("%s: acc[%zu] is %g, expected %g", what, i, acc[i], want);
    }
    size_t ng = (n + g - 1) / g;
    assert_true(result == (float)(ng * (ng - 1) / 2));

    size_t count = 0;
    WT_CHECK(weft_trace_chunks(rt, NULL, 0, &count));
    weft_trace_chunk_t *chunks = calloc(count ? count : 1, sizeof *chunks);
    assert_non_null(chunks);
    WT_CHECK(weft_trace_chunks(rt, chunks, count, &count));
    assert_int_equal(count, st.chunks);
    uint64_t up[65] = {0}, down[65] = {0}, traced[65] = {0};
    int ran[65] = {0};
    for (size_t c = 0; c < count; c++) {
        int p = chunks[c].place_id;
        assert_true(p >= 0 && p < 65);
        assert_false(chunks[c].failed);
        traced[p] += chunks[c].bytes;
        if (p == 0) continue;
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, p - 1, &info));
        if (info.unified_memory) continue; /* the buffers are the host's pages */
        chunk_bytes(chunks[c].begin, chunks[c].end, n, g, &up[p], &down[p]);
        if (!ran[p]) up[p] += sizeof w; /* the whole array, once per device */
        ran[p] = 1;
    }
    uint64_t total = 0;
    for (int p = 0; p < 65; p++) {
        if (st.bytes_up[p] != up[p] || st.bytes_down[p] != down[p])
            fail_msg("%s: place %d copied %llu bytes up and %llu down, expected %llu and %llu", what, p,
                     (unsigned long long)st.bytes_up[p], (unsigned long long)st.bytes_down[p],
                     (unsigned long long)up[p], (unsigned long long)down[p]);
        if (traced[p] != up[p] + down[p])
            fail_msg("%s: the trace gives place %d %llu bytes, the stats %llu", what, p,
                     (unsigned long long)traced[p], (unsigned long long)(up[p] + down[p]));
        total += up[p] + down[p];
    }
    assert_int_equal(st.bytes_up[0], 0);
    assert_int_equal(st.bytes_down[0], 0);
    if (st.bytes_moved != total)
        fail_msg("%s: bytes_moved is %llu, the places add up to %llu", what, (unsigned long long)st.bytes_moved,
                 (unsigned long long)total);
    /* Separate memory: every device that ran a chunk copied both ways. */
    if (wt_separate_memory())
        for (int p = 1; p < 65; p++)
            if (st.items[p]) assert_true(st.bytes_up[p] > 0 && st.bytes_down[p] > 0);
    free(chunks);
    free(in);
    free(acc);
}

static void bytes_per_place(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    wt_mix mixes[4];
    int nm = pk_mixes(rt, mixes);
    static const size_t sizes[] = {5000, 1001};
    for (int mi = 0; mi < nm; mi++)
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            char what[96];
            snprintf(what, sizeof what, "%zu items on %s%s", sizes[si], mixes[mi].name,
                     wt_separate_memory() ? " (separate memory)" : "");
            run(rt, &mixes[mi], sizes[si], 32, what);
        }
    weft_runtime_destroy(rt);
}

/* Unified memory (how PoCL's CPU devices are, outside separate-memory mode):
 * nothing is copied, whichever place ran what. */
static void unified_copies_nothing(void **state)
{
    (void)state;
    if (wt_separate_memory()) skip();
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 1);
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, d, &info));
        if (!info.unified_memory) {
            fprintf(stderr, "note: device %d does not share memory: skipped\n", d);
            weft_runtime_destroy(rt);
            skip();
        }
    }
    wt_mix all = {"cpu+devices", 1, weft_device_mask(rt, 0)};
    run(rt, &all, 3000, 32, "unified memory");
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    for (int p = 0; p < 65; p++) {
        assert_int_equal(st.bytes_up[p], 0);
        assert_int_equal(st.bytes_down[p], 0);
    }
    assert_int_equal(st.bytes_moved, 0);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bytes_per_place),
        cmocka_unit_test(unified_copies_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
