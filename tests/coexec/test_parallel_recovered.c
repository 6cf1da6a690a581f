/* test_parallel_recovered.c — failures that failover recovers from are
 * reported as recovered, not as panics.
 *  (a) failover past a device that fails every launch, past a CPU body that
 *      panics on its first piece, and past both at once: the result is
 *      exactly the fault-free one, stats.recovered_chunks counts each
 *      failure, the policy's on_recovered got each payload (message, kernel,
 *      device, status, range), and the panic hook heard nothing; with the
 *      default hook, nothing is printed to stderr.
 *  (b) a device that cannot build the kernel, left out under failover: one
 *      on_recovered call with the build failure, no chunk counted, no hook.
 *  (c) propagate: the hook hears of the failure exactly once — also when the
 *      CPU and a device both fail — with the payload the join returns, and
 *      on_recovered is never called.
 *  (d) failover with no place left (CPU only, one device only, the CPU and
 *      a device both failing): the hook hears once, the join panics with
 *      what the hook heard.
 *  (e) weft_policy_init leaves on_recovered unset. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/testing.h>

#include "parallel_kernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- y[i] = y[i] * 2 + 1 (read-write: a chunk run twice shows) -------------------- */

#define N 20000
#define G 64

/* What the CPU body does: nothing special, panic on the first piece it runs
 * (once, after writing its rows), or panic on every piece. */
enum { CPU_OK = 0, CPU_PANIC_FIRST = 1, CPU_PANIC_ALWAYS = 2 };
static atomic_int cpu_mode;
/* The piece the first-piece panic refused. */
static atomic_size_t refused_b, refused_e;

static void rec_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *y = argv[0];
    uint64_t n = *(const uint64_t *)argv[1];
    for (size_t i = b; i < e && i < n; i++) y[i] = y[i] * 2u + 1u;
    int mode = atomic_load(&cpu_mode);
    if (mode == CPU_PANIC_ALWAYS) weft_panic("rec body refuses every piece");
    if (mode == CPU_PANIC_FIRST) {
        int expected = CPU_PANIC_FIRST;
        if (atomic_compare_exchange_strong(&cpu_mode, &expected, CPU_OK)) {
            atomic_store(&refused_b, b);
            atomic_store(&refused_e, e);
            weft_panic("rec body refuses [%zu, %zu)", b, e);
        }
    }
}

static const char REC_SRC[] =
    "__kernel void rec_affine(__global uint *y, ulong n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) y[i] = y[i] * 2u + 1u;\n"
    "}\n";

static const weft_kernel_t REC = {.name = "recovered op", .cpu = rec_cpu, .cl_source = REC_SRC, .cl_entry = "rec_affine"};

static uint32_t y0_of(size_t i) { return (uint32_t)i ^ 0x5A5A5A5Au; }
static uint32_t y1_of(size_t i) { return y0_of(i) * 2u + 1u; }

static uint32_t *fill_y(uint32_t *y)
{
    for (size_t i = 0; i < N; i++) y[i] = y0_of(i);
    return y;
}

static uint32_t *new_y(void)
{
    uint32_t *y = malloc(N * sizeof *y);
    assert_non_null(y);
    return fill_y(y);
}

static void check_y(const uint32_t *y, const char *what)
{
    for (size_t i = 0; i < N; i++)
        if (y[i] != y1_of(i))
            fail_msg("%s: y[%zu] = 0x%08x, expected 0x%08x (%s)", what, i, y[i], y1_of(i),
                     y[i] == y0_of(i) ? "never updated" : y[i] == y1_of(i) * 2u + 1u ? "updated twice" : "garbage");
}

static int run_rec(weft_runtime_t *rt, const weft_kernel_t *k, uint32_t *y, const weft_policy_t *pol, weft_panic_t **p)
{
    uint64_t n = N;
    weft_arg_t args[] = {weft_arg_split(y, N * sizeof *y, sizeof *y, WEFT_READ_WRITE), weft_arg_scalar(&n, sizeof n)};
    return weft_parallel_run(rt, k, weft_range_1d(N, G), args, 2, pol, p);
}

/* ---- the on_recovered recorder ------------------------------------------------------ */

#define SEEN_MAX 8

/* One payload on_recovered was given, copied (it is only borrowed). */
typedef struct seen {
    char message[512];
    char kernel[64];
    char device[256];  /* "" for a CPU body's panic */
    int cl_status;
    int has_range;
    size_t begin, end;
    int has_build_log;
} seen;

