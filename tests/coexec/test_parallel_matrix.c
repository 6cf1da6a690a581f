/* test_parallel_matrix.c — every policy (static, dynamic, guided, adaptive)
 * times every place mix (CPU only; one device; CPU + one device; CPU + two
 * devices) writes every element exactly once and right: sizes 0, 1, primes,
 * and non-multiples of the work-group size in 1-D, and a 2-D range whose
 * width and height are not multiples of its 8 x 4 groups. The adaptive
 * policy's model lives in a mkdtemp folder ($WEFT_CACHE_DIR), so the second
 * pass of adaptive runs from a stored model rather than calibrating. Only the
 * bytes chunks touch are copied (none on unified-memory devices), and a whole
 * read-only table is uploaded once per device.
 * Registered with POCL_DEVICES="pthread basic". */
#define _GNU_SOURCE
#include "weft_test.h"

#include "parallel_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const weft_policy_kind_t POLICIES[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED,
                                              WEFT_POLICY_ADAPTIVE};

typedef struct fixture {
    weft_runtime_t *rt;
    char cache[256];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->rt = pk_cached_runtime(f->cache, sizeof f->cache, "matrix");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pk_cached_runtime_destroy(f->rt, f->cache);
    free(f);
    return 0;
}

/* Sizes: empty, one, smaller than a group, primes, exact and inexact
 * multiples of the group (64), and one more than a multiple. */
static const size_t SIZES_1D[] = {0, 1, 5, 64, 1000, 1025, 7919, 104729};

static void matrix_1d(void **state)
{
    fixture *f = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(f->rt, mixes);
    uint32_t seed = 17;
    for (size_t pi = 0; pi < sizeof POLICIES / sizeof *POLICIES; pi++)
        for (int mi = 0; mi < nm; mi++)
            for (size_t si = 0; si < sizeof SIZES_1D / sizeof *SIZES_1D; si++) {
                size_t n = SIZES_1D[si];
                weft_policy_t pol = wt_mix_policy(POLICIES[pi], &mixes[mi], 0);
                char what[128];
                snprintf(what, sizeof what, "1-D %s on %s, n=%zu", wt_policy_name(POLICIES[pi]),
                         mixes[mi].name, n);
                pk_run_iota(f->rt, n, 64, &pol, seed++, what);
                /* Static: one chunk per place, and with these priors every
                 * place gets a share of a large range. */
                if (POLICIES[pi] == WEFT_POLICY_STATIC && n >= 7919) {
                    weft_run_stats_t st;
                    WT_CHECK(weft_runtime_last_run_stats(f->rt, &st));
                    size_t places = (size_t)mixes[mi].use_cpu + (size_t)__builtin_popcountll(mixes[mi].devices);
                    if (st.chunks != places) fail_msg("%s: %zu chunks for %zu places", what, st.chunks, places);
                    if (mixes[mi].use_cpu && !st.items[0]) fail_msg("%s: the CPU did nothing", what);
                    for (int d = 0; d < 64; d++)
                        if ((mixes[mi].devices >> d & 1) && !st.items[1 + d])
                            fail_msg("%s: device %d did nothing", what, d);
                }
            }
}

/* A work-group size that is not a power of two, and explicit small chunk
 * sizes (rounded up to whole groups) for the policies that take one. */
static void matrix_1d_odd_group_and_chunks(void **state)
{
    fixture *f = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(f->rt, mixes);
    static const size_t chunks[] = {1, 48, 100, 5000};
    uint32_t seed = 1000;
    for (size_t pi = 1; pi < sizeof POLICIES / sizeof *POLICIES; pi++) /* static takes no chunk */
        for (int mi = 0; mi < nm; mi++)
            for (size_t ci = 0; ci < sizeof chunks / sizeof *chunks; ci++) {
                size_t n = 7919;
                weft_policy_t pol = wt_mix_policy(POLICIES[pi], &mixes[mi], chunks[ci]);
                char what[128];
                snprintf(what, sizeof what, "1-D group 48 %s on %s, chunk %zu", wt_policy_name(POLICIES[pi]),
                         mixes[mi].name, chunks[ci]);
                pk_run_iota(f->rt, n, 48, &pol, seed++, what);
                /* dynamic with a given chunk: chunks of ceil(chunk/48) groups, the
                 * last one shorter. */
                if (POLICIES[pi] == WEFT_POLICY_DYNAMIC) {
                    weft_run_stats_t st;
                    WT_CHECK(weft_runtime_last_run_stats(f->rt, &st));
                    size_t groups = (n + 47) / 48, per = (chunks[ci] + 47) / 48;
                    assert_int_equal(st.chunks, (groups + per - 1) / per);
                }
            }
}

