/* test_parallel_fault.c — failures inside a parallel operation.
 *  (a) propagate: a device fault injected on its first launch panics the
 *      handle with the OpenCL status, device name, kernel (its cl_entry) and
 *      the failed chunk's range; the failed chunk's elements are untouched,
 *      no element is written twice, and the runtime works afterwards.
 *  (b) failover: the same fault (and a device failing every launch, and one
 *      of two devices with no CPU) re-runs the chunk elsewhere; a read-write
 *      y[i] = y[i]*2 + 1 gives exactly the fault-free result, the panic hook
 *      never heard of the recovered fault, and the stats count the failed
 *      chunk as recovered.
 *  (c) a CPU body that weft_panic()s for one chunk: propagate gives the
 *      message, file and line with the chunk's range; failover, after the
 *      panicking chunk already wrote part of its rows, restores them and
 *      re-runs it on a device: still exactly the fault-free result.
 *  (d) every place failing under failover is a panic, not a hang, and the
 *      hook hears of it once.
 *  (e) a device that cannot take part (its program does not build, an
 *      argument it cannot take): propagate panics with the build log or the
 *      status, device and kernel (the hook hears once); failover leaves the
 *      work to the CPU (the hook hears nothing). */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/testing.h>

#include "parallel_kernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- y[i] = y[i] * 2 + 1 (read-write: re-running dirty data shows) --------------- */

#define N 20000
#define G 64

/* Set by the test thread: the CPU body panics (once, or every time) for the
 * chunk holding this index, after writing its rows. */
static atomic_long cpu_panic_at = -1;
static atomic_int cpu_panic_once = 1;
static atomic_int cpu_panics;
/* Slows every CPU piece, so that devices surely get chunks of their own. */
static atomic_ulong cpu_delay_ns;

static void affine_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *y = argv[0];
    uint64_t n = *(const uint64_t *)argv[1];
    unsigned long delay = atomic_load(&cpu_delay_ns);
    if (delay) weft_sleep_ns(delay);
    for (size_t i = b; i < e && i < n; i++) y[i] = y[i] * 2u + 1u;
    long at = atomic_load(&cpu_panic_at);
    if (at == -2 && atomic_exchange(&cpu_panic_at, -1) == -2) {
        /* the first piece the CPU runs, after writing its rows */
        atomic_fetch_add(&cpu_panics, 1);
        weft_panic("affine body refuses [%zu, %zu)", b, e);
    }
    if (at >= 0 && (size_t)at >= b && (size_t)at < e) {
        if (atomic_load(&cpu_panic_once)) atomic_store(&cpu_panic_at, -1);
        atomic_fetch_add(&cpu_panics, 1);
        weft_panic("affine body refuses index %ld", at);
    }
}

static const char AFFINE_SRC[] =
    "__kernel void pk_affine(__global uint *y, ulong n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) y[i] = y[i] * 2u + 1u;\n"
    "}\n";

/* The operation's name differs from its cl_entry: panics name the entry. */
static const weft_kernel_t AFFINE = {
    .name = "affine op", .cpu = affine_cpu, .cl_source = AFFINE_SRC, .cl_entry = "pk_affine"};

static void init_y(uint32_t *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = (uint32_t)i ^ 0x5A5A5A5Au;
}

static uint32_t want_y(size_t i) { return ((uint32_t)i ^ 0x5A5A5A5Au) * 2u + 1u; }

static int run_affine(weft_runtime_t *rt, uint32_t *y, size_t n, const weft_policy_t *pol, weft_panic_t **p)
{
    uint64_t n64 = n;
    weft_arg_t args[] = {
        weft_arg_split(y, n * sizeof *y, sizeof *y, WEFT_READ_WRITE),
        weft_arg_scalar(&n64, sizeof n64),
    };
    return weft_parallel_run(rt, &AFFINE, weft_range_1d(n, G), args, 2, pol, p);
}

