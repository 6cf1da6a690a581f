/* tests/support/weft_test.c — the functions of weft_test.h. */
#define _GNU_SOURCE
#include "weft_test.h"

#include <pthread.h>
#include <time.h>

const char *wt_panic_report(weft_panic_t *p, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (p) weft_panic_format(p, buf, cap);
    weft_panic_destroy(p);
    return buf;
}

void wt_fail_call(const char *file, int line, const char *call, int rc, weft_panic_t *panic)
{
    char report[4096];
    wt_panic_report(panic, report, sizeof report);
    if (rc == 0) fail_msg("%s:%d: %s returned 0 with a panic:\n%s", file, line, call, report);
    fail_msg("%s:%d: %s: %s: %s%s%s", file, line, call, weft_err_name(rc), weft_last_error_message(),
             *report ? "\n" : "", report);
}

void wt_assert_contains_at(const char *file, int line, const char *hay, const char *needle)
{
    if (!hay || !needle || !strstr(hay, needle))
        fail_msg("%s:%d: expected \"%s\" in \"%s\"", file, line, needle ? needle : "(null)",
                 hay ? hay : "(null)");
}

/* ---- runtimes ----------------------------------------------------------------------- */

/* 1 when $POCL_DEVICES asks for PoCL's "pthread" and "basic" devices. */
static int two_pocl_devices(void)
{
    const char *pd = getenv("POCL_DEVICES");
    return pd && strstr(pd, "pthread") && strstr(pd, "basic");
}

int wt_pocl_devices(const weft_runtime_t *rt)
{
    int pocl = 0;
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_device_info_t info;
        if (weft_device_info(rt, d, &info) == 0 && strstr(info.platform, "Portable Computing Language")) pocl++;
    }
    return pocl;
}

weft_runtime_t *wt_runtime(int cpu_threads, const char *devices, int min_devices)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = cpu_threads;
    o.devices = devices;
    weft_runtime_t *rt = NULL;
    int rc = weft_runtime_create(&o, &rt);
    if (rc)
        fail_msg("weft_runtime_create(%d threads, devices \"%s\"): %s: %s", cpu_threads,
                 devices ? devices : "$WEFT_DEVICES", weft_err_name(rc), weft_last_error_message());
    assert_non_null(rt);
    if (cpu_threads > 0) assert_int_equal(weft_runtime_cpu_threads(rt), cpu_threads);
    /* PoCL, asked for its two devices, must give both (other platforms'
     * devices, a GPU's, may come too; without PoCL nothing is checked). */
    if (devices && strcmp(devices, WT_ALL_DEVICES) == 0 && two_pocl_devices()) {
        int pocl = wt_pocl_devices(rt);
        if (pocl) assert_int_equal(pocl, 2);
    }
    int nd = weft_device_count(rt);
    if (nd < min_devices) {
        fprintf(stderr, "note: %d OpenCL device(s), the test needs %d: skipped\n", nd, min_devices);
        weft_runtime_destroy(rt);
        skip();
    }
    return rt;
}

/* ---- launches ---------------------------------------------------------------------- */

weft_launch_t wt_launch_1d(int device, weft_program_t *prog, const char *src, const char *kernel, size_t global,
                           const weft_karg_t *args, size_t nargs)
{
    weft_launch_t l;
    weft_launch_init(&l);
    l.device = device;
    l.program = prog;
    l.source = prog ? NULL : src;
    l.kernel = kernel;
    l.global[0] = global;
    l.args = args;
    l.nargs = nargs;
    return l;
}

/* ---- time --------------------------------------------------------------------------- */

uint64_t wt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static pthread_t main_thread;

__attribute__((constructor)) static void record_main_thread(void) { main_thread = pthread_self(); }

int wt_on_main_thread(void) { return pthread_equal(pthread_self(), main_thread); }

int wt_gate_hold(atomic_int *gate)
{
    if (wt_on_main_thread()) return atomic_load(gate) != 0;
    return wt_spin_until(gate, 1);
}

