/* test_parallel_spans.c — split arguments whose bytes are not "unit bytes per
 * index": owned per work-group (a 256-item group writing 216 cells, as
 * Rodinia's pathfinder does; one result per group of 255 items, as the AMD
 * SDK's binomial does), arrays shorter than the range (a launch grid
 * larger than the data), and bytes a function gives (an output behind a
 * header), with overlapping maps refused. Every element is checked, and the bytes past each
 * array stay untouched, on every place mix and policy, as the devices are
 * and in separate-memory mode (test_parallel_spans_separate). */
#define _GNU_SOURCE /* mkdtemp, setenv (parallel_kernels.h) */
#include "weft_test.h"
#include "parallel_kernels.h"

#define GUARD 64
#define GUARD_VALUE 0x5eedf00du

static const weft_policy_kind_t KINDS[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED,
                                           WEFT_POLICY_ADAPTIVE};

static uint32_t *guarded(size_t n)
{
    uint32_t *v = malloc((n + GUARD) * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n + GUARD; i++) v[i] = GUARD_VALUE;
    return v;
}

static void check_guard(const uint32_t *v, size_t n, const char *what)
{
    for (size_t i = n; i < n + GUARD; i++)
        if (v[i] != GUARD_VALUE) fail_msg("%s: element %zu past the array's end was written", what, i);
}

/* ---- tiles: a 256-item group owns 216 cells ----------------------------------------- */

#define TILE_ITEMS 256
#define TILE_CELLS 216

static void tiles_cpu(size_t begin, size_t end, void *const *argv)
{
    uint32_t *out = argv[0];
    uint32_t cells = *(const uint32_t *)argv[1];
    for (size_t g = begin / TILE_ITEMS; g < (end + TILE_ITEMS - 1) / TILE_ITEMS; g++)
        for (size_t l = 0; l < TILE_CELLS; l++)
            if (g * TILE_CELLS + l < cells) out[g * TILE_CELLS + l] = (uint32_t)(g * 1000 + l);
}

static const char tiles_src[] =
    "__kernel void tiles(__global uint *out, uint cells) {\n"
    "    size_t g = get_group_id(0), l = get_local_id(0);\n"
    "    if (l < 216 && g * 216 + l < cells) out[g * 216 + l] = (uint)(g * 1000 + l);\n"
    "}\n";

static const weft_kernel_t tiles = {.name = "tiles", .cpu = tiles_cpu, .cl_source = tiles_src, .cl_entry = "tiles"};

static void per_group_tiles(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    wt_mix mixes[4];
    int nmix = pk_mixes(rt, mixes);
    const size_t n = 40 * TILE_ITEMS - 100; /* 40 groups, the last one short of items */
    const uint32_t cells = 40 * TILE_CELLS - 50; /* and of cells */
    uint32_t *out = guarded(cells);
    for (int m = 0; m < nmix; m++) {
        for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
            for (size_t i = 0; i < cells; i++) out[i] = 0;
            weft_arg_t args[] = {
                weft_arg_split_groups(out, cells * sizeof *out, TILE_CELLS * sizeof *out, WEFT_WRITE),
                weft_arg_scalar(&cells, sizeof cells),
            };
            weft_policy_t pol = wt_mix_policy(KINDS[k], &mixes[m], 3 * TILE_ITEMS);
            char what[96];
            snprintf(what, sizeof what, "tiles, %s on %s", wt_policy_name(KINDS[k]), mixes[m].name);
            WT_CHECK(weft_parallel_run(rt, &tiles, weft_range_1d(n, TILE_ITEMS), args, 2, &pol, WT_PANIC));
            wt_check_stats(rt, n, &pol, what);
            for (size_t c = 0; c < cells; c++) {
                uint32_t want = (uint32_t)((c / TILE_CELLS) * 1000 + c % TILE_CELLS);
                if (out[c] != want) fail_msg("%s: cell %zu is %u, want %u", what, c, out[c], want);
            }
            check_guard(out, cells, what);
        }
    }
    free(out);
    weft_runtime_destroy(rt);
}

/* ---- one result per group of 255 items ----------------------------------------------- */

#define ODD_GROUP 255

