/* test_parallel_lazy.c — the CPU place runs a chunk as a fork–join tree over
 * its work-groups, split lazily (coexec/place_cpu.c). CPU only, with 1 to 4
 * workers, every policy:
 *   - a float sum over uneven work (some groups cost a hundred times others)
 *     is bit for bit the serial fold of the per-group sums, every element is
 *     written exactly once, and the pieces the body sees are whole
 *     work-groups that tile the range (a chunk of two groups or more is cut
 *     at least once);
 *   - two pieces of one chunk panic: the operation reports the leftmost's
 *     panic with the chunk's range, the hook heard of that one only (the
 *     one that reached the caller), every piece still ran once, and the
 *     second panic is freed (the sanitizer and valgrind runs check the
 *     leak). */
#define _GNU_SOURCE
#include "weft_test.h"

#include "parallel_kernels.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 20011 /* not a multiple of G: the last group is short */
#define G 16
#define NGROUPS ((N + G - 1) / G)
#define MAX_PIECES 4096

static const weft_policy_kind_t POLICIES[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED,
                                              WEFT_POLICY_ADAPTIVE};
static const int WORKERS[] = {1, 2, 3, 4};

/* The pieces the body saw, in the order they started. */
static atomic_size_t npieces;
static size_t piece_b[MAX_PIECES], piece_e[MAX_PIECES];
/* Panics: for the piece holding either index (-1: none), after its rows. */
static atomic_long panic_a = -1, panic_b = -1;
static atomic_int panics;

/* Element j's value: uneven work, groups 300..399 and the last tenth cost
 * about a hundred times more than the rest (as Mandelbrot rows do). */
static float value(size_t j)
{
    size_t grp = j / G;
    unsigned iters = (grp >= 300 && grp < 400) || j >= N - N / 10 ? 200u : 2u;
    float v = (float)(j % 1000) * 0.001f - 0.3f;
    for (unsigned k = 0; k < iters; k++) v = v * 0.999f + (float)((j * 2654435761u >> (k % 16)) & 7u) * 1e-3f;
    /* magnitudes from 1 to 2^15: another order of the sum would differ */
    return v * (float)(1u << (j * 40503u >> 12 & 15u));
}

static void body(size_t b, size_t e, void *const *argv)
{
    float *part = argv[0];
    uint32_t *cnt = argv[1];
    size_t i = atomic_fetch_add(&npieces, 1);
    if (i < MAX_PIECES) {
        piece_b[i] = b;
        piece_e[i] = e;
    }
    for (size_t blk = b / G; blk * G < e; blk++) {
        size_t lo = blk * G, hi = lo + G < N ? lo + G : N;
        float s = 0.0f;
        for (size_t j = lo; j < hi; j++) {
            s += value(j);
            cnt[j]++;
        }
        part[blk] = s;
    }
    long pa = atomic_load(&panic_a), pb = atomic_load(&panic_b);
    if (pa >= 0 && (size_t)pa >= b && (size_t)pa < e) {
        atomic_fetch_add(&panics, 1);
        weft_panic("lazy body refuses index %ld", pa);
    }
    if (pb >= 0 && (size_t)pb >= b && (size_t)pb < e) {
        atomic_fetch_add(&panics, 1);
        weft_panic("lazy body refuses index %ld", pb);
    }
}

static const weft_kernel_t LAZY = {.name = "lazy sum", .cpu = body};

static void fadd(void *acc, const void *p) { *(float *)acc += *(const float *)p; }

/* The serial fold: each group summed in order, the group sums added in order. */
static float reference(void)
{
    float acc = 0.0f;
    for (size_t lo = 0; lo < N; lo += G) {
        float s = 0.0f;
        for (size_t j = lo; j < N && j < lo + G; j++) s += value(j);
        acc += s;
    }
    return acc;
}

static int run(weft_runtime_t *rt, uint32_t *cnt, const weft_policy_t *pol, float *result, weft_panic_t **p)
{
    float zero = 0.0f;
    *result = 123.0f;
    weft_arg_t args[] = {
        weft_arg_reduce(result, sizeof *result, &zero, fadd),
        weft_arg_split(cnt, N * sizeof *cnt, sizeof *cnt, WEFT_READ_WRITE),
    };
    memset(cnt, 0, N * sizeof *cnt);
    atomic_store(&npieces, 0);
    return weft_parallel_run(rt, &LAZY, weft_range_1d(N, G), args, 2, pol, p);
}

static int by_begin(const void *a, const void *b)
{
    size_t x = piece_b[*(const size_t *)a], y = piece_b[*(const size_t *)b];
    return x < y ? -1 : x > y;
}

/* The pieces are whole groups and tile [0, N) exactly. */
static void check_pieces(const char *what)
{
    size_t n = atomic_load(&npieces);
    if (n > MAX_PIECES) fail_msg("%s: %zu pieces for %d groups", what, n, NGROUPS);
    static size_t order[MAX_PIECES];
    for (size_t i = 0; i < n; i++) order[i] = i;
    qsort(order, n, sizeof *order, by_begin);
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        size_t b = piece_b[order[k]], e = piece_e[order[k]];
        if (b != at || e <= b || b % G || (e % G && e != N))
            fail_msg("%s: piece [%zu, %zu) after %zu is not the next whole groups", what, b, e, at);
        at = e;
    }
    if (at != N) fail_msg("%s: the pieces end at %zu, not %d", what, at, N);
}