static void run_2d(weft_runtime_t *rt, size_t w, size_t h, size_t gx, size_t gy, const weft_policy_t *pol,
                   uint32_t seed, const char *what)
{
    size_t n = w * h;
    uint32_t *out = malloc((n + PK_PAD) * sizeof *out), *cnt = malloc((n + PK_PAD) * sizeof *cnt);
    assert_non_null(out);
    assert_non_null(cnt);
    pk_fill(out, cnt, n);
    uint64_t w64 = w, h64 = h;
    weft_arg_t args[] = {
        weft_arg_split(out, n * sizeof *out, w * sizeof *out, WEFT_WRITE),
        weft_arg_split(cnt, n * sizeof *cnt, w * sizeof *cnt, WEFT_READ_WRITE),
        weft_arg_scalar(&seed, sizeof seed),
        weft_arg_scalar(&w64, sizeof w64),
        weft_arg_scalar(&h64, sizeof h64),
    };
    WT_CHECK(weft_parallel_run(rt, &PK_IOTA2D, weft_range_2d(w, h, gx, gy), args, 5, pol, WT_PANIC));
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++) {
            size_t i = y * w + x;
            if (cnt[i] != 1) fail_msg("%s: (%zu,%zu) written %u times", what, x, y, cnt[i]);
            if (out[i] != pk_f2(x, y, w, seed))
                fail_msg("%s: (%zu,%zu) is 0x%08x, expected 0x%08x", what, x, y, out[i], pk_f2(x, y, w, seed));
        }
    for (size_t i = n; i < n + PK_PAD; i++)
        if (out[i] != PK_SENTINEL || cnt[i] != 0) fail_msg("%s: guard %zu past %zu written", what, i, n);
    /* Items count rows, the split dimension. */
    wt_check_stats(rt, h, pol, what);
    free(out);
    free(cnt);
}

static void matrix_2d(void **state)
{
    fixture *f = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(f->rt, mixes);
    uint32_t seed = 5000;
    for (size_t pi = 0; pi < sizeof POLICIES / sizeof *POLICIES; pi++)
        for (int mi = 0; mi < nm; mi++) {
            char what[128];
            weft_policy_t pol = wt_mix_policy(POLICIES[pi], &mixes[mi], 0);
            snprintf(what, sizeof what, "2-D 37x53 (8x4) %s on %s", wt_policy_name(POLICIES[pi]), mixes[mi].name);
            run_2d(f->rt, 37, 53, 8, 4, &pol, seed++, what);
            /* Dynamic with one group of rows per chunk: many chunks. */
            pol = wt_mix_policy(POLICIES[pi], &mixes[mi], 1);
            snprintf(what, sizeof what, "2-D 37x53 (8x4) %s chunk 1 on %s", wt_policy_name(POLICIES[pi]),
                     mixes[mi].name);
            run_2d(f->rt, 37, 53, 8, 4, &pol, seed++, what);
            /* Empty in y: nothing to do, nothing written. */
            pol = wt_mix_policy(POLICIES[pi], &mixes[mi], 0);
            snprintf(what, sizeof what, "2-D 37x0 %s on %s", wt_policy_name(POLICIES[pi]), mixes[mi].name);
            run_2d(f->rt, 37, 0, 8, 4, &pol, seed++, what);
        }
}

/* A whole (read-only, every chunk reads all of it) table beside a split
 * output: out[i] = table[(i * 7) % T] ^ i. The table is uploaded once per
 * device that took part (never on unified memory), the output copied back
 * chunk by chunk. */
#define T 1000

static void gather_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *out = argv[0];
    const uint32_t *table = argv[1];
    for (size_t i = b; i < e; i++) out[i] = table[(i * 7) % T] ^ (uint32_t)i;
}

static const char GATHER_SRC[] =
    "__kernel void pk_gather(__global uint *out, __global const uint *table, ulong n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) out[i] = table[(i * 7) % 1000] ^ (uint)i;\n"
    "}\n";

