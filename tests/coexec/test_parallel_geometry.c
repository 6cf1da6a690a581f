/* test_parallel_geometry.c — the whole range's geometry reaches a kernel at
 * launch, so a program is built once per (source, options, device), not once
 * per range size. One kernel runs over 20 range sizes in 1-D and 20 shapes
 * in 2-D, split across the CPU and both devices in small chunks (every
 * device runs chunks at non-zero offsets); every item records
 * get_global_size, get_num_groups, get_group_id, get_global_offset,
 * get_global_linear_id, get_local_linear_id, get_local_id and get_work_dim,
 * which must be those of one unsplit launch over the whole range (the CPU
 * twin writes them). White-box: after the 40 ranges the host layer's program
 * cache (host/host.h) holds exactly one build of the kernel per device. A
 * kernel whose helper function reads get_group_id cannot take its geometry
 * at launch: it is built per range (the sized form) and sees whole-range
 * values all the same. Build errors name the user's lines and columns in
 * both forms. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "parallel_kernels.h"

#include "coexec/cl_rewrite.h"
#include "host/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Builds in rt's program cache for device `device` whose source holds needle. */
static size_t builds_of(weft_runtime_t *rt, int device, const char *needle, int *with_geometry)
{
    weft__host *h = weft__host_of(rt);
    size_t n = 0;
    *with_geometry = 0;
    pthread_mutex_lock(&h->m);
    for (weft__built *b = h->built; b; b = b->next) {
        if (b->device != device || !strstr(b->source, needle)) continue;
        n++;
        if (strstr(b->source, WEFT__CL_GEOMETRY)) *with_geometry = 1;
    }
    pthread_mutex_unlock(&h->m);
    return n;
}

static void check_builds(weft_runtime_t *rt, const char *needle, size_t want, int want_geometry, const char *what)
{
    for (int d = 0; d < weft_device_count(rt); d++) {
        int geometry;
        size_t n = builds_of(rt, d, needle, &geometry);
        if (n != want)
            fail_msg("%s: device %d has %zu builds of %s, expected %zu", what, d, n, needle, want);
        if (geometry != want_geometry)
            fail_msg("%s: device %d's build %s the geometry argument", what, d, geometry ? "takes" : "lacks");
    }
}

/* What each item records, in this order. */
static const char *const NAMES[] = {"get_global_size(0)",  "get_global_size(1)",    "get_num_groups(0)",
                                    "get_num_groups(1)",   "get_group_id(0)",       "get_group_id(1)",
                                    "get_global_offset(0)", "get_global_offset(1)", "get_global_linear_id()",
                                    "get_local_linear_id()", "get_local_id(0)",     "get_work_dim()"};
#define NV 12

/* The one scalar argument, a ulong8: width, height, group width, group
 * height, dims (a 1-D range of n in groups of g is n x 1 in g x 1). */
enum { P_W, P_H, P_GX, P_GY, P_DIMS, P_N = 8 };

static void compare(const uint64_t *got, const uint64_t *want, size_t elems, const char *what)
{
    for (size_t i = 0; i < elems; i++)
        for (size_t k = 0; k < NV; k++)
            if (got[i * NV + k] != want[i * NV + k])
                fail_msg("%s: item %zu: %s is %llu, one unsplit launch gives %llu", what, i, NAMES[k],
                         (unsigned long long)got[i * NV + k], (unsigned long long)want[i * NV + k]);
}

/* What one unsplit launch gives item (x, y). */
static void geo_item(const uint64_t *p, uint64_t x, uint64_t y, uint64_t *out)
{
    uint64_t gx = p[P_GX], gy = p[P_GY];
    uint64_t g0 = (p[P_W] + gx - 1) / gx * gx, g1 = (p[P_H] + gy - 1) / gy * gy;
    const uint64_t want[NV] = {g0,     g1,     g0 / gx,       g1 / gy, x / gx, y / gy, 0, 0, y * g0 + x,
                               (y % gy) * gx + x % gx, x % gx, p[P_DIMS]};
    memcpy(out, want, sizeof want);
}

/* The CPU twin: [b, e) runs along the split dimension, x in 1-D, rows in 2-D. */
static void geo_cpu(size_t b, size_t e, void *const *argv)
{
    uint64_t *v = argv[0];
    const uint64_t *p = argv[1];
    int one = p[P_DIMS] == 1;
    for (uint64_t y = one ? 0 : b; y < (one ? 1 : e) && y < p[P_H]; y++)
        for (uint64_t x = one ? b : 0; x < (one ? e : p[P_W]) && x < p[P_W]; x++)
            geo_item(p, x, y, &v[(y * p[P_W] + x) * NV]);
}

