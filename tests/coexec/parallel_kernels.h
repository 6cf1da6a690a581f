/* tests/coexec/parallel_kernels.h — what the co-execution tests
 * (tests/coexec/test_parallel_*.c) share besides weft_test.h: their place
 * mixes, temporary folders, and the element-wise kernels (CPU body and OpenCL
 * source) with their checks. Not a test itself; include after weft_test.h.
 *
 * Everything is static inline so a test that uses part of it compiles without
 * unused-function warnings. As everywhere in the suite: CPU bodies and device
 * kernels only record what they see; the test thread asserts after the join.
 *
 * Devices: the tests are registered with POCL_DEVICES="pthread basic", which
 * gives two PoCL CPU devices (0 = basic, 1 = pthread); wt_runtime(2, * WT_ALL_DEVICES, 0) then checks that both are there. Run by hand without it,
 * the place mixes that need more devices than there are are left out (and a
 * line says so), never silently passed as if they ran. */
#ifndef WEFT_TEST_PARALLEL_KERNELS_H
#define WEFT_TEST_PARALLEL_KERNELS_H

#include <dirent.h>
#include <unistd.h>

#include "weft_test.h"

/* ---- place mixes ----------------------------------------------------------- */

/* CPU only; one device only; CPU + one device; CPU + two devices. The single
 * device of the second and third mixes is the slowest one (basic, device 0)
 * and the fastest one (pthread, the last device) so both take part alone.
 * Returns how many mixes this runtime can run (those needing absent devices
 * are left out, with a note on stderr). */
static inline int pk_mixes(weft_runtime_t *rt, wt_mix out[4])
{
    int nd = weft_device_count(rt), n = 0;
    out[n++] = (wt_mix){"cpu", 1, 0};
    if (nd >= 1) {
        out[n++] = (wt_mix){"dev0", 0, 1};
        out[n++] = (wt_mix){"cpu+dev", 1, (uint64_t)1 << (nd - 1)};
    }
    if (nd >= 2) out[n++] = (wt_mix){"cpu+2dev", 1, 3};
    if (n < 4)
        fprintf(stderr, "note: %d OpenCL device(s): only %d of 4 place mixes run\n", nd, n);
    return n;
}

/* ---- temporary folders ----------------------------------------------------- */

/* A fresh folder (mkdtemp) under $TMPDIR or /tmp; buf must hold 256 bytes. */
static inline void pk_tempdir(char *buf, size_t cap, const char *tag)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, cap, "%s/weft-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(buf)) fail_msg("mkdtemp(%s) failed", buf);
}

/* Remove the folder and the files in it (no sub-folders are made here). */
static inline void pk_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Speed models in a fresh temporary folder: $WEFT_CACHE_DIR set to it (its
 * path in cache: 256 bytes), for the runtimes made from now on ... */
static inline void pk_cache_begin(char *cache, size_t cap, const char *tag)
{
    pk_tempdir(cache, cap, tag);
    setenv("WEFT_CACHE_DIR", cache, 1);
}

/* ... and its end: the folder and $WEFT_CACHE_DIR go. */
static inline void pk_cache_end(const char *cache)
{
    pk_rmdir(cache);
    unsetenv("WEFT_CACHE_DIR");
}

/* The runtime of a test group, wt_runtime(2, WT_ALL_DEVICES, 0), with the
 * adaptive policy's models in a fresh temporary folder (pk_cache_begin) ... */
static inline weft_runtime_t *pk_cached_runtime(char *cache, size_t cap, const char *tag)
{
    pk_cache_begin(cache, cap, tag);
    return wt_runtime(2, WT_ALL_DEVICES, 0);
}

/* ... and its end: the runtime, the folder and $WEFT_CACHE_DIR go. */
static inline void pk_cached_runtime_destroy(weft_runtime_t *rt, const char *cache)
{
    weft_runtime_destroy(rt);
    pk_cache_end(cache);
}

/* ---- the element-wise kernel: out[i] = f(i), cnt[i] += 1 --------------------- */