static void check_y(const uint32_t *y, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (y[i] != want_y(i)) {
            const char *how = y[i] == (want_y(i) * 2u + 1u) ? " (updated twice)"
                              : y[i] == ((uint32_t)i ^ 0x5A5A5A5Au) ? " (never updated)" : "";
            fail_msg("%s: y[%zu] = 0x%08x, expected 0x%08x%s", what, i, y[i], want_y(i), how);
        }
}

/* The runtime still runs a full operation right. */
static void still_works(weft_runtime_t *rt, const char *what)
{
    wt_mix mixes[4];
    int nm = pk_mixes(rt, mixes);
    weft_policy_t pol = wt_mix_policy(WEFT_POLICY_DYNAMIC, &mixes[nm - 1], 256);
    pk_run_iota(rt, 7919, 64, &pol, 3, what);
}

/* PK_IOTA's CPU body, slowed by cpu_delay_ns. */
static void slow_iota_cpu(size_t b, size_t e, void *const *argv)
{
    unsigned long delay = atomic_load(&cpu_delay_ns);
    if (delay) weft_sleep_ns(delay);
    pk_iota_cpu(b, e, argv);
}

/* ---- (a) propagate ---------------------------------------------------------------- */

static void device_fault_propagates(void **state)
{
    weft_runtime_t *rt = *state;
    int nd = weft_device_count(rt);
    if (nd == 0) skip();
    wt_capture_install();
    for (int dev = 0; dev < nd; dev++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, dev, &info));
        WT_CHECK(weft_fault_inject(rt, dev, 0, CL_OUT_OF_RESOURCES, NULL));
        int before = wt_capture_count();
        /* The element kernel, with a sentinel output and a write counter. */
        size_t n = 7919;
        uint32_t *out = malloc((n + PK_PAD) * 4), *cnt = malloc((n + PK_PAD) * 4);
        assert_non_null(out);
        assert_non_null(cnt);
        pk_fill(out, cnt, n);
        uint32_t seed = 1;
        uint64_t n64 = n;
        weft_arg_t args[] = {
            weft_arg_split(out, n * 4, 4, WEFT_WRITE),
            weft_arg_split(cnt, n * 4, 4, WEFT_READ_WRITE),
            weft_arg_scalar(&seed, sizeof seed),
            weft_arg_scalar(&n64, sizeof n64),
        };
        weft_kernel_t k = PK_IOTA;
        k.name = "iota with a fault";
        k.cpu = slow_iota_cpu; /* the device surely gets its first chunk */
        atomic_store(&cpu_delay_ns, 1000000);
        weft_policy_t pol;
        weft_policy_init(&pol);
        pol.devices = weft_device_mask(rt, 0); /* every device, those sharing cores too */
        pol.kind = WEFT_POLICY_DYNAMIC;
        pol.chunk = 256;
        pol.use_cpu = 1;
        pol.devices = (uint64_t)1 << dev;
        weft_handle_t *h = NULL;
        WT_CHECK(weft_parallel_for(rt, &k, weft_range_1d(n, 64), args, 4, &pol, &h));
        weft_panic_t *p = NULL;
        assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
        assert_non_null(p);
        assert_int_equal(weft_panic_cl_status(p), CL_OUT_OF_RESOURCES);
        assert_string_equal(weft_panic_cl_status_name(p), "CL_OUT_OF_RESOURCES");
        assert_non_null(weft_panic_device(p));
        assert_string_equal(weft_panic_device(p), info.name);
        assert_non_null(weft_panic_kernel(p));
        assert_string_equal(weft_panic_kernel(p), "pk_iota");
        size_t b = 0, e = 0;
        assert_int_equal(weft_panic_range(p, &b, &e), 1);
        if (!(b < e && e <= n && b % 64 == 0))
            fail_msg("device %d: panic range [%zu, %zu) is not a chunk of [0, %zu)", dev, b, e, n);
        wt_assert_contains(weft_panic_message(p), "CL_OUT_OF_RESOURCES");
        wt_assert_contains(weft_panic_message(p), "iota with a fault");
        wt_assert_contains(weft_panic_message(p), info.name);
        char report[2048];
        weft_panic_format(p, report, sizeof report);
        wt_assert_contains(report, "CL_OUT_OF_RESOURCES");
        weft_panic_destroy(p);
        /* The failed chunk never ran: its elements are as they were. Others
         * may or may not have run, but none twice, and what ran is right. */
        for (size_t i = 0; i < n; i++) {
            if (i >= b && i < e && (cnt[i] != 0 || out[i] != PK_SENTINEL))
                fail_msg("device %d: element %zu of the failed chunk [%zu, %zu) was written", dev, i, b, e);
            if (cnt[i] > 1) fail_msg("device %d: element %zu written %u times", dev, i, cnt[i]);
            if (cnt[i] == 1 && out[i] != pk_f(i, seed)) fail_msg("device %d: element %zu is wrong", dev, i);
        }
        weft_run_stats_t st;
        WT_CHECK(weft_runtime_last_run_stats(rt, &st));
        assert_true(st.failed_chunks >= 1);
        assert_int_equal(st.items[1 + dev], 0); /* its only chunk failed */
        assert_true(wt_capture_count() > before);
        free(out);
        free(cnt);
        atomic_store(&cpu_delay_ns, 0);
        weft_fault_clear(rt);
        still_works(rt, "after a propagated device fault");
    }
    /* A device-only operation whose third launch fails. */
    WT_CHECK(weft_fault_inject(rt, 0, 2, CL_INVALID_VALUE, "pk_affine"));
    uint32_t *y = malloc(N * sizeof *y);
    assert_non_null(y);
    init_y(y, N);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.devices = weft_device_mask(rt, 0); /* every device, those sharing cores too */
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 1024;
    pol.use_cpu = 0;
    pol.devices = 1;
    weft_panic_t *p = NULL;
    assert_int_equal(run_affine(rt, y, N, &pol, &p), WEFT_EPANIC);
    assert_int_equal(weft_panic_cl_status(p), CL_INVALID_VALUE);
    size_t b, e;
    assert_int_equal(weft_panic_range(p, &b, &e), 1);
    /* In-order on one device: launches 0 and 1 ran [0, 2048). */
    assert_int_equal(b, 2048);
    assert_int_equal(e, 3072);
    weft_panic_destroy(p);
    weft_fault_clear(rt);
    /* A fault for another kernel does not touch this one. */
    WT_CHECK(weft_fault_inject(rt, -1, -1, CL_OUT_OF_RESOURCES, "not_this_kernel"));
    init_y(y, N);
    pol.devices = weft_device_mask(rt, 0);
    pol.use_cpu = 1;
    assert_int_equal(run_affine(rt, y, N, &pol, NULL), 0);
    check_y(y, N, "fault for another kernel");
    weft_fault_clear(rt);
    free(y);
    still_works(rt, "after device-only fault");
    wt_capture_restore();
}

