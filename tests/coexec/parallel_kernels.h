/* tests/parallel_kernels.h — helpers shared by the co-execution tests
 * (tests/test_parallel_*.c); not a test itself. Include after <cmocka.h>.
 *
 * Everything is static inline so a test that uses part of it compiles without
 * unused-function warnings. As everywhere in the suite: CPU bodies and device
 * kernels only record what they see; the test thread asserts after the join.
 *
 * Devices: the tests are registered with POCL_DEVICES="pthread basic", which
 * gives two PoCL CPU devices (0 = basic, 1 = pthread). When that variable asks
 * for both, exactly two devices must be found; run by hand without it, the
 * place mixes that need more devices than there are are left out (and a line
 * says so), never silently passed as if they ran. */
#ifndef WEFT_TEST_PARALLEL_KERNELS_H
#define WEFT_TEST_PARALLEL_KERNELS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <weft/weft.h>
#include <weft/opencl.h>
#include <weft/testing.h>
#include <weft/kernels.h>

#define PK_CHECK(call)                                                                        \
    do {                                                                                      \
        int pk_rc_ = (call);                                                                  \
        if (pk_rc_ != 0)                                                                      \
            fail_msg("%s: %s: %s", #call, weft_err_name(pk_rc_), weft_last_error_message());  \
    } while (0)

#define pk_assert_contains(hay, needle)                                                       \
    do {                                                                                      \
        const char *pk_hay_ = (hay), *pk_needle_ = (needle);                                  \
        if (!pk_hay_ || !pk_needle_ || !strstr(pk_hay_, pk_needle_))                          \
            fail_msg("%s:%d: expected \"%s\" in \"%s\"", __FILE__, __LINE__,                 \
                     pk_needle_ ? pk_needle_ : "(null)", pk_hay_ ? pk_hay_ : "(null)");       \
    } while (0)

/* A run that must succeed: joins, and on a panic fails with its report. */
#define PK_RUN(rt, k, r, args, nargs, pol)                                                    \
    do {                                                                                      \
        weft_panic_t *pk_p_ = NULL;                                                           \
        int pk_rc_ = weft_parallel_run((rt), (k), (r), (args), (nargs), (pol), &pk_p_);       \
        if (pk_rc_ != 0) {                                                                    \
            char pk_buf_[2048] = "";                                                          \
            if (pk_p_) weft_panic_format(pk_p_, pk_buf_, sizeof pk_buf_);                     \
            weft_panic_destroy(pk_p_);                                                        \
            fail_msg("%s:%d: weft_parallel_run(%s): %s: %s %s", __FILE__, __LINE__,          \
                     (k)->name, weft_err_name(pk_rc_), weft_last_error_message(), pk_buf_);   \
        }                                                                                     \
    } while (0)

/* A runtime with two CPU workers and every OpenCL device. */
static inline weft_runtime_t *pk_runtime(void)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 2;
    o.devices = "all";
    weft_runtime_t *rt = NULL;
    PK_CHECK(weft_runtime_create(&o, &rt));
    assert_non_null(rt);
    /* Registered with POCL_DEVICES="pthread basic": both must be there. */
    const char *pd = getenv("POCL_DEVICES");
    if (pd && strstr(pd, "pthread") && strstr(pd, "basic") && weft_device_count(rt) != 0)
        assert_int_equal(weft_device_count(rt), 2);
    return rt;
}

/* ---- place mixes ----------------------------------------------------------- */

typedef struct pk_mix {
    const char *name;
    int use_cpu;
    uint64_t devices;
} pk_mix;

/* CPU only; one device only; CPU + one device; CPU + two devices. The single
 * device of the second and third mixes is the slowest one (basic, device 0)
 * and the fastest one (pthread, the last device) so both take part alone.
 * Returns how many mixes this runtime can run (those needing absent devices
 * are left out, with a note on stderr). */
static inline int pk_mixes(weft_runtime_t *rt, pk_mix out[4])
{
    int nd = weft_device_count(rt), n = 0;
    out[n++] = (pk_mix){"cpu", 1, 0};
    if (nd >= 1) {
        out[n++] = (pk_mix){"dev0", 0, 1};
        out[n++] = (pk_mix){"cpu+dev", 1, (uint64_t)1 << (nd - 1)};
    }
    if (nd >= 2) out[n++] = (pk_mix){"cpu+2dev", 1, 3};
    if (n < 4)
        fprintf(stderr, "note: %d OpenCL device(s): only %d of 4 place mixes run\n", nd, n);
    return n;
}

static inline const char *pk_policy_name(weft_policy_kind_t k)
{
    switch (k) {
    case WEFT_POLICY_STATIC: return "static";
    case WEFT_POLICY_DYNAMIC: return "dynamic";
    case WEFT_POLICY_GUIDED: return "guided";
    case WEFT_POLICY_ADAPTIVE: return "adaptive";
    }
    return "?";
}

static inline weft_policy_t pk_policy(weft_policy_kind_t kind, const pk_mix *m, size_t chunk)
{
    weft_policy_t p;
    weft_policy_init(&p);
    p.kind = kind;
    p.use_cpu = m->use_cpu;
    p.devices = m->devices;
    p.chunk = chunk;
    return p;
}

/* The stats of the run that just finished must add up: items per place sum to
 * n, only places the policy allowed did any, no failed chunks, at least one
 * chunk when n > 0. Returns the stats for further checks. */
static inline weft_run_stats_t pk_check_stats(weft_runtime_t *rt, size_t n, const weft_policy_t *pol,
                                              const char *what)
{
    weft_run_stats_t st;
    PK_CHECK(weft_runtime_last_run_stats(rt, &st));
    size_t sum = 0;
    for (int i = 0; i < 65; i++) {
        sum += st.items[i];
        int allowed = i == 0 ? pol->use_cpu : (int)((pol->devices >> (i - 1)) & 1u);
        if (st.items[i] && !allowed)
            fail_msg("%s: place %d did %zu items but the policy does not allow it", what, i, st.items[i]);
    }
    if (sum != n) fail_msg("%s: stats items sum to %zu, expected %zu", what, sum, n);
    if (st.failed_chunks) fail_msg("%s: %zu failed chunks", what, st.failed_chunks);
    if (n && st.chunks == 0) fail_msg("%s: no chunk recorded", what);
    if (!n && st.chunks) fail_msg("%s: %zu chunks for an empty range", what, st.chunks);
    return st;
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
        PK_CHECK(weft_device_info(rt, d, &info));
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
    PK_RUN(rt, &PK_IOTA, weft_range_1d(n, g), args, 4, pol);
    pk_check_iota(out, cnt, n, seed, what);
    weft_run_stats_t st = pk_check_stats(rt, n, pol, what);
    /* Only the bytes each chunk touches move: out back (4 per element), cnt
     * there and back (8). */
    uint64_t want = 12u * (uint64_t)pk_copied_items(rt, &st);
    if (st.bytes_moved != want)
        fail_msg("%s: %llu bytes moved, expected %llu", what, (unsigned long long)st.bytes_moved,
                 (unsigned long long)want);
    free(out);
    free(cnt);
}

#endif