static void group_sums_cpu(size_t begin, size_t end, void *const *argv)
{
    uint32_t *out = argv[0];
    uint64_t n = *(const uint64_t *)argv[1];
    for (size_t g = begin / ODD_GROUP; g * ODD_GROUP < end; g++) {
        uint32_t sum = 0;
        for (size_t i = g * ODD_GROUP; i < (g + 1) * ODD_GROUP && i < n; i++) sum += (uint32_t)i;
        out[g] = sum;
    }
}

static const char group_sums_src[] =
    "__kernel void group_sums(__global uint *out, ulong n) {\n"
    "    if (get_local_id(0) != 0) return;\n"
    "    size_t g = get_group_id(0);\n"
    "    uint sum = 0;\n"
    "    for (size_t i = g * 255; i < (g + 1) * 255 && i < n; i++) sum += (uint)i;\n"
    "    out[g] = sum;\n"
    "}\n";

static const weft_kernel_t group_sums = {
    .name = "group_sums", .cpu = group_sums_cpu, .cl_source = group_sums_src, .cl_entry = "group_sums"};

static void per_group_results(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    wt_mix mixes[4];
    int nmix = pk_mixes(rt, mixes);
    const uint64_t n = 37 * ODD_GROUP + 11;
    const size_t groups = (size_t)(n + ODD_GROUP - 1) / ODD_GROUP;
    uint32_t *out = guarded(groups);
    for (int m = 0; m < nmix; m++) {
        for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
            for (size_t g = 0; g < groups; g++) out[g] = 0;
            weft_arg_t args[] = {
                weft_arg_split_groups(out, groups * sizeof *out, sizeof *out, WEFT_WRITE),
                weft_arg_scalar(&n, sizeof n),
            };
            weft_policy_t pol = wt_mix_policy(KINDS[k], &mixes[m], 2 * ODD_GROUP);
            char what[96];
            snprintf(what, sizeof what, "group sums, %s on %s", wt_policy_name(KINDS[k]), mixes[m].name);
            WT_CHECK(weft_parallel_run(rt, &group_sums, weft_range_1d((size_t)n, ODD_GROUP), args, 2, &pol, WT_PANIC));
            wt_check_stats(rt, (size_t)n, &pol, what);
            for (size_t g = 0; g < groups; g++) {
                uint32_t want = 0;
                for (uint64_t i = g * ODD_GROUP; i < (g + 1) * ODD_GROUP && i < n; i++) want += (uint32_t)i;
                if (out[g] != want) fail_msg("%s: group %zu is %u, want %u", what, g, out[g], want);
            }
            check_guard(out, groups, what);
        }
    }
    free(out);
    weft_runtime_destroy(rt);
}

/* ---- an array shorter than the range ------------------------------------------------- */

static void affine_short_cpu(size_t begin, size_t end, void *const *argv)
{
    uint32_t *out = argv[0];
    uint32_t count = *(const uint32_t *)argv[1];
    for (size_t i = begin; i < end && i < count; i++) out[i] = (uint32_t)(3 * i + 1);
}

static const char affine_short_src[] =
    "__kernel void affine_short(__global uint *out, uint count) {\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < count) out[i] = (uint)(3 * i + 1);\n"
    "}\n";

static const weft_kernel_t affine_short = {
    .name = "affine_short", .cpu = affine_short_cpu, .cl_source = affine_short_src, .cl_entry = "affine_short"};