/* ---- (b) failover --------------------------------------------------------------- */

/* One failover run; returns the number of failed chunks (0 when the failing
 * device happened to get no chunk at all: the others were faster). Whatever
 * happened, the result is exactly the fault-free one. */
static size_t failover_once(weft_runtime_t *rt, weft_policy_kind_t kind, int use_cpu, uint64_t devices,
                            int fault_dev, long launch, const char *what)
{
    uint32_t *y = malloc(N * sizeof *y);
    assert_non_null(y);
    init_y(y, N);
    wt_capture_install();
    weft_fault_clear(rt);
    WT_CHECK(weft_fault_inject(rt, fault_dev, launch, CL_OUT_OF_RESOURCES, NULL));
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.devices = weft_device_mask(rt, 0); /* every device, those sharing cores too */
    pol.kind = kind;
    pol.chunk = kind == WEFT_POLICY_STATIC ? 0 : 512;
    pol.use_cpu = use_cpu;
    pol.devices = devices;
    pol.on_fault = WEFT_FAULT_FAILOVER;
    weft_panic_t *p = NULL;
    int rc = run_affine(rt, y, N, &pol, &p);
    char report[2048];
    if (rc)
        fail_msg("%s: failover run returned %s: %s", what, weft_err_name(rc),
                 wt_panic_report(p, report, sizeof report));
    check_y(y, N, what);
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    if (st.failed_chunks > 1) fail_msg("%s: %zu failed chunks, expected 1", what, st.failed_chunks);
    assert_int_equal(st.items[1 + fault_dev], 0); /* it failed its first chunk and retired */
    size_t sum = 0;
    for (int i = 0; i < 65; i++) sum += st.items[i];
    if (sum != N) fail_msg("%s: items sum to %zu, expected %d", what, sum, N);
    if (st.recovered_chunks != st.failed_chunks)
        fail_msg("%s: %zu chunks recovered of %zu failed", what, st.recovered_chunks, st.failed_chunks);
    if (wt_capture_count()) fail_msg("%s: the panic hook heard of a recovered fault", what);
    weft_fault_clear(rt);
    wt_capture_restore();
    free(y);
    return st.failed_chunks;
}