#define PK_SENTINEL 0xDEADBEEFu
#define PK_PAD 67 /* guard elements after n: must stay untouched */

static inline uint32_t pk_f(size_t i, uint32_t seed) { return (uint32_t)i * 2654435761u + seed; }

/* Args: out (write), cnt (read-write), seed (uint), n (ulong). */
static inline void pk_iota_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *out = argv[0], *cnt = argv[1];
    uint32_t seed = *(const uint32_t *)argv[2];
    uint64_t n = *(const uint64_t *)argv[3];
    for (size_t i = b; i < e && i < n; i++) {
        out[i] = pk_f(i, seed);
        cnt[i] += 1;
    }
}

static const char PK_IOTA_SRC[] =
    "__kernel void pk_iota(__global uint *out, __global uint *cnt, uint seed, ulong n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) {\n"
    "        out[i] = (uint)i * 2654435761u + seed;\n"
    "        cnt[i] += 1u;\n"
    "    }\n"
    "}\n";

static const weft_kernel_t PK_IOTA = {
    .name = "pk_iota", .cpu = pk_iota_cpu, .cl_source = PK_IOTA_SRC, .cl_entry = "pk_iota"};

/* 2-D: out[y*w + x] = f(y*w + x) ^ (x << 20), cnt[...] += 1.
 * Args: out (write, unit w*4), cnt (read-write), seed, w, h (ulong). */
static inline uint32_t pk_f2(size_t x, size_t y, size_t w, uint32_t seed)
{
    return pk_f(y * w + x, seed) ^ ((uint32_t)x << 20) ^ (uint32_t)y;
}

static inline void pk_iota2d_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *out = argv[0], *cnt = argv[1];
    uint32_t seed = *(const uint32_t *)argv[2];
    uint64_t w = *(const uint64_t *)argv[3], h = *(const uint64_t *)argv[4];
    for (size_t y = b; y < e && y < h; y++)
        for (size_t x = 0; x < w; x++) {
            out[y * w + x] = pk_f2(x, y, w, seed);
            cnt[y * w + x] += 1;
        }
}

static const char PK_IOTA2D_SRC[] =
    "__kernel void pk_iota2d(__global uint *out, __global uint *cnt, uint seed, ulong w, ulong h)\n"
    "{\n"
    "    size_t x = get_global_id(0), y = get_global_id(1);\n"
    "    if (x < w && y < h) {\n"
    "        size_t i = y * w + x;\n"
    "        out[i] = ((uint)i * 2654435761u + seed) ^ ((uint)x << 20) ^ (uint)y;\n"
    "        cnt[i] += 1u;\n"
    "    }\n"
    "}\n";

static const weft_kernel_t PK_IOTA2D = {
    .name = "pk_iota2d", .cpu = pk_iota2d_cpu, .cl_source = PK_IOTA2D_SRC, .cl_entry = "pk_iota2d"};

/* Fill out with the sentinel and cnt with 0 for n elements plus PK_PAD guards. */
static inline void pk_fill(uint32_t *out, uint32_t *cnt, size_t n)
{
    for (size_t i = 0; i < n + PK_PAD; i++) {
        out[i] = PK_SENTINEL;
        cnt[i] = 0;
    }
}

/* Every element written exactly once and right; the guards untouched. */
static inline void pk_check_iota(const uint32_t *out, const uint32_t *cnt, size_t n, uint32_t seed,
                                 const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (cnt[i] != 1) fail_msg("%s: element %zu of %zu written %u times", what, i, n, cnt[i]);
        if (out[i] != pk_f(i, seed))
            fail_msg("%s: element %zu of %zu is 0x%08x, expected 0x%08x", what, i, n, out[i], pk_f(i, seed));
    }
    for (size_t i = n; i < n + PK_PAD; i++)
        if (out[i] != PK_SENTINEL || cnt[i] != 0)
            fail_msg("%s: guard element %zu past n=%zu was written (0x%08x, count %u)", what, i, n, out[i],
                     cnt[i]);
}