/* The kernel, with the group ids read as group0 and group1. */
#define GEO_KERNEL(name, group0, group1)                                                                   \
    "kernel void " name "(global ulong *v, ulong8 p)\n"                                                    \
    "{\n"                                                                                                  \
    "    size_t x = get_global_id(0), y = get_global_id(1);\n"                                             \
    "    if (x >= p.s0 || y >= p.s1) return;\n"                                                            \
    "    ulong r[12] = {get_global_size(0), get_global_size(1), get_num_groups(0), get_num_groups(1),\n"   \
    "                   " group0 ", " group1 ", get_global_offset(0), get_global_offset(1),\n"             \
    "                   get_global_linear_id(), get_local_linear_id(), get_local_id(0), get_work_dim()};\n" \
    "    for (int k = 0; k < 12; k++) v[(y * p.s0 + x) * 12 + k] = r[k];\n"                                \
    "}\n"

static const weft_kernel_t GEO = {.name = "pk_geo",
                                  .cpu = geo_cpu,
                                  .cl_source = GEO_KERNEL("pk_geo", "get_group_id(0)", "get_group_id(1)"),
                                  .cl_entry = "pk_geo"};

/* The group ids through a helper function: there get_group_id is the real
 * builtin unless the whole source is built with the range's sizes. */
static const weft_kernel_t GEO_HELPER = {
    .name = "pk_geoh",
    .cpu = geo_cpu,
    .cl_source = "size_t pk_group_of(uint d) { return get_group_id(d); }\n" GEO_KERNEL(
        "pk_geoh", "pk_group_of(0)", "pk_group_of(1)"),
    .cl_entry = "pk_geoh"};

/* Run k over r (described by p) on the CPU and every device, in chunks of
 * two groups (1-D) or one row of groups (2-D), and compare every item with
 * one unsplit launch. */
static void run(weft_runtime_t *rt, const weft_kernel_t *k, weft_range_t r, const char *what)
{
    uint64_t p[P_N] = {r.size[0], r.dims == 2 ? r.size[1] : 1, r.group[0], r.dims == 2 ? r.group[1] : 1, r.dims};
    size_t elems = p[P_W] * p[P_H], bytes = elems * NV * sizeof(uint64_t);
    uint64_t *v = malloc(bytes), *want = malloc(bytes);
    assert_non_null(v);
    assert_non_null(want);
    memset(v, 0xA5, bytes);
    size_t split = r.dims == 2 ? p[P_H] : p[P_W];
    void *argv[] = {want, p};
    geo_cpu(0, split, argv);
    size_t unit = (r.dims == 2 ? p[P_W] : 1) * NV * sizeof(uint64_t);
    weft_arg_t args[] = {weft_arg_split(v, bytes, unit, WEFT_WRITE), weft_arg_scalar(p, sizeof p)};
    wt_mix all = {"cpu+devices", 1, weft_device_mask(rt, 0)};
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_DYNAMIC, &all, (r.dims == 2 ? 1 : 2) * r.group[r.dims - 1]);
    WT_CHECK(weft_parallel_run(rt, k, r, args, 2, &pol, WT_PANIC));
    compare(v, want, elems, what);
    wt_check_stats(rt, split, &pol, what);
    free(v);
    free(want);
}

static const size_t SIZES_1D[20] = {1, 7, 64, 65, 100, 129, 200, 255, 256, 300,
                                    333, 500, 511, 640, 777, 1000, 1023, 1500, 2047, 3001};

/* 20 sizes in 1-D and 20 shapes in 2-D, several group sizes: one build. */
static void one_build(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    for (int i = 0; i < 20; i++) {
        size_t g = i % 3 == 0 ? 16 : i % 3 == 1 ? 32 : 8;
        char what[96];
        snprintf(what, sizeof what, "1-D, %zu items in groups of %zu", SIZES_1D[i], g);
        run(rt, &GEO, weft_range_1d(SIZES_1D[i], g), what);
        size_t w = 5 + (size_t)i * 7, h = 3 + (size_t)i * 5, gx = i % 2 ? 8 : 4, gy = i % 3 ? 2 : 4;
        snprintf(what, sizeof what, "2-D %zu x %zu in groups of %zu x %zu", w, h, gx, gy);
        run(rt, &GEO, weft_range_2d(w, h, gx, gy), what);
    }
    check_builds(rt, "pk_geo(", 1, 1, "40 ranges in 1-D and 2-D");
    weft_runtime_destroy(rt);
}

