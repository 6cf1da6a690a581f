/* test_parallel_scattered.c — arrays written where no span can say
 * (weft_arg_scattered): a strided transpose (Rodinia kmeans' swap) and a
 * row-and-column write per work-item (PolyBench correlation), checked
 * element by element on every place mix and policy, as the devices are and
 * in separate-memory mode (test_parallel_scattered_separate), where each
 * device chunk's changed bytes are merged; and two chunks changing the same
 * byte, refused with a panic naming both. */
#define _GNU_SOURCE /* mkdtemp, setenv (parallel_kernels.h) */
#include "weft_test.h"
#include "parallel_kernels.h"

#define GUARD 32
#define GUARD_VALUE 0x7e57u

static const weft_policy_kind_t KINDS[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED};

/* ---- transpose: point p writes features[f][p] for every f ----------------------------- */

#define NPOINTS 1000
#define NFEAT 7

static void swap_cpu(size_t begin, size_t end, void *const *argv)
{
    const uint32_t *in = argv[0];
    uint32_t *out = argv[1];
    for (size_t p = begin; p < end; p++)
        for (size_t f = 0; f < NFEAT; f++) out[f * NPOINTS + p] = in[p * NFEAT + f];
}

static const char swap_src[] =
    "__kernel void kswap(__global const uint *in, __global uint *out) {\n"
    "    size_t p = get_global_id(0);\n"
    "    if (p >= 1000) return;\n"
    "    for (size_t f = 0; f < 7; f++) out[f * 1000 + p] = in[p * 7 + f];\n"
    "}\n";

static const weft_kernel_t kswap = {.name = "kswap", .cpu = swap_cpu, .cl_source = swap_src, .cl_entry = "kswap"};

static void strided_transpose(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    wt_mix mixes[4];
    int nmix = pk_mixes(rt, mixes);
    uint32_t *in = malloc(NPOINTS * NFEAT * sizeof *in), *out = malloc((NPOINTS * NFEAT + GUARD) * sizeof *out);
    assert_non_null(in);
    assert_non_null(out);
    for (size_t i = 0; i < NPOINTS * NFEAT; i++) in[i] = (uint32_t)(i * 2654435761u);
    for (int m = 0; m < nmix; m++) {
        for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
            for (size_t i = 0; i < NPOINTS * NFEAT + GUARD; i++) out[i] = GUARD_VALUE;
            weft_arg_t args[] = {
                weft_arg_split(in, NPOINTS * NFEAT * sizeof *in, NFEAT * sizeof *in, WEFT_READ),
                weft_arg_scattered(out, NPOINTS * NFEAT * sizeof *out, WEFT_WRITE),
            };
            weft_policy_t pol = wt_mix_policy(KINDS[k], &mixes[m], 128);
            char what[96];
            snprintf(what, sizeof what, "transpose, %s on %s", wt_policy_name(KINDS[k]), mixes[m].name);
            WT_CHECK(weft_parallel_run(rt, &kswap, weft_range_1d(NPOINTS, 64), args, 2, &pol, WT_PANIC));
            wt_check_stats(rt, NPOINTS, &pol, what);
            for (size_t p = 0; p < NPOINTS; p++)
                for (size_t f = 0; f < NFEAT; f++)
                    if (out[f * NPOINTS + p] != in[p * NFEAT + f])
                        fail_msg("%s: feature %zu of point %zu is %u, want %u", what, f, p, out[f * NPOINTS + p],
                                 in[p * NFEAT + f]);
            for (size_t i = NPOINTS * NFEAT; i < NPOINTS * NFEAT + GUARD; i++)
                if (out[i] != GUARD_VALUE) fail_msg("%s: element %zu past the array was written", what, i);
        }
    }
    free(in);
    free(out);
    weft_runtime_destroy(rt);
}

/* ---- a row and a column per work-item ------------------------------------------------- */

#define M 96

/* out[i][j] = out[j][i] = v[i] * v[j] for j >= i: item i writes the upper
 * part of its row and the lower part of its column (read-write: the
 * diagonal starts at 1 and is multiplied). */
static void rowcol_cpu(size_t begin, size_t end, void *const *argv)
{
    const uint32_t *v = argv[0];
    uint32_t *out = argv[1];
    for (size_t i = begin; i < end; i++) {
        out[i * M + i] *= v[i] * v[i];
        for (size_t j = i + 1; j < M; j++) out[i * M + j] = out[j * M + i] = v[i] * v[j];
    }
}