/* The failing device must really have failed once: retry the (rare) runs
 * where it got no chunk. */
static void failover_case(weft_runtime_t *rt, weft_policy_kind_t kind, int use_cpu, uint64_t devices,
                          int fault_dev, long launch, const char *what)
{
    for (int attempt = 0; attempt < 10; attempt++)
        if (failover_once(rt, kind, use_cpu, devices, fault_dev, launch, what) == 1) return;
        else fprintf(stderr, "note: %s: the failing device got no chunk, running again\n", what);
    fail_msg("%s: in 10 runs the failing device never got a chunk", what);
}

static void device_fault_fails_over(void **state)
{
    weft_runtime_t *rt = *state;
    int nd = weft_device_count(rt);
    if (nd == 0) skip();
    static const weft_policy_kind_t kinds[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED,
                                               WEFT_POLICY_ADAPTIVE};
    char what[160];
    atomic_store(&cpu_delay_ns, 1000000);
    for (size_t ki = 0; ki < 4; ki++) {
        for (int dev = 0; dev < nd; dev++) {
            /* CPU + the failing device; first launch, then every launch. */
            snprintf(what, sizeof what, "failover %s cpu+dev%d, launch 0", wt_policy_name(kinds[ki]), dev);
            failover_case(rt, kinds[ki], 1, (uint64_t)1 << dev, dev, 0, what);
            snprintf(what, sizeof what, "failover %s cpu+dev%d, every launch", wt_policy_name(kinds[ki]), dev);
            failover_case(rt, kinds[ki], 1, (uint64_t)1 << dev, dev, -1, what);
            if (nd >= 2) {
                /* No CPU: the other device takes over. */
                snprintf(what, sizeof what, "failover %s dev0+dev1 (dev%d fails)", wt_policy_name(kinds[ki]), dev);
                failover_case(rt, kinds[ki], 0, 3, dev, 0, what);
                snprintf(what, sizeof what, "failover %s cpu+dev0+dev1 (dev%d fails always)",
                         wt_policy_name(kinds[ki]), dev);
                failover_case(rt, kinds[ki], 1, 3, dev, -1, what);
            }
        }
    }
    still_works(rt, "after failovers");
}

/* ---- (c) CPU panics ------------------------------------------------------------ */