static const weft_kernel_t GATHER = {
    .name = "pk_gather", .cpu = gather_cpu, .cl_source = GATHER_SRC, .cl_entry = "pk_gather"};

static void whole_argument(void **state)
{
    fixture *f = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(f->rt, mixes);
    const size_t n = 104729;
    uint32_t *table = malloc(T * 4), *out = malloc((n + PK_PAD) * 4);
    assert_non_null(table);
    assert_non_null(out);
    for (size_t i = 0; i < T; i++) table[i] = (uint32_t)(i * 2654435761u);
    uint64_t n64 = n;
    for (size_t pi = 0; pi < sizeof POLICIES / sizeof *POLICIES; pi++)
        for (int mi = 0; mi < nm; mi++) {
            for (size_t i = 0; i < n + PK_PAD; i++) out[i] = PK_SENTINEL;
            weft_arg_t args[] = {weft_arg_split(out, n * 4, 4, WEFT_WRITE), weft_arg_whole(table, T * 4),
                                 weft_arg_scalar(&n64, 8)};
            weft_policy_t pol = wt_mix_policy(POLICIES[pi], &mixes[mi], 0);
            char what[128];
            snprintf(what, sizeof what, "whole table, %s on %s", wt_policy_name(POLICIES[pi]), mixes[mi].name);
            WT_CHECK(weft_parallel_run(f->rt, &GATHER, weft_range_1d(n, 64), args, 3, &pol, WT_PANIC));
            for (size_t i = 0; i < n; i++)
                if (out[i] != (table[(i * 7) % T] ^ (uint32_t)i)) fail_msg("%s: element %zu wrong", what, i);
            for (size_t i = n; i < n + PK_PAD; i++)
                if (out[i] != PK_SENTINEL) fail_msg("%s: guard %zu written", what, i);
            weft_run_stats_t st = wt_check_stats(f->rt, n, &pol, what);
            uint64_t want = 0;
            for (int d = 0; d < weft_device_count(f->rt); d++) {
                weft_device_info_t info;
                WT_CHECK(weft_device_info(f->rt, d, &info));
                if (!info.unified_memory && st.items[1 + d]) want += T * 4 + 8 * (uint64_t)st.items[1 + d]; /* out there and back */
            }
            if (st.bytes_moved != want)
                fail_msg("%s: %llu bytes moved, expected %llu", what, (unsigned long long)st.bytes_moved,
                         (unsigned long long)want);
        }
    free(table);
    free(out);
}

/* Adaptive keeps its model in $WEFT_CACHE_DIR: after the runs above the
 * folder holds a model of each kernel, and runs from that model are right. */
static void adaptive_model_on_disk(void **state)
{
    fixture *f = *state;
    wt_mix mixes[4];
    int nm = pk_mixes(f->rt, mixes);
    wt_mix *all = &mixes[nm - 1];
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_ADAPTIVE, all, 0);
    pk_run_iota(f->rt, 104729, 64, &pol, 99, "adaptive first run");
    char path[512];
    snprintf(path, sizeof path, "%s/pk_iota.model", f->cache);
    struct stat sb;
    if (stat(path, &sb) != 0) fail_msg("adaptive policy left no model at %s", path);
    assert_true(sb.st_size > 0);
    FILE *m = fopen(path, "r");
    assert_non_null(m);
    char text[4096] = "";
    size_t got = fread(text, 1, sizeof text - 1, m);
    text[got] = '\0';
    fclose(m);
    /* One line per place that took part: the CPU, and each device by name. */
    wt_assert_contains(text, " cpu:2\t"); /* after the size class */
    for (int d = 0; d < weft_device_count(f->rt); d++) {
        if (!(all->devices >> d & 1)) continue;
        weft_device_info_t info;
        WT_CHECK(weft_device_info(f->rt, d, &info));
        wt_assert_contains(text, info.name);
    }
    /* Later runs start from the model (no calibration chunk) and are right. */
    for (int i = 0; i < 3; i++) pk_run_iota(f->rt, 104729, 64, &pol, 100 + (uint32_t)i, "adaptive from model");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matrix_1d),
        cmocka_unit_test(matrix_1d_odd_group_and_chunks),
        cmocka_unit_test(matrix_2d),
        cmocka_unit_test(whole_argument),
        cmocka_unit_test(adaptive_model_on_disk),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
