/* test_parallel_group_id.c — inside a chunk a kernel sees the unsplit launch:
 * get_group_id, get_num_groups, get_global_size (and get_local_id) per
 * element equal the values of one launch over the whole range, in 1-D and in
 * 2-D, however the range is cut (dynamic, small chunks, CPU + devices; one
 * device alone, which then runs every chunk at a non-zero offset). The CPU
 * twin writes the equivalent values (i/group, ngroups, ngroups*group). The
 * reference is checked twice: computed, and measured by a plain weft_launch
 * of the same source without weft's whole-range definitions. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "parallel_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1-D: per element group id, number of groups, global size, local id --- */

#define NV 4 /* values per element */

static void groups_cpu(size_t b, size_t e, void *const *argv)
{
    uint64_t *v = argv[0];
    uint64_t n = *(const uint64_t *)argv[1], g = *(const uint64_t *)argv[2];
    uint64_t ng = (n + g - 1) / g;
    for (size_t i = b; i < e && i < n; i++) {
        v[i * NV + 0] = i / g;
        v[i * NV + 1] = ng;
        v[i * NV + 2] = ng * g;
        v[i * NV + 3] = i % g;
    }
}

static const char GROUPS_SRC[] =
    "__kernel void pk_groups(__global ulong *v, ulong n, ulong g)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) {\n"
    "        v[i * 4 + 0] = get_group_id(0);\n"
    "        v[i * 4 + 1] = get_num_groups(0);\n"
    "        v[i * 4 + 2] = get_global_size(0);\n"
    "        v[i * 4 + 3] = get_local_id(0);\n"
    "    }\n"
    "}\n";

static const weft_kernel_t GROUPS = {
    .name = "pk_groups", .cpu = groups_cpu, .cl_source = GROUPS_SRC, .cl_entry = "pk_groups"};

static void expect_1d(uint64_t *v, size_t n, size_t g)
{
    size_t ng = (n + g - 1) / g;
    for (size_t i = 0; i < n; i++) {
        v[i * NV + 0] = i / g;
        v[i * NV + 1] = ng;
        v[i * NV + 2] = ng * g;
        v[i * NV + 3] = i % g;
    }
}

static void compare(const uint64_t *got, const uint64_t *want, size_t elems, size_t nv, const char *const *names,
                    const char *what)
{
    for (size_t i = 0; i < elems; i++)
        for (size_t k = 0; k < nv; k++)
            if (got[i * nv + k] != want[i * nv + k])
                fail_msg("%s: element %zu: %s is %llu, the unsplit launch gives %llu", what, i, names[k],
                         (unsigned long long)got[i * nv + k], (unsigned long long)want[i * nv + k]);
}

static const char *const NAMES_1D[] = {"get_group_id(0)", "get_num_groups(0)", "get_global_size(0)",
                                       "get_local_id(0)"};

/* The same source launched once, unsplit, with no weft definitions: what the
 * OpenCL implementation itself reports. */