static void cpu_panic_propagates(void **state)
{
    weft_runtime_t *rt = *state;
    wt_capture *heard = wt_capture_install();
    uint32_t *y = malloc(N * sizeof *y);
    assert_non_null(y);
    init_y(y, N);
    const long at = 12345;
    atomic_store(&cpu_panics, 0);
    atomic_store(&cpu_panic_once, 0);
    atomic_store(&cpu_panic_at, at);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.devices = weft_device_mask(rt, 0); /* every device, those sharing cores too */
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 1000; /* 16 groups: chunks of 1024 */
    pol.use_cpu = 1;
    pol.devices = 0;
    weft_panic_t *p = NULL;
    assert_int_equal(run_affine(rt, y, N, &pol, &p), WEFT_EPANIC);
    atomic_store(&cpu_panic_at, -1);
    assert_non_null(p);
    assert_string_equal(weft_panic_message(p), "affine body refuses index 12345");
    wt_assert_contains(weft_panic_file(p), "test_parallel_fault.c");
    assert_true(weft_panic_line(p) > 0);
    assert_null(weft_panic_device(p));
    assert_int_equal(weft_panic_cl_status(p), 0);
    assert_null(weft_panic_cl_status_name(p));
    size_t b = 0, e = 0;
    assert_int_equal(weft_panic_range(p, &b, &e), 1);
    /* The range is the chunk that held the index: [12288, 13312). */
    assert_int_equal(b, 12288);
    assert_int_equal(e, 13312);
    weft_panic_destroy(p);
    assert_int_equal(atomic_load(&cpu_panics), 1);
    assert_int_equal(wt_capture_count(), 1);
    wt_assert_contains(heard->last.message, "refuses index 12345");
    /* No element was updated twice. */
    for (size_t i = 0; i < N; i++)
        if (y[i] != want_y(i) && y[i] != ((uint32_t)i ^ 0x5A5A5A5Au))
            fail_msg("element %zu is neither old nor new: 0x%08x", i, y[i]);
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    assert_int_equal(st.failed_chunks, 1);
    free(y);
    wt_capture_restore();
    still_works(rt, "after a CPU panic");
}

/* One run where the first CPU piece panics after writing its rows; returns
 * whether the CPU ran a piece at all (with dynamic or guided chunks the
 * devices may, rarely, take everything first). Always: the exact result. */
static int cpu_failover_once(weft_runtime_t *rt, weft_policy_kind_t kind)
{
    wt_capture_install();
    const size_t n = (size_t)1 << 20; /* long enough for the CPU to join in */
    uint32_t *y = malloc(n * sizeof *y);
    assert_non_null(y);
    init_y(y, n);
    /* The first piece the CPU runs panics once, after writing its rows
     * (the chunk's other piece, on the other worker, writes its own). */
    atomic_store(&cpu_panics, 0);
    atomic_store(&cpu_panic_at, -2);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.devices = weft_device_mask(rt, 0); /* every device, those sharing cores too */
    pol.kind = kind;
    pol.chunk = kind == WEFT_POLICY_STATIC ? 0 : 16 * G;
    pol.on_fault = WEFT_FAULT_FAILOVER;
    weft_panic_t *p = NULL;
    int rc = run_affine(rt, y, n, &pol, &p);
    atomic_store(&cpu_panic_at, -1);
    char what[64];
    snprintf(what, sizeof what, "CPU panic failover, %s", wt_policy_name(kind));
    char report[2048];
    if (rc) fail_msg("%s: %s: %s", what, weft_err_name(rc), wt_panic_report(p, report, sizeof report));
    /* The panicking chunk's rows were put back, then it re-ran on a device. */
    check_y(y, n, what);
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    size_t sum = 0;
    for (int i = 0; i < 65; i++) sum += st.items[i];
    assert_int_equal(sum, n);
    int ran = atomic_load(&cpu_panics);
    if (ran) {
        assert_int_equal(ran, 1);
        assert_int_equal(st.failed_chunks, 1);
        assert_int_equal(st.recovered_chunks, 1);
        assert_int_equal(st.items[0], 0); /* the CPU failed its first chunk and retired */
        assert_int_equal(wt_capture_count(), 0); /* recovered: the hook never heard of it */
    } else {
        assert_int_equal(st.failed_chunks, 0);
        assert_int_equal(st.items[0], 0);
    }
    free(y);
    wt_capture_restore();
    return ran;
}

