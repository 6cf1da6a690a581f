/* test_fault_campaign.c — a device failure at every launch index in turn.
 *
 * One split operation over the CPU workers and two PoCL devices, a
 * read-write array updated in place (y[i] = y[i]*2 + 1, so a chunk run twice
 * or a dirty chunk re-run shows), under the dynamic and guided policies with
 * several chunks per place. For each policy, each failure policy (propagate,
 * failover) and each device, a fault is injected at launch 0, then 1, 2, ...
 * of that device until an index no longer fires (the device ran fewer
 * chunks; how many chunks each place takes varies from run to run, so an
 * index counts as not firing only after ten clean runs in a row). Every run must end (ctest's TIMEOUT catches a hang), leak nothing
 * (the asan and valgrind modes), and:
 *   failover:  give exactly the fault-free answer; the stats count the one
 *              failed chunk, recovered; the policy's on_recovered got it,
 *              naming the device, and the panic hook heard nothing;
 *   propagate: panic with the device's name, the status, the kernel, the
 *              caller's file and the failed chunk's range; the panic hook
 *              heard it once, naming the device; that range left untouched,
 *              every other element updated at most once.
 * The number of faults injected (fired) is printed. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/testing.h>

#include "reliability_util.h"

#include <stdatomic.h>
#include <stdlib.h>

#define N 8192
#define G 64
#define K_MAX 64 /* launch indices tried at most per device (a run has < 128 chunks) */
#define TRIES 10 /* clean runs before an index counts as not firing */

static uint32_t y0_of(size_t i) { return (uint32_t)i * 2654435761u ^ 0xA5A5u; }
static uint32_t y1_of(size_t i) { return y0_of(i) * 2u + 1u; }

/* ---- what on_recovered heard --------------------------------------------------------- */

static struct {
    pthread_mutex_t m;
    int count;
    char device[256]; /* the last payload's device */
} recovered = {.m = PTHREAD_MUTEX_INITIALIZER};

/* The policy's on_recovered: may run on any thread, records only. */
static void note_recovered(const weft_panic_t *p, void *user_data)
{
    (void)user_data;
    pthread_mutex_lock(&recovered.m);
    recovered.count++;
    snprintf(recovered.device, sizeof recovered.device, "%s", weft_panic_device(p) ? weft_panic_device(p) : "");
    pthread_mutex_unlock(&recovered.m);
}

/* ---- the campaign ---------------------------------------------------------------- */

typedef struct tally {
    size_t runs, fired, per_device[2];
} tally;

static const char *kind_name(weft_policy_kind_t k) { return k == WEFT_POLICY_DYNAMIC ? "dynamic" : "guided"; }

/* One run with a fault at launch k of device dev. Returns 1 when the fault
 * fired (and everything checked out), 0 when the device had no launch k. */
