/* test_parallel_stencil.c — stencils whose chunks read their neighbours' rows
 * (weft_arg_split_halo) while writing only their own (split write), over
 * several iterations that ping-pong two arrays: after 10 iterations the grid
 * is bit for bit the one a plain sequential loop computes. 2-D 5-point
 * (halo 1 row) and 1-D 5-point (halo 2), guided on CPU + devices, and
 * dynamic with small chunks so that many chunk borders need the halo. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "parallel_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITERS 10

/* ---- 2-D 5-point: PK_STENCIL2D (parallel_kernels.h) --------------------------- */

static void init_grid(float *g, size_t n, unsigned seed)
{
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        g[i] = (float)(s >> 8) / (float)(1u << 24) * 1000.0f;
    }
}

static void stencil2d(const wt_mix *m, weft_runtime_t *rt, weft_policy_kind_t kind, size_t chunk,
                      size_t w, size_t h, size_t gx, size_t gy)
{
    size_t n = w * h, bytes = n * sizeof(float);
    float *ref[2] = {malloc(bytes), malloc(bytes)}, *a[2] = {malloc(bytes), malloc(bytes)};
    for (int i = 0; i < 2; i++) {
        assert_non_null(ref[i]);
        assert_non_null(a[i]);
    }
    init_grid(ref[0], n, 7);
    memcpy(a[0], ref[0], bytes);
    /* a[1] starts as garbage that no cell may keep. */
    for (size_t i = 0; i < n; i++) a[1][i] = -1.0f;
    for (int it = 0; it < ITERS; it++) {
        const float *in = ref[it & 1];
        float *out = ref[(it + 1) & 1];
        for (size_t y = 0; y < h; y++)
            for (size_t x = 0; x < w; x++) out[y * w + x] = pk_cell2d(in, x, y, w, h);
    }
    weft_policy_t pol = wt_mix_policy(kind, m, chunk);
    uint64_t w64 = w, h64 = h;
    char what[160];
    for (int it = 0; it < ITERS; it++) {
        weft_arg_t args[] = {
            weft_arg_split_halo(a[it & 1], bytes, w * sizeof(float), 1),
            weft_arg_split(a[(it + 1) & 1], bytes, w * sizeof(float), WEFT_WRITE),
            weft_arg_scalar(&w64, sizeof w64),
            weft_arg_scalar(&h64, sizeof h64),
        };
        snprintf(what, sizeof what, "2-D stencil %zux%zu %s chunk %zu on %s, iteration %d", w, h,
                 wt_policy_name(kind), chunk, m->name, it);
        WT_CHECK(weft_parallel_run(rt, &PK_STENCIL2D, weft_range_2d(w, h, gx, gy), args, 4, &pol, WT_PANIC));
        wt_check_stats(rt, h, &pol, what);
    }
    const float *got = a[ITERS & 1], *want = ref[ITERS & 1];
    if (memcmp(got, want, bytes) != 0) {
        for (size_t i = 0; i < n; i++)
            if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
                fail_msg("%s: cell (%zu,%zu) is %.9g, the sequential reference %.9g", what, i % w, i / w,
                         (double)got[i], (double)want[i]);
    }
    for (int i = 0; i < 2; i++) {
        free(ref[i]);
        free(a[i]);
    }
}

static void stencil2d_guided(void **state)
{
    weft_runtime_t *rt = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(rt, mixes);
    for (int mi = 0; mi < nm; mi++) stencil2d(&mixes[mi], rt, WEFT_POLICY_GUIDED, 0, 61, 97, 8, 4);
}

static void stencil2d_small_chunks(void **state)
{
    weft_runtime_t *rt = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(rt, mixes);
    /* One group of rows per chunk: a chunk border every 4 rows. */
    for (int mi = 0; mi < nm; mi++) {
        stencil2d(&mixes[mi], rt, WEFT_POLICY_DYNAMIC, 4, 61, 97, 8, 4);
        stencil2d(&mixes[mi], rt, WEFT_POLICY_GUIDED, 4, 61, 97, 8, 4);
    }
    /* Static: one chunk per place, borders between places. */
    stencil2d(&mixes[nm - 1], rt, WEFT_POLICY_STATIC, 0, 61, 97, 8, 4);
}

