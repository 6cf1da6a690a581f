/* tests/reliability/reliability_util.h — what the reliability tests
 * (test_stress_*.c but test_stress_spawn.c, test_fault_campaign.c,
 * test_recovery.c, test_bad_input.c) share besides weft_test.h: stress
 * sizes, memory figures, a seeded generator, the device kernel. Not a test
 * itself.
 *
 * Stress sizes: every count a stress test uses goes through rel_scaled(),
 * so the same test finishes in seconds natively and still in reasonable time
 * under a sanitizer or valgrind. The scale is $WEFT_STRESS_SCALE when set
 * (a positive number), else 1 natively and under AddressSanitizer, 0.5
 * under ThreadSanitizer and 0.2 under valgrind (each mode then runs its
 * stress tests in a few seconds on the 2-core CI machine). */
#ifndef WEFT_TEST_RELIABILITY_UTIL_H
#define WEFT_TEST_RELIABILITY_UTIL_H

#include <unistd.h>

#include "weft_test.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define REL_HAVE_VALGRIND_H 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define REL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define REL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define REL_TSAN 1
#endif
#endif

/* 1 when the test runs under valgrind. */
static inline int rel_under_valgrind(void)
{
#ifdef REL_HAVE_VALGRIND_H
    return RUNNING_ON_VALGRIND ? 1 : 0;
#else
    return 0;
#endif
}

/* 1 when memory figures (RSS, malloc statistics) mean nothing: a sanitizer's
 * allocator (quarantine, shadow) or valgrind's replaces the real one. */
static inline int rel_memory_is_instrumented(void)
{
#if defined(REL_ASAN) || defined(REL_TSAN)
    return 1;
#else
    return rel_under_valgrind();
#endif
}

static inline double rel_scale(void)
{
    const char *env = getenv("WEFT_STRESS_SCALE");
    if (env && *env) {
        double s = strtod(env, NULL);
        if (s > 0) return s;
    }
    if (rel_under_valgrind()) return 0.2;
#if defined(REL_TSAN)
    return 0.5;
#else
    return 1.0;
#endif
}

/* n scaled, never below min. */
static inline size_t rel_scaled(size_t n, size_t min)
{
    double v = (double)n * rel_scale();
    size_t s = v < 1 ? 0 : (size_t)v;
    return s < min ? min : s;
}

/* Resident set size of this process in bytes (/proc/self/statm), 0 if unknown. */
static inline size_t rel_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2) return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- the device kernel: y[i] = y[i] * 2 + 1 ----------------------------------- */

/* Pause of the CPU body per chunk, in ns (0 unless a test sets it): a CPU
 * slower than the devices' share leaves each device several chunks of every
 * operation. */
static inline atomic_ullong *rel_affine_pause(void)
{
    static atomic_ullong ns;
    return &ns;
}

/* Args: y (uint, read-write), n (ulong). */
static inline void rel_affine_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *y = argv[0];
    uint64_t n = *(const uint64_t *)argv[1];
    unsigned long long pause = atomic_load(rel_affine_pause());
    if (pause) weft_sleep_ns(pause);
    for (size_t i = b; i < e && i < n; i++) y[i] = y[i] * 2u + 1u;
}

static const char REL_AFFINE_SRC[] =
    "__kernel void rel_affine(__global uint *y, ulong n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) y[i] = y[i] * 2u + 1u;\n"
    "}\n";

static const weft_kernel_t REL_AFFINE = {
    .name = "rel_affine", .cpu = rel_affine_cpu, .cl_source = REL_AFFINE_SRC, .cl_entry = "rel_affine"};

/* A small seeded generator (xorshift64*), the same sequence on every run. */
static inline uint64_t rel_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ull;
}

#endif