static void raw_launch_1d(weft_runtime_t *rt, uint64_t *v, size_t n, size_t g)
{
    size_t bytes = n * NV * sizeof *v;
    weft_buffer_t *b = NULL;
    WT_CHECK(weft_buffer_create(rt, 0, bytes, WEFT_READ_WRITE, &b));
    uint64_t n64 = n, g64 = g;
    weft_karg_t ka[] = {weft_karg_buffer(b), weft_karg_scalar(&n64, sizeof n64), weft_karg_scalar(&g64, sizeof g64)};
    weft_launch_t l = wt_launch_1d(0, NULL, GROUPS_SRC, "pk_groups", (n + g - 1) / g * g, ka, 3);
    l.local[0] = g;
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(rt, &l, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
    WT_CHECK(weft_buffer_read(b, 0, v, bytes));
    weft_buffer_destroy(b);
}

static void run_1d(weft_runtime_t *rt, size_t n, size_t g, const weft_policy_t *pol, const uint64_t *want,
                   const char *what)
{
    uint64_t *v = malloc(n * NV * sizeof *v);
    assert_non_null(v);
    memset(v, 0xA5, n * NV * sizeof *v);
    uint64_t n64 = n, g64 = g;
    weft_arg_t args[] = {
        weft_arg_split(v, n * NV * sizeof *v, NV * sizeof *v, WEFT_WRITE),
        weft_arg_scalar(&n64, sizeof n64),
        weft_arg_scalar(&g64, sizeof g64),
    };
    WT_CHECK(weft_parallel_run(rt, &GROUPS, weft_range_1d(n, g), args, 3, pol, WT_PANIC));
    compare(v, want, n, NV, NAMES_1D, what);
    weft_run_stats_t st = wt_check_stats(rt, n, pol, what);
    if (pol->kind == WEFT_POLICY_DYNAMIC && pol->chunk) {
        size_t per = (pol->chunk + g - 1) / g, ng = (n + g - 1) / g;
        assert_int_equal(st.chunks, (ng + per - 1) / per);
    }
    free(v);
}

static void group_ids_1d(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    const size_t n = 1000, g = 16; /* 63 groups, the last one partial */
    uint64_t *want = malloc(n * NV * sizeof *want), *raw = malloc(n * NV * sizeof *raw);
    assert_non_null(want);
    assert_non_null(raw);
    expect_1d(want, n, g);
    if (weft_device_count(rt) > 0) {
        raw_launch_1d(rt, raw, n, g);
        compare(raw, want, n, NV, NAMES_1D, "plain launch vs computed reference");
    }
    wt_mix mixes[4];
    int nm = pk_mixes(rt, mixes);
    static const size_t chunks[] = {16, 48, 160};
    for (int mi = 0; mi < nm; mi++)
        for (size_t ci = 0; ci < sizeof chunks / sizeof *chunks; ci++) {
            weft_policy_t pol = wt_mix_policy(WEFT_POLICY_DYNAMIC, &mixes[mi], chunks[ci]);
            char what[128];
            snprintf(what, sizeof what, "1-D dynamic chunk %zu on %s", chunks[ci], mixes[mi].name);
            run_1d(rt, n, g, &pol, want, what);
        }
    /* Guided too: chunks of varying sizes. */
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_GUIDED, &mixes[nm - 1], 16);
    run_1d(rt, n, g, &pol, want, "1-D guided on every place");
    free(want);
    free(raw);
    weft_runtime_destroy(rt);
}

/* ---- 2-D: both dimensions, split along rows ---------------------------------- */

#define NV2 8

static void groups2d_cpu(size_t b, size_t e, void *const *argv)
{
    uint64_t *v = argv[0];
    uint64_t w = *(const uint64_t *)argv[1], h = *(const uint64_t *)argv[2];
    uint64_t gx = *(const uint64_t *)argv[3], gy = *(const uint64_t *)argv[4];
    uint64_t nx = (w + gx - 1) / gx, ny = (h + gy - 1) / gy;
    for (size_t y = b; y < e && y < h; y++)
        for (size_t x = 0; x < w; x++) {
            uint64_t *o = &v[(y * w + x) * NV2];
            o[0] = x / gx;
            o[1] = y / gy;
            o[2] = nx;
            o[3] = ny;
            o[4] = nx * gx;
            o[5] = ny * gy;
            o[6] = x % gx;
            o[7] = y % gy;
        }
}

static const char GROUPS2D_SRC[] =
    "__kernel void pk_groups2d(__global ulong *v, ulong w, ulong h, ulong gx, ulong gy)\n"
    "{\n"
    "    size_t x = get_global_id(0), y = get_global_id(1);\n"
    "    if (x < w && y < h) {\n"
    "        __global ulong *o = v + (y * w + x) * 8;\n"
    "        o[0] = get_group_id(0);\n"
    "        o[1] = get_group_id(1);\n"
    "        o[2] = get_num_groups(0);\n"
    "        o[3] = get_num_groups(1);\n"
    "        o[4] = get_global_size(0);\n"
    "        o[5] = get_global_size(1);\n"
    "        o[6] = get_local_id(0);\n"
    "        o[7] = get_local_id(1);\n"
    "    }\n"
    "}\n";