static struct {
    pthread_mutex_t m;
    int count;
    seen v[SEEN_MAX];
    void *user_data_ok;  /* what the calls were given, when all agree */
} rec = {.m = PTHREAD_MUTEX_INITIALIZER};

static int rec_marker; /* its address is the policy's recovered_data */

static void copy_str(char *dst, size_t cap, const char *s) { snprintf(dst, cap, "%s", s ? s : ""); }

/* May run on any thread at once with others: it only records. */
static void on_recovered(const weft_panic_t *p, void *user_data)
{
    pthread_mutex_lock(&rec.m);
    if (user_data != &rec_marker) rec.user_data_ok = NULL;
    if (rec.count < SEEN_MAX) {
        seen *s = &rec.v[rec.count];
        copy_str(s->message, sizeof s->message, weft_panic_message(p));
        copy_str(s->kernel, sizeof s->kernel, weft_panic_kernel(p));
        copy_str(s->device, sizeof s->device, weft_panic_device(p));
        s->cl_status = weft_panic_cl_status(p);
        s->has_range = weft_panic_range(p, &s->begin, &s->end);
        s->has_build_log = weft_panic_build_log(p) != NULL;
    }
    rec.count++;
    pthread_mutex_unlock(&rec.m);
}

static void rec_reset(void)
{
    pthread_mutex_lock(&rec.m);
    rec.count = 0;
    memset(rec.v, 0, sizeof rec.v);
    rec.user_data_ok = &rec_marker;
    pthread_mutex_unlock(&rec.m);
}

static int rec_count(void)
{
    pthread_mutex_lock(&rec.m);
    int n = rec.count;
    pthread_mutex_unlock(&rec.m);
    return n;
}

/* The recorded payload whose device is `device` ("" for the CPU's), or NULL. */
static const seen *rec_find(const char *device)
{
    for (int i = 0; i < rec.count && i < SEEN_MAX; i++)
        if (strcmp(rec.v[i].device, device) == 0) return &rec.v[i];
    return NULL;
}

/* Failover (or propagate) over the given places, on_recovered recording. */
static weft_policy_t policy(weft_on_fault_t on_fault, int use_cpu, uint64_t devices)
{
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.kind = WEFT_POLICY_STATIC; /* every place surely gets a chunk of its own */
    pol.use_cpu = use_cpu;
    pol.devices = devices;
    pol.on_fault = on_fault;
    pol.on_recovered = on_recovered;
    pol.recovered_data = &rec_marker;
    rec_reset();
    return pol;
}

static weft_run_stats_t stats(weft_runtime_t *rt)
{
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
    return st;
}

/* A device fault's payload, as on_recovered got it. */
static void check_device_payload(const seen *s, const weft_device_info_t *info, const char *what)
{
    if (!s) fail_msg("%s: on_recovered never got device '%s''s failure", what, info->name);
    assert_string_equal(s->kernel, "rec_affine");
    assert_int_equal(s->cl_status, CL_OUT_OF_RESOURCES);
    wt_assert_contains(s->message, "injected fault");
    wt_assert_contains(s->message, "recovered op");
    wt_assert_contains(s->message, info->name);
    assert_int_equal(s->has_range, 1);
    if (!(s->begin < s->end && s->end <= N && s->begin % G == 0))
        fail_msg("%s: recovered range [%zu, %zu) is not a chunk of [0, %d)", what, s->begin, s->end, N);
}

/* The first-piece CPU panic's payload, as on_recovered got it: the chunk
 * that held the refused piece. */
static void check_cpu_payload(const seen *s, const char *what)
{
    if (!s) fail_msg("%s: on_recovered never got the CPU body's panic", what);
    size_t b = atomic_load(&refused_b), e = atomic_load(&refused_e);
    char msg[128];
    snprintf(msg, sizeof msg, "rec body refuses [%zu, %zu)", b, e);
    assert_string_equal(s->message, msg);
    assert_string_equal(s->kernel, "recovered op"); /* a CPU body's panic names the operation */
    assert_int_equal(s->cl_status, 0);
    assert_int_equal(s->has_range, 1);
    if (!(s->begin <= b && e <= s->end && s->begin % G == 0))
        fail_msg("%s: recovered range [%zu, %zu) does not hold the refused piece [%zu, %zu)", what, s->begin, s->end,
                 b, e);
}

/* ---- stderr, read back ---------------------------------------------------------------- */

/* Standard error goes to a temporary file until stderr_end, which returns
 * what was written (the caller frees it). */