static const char rowcol_src[] =
    "__kernel void rowcol(__global const uint *v, __global uint *out) {\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i >= 96) return;\n"
    "    out[i * 96 + i] *= v[i] * v[i];\n"
    "    for (size_t j = i + 1; j < 96; j++) out[i * 96 + j] = out[j * 96 + i] = v[i] * v[j];\n"
    "}\n";

static const weft_kernel_t rowcol = {.name = "rowcol", .cpu = rowcol_cpu, .cl_source = rowcol_src, .cl_entry = "rowcol"};

static void row_and_column(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    wt_mix mixes[4];
    int nmix = pk_mixes(rt, mixes);
    uint32_t v[M], *out = malloc(M * M * sizeof *out);
    assert_non_null(out);
    for (size_t i = 0; i < M; i++) v[i] = (uint32_t)(3 * i + 1);
    for (int m = 0; m < nmix; m++) {
        for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
            for (size_t i = 0; i < M * M; i++) out[i] = 1;
            weft_arg_t args[] = {
                weft_arg_whole(v, sizeof v),
                weft_arg_scattered(out, M * M * sizeof *out, WEFT_READ_WRITE),
            };
            weft_policy_t pol = wt_mix_policy(KINDS[k], &mixes[m], 16);
            char what[96];
            snprintf(what, sizeof what, "row and column, %s on %s", wt_policy_name(KINDS[k]), mixes[m].name);
            WT_CHECK(weft_parallel_run(rt, &rowcol, weft_range_1d(M, 16), args, 2, &pol, WT_PANIC));
            for (size_t i = 0; i < M; i++)
                for (size_t j = 0; j < M; j++)
                    if (out[i * M + j] != v[i] * v[j])
                        fail_msg("%s: [%zu][%zu] is %u, want %u", what, i, j, out[i * M + j], v[i] * v[j]);
        }
    }
    free(out);
    weft_runtime_destroy(rt);
}

/* ---- two chunks change one byte -------------------------------------------------------- */

static void clash_cpu(size_t begin, size_t end, void *const *argv)
{
    uint32_t *out = argv[0];
    for (size_t i = begin; i < end; i++) out[i % 64] = (uint32_t)(i + 1);
}

static const char clash_src[] =
    "__kernel void clash(__global uint *out) {\n"
    "    size_t i = get_global_id(0);\n"
    "    out[i % 64] = (uint)(i + 1);\n"
    "}\n";

static const weft_kernel_t clash = {.name = "clash", .cpu = clash_cpu, .cl_source = clash_src, .cl_entry = "clash"};

static void overlapping_changes_refused(void **state)
{
    (void)state;
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 2;
    o.separate_memory = 1; /* where chunks work on copies: merges see the clash */
    weft_runtime_t *rt = NULL;
    WT_CHECK(weft_runtime_create(&o, &rt));
    if (weft_device_count(rt) == 0) {
        weft_runtime_destroy(rt);
        skip();
    }
    uint32_t out[64] = {0};
    weft_arg_t args[] = {weft_arg_scattered(out, sizeof out, WEFT_WRITE)};
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.use_cpu = 0;
    pol.devices = 1;
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 64; /* four chunks, each writing all 64 elements */
    wt_capture_install();
    weft_panic_t *why = NULL;
    assert_int_equal(weft_parallel_run(rt, &clash, weft_range_1d(256, 64), args, 1, &pol, &why), WEFT_EPANIC);
    assert_non_null(why);
    wt_assert_contains(weft_panic_message(why), "scattered argument 0");
    wt_assert_contains(weft_panic_message(why), "was changed by chunk [");
    wt_assert_contains(weft_panic_message(why), "and by chunk [");
    assert_string_equal(weft_panic_kernel(why), "clash");
    weft_panic_destroy(why);
    wt_capture_restore();
    /* The first chunk's changes were merged, the clashing one's were not. */
    for (size_t i = 0; i < 64; i++) assert_int_equal(out[i], i + 1);
    /* Bad descriptors. */
    weft_arg_t ro[] = {weft_arg_scattered(out, sizeof out, WEFT_READ)};
    assert_int_equal(weft_parallel_run(rt, &clash, weft_range_1d(64, 64), ro, 1, NULL, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "scattered array is written");
    weft_arg_t empty[] = {weft_arg_scattered(out, 0, WEFT_WRITE)};
    assert_int_equal(weft_parallel_run(rt, &clash, weft_range_1d(64, 64), empty, 1, NULL, NULL), WEFT_EINVAL);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strided_transpose),
        cmocka_unit_test(row_and_column),
        cmocka_unit_test(overlapping_changes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