static const weft_kernel_t GROUPS2D = {
    .name = "pk_groups2d", .cpu = groups2d_cpu, .cl_source = GROUPS2D_SRC, .cl_entry = "pk_groups2d"};

static const char *const NAMES_2D[] = {"get_group_id(0)", "get_group_id(1)", "get_num_groups(0)",
                                       "get_num_groups(1)", "get_global_size(0)", "get_global_size(1)",
                                       "get_local_id(0)", "get_local_id(1)"};

static void group_ids_2d(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    const size_t w = 30, h = 45, gx = 8, gy = 4; /* 4 x 12 groups, both partial at the edge */
    size_t elems = w * h, bytes = elems * NV2 * sizeof(uint64_t);
    uint64_t *want = malloc(bytes), *raw = malloc(bytes), *v = malloc(bytes);
    assert_non_null(want);
    assert_non_null(raw);
    assert_non_null(v);
    uint64_t w64 = w, h64 = h, gx64 = gx, gy64 = gy;
    weft_arg_t args[] = {
        weft_arg_split(v, bytes, w * NV2 * sizeof(uint64_t), WEFT_WRITE),
        weft_arg_scalar(&w64, sizeof w64),
        weft_arg_scalar(&h64, sizeof h64),
        weft_arg_scalar(&gx64, sizeof gx64),
        weft_arg_scalar(&gy64, sizeof gy64),
    };
    /* The computed reference is the CPU twin over the whole range. */
    void *argv[] = {want, &w64, &h64, &gx64, &gy64};
    groups2d_cpu(0, h, argv);
    if (weft_device_count(rt) > 0) {
        weft_buffer_t *b = NULL;
        WT_CHECK(weft_buffer_create(rt, 0, bytes, WEFT_READ_WRITE, &b));
        weft_karg_t ka[] = {weft_karg_buffer(b), weft_karg_scalar(&w64, 8), weft_karg_scalar(&h64, 8),
                            weft_karg_scalar(&gx64, 8), weft_karg_scalar(&gy64, 8)};
        weft_launch_t l;
        weft_launch_init(&l);
        l.source = GROUPS2D_SRC;
        l.kernel = "pk_groups2d";
        l.dims = 2;
        l.global[0] = (w + gx - 1) / gx * gx;
        l.global[1] = (h + gy - 1) / gy * gy;
        l.local[0] = gx;
        l.local[1] = gy;
        l.args = ka;
        l.nargs = 5;
        weft_handle_t *hd = NULL;
        WT_CHECK(weft_launch(rt, &l, &hd));
        WT_CHECK(weft_join(hd, NULL, NULL));
        WT_CHECK(weft_buffer_read(b, 0, raw, bytes));
        weft_buffer_destroy(b);
        compare(raw, want, elems, NV2, NAMES_2D, "2-D plain launch vs computed reference");
    }
    wt_mix mixes[4];
    int nm = pk_mixes(rt, mixes);
    for (int mi = 0; mi < nm; mi++) {
        for (size_t chunk = 4; chunk <= 12; chunk += 8) {
            weft_policy_t pol = wt_mix_policy(WEFT_POLICY_DYNAMIC, &mixes[mi], chunk);
            memset(v, 0xA5, bytes);
            char what[128];
            snprintf(what, sizeof what, "2-D dynamic chunk %zu rows on %s", chunk, mixes[mi].name);
            WT_CHECK(weft_parallel_run(rt, &GROUPS2D, weft_range_2d(w, h, gx, gy), args, 5, &pol, WT_PANIC));
            compare(v, want, elems, NV2, NAMES_2D, what);
            weft_run_stats_t st = wt_check_stats(rt, h, &pol, what);
            size_t per = (chunk + gy - 1) / gy, ng = (h + gy - 1) / gy;
            assert_int_equal(st.chunks, (ng + per - 1) / per);
        }
    }
    free(want);
    free(raw);
    free(v);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(group_ids_1d),
        cmocka_unit_test(group_ids_2d),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