typedef struct stderr_capture {
    int saved;
    FILE *file;
} stderr_capture;

static stderr_capture stderr_begin(void)
{
    stderr_capture c;
    fflush(stderr);
    c.file = tmpfile();
    assert_non_null(c.file);
    c.saved = dup(STDERR_FILENO);
    assert_true(c.saved >= 0);
    assert_true(dup2(fileno(c.file), STDERR_FILENO) >= 0);
    return c;
}

static char *stderr_end(stderr_capture c)
{
    fflush(stderr);
    dup2(c.saved, STDERR_FILENO);
    close(c.saved);
    long len = ftell(c.file);
    if (len < 0) len = 0;
    char *text = calloc((size_t)len + 1, 1);
    assert_non_null(text);
    rewind(c.file);
    size_t got = fread(text, 1, (size_t)len, c.file);
    text[got] = '\0';
    fclose(c.file);
    return text;
}

/* ---- (a) recovered: results, stats, on_recovered, no hook ------------------------------- */

/* A failover run that must recover from every failure: the exact result,
 * `failed` chunks failed and all recovered, `heard` calls of on_recovered
 * (one per failed chunk, and one per place left out at set-up), and the
 * panic hook never called. Returns the run's stats. */
static weft_run_stats_t expect_recovered(weft_runtime_t *rt, const weft_kernel_t *k, const weft_policy_t *pol,
                                         size_t failed, int heard, const char *what)
{
    wt_capture_install();
    uint32_t *y = new_y();
    weft_panic_t *p = NULL;
    int rc = run_rec(rt, k, y, pol, &p);
    char report[2048];
    if (rc) fail_msg("%s: %s: %s", what, weft_err_name(rc), wt_panic_report(p, report, sizeof report));
    /* A failed chunk's rows were put back before it ran again elsewhere. */
    check_y(y, what);
    free(y);
    weft_run_stats_t st = stats(rt);
    if (st.failed_chunks != failed || st.recovered_chunks != failed)
        fail_msg("%s: %zu chunks failed, %zu recovered; expected %zu and %zu", what, st.failed_chunks,
                 st.recovered_chunks, failed, failed);
    if (rec_count() != heard) fail_msg("%s: on_recovered called %d times, expected %d", what, rec_count(), heard);
    assert_ptr_equal(rec.user_data_ok, &rec_marker);
    if (wt_capture_count()) fail_msg("%s: the panic hook heard of %d recovered failures", what, wt_capture_count());
    wt_capture_restore();
    return st;
}

static void device_fault_recovered(void **state)
{
    weft_runtime_t *rt = *state;
    int nd = weft_device_count(rt);
    if (nd == 0) skip();
    for (int dev = 0; dev < nd; dev++) {
        char what[64];
        snprintf(what, sizeof what, "failover past device %d", dev);
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, dev, &info));
        WT_CHECK(weft_fault_inject(rt, dev, -1, CL_OUT_OF_RESOURCES, "rec_affine"));
        weft_policy_t pol = policy(WEFT_FAULT_FAILOVER, 1, (uint64_t)1 << dev);
        weft_run_stats_t st = expect_recovered(rt, &REC, &pol, 1, 1, what);
        assert_int_equal(st.items[1 + dev], 0); /* its only chunk failed */
        assert_int_equal(st.items[0], N);       /* the CPU ran it again */
        check_device_payload(rec_find(info.name), &info, what);
        weft_fault_clear(rt);
    }
}

static void cpu_panic_recovered(void **state)
{
    weft_runtime_t *rt = *state;
    if (weft_device_count(rt) == 0) skip();
    atomic_store(&cpu_mode, CPU_PANIC_FIRST);
    weft_policy_t pol = policy(WEFT_FAULT_FAILOVER, 1, weft_device_mask(rt, 0));
    weft_run_stats_t st = expect_recovered(rt, &REC, &pol, 1, 1, "CPU panic failover");
    assert_int_equal(atomic_load(&cpu_mode), CPU_OK); /* the CPU did panic */
    assert_int_equal(st.items[0], 0);                 /* and ran nothing more */
    check_cpu_payload(rec_find(""), "CPU panic failover");
}