static void check_counts(const uint32_t *cnt, const char *what)
{
    for (size_t j = 0; j < N; j++)
        if (cnt[j] != 1) fail_msg("%s: element %zu written %u times", what, j, cnt[j]);
}

static weft_policy_t cpu_policy(weft_policy_kind_t kind, size_t chunk)
{
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = kind;
    pol.chunk = chunk;
    pol.use_cpu = 1;
    pol.devices = 0;
    return pol;
}

static void sum_is_the_serial_fold(void **state)
{
    (void)state;
    const float want = reference();
    uint32_t *cnt = malloc(N * sizeof *cnt);
    assert_non_null(cnt);
    char cache[256];
    pk_tempdir(cache, sizeof cache, "lazy");
    setenv("WEFT_CACHE_DIR", cache, 1);
    for (size_t w = 0; w < sizeof WORKERS / sizeof WORKERS[0]; w++) {
        weft_runtime_t *rt = wt_runtime(WORKERS[w], WT_NO_DEVICES, 0);
        for (size_t k = 0; k < sizeof POLICIES / sizeof POLICIES[0]; k++) {
            /* chunk 0: the policy's own; 64 groups: chunks the place cuts again */
            for (size_t chunk = 0; chunk <= 64 * G; chunk += 64 * G) {
                /* twice: adaptive's second run reads the model the first stored */
                for (int rep = 0; rep < 2; rep++) {
                    char what[128];
                    snprintf(what, sizeof what, "%d workers, %s, chunk %zu, run %d", WORKERS[w],
                             wt_policy_name(POLICIES[k]), chunk, rep);
                    weft_policy_t pol = cpu_policy(POLICIES[k], chunk);
                    float got;
                    WT_CHECK(run(rt, cnt, &pol, &got, WT_PANIC));
                    if (memcmp(&got, &want, sizeof got))
                        fail_msg("%s: sum %.9g, the serial fold is %.9g", what, (double)got, (double)want);
                    check_counts(cnt, what);
                    check_pieces(what);
                    weft_run_stats_t st = wt_check_stats(rt, N, &pol, what);
                    /* Each chunk of two groups or more is cut at least once:
                     * the budget starts at the thread count, at least 2. */
                    if (atomic_load(&npieces) < 2 * st.chunks)
                        fail_msg("%s: %zu pieces for %zu chunks", what, atomic_load(&npieces), st.chunks);
                }
            }
        }
        weft_runtime_destroy(rt);
    }
    pk_rmdir(cache);
    unsetenv("WEFT_CACHE_DIR");
    free(cnt);
}

static void first_panic_is_the_chunks(void **state)
{
    (void)state;
    wt_capture *heard = wt_capture_install();
    uint32_t *cnt = malloc(N * sizeof *cnt);
    assert_non_null(cnt);
    for (size_t w = 0; w < sizeof WORKERS / sizeof WORKERS[0]; w++) {
        weft_runtime_t *rt = wt_runtime(WORKERS[w], WT_NO_DEVICES, 0);
        /* One chunk of the whole range (static), then dynamic chunks of 256
         * groups: the panics are in the third, [512, 768) groups. Either
         * way the two indices are in different halves of the chunk's first
         * cut, so in different pieces. */
        for (int dyn = 0; dyn < 2; dyn++) {
            size_t cb = dyn ? 512 * G : 0, ce = dyn ? 768 * G : N;
            size_t a = cb + (ce - cb) / 4, b = ce - 1;
            char what[128];
            snprintf(what, sizeof what, "%d workers, %s", WORKERS[w], dyn ? "dynamic" : "static");
            int before = wt_capture_count();
            atomic_store(&panics, 0);
            atomic_store(&panic_a, (long)a);
            atomic_store(&panic_b, (long)b);
            weft_policy_t pol = cpu_policy(dyn ? WEFT_POLICY_DYNAMIC : WEFT_POLICY_STATIC, dyn ? 256 * G : 0);
            float got;
            weft_panic_t *p = NULL;
            assert_int_equal(run(rt, cnt, &pol, &got, &p), WEFT_EPANIC);
            atomic_store(&panic_a, -1);
            atomic_store(&panic_b, -1);
            assert_non_null(p);
            char msg[64];
            snprintf(msg, sizeof msg, "lazy body refuses index %zu", a);
            assert_string_equal(weft_panic_message(p), msg);
            assert_non_null(weft_panic_kernel(p));
            assert_string_equal(weft_panic_kernel(p), "lazy sum");
            size_t rb = 0, re = 0;
            assert_int_equal(weft_panic_range(p, &rb, &re), 1);
            if (rb != cb || re != ce) fail_msg("%s: panic range [%zu, %zu), the chunk is [%zu, %zu)", what, rb, re, cb, ce);
            weft_panic_destroy(p);
            assert_int_equal(atomic_load(&panics), 2);
            assert_int_equal(wt_capture_count() - before, 1);
            /* Every piece of the failed chunk and of those before it ran,
             * once; propagate hands out no chunk after the failure. */
            for (size_t j = 0; j < N; j++)
                if (cnt[j] != (j < ce)) fail_msg("%s: element %zu written %u times", what, j, cnt[j]);
            weft_run_stats_t st;
            WT_CHECK(weft_runtime_last_run_stats(rt, &st));
            assert_int_equal(st.failed_chunks, 1);
        }
        weft_runtime_destroy(rt);
    }
    wt_assert_contains(heard->last.message, "lazy body refuses index");
    wt_capture_restore();
    free(cnt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sum_is_the_serial_fold),
        cmocka_unit_test(first_panic_is_the_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