/* ---- 1-D 5-point, halo 2 ----------------------------------------------------- */

static inline float cell1d(const float *in, size_t i, size_t n)
{
    if (i < 2 || i + 2 >= n) return in[i];
    return (in[i - 2] + in[i - 1] + in[i] + in[i + 1] + in[i + 2]) * 0.2f;
}

static void stencil1d_cpu(size_t b, size_t e, void *const *argv)
{
    const float *in = argv[0];
    float *out = argv[1];
    uint64_t n = *(const uint64_t *)argv[2];
    for (size_t i = b; i < e && i < n; i++) out[i] = cell1d(in, i, n);
}

static const char STENCIL1D_SRC[] =
    "__kernel void pk_stencil1d(__global const float *in, __global float *out, ulong n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i >= n) return;\n"
    "    if (i < 2 || i + 2 >= n) out[i] = in[i];\n"
    "    else out[i] = (in[i - 2] + in[i - 1] + in[i] + in[i + 1] + in[i + 2]) * 0.2f;\n"
    "}\n";

static const weft_kernel_t STENCIL1D = {
    .name = "pk_stencil1d", .cpu = stencil1d_cpu, .cl_source = STENCIL1D_SRC, .cl_entry = "pk_stencil1d"};

static void stencil1d(void **state)
{
    weft_runtime_t *rt = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(rt, mixes);
    const size_t n = 10007, bytes = n * sizeof(float);
    float *ref[2] = {malloc(bytes), malloc(bytes)}, *a[2] = {malloc(bytes), malloc(bytes)};
    for (int i = 0; i < 2; i++) {
        assert_non_null(ref[i]);
        assert_non_null(a[i]);
    }
    init_grid(ref[0], n, 11);
    for (int it = 0; it < ITERS; it++)
        for (size_t i = 0; i < n; i++) ref[(it + 1) & 1][i] = cell1d(ref[it & 1], i, n);
    uint64_t n64 = n;
    for (int mi = 0; mi < nm; mi++) {
        static const weft_policy_kind_t kinds[] = {WEFT_POLICY_GUIDED, WEFT_POLICY_DYNAMIC};
        for (size_t ki = 0; ki < 2; ki++) {
            weft_policy_t pol = wt_mix_policy(kinds[ki], &mixes[mi], 64);
            init_grid(a[0], n, 11);
            for (size_t i = 0; i < n; i++) a[1][i] = -1.0f;
            char what[128];
            for (int it = 0; it < ITERS; it++) {
                weft_arg_t args[] = {
                    weft_arg_split_halo(a[it & 1], bytes, sizeof(float), 2),
                    weft_arg_split(a[(it + 1) & 1], bytes, sizeof(float), WEFT_WRITE),
                    weft_arg_scalar(&n64, sizeof n64),
                };
                snprintf(what, sizeof what, "1-D stencil %s on %s, iteration %d", wt_policy_name(kinds[ki]),
                         mixes[mi].name, it);
                WT_CHECK(weft_parallel_run(rt, &STENCIL1D, weft_range_1d(n, 32), args, 3, &pol, WT_PANIC));
                wt_check_stats(rt, n, &pol, what);
            }
            const float *got = a[ITERS & 1], *want = ref[ITERS & 1];
            for (size_t i = 0; i < n; i++)
                if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
                    fail_msg("%s: element %zu is %.9g, the sequential reference %.9g", what, i, (double)got[i],
                             (double)want[i]);
        }
    }
    for (int i = 0; i < 2; i++) {
        free(ref[i]);
        free(a[i]);
    }
}

static int setup(void **state)
{
    *state = wt_runtime(2, WT_ALL_DEVICES, 0);
    return 0;
}

static int teardown(void **state)
{
    weft_runtime_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stencil2d_guided),
        cmocka_unit_test(stencil2d_small_chunks),
        cmocka_unit_test(stencil1d),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