/* Items the devices without unified memory did in the last run (those are
 * the ones weft copies bytes for; unified devices use host memory in place). */
static inline size_t pk_copied_items(weft_runtime_t *rt, const weft_run_stats_t *st)
{
    size_t items = 0;
    for (int d = 0; d < weft_device_count(rt) && d < 64; d++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, d, &info));
        if (!info.unified_memory) items += st->items[1 + d];
    }
    return items;
}

/* Run PK_IOTA over n elements (group g) with policy pol and check it all. */
static inline void pk_run_iota(weft_runtime_t *rt, size_t n, size_t g, const weft_policy_t *pol,
                               uint32_t seed, const char *what)
{
    uint32_t *out = malloc((n + PK_PAD) * sizeof *out), *cnt = malloc((n + PK_PAD) * sizeof *cnt);
    assert_non_null(out);
    assert_non_null(cnt);
    pk_fill(out, cnt, n);
    uint64_t n64 = n;
    weft_arg_t args[] = {
        weft_arg_split(out, n * sizeof *out, sizeof *out, WEFT_WRITE),
        weft_arg_split(cnt, n * sizeof *cnt, sizeof *cnt, WEFT_READ_WRITE),
        weft_arg_scalar(&seed, sizeof seed),
        weft_arg_scalar(&n64, sizeof n64),
    };
    WT_CHECK(weft_parallel_run(rt, &PK_IOTA, weft_range_1d(n, g), args, 4, pol, WT_PANIC));
    pk_check_iota(out, cnt, n, seed, what);
    weft_run_stats_t st = wt_check_stats(rt, n, pol, what);
    /* Only the bytes each chunk touches move: out there and back (8 per
     * element: a write-only split goes up too, so that what the kernel does
     * not write keeps the host's values), cnt there and back (8). */
    uint64_t want = 16u * (uint64_t)pk_copied_items(rt, &st);
    if (st.bytes_moved != want)
        fail_msg("%s: %llu bytes moved, expected %llu", what, (unsigned long long)st.bytes_moved,
                 (unsigned long long)want);
    free(out);
    free(cnt);
}

/* ---- 2-D 5-point: interior = (c + up + down + left + right) * 0.2f, the
 * border is copied (args: in, out, w, h; halo 1 row) ------------------------------------------------------------ */

static inline float pk_cell2d(const float *in, size_t x, size_t y, size_t w, size_t h)
{
    size_t i = y * w + x;
    if (x == 0 || y == 0 || x == w - 1 || y == h - 1) return in[i];
    return (in[i] + in[i - w] + in[i + w] + in[i - 1] + in[i + 1]) * 0.2f;
}

static inline void pk_stencil2d_cpu(size_t b, size_t e, void *const *argv)
{
    const float *in = argv[0];
    float *out = argv[1];
    uint64_t w = *(const uint64_t *)argv[2], h = *(const uint64_t *)argv[3];
    for (size_t y = b; y < e && y < h; y++)
        for (size_t x = 0; x < w; x++) out[y * w + x] = pk_cell2d(in, x, y, w, h);
}

static const char PK_STENCIL2D_SRC[] =
    "__kernel void pk_stencil2d(__global const float *in, __global float *out, ulong w, ulong h)\n"
    "{\n"
    "    size_t x = get_global_id(0), y = get_global_id(1);\n"
    "    if (x >= w || y >= h) return;\n"
    "    size_t i = y * w + x;\n"
    "    if (x == 0 || y == 0 || x == w - 1 || y == h - 1) out[i] = in[i];\n"
    "    else out[i] = (in[i] + in[i - w] + in[i + w] + in[i - 1] + in[i + 1]) * 0.2f;\n"
    "}\n";

static const weft_kernel_t PK_STENCIL2D = {
    .name = "pk_stencil2d", .cpu = pk_stencil2d_cpu, .cl_source = PK_STENCIL2D_SRC, .cl_entry = "pk_stencil2d"};

#endif