static void cpu_panic_fails_over_to_devices(void **state)
{
    weft_runtime_t *rt = *state;
    int nd = weft_device_count(rt);
    if (nd == 0) skip();
    static const weft_policy_kind_t kinds[] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED};
    for (size_t ki = 0; ki < 3; ki++) {
        int attempt = 0;
        while (!cpu_failover_once(rt, kinds[ki])) {
            /* Static always gives the CPU its share. */
            if (kinds[ki] == WEFT_POLICY_STATIC || ++attempt == 10)
                fail_msg("%s: the CPU never ran a chunk", wt_policy_name(kinds[ki]));
            fprintf(stderr, "note: %s: the CPU got no chunk, running again\n", wt_policy_name(kinds[ki]));
        }
    }
    still_works(rt, "after CPU failovers");
}

/* ---- (d) every place fails ------------------------------------------------------- */

static void failover_with_no_place_left(void **state)
{
    weft_runtime_t *rt = *state;
    int nd = weft_device_count(rt);
    if (nd == 0) skip();
    wt_capture_install();
    WT_CHECK(weft_fault_inject(rt, -1, -1, CL_OUT_OF_RESOURCES, NULL));
    uint32_t *y = malloc(N * sizeof *y);
    assert_non_null(y);
    init_y(y, N);
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.devices = weft_device_mask(rt, 0); /* every device, those sharing cores too */
    pol.kind = WEFT_POLICY_DYNAMIC;
    pol.chunk = 512;
    pol.use_cpu = 0;
    pol.devices = weft_device_mask(rt, 0);
    pol.on_fault = WEFT_FAULT_FAILOVER;
    weft_panic_t *p = NULL;
    assert_int_equal(run_affine(rt, y, N, &pol, &p), WEFT_EPANIC);
    assert_non_null(p);
    wt_assert_contains(weft_panic_message(p), "CL_OUT_OF_RESOURCES");
    size_t b, e;
    assert_int_equal(weft_panic_range(p, &b, &e), 1);
    assert_true(b < e && e <= N);
    assert_int_equal(weft_panic_cl_status(p), CL_OUT_OF_RESOURCES);
    weft_panic_destroy(p);
    /* Nothing ran, and nothing was left half restored. */
    for (size_t i = 0; i < N; i++)
        if (y[i] != ((uint32_t)i ^ 0x5A5A5A5Au)) fail_msg("element %zu changed though every launch failed", i);
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    assert_int_equal((int)st.failed_chunks, nd);
    assert_int_equal(wt_capture_count(), 1); /* only the failure that reached the caller */
    weft_fault_clear(rt);
    free(y);
    wt_capture_restore();
    still_works(rt, "after every place failed");
}

/* ---- (e) a device that cannot take part at all ------------------------------------ */

static const char BROKEN_SRC[] =
    "__kernel void pk_broken(__global uint *y, ulong n)\n"
    "{\n"
    "    y[get_global_id(0)] = undeclared_thing;\n"
    "}\n";

static const weft_kernel_t BROKEN = {
    .name = "broken op", .cpu = affine_cpu, .cl_source = BROKEN_SRC, .cl_entry = "pk_broken"};

/* The OpenCL body takes a ulong n, the operation passes 4 bytes: the device
 * cannot set the argument. The CPU body reads the 4 bytes it is given. */
static void narrow_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *y = argv[0];
    uint32_t n = *(const uint32_t *)argv[1];
    for (size_t i = b; i < e && i < n; i++) y[i] = y[i] * 2u + 1u;
}

static const weft_kernel_t NARROW = {
    .name = "narrow op", .cpu = narrow_cpu, .cl_source = AFFINE_SRC, .cl_entry = "pk_affine"};

