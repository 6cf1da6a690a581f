/* test_stress_runtime.c — create and destroy runtimes many times without
 * memory growth.
 *   test_stress_runtime cpu      1000 runtimes with WEFT_DEVICES=none, each
 *                                running a task and a scope before it goes;
 *   test_stress_runtime devices  fewer runtimes with every OpenCL device,
 *                                each building a program and running a launch
 *                                on every device and a split operation.
 * Memory is measured after a warm-up (thread stacks, malloc arenas and
 * driver caches reach their steady size) as the resident set size from
 * /proc/self/statm and, with glibc, the bytes malloc has handed out
 * (mallinfo2): neither may grow by more than a small slack. Under a
 * sanitizer or valgrind the figures mean nothing (their allocators keep
 * freed memory) and only the cycles run; leaks there are the tool's to find.
 * Counts scale with rel_scale(). */
#define _GNU_SOURCE
#include "weft_test.h"

#include "reliability_util.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static size_t malloc_in_use(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#else
    return 0;
#endif
}

static void *plus_one(void *arg) { return (void *)((uintptr_t)arg + 1); }

static int tiny_scope(weft_scope_t *s, void *arg)
{
    uintptr_t *out = arg;
    weft_handle_t *h;
    if (weft_scope_spawn(s, plus_one, (void *)out[0], &h)) return -1;
    void *r;
    if (weft_join(h, &r, NULL)) return -2;
    out[1] = (uintptr_t)r;
    return 0;
}

/* One runtime's life: create, a task, a scope, destroy. 0 when all went right. */
static int cpu_cycle(uintptr_t i)
{
    weft_runtime_t *rt = wt_runtime(2, WT_NO_DEVICES, 0); /* fails the test if it cannot be made */
    weft_handle_t *h;
    void *r = NULL;
    int bad = weft_spawn(rt, plus_one, (void *)i, &h) || weft_join(h, &r, NULL) || (uintptr_t)r != i + 1;
    uintptr_t io[2] = {i, 0};
    bad |= weft_scope(rt, tiny_scope, io, NULL) != 0 || io[1] != i + 1;
    weft_runtime_destroy(rt);
    return bad ? 2 : 0;
}

/* ---- devices ------------------------------------------------------------------ */

#define DN 4096

static int device_cycle(int *ndevices)
{
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0); /* fails the test if it cannot be made */
    int nd = weft_device_count(rt), bad = 0;
    *ndevices = nd;
    static uint32_t y[DN];
    uint64_t n = DN;
    for (int d = 0; d < nd && !bad; d++) {
        for (size_t i = 0; i < DN; i++) y[i] = (uint32_t)i;
        weft_buffer_t *b = NULL;
        if (weft_buffer_wrap(rt, d, y, sizeof y, WEFT_READ_WRITE, &b)) {
            bad = 2;
            break;
        }
        weft_karg_t args[] = {weft_karg_buffer(b), weft_karg_scalar(&n, sizeof n)};
        weft_launch_t l = wt_launch_1d(d, NULL, REL_AFFINE_SRC, "rel_affine", DN, args, 2);
        weft_handle_t *h = NULL;
        if (weft_launch(rt, &l, &h) || weft_join(h, NULL, NULL) || weft_buffer_sync_to_host(b, 0, sizeof y))
            bad = 3;
        weft_buffer_destroy(b);
        for (size_t i = 0; i < DN && !bad; i++)
            if (y[i] != (uint32_t)i * 2u + 1u) bad = 4;
    }
    for (size_t i = 0; i < DN; i++) y[i] = (uint32_t)i;
    weft_arg_t pargs[] = {weft_arg_split(y, sizeof y, sizeof y[0], WEFT_READ_WRITE), weft_arg_scalar(&n, sizeof n)};
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 256;
    if (!bad && weft_parallel_run(rt, &REL_AFFINE, weft_range_1d(DN, 64), pargs, 2, &pol, NULL)) bad = 5;
    for (size_t i = 0; i < DN && !bad; i++)
        if (y[i] != (uint32_t)i * 2u + 1u) bad = 6;
    weft_runtime_destroy(rt);
    return bad;
}

/* ---- the measured loop ----------------------------------------------------------- */

typedef int (*cycle_fn)(uintptr_t i, void *ctx);

static int cpu_cycle_fn(uintptr_t i, void *ctx)
{
    (void)ctx;
    return cpu_cycle(i);
}

static int device_cycle_fn(uintptr_t i, void *ctx)
{
    (void)i;
    return device_cycle(ctx);
}

static void measure(const char *what, size_t warmup, size_t cycles, cycle_fn fn, void *ctx,
                    size_t rss_slack, size_t heap_slack)
{
    for (size_t i = 0; i < warmup; i++) {
        int rc = fn(i, ctx);
        if (rc) fail_msg("%s: warm-up cycle %zu failed (%d): %s", what, i, rc, weft_last_error_message());
    }
    size_t rss0 = rel_rss_bytes(), heap0 = malloc_in_use();
    uint64_t t0 = wt_now_ns();
    for (size_t i = 0; i < cycles; i++) {
        int rc = fn(i, ctx);
        if (rc) fail_msg("%s: cycle %zu failed (%d): %s", what, i, rc, weft_last_error_message());
    }
    uint64_t t1 = wt_now_ns();
    size_t rss1 = rel_rss_bytes(), heap1 = malloc_in_use();
    long long drss = (long long)rss1 - (long long)rss0, dheap = (long long)heap1 - (long long)heap0;
    fprintf(stderr, "note: %s: %zu cycles in %.2f s; RSS %zu -> %zu KiB (%+lld KiB), malloc in use %zu -> %zu KiB (%+lld KiB)\n",
            what, cycles, (double)(t1 - t0) / 1e9, rss0 / 1024, rss1 / 1024, drss / 1024, heap0 / 1024,
            heap1 / 1024, dheap / 1024);
    if (rel_memory_is_instrumented()) {
        fprintf(stderr, "note: %s: under a sanitizer or valgrind: growth not checked\n", what);
        return;
    }
    if (rss0 && drss > (long long)rss_slack)
        fail_msg("%s: RSS grew by %lld KiB over %zu cycles (slack %zu KiB)", what, drss / 1024, cycles, rss_slack / 1024);
    if (heap0 && dheap > (long long)heap_slack)
        fail_msg("%s: malloc'd bytes in use grew by %lld over %zu cycles (slack %zu)", what, dheap, cycles, heap_slack);
}

static void cpu_runtimes(void **state)
{
    (void)state;
    /* 1000 cycles: a leak of 64 bytes a cycle would exceed the heap slack. */
    measure("cpu runtimes", 20, rel_scaled(1000, 20), cpu_cycle_fn, NULL, 2u << 20, 48u << 10);
}

static void device_runtimes(void **state)
{
    (void)state;
    int nd = 0;
    if (device_cycle(&nd)) fail_msg("first device cycle failed: %s", weft_last_error_message());
    if (nd == 0) skip();
    /* PoCL builds each program once per context; the warm-up fills its
     * caches. A leak of 8 KiB a cycle would exceed the heap slack. */
    measure("device runtimes", 5, rel_scaled(40, 3), device_cycle_fn, &nd, 8u << 20, 256u << 10);
}

int main(int argc, char **argv)
{
    const char *part = argc > 1 ? argv[1] : "cpu";
    if (strcmp(part, "cpu") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(cpu_runtimes)};
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    if (strcmp(part, "devices") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(device_runtimes)};
        return cmocka_run_group_tests(tests, NULL, NULL);
    }
    fprintf(stderr, "usage: %s [cpu|devices]\n", argv[0]);
    return 2;
}