static int one_run(weft_runtime_t *rt, uint32_t *y, weft_policy_kind_t kind, weft_on_fault_t on_fault, int dev,
                   long k, const weft_device_info_t *info)
{
    char what[160];
    snprintf(what, sizeof what, "%s/%s/device %d/launch %ld", kind_name(kind),
             on_fault == WEFT_FAULT_FAILOVER ? "failover" : "propagate", dev, k);
    weft_fault_clear(rt);
    if (weft_fault_inject(rt, dev, k, CL_OUT_OF_RESOURCES, NULL)) fail_msg("%s: inject: %s", what, weft_last_error_message());
    for (size_t i = 0; i < N; i++) y[i] = y0_of(i);
    wt_capture_install(); /* records the device panics */
    uint64_t n = N;
    weft_arg_t args[] = {weft_arg_split(y, N * sizeof *y, sizeof *y, WEFT_READ_WRITE), weft_arg_scalar(&n, sizeof n)};
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = kind;
    pol.chunk = kind == WEFT_POLICY_DYNAMIC ? 2 * G : G; /* 64 chunks (dynamic); guided down to one group */
    pol.use_cpu = 1;
    pol.devices = 3;
    pol.on_fault = on_fault;
    pol.on_recovered = note_recovered;
    pthread_mutex_lock(&recovered.m);
    recovered.count = 0;
    recovered.device[0] = '\0';
    pthread_mutex_unlock(&recovered.m);
    weft_panic_t *p = NULL;
    int line = __LINE__ + 1;
    int rc = weft_parallel_run(rt, &REL_AFFINE, weft_range_1d(N, G), args, 2, &pol, &p);
    weft_run_stats_t st;
    if (weft_runtime_last_run_stats(rt, &st)) fail_msg("%s: no stats", what);
    int fired = rc == WEFT_EPANIC || st.failed_chunks > 0;
    if (getenv("WEFT_FC_VERBOSE"))
        fprintf(stderr, "%s: %s, %zu chunks, items cpu %zu, device 0 %zu, device 1 %zu\n", what,
                fired ? "fired" : "clean", st.chunks, st.items[0], st.items[1], st.items[2]);
    if (!fired) {
        /* The device ran k launches or fewer: a clean run. */
        if (rc != 0) fail_msg("%s: no fault fired but the run returned %s", what, weft_err_name(rc));
        for (size_t i = 0; i < N; i++)
            if (y[i] != y1_of(i)) fail_msg("%s: clean run: y[%zu] wrong", what, i);
        return 0;
    }
    if (st.failed_chunks != 1) fail_msg("%s: %zu failed chunks, expected 1", what, st.failed_chunks);
    wt_capture heard;
    wt_capture_get(&heard);
    if (on_fault == WEFT_FAULT_FAILOVER) {
        /* Recovered: on_recovered heard of it, the panic hook did not. */
        pthread_mutex_lock(&recovered.m);
        int rcount = recovered.count;
        char rdevice[256];
        snprintf(rdevice, sizeof rdevice, "%s", recovered.device);
        pthread_mutex_unlock(&recovered.m);
        if (st.recovered_chunks != 1) fail_msg("%s: %zu recovered chunks, expected 1", what, st.recovered_chunks);
        if (rcount != 1 || strcmp(rdevice, info->name) != 0)
            fail_msg("%s: on_recovered heard %d failures (device '%s'), expected 1 from '%s'", what, rcount, rdevice,
                     info->name);
        if (heard.count != 0) fail_msg("%s: the panic hook heard %d panics, expected none", what, heard.count);
        char report[2048];
        if (rc != 0)
            fail_msg("%s: failover returned %s: %s", what, weft_err_name(rc),
                     wt_panic_report(p, report, sizeof report));
        for (size_t i = 0; i < N; i++)
            if (y[i] != y1_of(i))
                fail_msg("%s: y[%zu] = 0x%08x, expected 0x%08x (%s)", what, i, y[i], y1_of(i),
                         y[i] == y0_of(i) ? "never updated" : y[i] == y1_of(i) * 2u + 1u ? "updated twice" : "garbage");
        return 1;
    }
    /* propagate */
    if (heard.count != 1 || strcmp(heard.last.device, info->name) != 0)
        fail_msg("%s: the hook heard %d panics (device '%s'), expected 1 from '%s'", what, heard.count,
                 heard.last.device, info->name);
    if (rc != WEFT_EPANIC || !p) fail_msg("%s: propagate returned %s, expected a panic", what, weft_err_name(rc));
    size_t b = 0, e = 0;
    if (!weft_panic_range(p, &b, &e) || b >= e || e > N || b % G)
        fail_msg("%s: panic range [%zu, %zu) is not a chunk of [0, %d)", what, b, e, N);
    if (!weft_panic_device(p) || strcmp(weft_panic_device(p), info->name) != 0)
        fail_msg("%s: panic names device '%s', expected '%s'", what, weft_panic_device(p) ? weft_panic_device(p) : "(null)",
                 info->name);
    if (weft_panic_cl_status(p) != CL_OUT_OF_RESOURCES) fail_msg("%s: cl_status %d", what, weft_panic_cl_status(p));
    if (!weft_panic_kernel(p) || strcmp(weft_panic_kernel(p), "rel_affine") != 0) fail_msg("%s: kernel name", what);
    if (strcmp(weft_panic_file(p), __FILE__) != 0 || weft_panic_line(p) != line)
        fail_msg("%s: panic at %s:%d, expected the caller's %s:%d", what, weft_panic_file(p), weft_panic_line(p), __FILE__,
                 line);
    if (!strstr(weft_panic_message(p), info->name)) fail_msg("%s: message does not name the device", what);
    weft_panic_destroy(p);
    for (size_t i = 0; i < N; i++) {
        if (i >= b && i < e && y[i] != y0_of(i)) fail_msg("%s: y[%zu] in the failed chunk was written", what, i);
        if (y[i] != y0_of(i) && y[i] != y1_of(i)) fail_msg("%s: y[%zu] updated more than once", what, i);
    }
    return 1;
}

static void campaign(void **state)
{
    (void)state;
    /* A CPU a little slower than the devices' share: each device runs several
     * chunks of every operation. */
    atomic_store(rel_affine_pause(), 1000000);
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 2); /* POCL_DEVICES="pthread basic" gives two */
    weft_device_info_t info[2];
    for (int d = 0; d < 2; d++) assert_int_equal(weft_device_info(rt, d, &info[d]), 0);
    uint32_t *y = malloc(N * sizeof *y);
    assert_non_null(y);
    tally t = {0};
    const weft_policy_kind_t kinds[] = {WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED};
    const weft_on_fault_t modes[] = {WEFT_FAULT_PROPAGATE, WEFT_FAULT_FAILOVER};
    for (size_t ki = 0; ki < 2; ki++)
        for (size_t mi = 0; mi < 2; mi++)
            for (int dev = 0; dev < 2; dev++) {
                long k = 0;
                for (; k < K_MAX; k++) {
                    int fired = 0;
                    for (int try = 0; try < TRIES && !fired; try++) {
                        t.runs++;
                        fired = one_run(rt, y, kinds[ki], modes[mi], dev, k, &info[dev]);
                    }
                    if (!fired) break;
                    t.fired++;
                    t.per_device[dev]++;
                }
                fprintf(stderr, "note: %s/%s/device %d: faults fired at launches 0..%ld\n", kind_name(kinds[ki]),
                        modes[mi] == WEFT_FAULT_FAILOVER ? "failover" : "propagate", dev, k - 1);
                /* Every place gets a first chunk when an operation starts. */
                if (k < 1) fail_msg("device %d: a fault at its first launch did not fire", dev);
            }
    /* The runtime is still whole: a clean run on every place. */
    weft_fault_clear(rt);
    wt_capture_restore();
    for (size_t i = 0; i < N; i++) y[i] = y0_of(i);
    uint64_t n = N;
    weft_arg_t args[] = {weft_arg_split(y, N * sizeof *y, sizeof *y, WEFT_READ_WRITE), weft_arg_scalar(&n, sizeof n)};
    assert_int_equal(weft_parallel_run(rt, &REL_AFFINE, weft_range_1d(N, G), args, 2, NULL, NULL), 0);
    for (size_t i = 0; i < N; i++)
        if (y[i] != y1_of(i)) fail_msg("after the campaign: y[%zu] wrong", i);
    free(y);
    weft_runtime_destroy(rt);
    fprintf(stderr, "note: fault campaign: %zu runs, %zu faults injected and fired (device 0: %zu, device 1: %zu)\n",
            t.runs, t.fired, t.per_device[0], t.per_device[1]);
    assert_true(t.fired >= 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(campaign)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