int wt_spin_until(atomic_int *flag, int value)
{
    uint64_t deadline = wt_now_ns() + 30ull * 1000000000u;
    while (atomic_load(flag) != value) {
        if (wt_now_ns() > deadline) return 0;
        weft_sleep_ns(50000);
    }
    return 1;
}

/* ---- the capturing panic hook ----------------------------------------------------------- */

static pthread_mutex_t capture_m = PTHREAD_MUTEX_INITIALIZER;
static wt_capture capture;
static wt_panic_observer *capture_also;
static void *capture_also_ud;

static void seen_fill(wt_panic_seen *s, const weft_panic_t *p)
{
    const char *kernel = weft_panic_kernel(p), *device = weft_panic_device(p);
    snprintf(s->message, sizeof s->message, "%s", weft_panic_message(p));
    snprintf(s->thread, sizeof s->thread, "%s", weft_panic_thread(p));
    s->worker = weft_current_worker();
    snprintf(s->kernel, sizeof s->kernel, "%s", kernel ? kernel : "");
    snprintf(s->device, sizeof s->device, "%s", device ? device : "");
    s->cl_status = weft_panic_cl_status(p);
    s->has_build_log = weft_panic_build_log(p) != NULL;
    weft_panic_format(p, s->report, sizeof s->report);
}

static void capture_hook(const weft_panic_t *p, void *ud)
{
    (void)ud;
    pthread_mutex_lock(&capture_m);
    wt_panic_observer *also = capture_also;
    void *also_ud = capture_also_ud;
    pthread_mutex_unlock(&capture_m);
    /* The observer first: once the count shows a panic, its observer call
     * is over. */
    if (also) also(p, also_ud);
    pthread_mutex_lock(&capture_m);
    seen_fill(&capture.last, p);
    if (capture.count < WT_CAPTURE_FIRST) capture.first[capture.count] = capture.last;
    capture.count++;
    pthread_mutex_unlock(&capture_m);
}

wt_capture *wt_capture_install_with(wt_panic_observer *also, void *ud)
{
    weft_set_panic_hook(NULL, NULL); /* no panic is recorded while the record resets */
    pthread_mutex_lock(&capture_m);
    memset(&capture, 0, sizeof capture);
    capture_also = also;
    capture_also_ud = ud;
    pthread_mutex_unlock(&capture_m);
    weft_set_panic_hook(capture_hook, NULL);
    return &capture;
}

wt_capture *wt_capture_install(void) { return wt_capture_install_with(NULL, NULL); }

int wt_capture_count(void)
{
    pthread_mutex_lock(&capture_m);
    int n = capture.count;
    pthread_mutex_unlock(&capture_m);
    return n;
}

void wt_capture_get(wt_capture *out)
{
    pthread_mutex_lock(&capture_m);
    *out = capture;
    pthread_mutex_unlock(&capture_m);
}

void wt_capture_restore(void) { weft_set_panic_hook(NULL, NULL); }

/* ---- parallel operations ---------------------------------------------------------------- */

const char *wt_policy_name(weft_policy_kind_t kind)
{
    switch (kind) {
    case WEFT_POLICY_STATIC: return "static";
    case WEFT_POLICY_DYNAMIC: return "dynamic";
    case WEFT_POLICY_GUIDED: return "guided";
    case WEFT_POLICY_ADAPTIVE: return "adaptive";
    }
    return "?";
}

weft_policy_t wt_mix_policy(weft_policy_kind_t kind, const wt_mix *m, size_t chunk)
{
    weft_policy_t p;
    weft_policy_init(&p);
    p.kind = kind;
    p.use_cpu = m->use_cpu;
    p.devices = m->devices;
    p.chunk = chunk;
    return p;
}

weft_run_stats_t wt_check_stats(weft_runtime_t *rt, size_t n, const weft_policy_t *pol, const char *what)
{
    weft_run_stats_t st;
    WT_CHECK(weft_runtime_last_run_stats(rt, &st));
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

int wt_separate_memory(void)
{
    const char *env = getenv("WEFT_SEPARATE_MEMORY");
    return env && strcmp(env, "1") == 0;
}