static void device_setup_failures(void **state)
{
    weft_runtime_t *rt = *state;
    int nd = weft_device_count(rt);
    if (nd == 0) skip();
    uint32_t *y = malloc(N * sizeof *y);
    assert_non_null(y);
    uint32_t n32 = N;
    weft_arg_t args[] = {weft_arg_split(y, N * sizeof *y, sizeof *y, WEFT_READ_WRITE),
                         weft_arg_scalar(&n32, sizeof n32)};
    uint64_t n64 = N;
    weft_arg_t wide[] = {args[0], weft_arg_scalar(&n64, sizeof n64)};
    for (int failover = 0; failover < 2; failover++) {
        weft_policy_t pol;
        weft_policy_init(&pol);
        pol.devices = weft_device_mask(rt, 0); /* every device, those sharing cores too */
        pol.kind = WEFT_POLICY_GUIDED;
        pol.devices = 1;
        pol.on_fault = failover ? WEFT_FAULT_FAILOVER : WEFT_FAULT_PROPAGATE;
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, 0, &info));

        /* A program that does not build. */
        wt_capture_install();
        init_y(y, N);
        weft_panic_t *p = NULL;
        int rc = weft_parallel_run(rt, &BROKEN, weft_range_1d(N, G), wide, 2, &pol, &p);
        if (failover) {
            /* The device drops out, the CPU does it all. */
            if (rc) fail_msg("failover past a build failure: %s: %s", weft_err_name(rc), p ? weft_panic_message(p) : "");
            check_y(y, N, "failover past a build failure");
            weft_run_stats_t st;
            WT_CHECK(weft_runtime_last_run_stats(rt, &st));
            assert_int_equal(st.items[0], N);
        } else {
            assert_int_equal(rc, WEFT_EPANIC);
            assert_non_null(p);
            assert_non_null(weft_panic_build_log(p));
            wt_assert_contains(weft_panic_build_log(p), "undeclared_thing");
            assert_string_equal(weft_panic_device(p), info.name);
            assert_string_equal(weft_panic_kernel(p), "pk_broken");
            assert_int_equal(weft_panic_cl_status(p), CL_BUILD_PROGRAM_FAILURE);
            weft_panic_destroy(p);
        }
        assert_int_equal(wt_capture_count(), failover ? 0 : 1); /* a place left out is recovered */

        /* An argument the device cannot take. */
        wt_capture_install();
        init_y(y, N);
        p = NULL;
        rc = weft_parallel_run(rt, &NARROW, weft_range_1d(N, G), args, 2, &pol, &p);
        if (failover) {
            if (rc) fail_msg("failover past a bad argument: %s: %s", weft_err_name(rc), p ? weft_panic_message(p) : "");
            check_y(y, N, "failover past a bad argument");
        } else {
            assert_int_equal(rc, WEFT_EPANIC);
            assert_non_null(p);
            assert_int_equal(weft_panic_cl_status(p), CL_INVALID_ARG_SIZE);
            assert_string_equal(weft_panic_cl_status_name(p), "CL_INVALID_ARG_SIZE");
            assert_string_equal(weft_panic_device(p), info.name);
            assert_string_equal(weft_panic_kernel(p), "pk_affine");
            wt_assert_contains(weft_panic_message(p), "argument 1");
            weft_panic_destroy(p);
        }
        assert_int_equal(wt_capture_count(), failover ? 0 : 1); /* a place left out is recovered */
        wt_capture_restore();
    }
    free(y);
    still_works(rt, "after device set-up failures");
}

static char cache_dir[256];

static int setup(void **state)
{
    *state = pk_cached_runtime(cache_dir, sizeof cache_dir, "fault");
    return 0;
}

/* Each test starts clean, even after another failed half-way. */
static int reset(void **state)
{
    weft_fault_clear(*state);
    atomic_store(&cpu_panic_at, -1);
    atomic_store(&cpu_panic_once, 1);
    atomic_store(&cpu_panics, 0);
    atomic_store(&cpu_delay_ns, 0);
    wt_capture_restore();
    return 0;
}

static int teardown(void **state)
{
    pk_cached_runtime_destroy(*state, cache_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(device_fault_propagates, reset, reset),
        cmocka_unit_test_setup_teardown(device_fault_fails_over, reset, reset),
        cmocka_unit_test_setup_teardown(cpu_panic_propagates, reset, reset),
        cmocka_unit_test_setup_teardown(cpu_panic_fails_over_to_devices, reset, reset),
        cmocka_unit_test_setup_teardown(failover_with_no_place_left, reset, reset),
        cmocka_unit_test_setup_teardown(device_setup_failures, reset, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