/* The CPU panics and device 0 fails every launch; device 1 runs it all. */
static void cpu_and_device_recovered(void **state)
{
    weft_runtime_t *rt = *state;
    if (weft_device_count(rt) < 2) skip();
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, 0, &info));
    WT_CHECK(weft_fault_inject(rt, 0, -1, CL_OUT_OF_RESOURCES, "rec_affine"));
    atomic_store(&cpu_mode, CPU_PANIC_FIRST);
    weft_policy_t pol = policy(WEFT_FAULT_FAILOVER, 1, 3);
    weft_run_stats_t st = expect_recovered(rt, &REC, &pol, 2, 2, "two failures recovered");
    assert_int_equal(st.items[2], N);
    check_device_payload(rec_find(info.name), &info, "two failures recovered");
    check_cpu_payload(rec_find(""), "two failures recovered");
    weft_fault_clear(rt);
}

/* With the default hook, which prints every panic it hears of: a recovered
 * run writes no panic to stderr. */
static void recovered_prints_nothing(void **state)
{
    weft_runtime_t *rt = *state;
    /* The CPU and device 0 both fail: another device must recover. */
    if (weft_device_count(rt) < 2) skip();
    WT_CHECK(weft_fault_inject(rt, 0, -1, CL_OUT_OF_RESOURCES, "rec_affine"));
    uint32_t *y = new_y();
    atomic_store(&cpu_mode, CPU_PANIC_FIRST);
    weft_policy_t pol = policy(WEFT_FAULT_FAILOVER, 1, weft_device_mask(rt, 0));
    pol.on_recovered = NULL; /* and none of the policy's either */
    stderr_capture c = stderr_begin();
    weft_panic_t *p = NULL;
    int rc = run_rec(rt, &REC, y, &pol, &p);
    char *err = stderr_end(c);
    char report[2048];
    if (rc) fail_msg("quiet failover: %s: %s", weft_err_name(rc), wt_panic_report(p, report, sizeof report));
    check_y(y, "quiet failover");
    weft_run_stats_t st = stats(rt);
    assert_true(st.recovered_chunks >= 1);
    assert_int_equal(st.recovered_chunks, st.failed_chunks);
    if (strstr(err, "panicked")) fail_msg("a recovered run printed a panic:\n%s", err);
    free(err);
    /* The same capture does see a panic that reaches the caller. */
    weft_fault_clear(rt);
    atomic_store(&cpu_mode, CPU_PANIC_FIRST);
    pol = policy(WEFT_FAULT_PROPAGATE, 1, 0);
    c = stderr_begin();
    rc = run_rec(rt, &REC, fill_y(y), &pol, &p);
    err = stderr_end(c);
    assert_int_equal(rc, WEFT_EPANIC);
    weft_panic_destroy(p);
    wt_assert_contains(err, "panicked");
    wt_assert_contains(err, "rec body refuses");
    free(err);
    free(y);
}

/* ---- (b) a place left out at set-up ----------------------------------------------------- */

static const char BROKEN_SRC[] =
    "__kernel void rec_broken(__global uint *y, ulong n)\n"
    "{\n"
    "    y[get_global_id(0)] = undeclared_thing;\n"
    "}\n";

static const weft_kernel_t BROKEN = {
    .name = "broken op", .cpu = rec_cpu, .cl_source = BROKEN_SRC, .cl_entry = "rec_broken"};

static void setup_failure_recovered(void **state)
{
    weft_runtime_t *rt = *state;
    if (weft_device_count(rt) == 0) skip();
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, 0, &info));
    weft_policy_t pol = policy(WEFT_FAULT_FAILOVER, 1, 1);
    /* No chunk ran on the device: none failed, one failure recovered. */
    weft_run_stats_t st = expect_recovered(rt, &BROKEN, &pol, 0, 1, "failover past a build failure");
    assert_int_equal(st.items[0], N);
    const seen *s = rec_find(info.name);
    assert_non_null(s);
    assert_string_equal(s->kernel, "rec_broken");
    assert_int_equal(s->cl_status, CL_BUILD_PROGRAM_FAILURE);
    assert_int_equal(s->has_build_log, 1);
}

/* ---- (c) propagate: the hook hears once ------------------------------------------------- */

/* The run must panic, the hook must have heard exactly that panic, once, and
 * on_recovered never. */