static void helper_builds_per_size(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    for (int i = 0; i < 3; i++) {
        char what[96];
        snprintf(what, sizeof what, "1-D through a helper, %zu items", SIZES_1D[17 + i]);
        run(rt, &GEO_HELPER, weft_range_1d(SIZES_1D[17 + i], 16), what);
    }
    run(rt, &GEO_HELPER, weft_range_2d(33, 17, 8, 4), "2-D through a helper");
    /* Built once per size: the helper needs the sizes in the source. */
    check_builds(rt, "pk_geoh(", weft_device_count(rt) ? 4 : 0, 0, "through a helper over 4 ranges");
    weft_runtime_destroy(rt);
}

/* ---- build errors keep the user's lines and columns --------------------------- */

/* 1 when a line of log holds both "<line>:<col>:" and word. */
static int log_has(const char *log, size_t line, size_t col, const char *word)
{
    char at[32];
    snprintf(at, sizeof at, ":%zu:%zu:", line, col);
    for (const char *p = log ? strstr(log, at) : NULL; p; p = strstr(p + 1, at)) {
        const char *bol = p, *eol = strchr(p, '\n');
        while (bol > log && bol[-1] != '\n') bol--;
        const char *w = strstr(bol, word);
        if (w && (!eol || w < eol)) return 1;
    }
    return 0;
}

/* Line (from 1) and column (from 1) of needle in src. */
static void where(const char *src, const char *needle, size_t *line, size_t *col)
{
    const char *p = strstr(src, needle);
    assert_non_null(p);
    size_t l = 1;
    const char *bol = src;
    for (const char *q = src; q < p; q++)
        if (*q == '\n') {
            l++;
            bol = q + 1;
        }
    *line = l;
    *col = (size_t)(p - bol) + 1;
}

static void check_build_errors(weft_runtime_t *rt, const char *src, const char *entry)
{
    weft_kernel_t k = {.name = entry, .cl_source = src, .cl_entry = entry};
    int out[64];
    weft_arg_t args[] = {weft_arg_split(out, sizeof out, sizeof *out, WEFT_WRITE)};
    wt_mix dev0 = {"dev0", 0, 1};
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_DYNAMIC, &dev0, 16);
    wt_capture_install();
    weft_panic_t *p = NULL;
    assert_int_equal(weft_parallel_run(rt, &k, weft_range_1d(64, 16), args, 1, &pol, &p), WEFT_EPANIC);
    wt_capture_restore();
    assert_non_null(p);
    const char *log = weft_panic_build_log(p);
    assert_non_null(log);
    static const char *const words[] = {"pk_undeclared_in_entry", "pk_undeclared_after"};
    for (int i = 0; i < 2; i++) {
        size_t line, col;
        where(src, words[i], &line, &col);
        if (!log_has(log, line, col, words[i]))
            fail_msg("entry %s: the build log does not name %s at %zu:%zu:\n%s", entry, words[i], line, col, log);
    }
    weft_panic_destroy(p);
}

static void build_errors_name_user_lines(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 1);
    /* The entry form: errors inside the entry and in a kernel after it. */
    static const char entry_form[] = "/* line 1 */\n"
                                     "__kernel void\n"
                                     "   pk_bad(__global int *o)\n"
                                     "{\n"
                                     "    o[get_group_id(0)] = pk_undeclared_in_entry;\n"
                                     "}   __kernel void pk_after(__global int *o) { o[0] = pk_undeclared_after; }\n";
    weft__cl_entry_loc loc;
    assert_null(weft__cl_find_entry(entry_form, "pk_bad", NULL, &loc));
    check_build_errors(rt, entry_form, "pk_bad");
    /* The sized form (a helper reads get_group_id). */
    static const char sized_form[] = "size_t pk_gid(void) { return get_group_id(0); }\n"
                                     "__kernel void pk_bad2(__global int *o)\n"
                                     "{\n"
                                     "    o[pk_gid()] = pk_undeclared_in_entry;\n"
                                     "}\n"
                                     "__kernel void pk_after(__global int *o) { o[0] = pk_undeclared_after; }\n";
    assert_non_null(weft__cl_find_entry(sized_form, "pk_bad2", NULL, &loc));
    check_build_errors(rt, sized_form, "pk_bad2");
    weft_runtime_destroy(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_build),
        cmocka_unit_test(helper_builds_per_size),
        cmocka_unit_test(build_errors_name_user_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