static void shorter_than_the_range(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    wt_mix mixes[4];
    int nmix = pk_mixes(rt, mixes);
    const size_t n = 4096; /* the launch grid */
    const uint32_t count = 2900; /* the data */
    uint32_t *out = guarded(count);
    for (int m = 0; m < nmix; m++) {
        for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
            for (size_t i = 0; i < count; i++) out[i] = 0;
            weft_arg_t args[] = {
                weft_arg_split_count(out, count, sizeof *out, WEFT_READ_WRITE),
                weft_arg_scalar(&count, sizeof count),
            };
            weft_policy_t pol = wt_mix_policy(KINDS[k], &mixes[m], 512);
            char what[96];
            snprintf(what, sizeof what, "short array, %s on %s", wt_policy_name(KINDS[k]), mixes[m].name);
            WT_CHECK(weft_parallel_run(rt, &affine_short, weft_range_1d(n, 64), args, 2, &pol, WT_PANIC));
            wt_check_stats(rt, n, &pol, what);
            for (size_t i = 0; i < count; i++)
                if (out[i] != 3 * i + 1) fail_msg("%s: element %zu is %u, want %zu", what, i, out[i], 3 * i + 1);
            check_guard(out, count, what);
        }
    }
    /* Without the count the array is too small for the range, as before. */
    weft_arg_t plain[] = {weft_arg_split(out, count * sizeof *out, sizeof *out, WEFT_WRITE),
                          weft_arg_scalar(&count, sizeof count)};
    assert_int_equal(weft_parallel_run(rt, &affine_short, weft_range_1d(n, 64), plain, 2, NULL, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "smaller than");
    /* A count whose bytes overflow, an unknown span: refused with a message. */
    weft_arg_t huge[] = {weft_arg_split_count(out, SIZE_MAX / 2, 8, WEFT_WRITE), weft_arg_scalar(&count, sizeof count)};
    assert_int_equal(weft_parallel_run(rt, &affine_short, weft_range_1d(n, 64), huge, 2, NULL, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "overflows");
    weft_arg_t odd[] = {weft_arg_split(out, n * sizeof *out, sizeof *out, WEFT_WRITE), weft_arg_scalar(&count, sizeof count)};
    odd[0].span = (weft_span_t)7;
    assert_int_equal(weft_parallel_run(rt, &affine_short, weft_range_1d(n, 64), odd, 2, NULL, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "span 7");
    free(out);
    weft_runtime_destroy(rt);
}

/* ---- bytes from a function: an output behind a header ----------------------------- */

#define HEADER 37

static void header_map(size_t begin, size_t end, const void *ctx, size_t *offset, size_t *bytes)
{
    size_t extra = ctx ? *(const size_t *)ctx : 0; /* a wrong map claims that much more */
    *offset = (HEADER + begin) * sizeof(uint32_t);
    *bytes = (end - begin + extra) * sizeof(uint32_t);
}

static void behind_header_cpu(size_t begin, size_t end, void *const *argv)
{
    uint32_t *out = argv[0];
    for (size_t i = begin; i < end; i++) out[HEADER + i] = (uint32_t)(5 * i + 2);
}

static const char behind_header_src[] =
    "__kernel void behind_header(__global uint *out, ulong n) {\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) out[37 + i] = (uint)(5 * i + 2);\n"
    "}\n";

static const weft_kernel_t behind_header = {
    .name = "behind_header", .cpu = behind_header_cpu, .cl_source = behind_header_src, .cl_entry = "behind_header"};

static void mapped_bytes(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    wt_mix mixes[4];
    int nmix = pk_mixes(rt, mixes);
    const uint64_t n = 3000;
    const size_t total = HEADER + (size_t)n;
    uint32_t *out = guarded(total);
    for (int m = 0; m < nmix; m++) {
        for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
            for (size_t i = 0; i < total; i++) out[i] = i < HEADER ? 0xabcdu : 0;
            weft_arg_t args[] = {
                weft_arg_split_map(out, total * sizeof *out, header_map, NULL, WEFT_WRITE),
                weft_arg_scalar(&n, sizeof n),
            };
            weft_policy_t pol = wt_mix_policy(KINDS[k], &mixes[m], 256);
            char what[96];
            snprintf(what, sizeof what, "mapped, %s on %s", wt_policy_name(KINDS[k]), mixes[m].name);
            WT_CHECK(weft_parallel_run(rt, &behind_header, weft_range_1d((size_t)n, 64), args, 2, &pol, WT_PANIC));
            wt_check_stats(rt, (size_t)n, &pol, what);
            for (size_t i = 0; i < HEADER; i++)
                if (out[i] != 0xabcdu) fail_msg("%s: header word %zu was changed", what, i);
            for (size_t i = 0; i < n; i++)
                if (out[HEADER + i] != 5 * i + 2) fail_msg("%s: element %zu is %u", what, i, out[HEADER + i]);
            check_guard(out, total, what);
        }
    }
    /* A map whose groups overlap, and one past the array: refused before anything runs. */
    size_t one_more = 1;
    weft_arg_t overlapping[] = {weft_arg_split_map(out, (total + 1) * sizeof *out, header_map, &one_more, WEFT_WRITE),
                                weft_arg_scalar(&n, sizeof n)};
    assert_int_equal(weft_parallel_run(rt, &behind_header, weft_range_1d((size_t)n, 64), overlapping, 2, NULL, NULL),
                     WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "overlapping bytes");
    wt_assert_contains(weft_last_error_message(), "work-groups 0 and 1");
    weft_arg_t past[] = {weft_arg_split_map(out, (total - 1) * sizeof *out, header_map, NULL, WEFT_WRITE),
                         weft_arg_scalar(&n, sizeof n)};
    assert_int_equal(weft_parallel_run(rt, &behind_header, weft_range_1d((size_t)n, 64), past, 2, NULL, NULL),
                     WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "past the array");
    weft_arg_t nofn[] = {weft_arg_split_map(out, total * sizeof *out, NULL, NULL, WEFT_WRITE), weft_arg_scalar(&n, sizeof n)};
    assert_int_equal(weft_parallel_run(rt, &behind_header, weft_range_1d((size_t)n, 64), nofn, 2, NULL, NULL), WEFT_EINVAL);
    free(out);
    weft_runtime_destroy(rt);
}

/* While an operation writes the bytes its groups own, another that would
 * write some of them is refused, and one writing other bytes of the same
 * array runs: the borrow covers exactly what the groups own. */
static atomic_int gate;

/* Only the piece with the first group waits: pieces on every worker would
 * leave none to run the operation started meanwhile. */
static void gated_tiles_cpu(size_t begin, size_t end, void *const *argv)
{
    if (begin == 0) wt_gate_hold(&gate);
    tiles_cpu(begin, end, argv);
}

static const weft_kernel_t gated_tiles = {.name = "gated_tiles", .cpu = gated_tiles_cpu};

static void per_group_borrows(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0);
    uint32_t *out = guarded(4 * TILE_CELLS);
    const uint32_t cells = 2 * TILE_CELLS;
    weft_arg_t first[] = {weft_arg_split_groups(out, cells * sizeof *out, TILE_CELLS * sizeof *out, WEFT_WRITE),
                          weft_arg_scalar(&cells, sizeof cells)};
    /* Its first group's cells are the first operation's second group's. */
    weft_arg_t overlapping[] = {
        weft_arg_split_groups(out + TILE_CELLS, cells * sizeof *out, TILE_CELLS * sizeof *out, WEFT_WRITE),
        weft_arg_scalar(&cells, sizeof cells)};
    weft_arg_t beside[] = {
        weft_arg_split_groups(out + 2 * TILE_CELLS, cells * sizeof *out, TILE_CELLS * sizeof *out, WEFT_WRITE),
        weft_arg_scalar(&cells, sizeof cells)};
    atomic_store(&gate, 0);
    weft_handle_t *h = NULL;
    WT_CHECK(weft_parallel_for(rt, &gated_tiles, weft_range_1d(2 * TILE_ITEMS, TILE_ITEMS), first, 2, NULL, &h));
    assert_int_equal(weft_parallel_run(rt, &tiles, weft_range_1d(2 * TILE_ITEMS, TILE_ITEMS), overlapping, 2, NULL, NULL),
                     WEFT_EBORROW);
    wt_assert_contains(weft_last_error_message(), "gated_tiles");
    WT_CHECK(weft_parallel_run(rt, &tiles, weft_range_1d(2 * TILE_ITEMS, TILE_ITEMS), beside, 2, NULL, WT_PANIC));
    atomic_store(&gate, 1);
    WT_CHECK(weft_join(h, NULL, WT_PANIC));
    for (size_t c = 0; c < 4 * TILE_CELLS; c++) {
        uint32_t want = (uint32_t)(((c / TILE_CELLS) % 2) * 1000 + c % TILE_CELLS);
        if (out[c] != want) fail_msg("borrows: cell %zu is %u, want %u", c, out[c], want);
    }
    check_guard(out, 4 * TILE_CELLS, "borrows");
    free(out);
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(per_group_tiles),
        cmocka_unit_test(per_group_results),
        cmocka_unit_test(shorter_than_the_range),
        cmocka_unit_test(per_group_borrows),
        cmocka_unit_test(mapped_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