static void expect_heard_once(weft_runtime_t *rt, const weft_policy_t *pol, const char *what)
{
    wt_capture *heard = wt_capture_install();
    uint32_t *y = new_y();
    weft_panic_t *p = NULL;
    int rc = run_rec(rt, &REC, y, pol, &p);
    if (rc != WEFT_EPANIC) fail_msg("%s: returned %s, expected WEFT_EPANIC", what, weft_err_name(rc));
    assert_non_null(p);
    if (wt_capture_count() != 1) fail_msg("%s: the panic hook heard %d panics, expected 1", what, wt_capture_count());
    assert_string_equal(heard->last.message, weft_panic_message(p));
    weft_panic_destroy(p);
    weft_run_stats_t st = stats(rt);
    assert_true(st.failed_chunks >= 1);
    if (pol->on_fault == WEFT_FAULT_PROPAGATE) {
        assert_int_equal(st.recovered_chunks, 0);
        assert_int_equal(rec_count(), 0);
    } else {
        /* Each failure handed on went to on_recovered, not to the hook. */
        assert_int_equal((size_t)rec_count(), st.recovered_chunks);
        assert_true(st.recovered_chunks <= st.failed_chunks);
    }
    for (size_t i = 0; i < N; i++)
        if (y[i] != y0_of(i) && y[i] != y1_of(i)) fail_msg("%s: y[%zu] updated more than once", what, i);
    wt_capture_restore();
    free(y);
}

/* The same three failures under either policy: a CPU body's panic with the
 * CPU alone, a device fault with the device alone, and both at once. Under
 * failover, with both failing, the first is recovered (handed to the other
 * place, which fails too and is heard of), or both are handed on at once
 * and the chunk that found no place is heard of. */
static void heard_once_cases(weft_runtime_t *rt, weft_on_fault_t on_fault)
{
    const char *mode = on_fault == WEFT_FAULT_PROPAGATE ? "propagate" : "failover with no place left";
    char what[128];
    atomic_store(&cpu_mode, CPU_PANIC_FIRST);
    weft_policy_t pol = policy(on_fault, 1, 0);
    snprintf(what, sizeof what, "%s, CPU panic", mode);
    expect_heard_once(rt, &pol, what);
    if (weft_device_count(rt) == 0) return;
    WT_CHECK(weft_fault_inject(rt, 0, -1, CL_OUT_OF_RESOURCES, "rec_affine"));
    pol = policy(on_fault, 0, 1);
    snprintf(what, sizeof what, "%s, device fault", mode);
    expect_heard_once(rt, &pol, what);
    atomic_store(&cpu_mode, CPU_PANIC_ALWAYS);
    pol = policy(on_fault, 1, 1);
    snprintf(what, sizeof what, "%s, CPU and device both fail", mode);
    expect_heard_once(rt, &pol, what);
    atomic_store(&cpu_mode, CPU_OK);
    weft_fault_clear(rt);
}

static void propagate_heard_once(void **state) { heard_once_cases(*state, WEFT_FAULT_PROPAGATE); }

/* ---- (d) failover with no place left ----------------------------------------------------- */

static void failover_no_place_heard_once(void **state) { heard_once_cases(*state, WEFT_FAULT_FAILOVER); }

/* ---- (e) the policy ------------------------------------------------------------------------ */

static void policy_defaults(void **state)
{
    (void)state;
    /* (That the struct kept its size is a _Static_assert in the library.) */
    weft_policy_t pol;
    memset(&pol, 0xA5, sizeof pol);
    weft_policy_init(&pol);
    assert_null(pol.on_recovered);
    assert_null(pol.recovered_data);
    for (size_t i = 0; i < sizeof pol.reserved / sizeof pol.reserved[0]; i++) assert_null(pol.reserved[i]);
}

/* ---- the group ------------------------------------------------------------------------------- */

static char cache_dir[256];

static int setup(void **state)
{
    *state = pk_cached_runtime(cache_dir, sizeof cache_dir, "recovered");
    return 0;
}

/* Each test starts clean, even after another failed half-way. */
static int reset(void **state)
{
    weft_fault_clear(*state);
    atomic_store(&cpu_mode, CPU_OK);
    wt_capture_restore();
    rec_reset();
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
        cmocka_unit_test_setup_teardown(device_fault_recovered, reset, reset),
        cmocka_unit_test_setup_teardown(cpu_panic_recovered, reset, reset),
        cmocka_unit_test_setup_teardown(cpu_and_device_recovered, reset, reset),
        cmocka_unit_test_setup_teardown(recovered_prints_nothing, reset, reset),
        cmocka_unit_test_setup_teardown(setup_failure_recovered, reset, reset),
        cmocka_unit_test_setup_teardown(propagate_heard_once, reset, reset),
        cmocka_unit_test_setup_teardown(failover_no_place_heard_once, reset, reset),
        cmocka_unit_test_setup_teardown(policy_defaults, reset, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
