/* test_bad_input.c — every public function given NULL, zero, negative,
 * overflowing and mismatched arguments.
 *
 * A table: each row calls one function the wrong way (or at an edge) and
 * states what the header's documentation promises — a WEFT_E* code (and then
 * a message of its own in weft_last_error_message(), and outputs set to
 * NULL), or a value (0, NULL, -1, a name). The table runs on the main thread,
 * then again inside a task (a pool worker), and the runtime must still work
 * afterwards: a task, a scope, a launch on every device, a split operation.
 * Registered twice: with two PoCL devices, and with WEFT_DEVICES=none (rows
 * that need a device are then skipped, rows about having none run). */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/opencl.h>
#include <weft/testing.h>

#include "reliability_util.h"

#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#ifdef WEFT_TEST_HAVE_KERNELS
#include <weft/kernels.h>
#endif

/* ---- shared state ---------------------------------------------------------------- */

enum {
    DEV = 1,    /* needs a device */
    DEV2 = 2,   /* needs two devices */
    NODEV = 4,  /* needs a runtime without devices */
    MAIN = 8,   /* main thread only (environment, hooks, thread identity) */
    VAL = 16,   /* the row checks a value itself: returns 1 when it holds */
};

#define HOSTN 4096

static struct {
    weft_runtime_t *rt;
    int nd;
    FILE *devnull;
    weft_buffer_t *buf;     /* 256 bytes on device 0 */
    weft_buffer_t *wrapped; /* host[0..256) wrapped on device 0 */
    weft_buffer_t *buf1;    /* 256 bytes on device 1 */
    weft_program_t *prog;   /* SRC built for every device */
    unsigned char host[HOSTN];
    float f[HOSTN];
} C;

static const char SRC[] =
    "__kernel void bi_k(__global uint *y, uint n)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) y[i] = y[i] + 1u;\n"
    "}\n";

static void *echo(void *arg) { return arg; }
static void *boom(void *arg)
{
    (void)arg;
    weft_panic("bad input test panic");
}
static void *init_value(void) { return malloc(1); }
static void *init_worker(int w)
{
    (void)w;
    return malloc(1);
}
static void cpu_body(size_t b, size_t e, void *const *argv)
{
    unsigned char *d = argv[0];
    for (size_t i = b; i < e; i++) d[i]++;
}
static void combine_u8(void *acc, const void *p) { *(unsigned char *)acc += *(const unsigned char *)p; }

static const weft_kernel_t CPU_K = {.name = "bad input cpu", .cpu = cpu_body};

/* A row's own failure: returned instead of the expected code. */
#define WRONG (-1000 - __LINE__)

/* ---- runtime, errors ---------------------------------------------------------------- */

static long c_strerror(void)
{
    return strcmp(weft_strerror(12345), "unknown weft status") == 0 &&
           strcmp(weft_strerror(INT_MIN), "unknown weft status") == 0 &&
           strcmp(weft_strerror(1), "unknown weft status") == 0 &&
           strcmp(weft_strerror(WEFT_EINVAL), "invalid argument") == 0 && strcmp(weft_strerror(0), "success") == 0;
}

static long c_err_name(void)
{
    int ok = strcmp(weft_err_name(1), "WEFT_E?") == 0 && strcmp(weft_err_name(-12), "WEFT_E?") == 0 &&
             strcmp(weft_err_name(INT_MAX), "WEFT_E?") == 0 && strcmp(weft_err_name(INT_MIN), "WEFT_E?") == 0;
    for (int code = WEFT_EMPI; code <= 0; code++) ok &= strcmp(weft_err_name(code), "WEFT_E?") != 0;
    return ok && weft_last_error_message() != NULL;
}

static int create_with(int threads, const char *devices)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = threads;
    o.devices = devices;
    weft_runtime_t *rt = (weft_runtime_t *)(uintptr_t)1;
    int rc = weft_runtime_create(&o, &rt);
    if (rc == 0) {
        weft_runtime_destroy(rt);
        return 0;
    }
    return rt == NULL ? rc : WRONG;
}

static long c_options_init_null(void) { return weft_runtime_options_init(NULL), 1; }
static long c_create_null_out(void) { return weft_runtime_create(NULL, NULL); }
static long c_create_threads_negative(void) { return create_with(-1, "none"); }
static long c_create_threads_int_min(void) { return create_with(INT_MIN, "none"); }
static long c_create_devices_nomatch(void) { return create_with(1, "nosuchdevice"); }
static long c_create_devices_index(void) { return create_with(1, "999"); }
static long c_create_devices_empty_term(void) { return create_with(1, "0,,1"); }
static long c_create_devices_comma(void) { return create_with(1, ","); }
static long c_create_devices_blank(void) { return create_with(1, "   "); }
static long c_create_devices_negative(void) { return create_with(1, "-1"); }
static long c_create_devices_huge_index(void) { return create_with(1, "18446744073709551616"); }
static long c_create_devices_long_term(void)
{
    char term[400];
    memset(term, 'x', sizeof term - 1);
    term[sizeof term - 1] = '\0';
    return create_with(1, term);
}
/* "" is taken as "not given" (then "all"), as an empty $WEFT_DEVICES is. */
static long c_create_devices_emptystring(void) { return create_with(1, ""); }

static int create_with_env(const char *var, const char *value, int threads, const char *devices)
{
    const char *old = getenv(var);
    char *saved = old ? strdup(old) : NULL;
    setenv(var, value, 1);
    int rc = create_with(threads, devices);
    if (saved) {
        setenv(var, saved, 1);
        free(saved);
    } else {
        unsetenv(var);
    }
    return rc;
}

static long c_env_threads_abc(void) { return create_with_env("WEFT_CPU_THREADS", "abc", 0, "none"); }
static long c_env_threads_zero(void) { return create_with_env("WEFT_CPU_THREADS", "0", 0, "none"); }
static long c_env_threads_negative(void) { return create_with_env("WEFT_CPU_THREADS", "-3", 0, "none"); }
static long c_env_threads_too_many(void) { return create_with_env("WEFT_CPU_THREADS", "4097", 0, "none"); }
static long c_env_threads_trailing(void) { return create_with_env("WEFT_CPU_THREADS", "2x", 0, "none"); }
static long c_env_threads_overflow(void) { return create_with_env("WEFT_CPU_THREADS", "99999999999999999999", 0, "none"); }
static long c_env_fault_no_status(void) { return create_with_env("WEFT_FAULT", "device=0", 1, "none"); }
static long c_env_fault_positive(void) { return create_with_env("WEFT_FAULT", "status=5", 1, "none"); }
static long c_env_fault_device(void) { return create_with_env("WEFT_FAULT", "device=64,status=-5", 1, "none"); }
static long c_env_fault_launch(void) { return create_with_env("WEFT_FAULT", "launch=x,status=-5", 1, "none"); }
static long c_env_fault_key(void) { return create_with_env("WEFT_FAULT", "colour=red,status=-5", 1, "none"); }
static long c_env_fault_name(void) { return create_with_env("WEFT_FAULT", "status=CL_NOPE", 1, "none"); }
static long c_env_fault_bare(void) { return create_with_env("WEFT_FAULT", "device", 1, "none"); }
static long c_env_devices(void) { return create_with_env("WEFT_DEVICES", "nosuchdevice", 1, NULL); }

static long c_runtime_null_getters(void)
{
    weft_runtime_destroy(NULL);
    return weft_runtime_cpu_threads(NULL) == 0 && weft_runtime_detached_panics(NULL) == 0;
}
static long c_current_worker_main(void) { return weft_current_worker() == -1 && weft_current_name() == NULL; }

/* ---- panics ------------------------------------------------------------------------- */

static long c_panic_null_getters(void)
{
    size_t b = 7, e = 9;
    char buf[8] = "xxxxxxx";
    int ok = !weft_panic_message(NULL) && !weft_panic_thread(NULL) && !weft_panic_file(NULL) &&
             weft_panic_line(NULL) == 0 && !weft_panic_device(NULL) && !weft_panic_kernel(NULL) &&
             weft_panic_cl_status(NULL) == 0 && !weft_panic_cl_status_name(NULL) &&
             weft_panic_range(NULL, &b, &e) == 0 && b == 7 && e == 9 && !weft_panic_build_log(NULL) &&
             !weft_panic_cause(NULL) && weft_panic_suppressed(NULL) == 0 && weft_panic_format(NULL, buf, sizeof buf) == 0 &&
             buf[0] == '\0' && weft_panic_format(NULL, NULL, 0) == 0;
    weft_panic_destroy(NULL);
    return ok;
}

static long c_panic_payload_edges(void)
{
    weft_handle_t *h;
    if (weft_spawn(C.rt, boom, NULL, &h)) return WRONG;
    weft_panic_t *p = NULL;
    if (weft_join(h, NULL, &p) != WEFT_EPANIC || !p) return WRONG;
    size_t b = 3, e = 4;
    char small[10], one[1] = {'x'};
    size_t need = weft_panic_format(p, NULL, 0);
    int ok = need > 10 && weft_panic_format(p, one, 1) == need && one[0] == '\0' &&
             weft_panic_format(p, small, sizeof small) == need && small[9] == '\0' && strlen(small) == 9 &&
             weft_panic_range(p, &b, &e) == 0 && b == 3 && e == 4 && weft_panic_cl_status(p) == 0 &&
             !weft_panic_cl_status_name(p) && !weft_panic_device(p) && !weft_panic_build_log(p) && !weft_panic_cause(p) &&
             weft_panic_suppressed(p) == 0 && strcmp(weft_panic_thread(p), "<unnamed>") == 0;
    weft_panic_destroy(p);
    return ok;
}

/* ---- tasks, builders, scopes -------------------------------------------------------- */

static long c_spawn_null_rt(void)
{
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    int rc = weft_spawn(NULL, echo, NULL, &h);
    return h == NULL ? rc : WRONG;
}
static long c_spawn_null_fn(void)
{
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    int rc = weft_spawn(C.rt, NULL, NULL, &h);
    return h == NULL ? rc : WRONG;
}
static long c_spawn_null_out(void) { return weft_spawn(C.rt, echo, NULL, NULL); }
static long c_join_null(void)
{
    void *r = (void *)1;
    weft_panic_t *p = (weft_panic_t *)(uintptr_t)1;
    int rc = weft_join(NULL, &r, &p);
    return r == NULL && p == NULL ? rc : WRONG;
}
static long c_handle_null(void)
{
    weft_handle_detach(NULL);
    weft_builder_init(NULL);
    return weft_handle_is_finished(NULL) == 0;
}
static long c_builder_null_means_defaults(void)
{
    weft_handle_t *h;
    void *r = NULL;
    return weft_builder_spawn(NULL, C.rt, echo, (void *)42, &h) == 0 && weft_join(h, &r, NULL) == 0 && r == (void *)42;
}

static int spawn_named(const char *name, size_t stack)
{
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = name;
    b.stack_size = stack;
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    int rc = weft_builder_spawn(&b, C.rt, echo, NULL, &h);
    if (rc == 0) return weft_join(h, NULL, NULL) == 0 ? 0 : WRONG;
    return h == NULL ? rc : WRONG;
}
static long c_name_invalid_byte(void) { return spawn_named("\xff", 0); }
static long c_name_newline(void) { return spawn_named("a\nb", 0); }
static long c_name_del(void) { return spawn_named("a\x7f", 0); }
static long c_name_overlong(void) { return spawn_named("\xc0\x80", 0); }
static long c_name_surrogate(void) { return spawn_named("\xed\xa0\x80", 0); }
static long c_name_truncated(void) { return spawn_named("x\xe2\x82", 0); }
static long c_name_c1_control(void) { return spawn_named("\xc2\x85", 0); }
static long c_name_beyond_unicode(void) { return spawn_named("\xf4\x90\x80\x80", 0); }
static long c_name_empty(void) { return spawn_named("", 0); }
static long c_stack_one(void) { return spawn_named("s", 1); }
static long c_stack_below_min(void) { return spawn_named("s", (size_t)PTHREAD_STACK_MIN - 1); }
static long c_stack_absurd(void) { return spawn_named("s", (size_t)1 << 46); }
static long c_stack_size_max(void) { return spawn_named("s", SIZE_MAX); }
static long c_builder_null_rt(void)
{
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    int rc = weft_builder_spawn(NULL, NULL, echo, NULL, &h);
    return h == NULL ? rc : WRONG;
}
static long c_builder_null_fn(void) { return weft_builder_spawn(NULL, C.rt, NULL, NULL, &(weft_handle_t *){NULL}); }
static long c_builder_null_out(void) { return weft_builder_spawn(NULL, C.rt, echo, NULL, NULL); }

static int ran_body;
static int body_counts(weft_scope_t *s, void *arg)
{
    (void)s;
    (void)arg;
    ran_body = 1;
    return 0;
}
static long c_scope_null_rt(void)
{
    ran_body = 0;
    int rc = weft_scope(NULL, body_counts, NULL, NULL);
    return ran_body ? WRONG : rc;
}
static long c_scope_null_body(void)
{
    weft_panic_t *p = (weft_panic_t *)(uintptr_t)1;
    int rc = weft_scope(C.rt, NULL, NULL, &p);
    return p == NULL ? rc : WRONG;
}
static long c_scope_spawn_null_scope(void) { return weft_scope_spawn(NULL, echo, NULL, NULL); }
static long c_scope_builder_null_scope(void) { return weft_scope_builder_spawn(NULL, NULL, echo, NULL, NULL); }

static int body_spawn_null_fn(weft_scope_t *s, void *arg)
{
    (void)arg;
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    int rc = weft_scope_spawn(s, NULL, NULL, &h);
    return h == NULL ? rc : WRONG;
}
static int body_bad_builder(weft_scope_t *s, void *arg)
{
    const weft_builder_t *b = arg;
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    int rc = weft_scope_builder_spawn(s, b, echo, NULL, &h);
    return h == NULL ? rc : WRONG;
}
static long c_scope_spawn_null_fn(void) { return weft_scope(C.rt, body_spawn_null_fn, NULL, NULL); }
static long c_scope_builder_bad_name(void)
{
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = "tab\there";
    return weft_scope(C.rt, body_bad_builder, &b, NULL);
}
static long c_scope_builder_small_stack(void)
{
    weft_builder_t b;
    weft_builder_init(&b);
    b.stack_size = 16;
    return weft_scope(C.rt, body_bad_builder, &b, NULL);
}
static long c_scope_builder_absurd_stack(void)
{
    weft_builder_t b;
    weft_builder_init(&b);
    b.stack_size = (size_t)1 << 46;
    return weft_scope(C.rt, body_bad_builder, &b, NULL);
}
static long c_scope_misc_null(void)
{
    weft_sleep_ns(0);
    weft_yield();
    return weft_scope_runtime(NULL) == NULL;
}

/* ---- locals, mutex ------------------------------------------------------------------ */

static long c_local_key_null_init(void)
{
    weft_local_key_t *k = (weft_local_key_t *)(uintptr_t)1;
    int rc = weft_local_key_create(NULL, free, &k);
    return k == NULL ? rc : WRONG;
}
static long c_local_key_null_out(void) { return weft_local_key_create(init_value, free, NULL); }
static long c_local_get_null(void)
{
    weft_local_key_destroy(NULL);
    return weft_local_get(NULL) == NULL ? WEFT_EINVAL : WRONG; /* NULL, with a message */
}
static long c_worker_key_null_rt(void)
{
    weft_worker_key_t *k = (weft_worker_key_t *)(uintptr_t)1;
    int rc = weft_worker_key_create(NULL, init_worker, free, &k);
    return k == NULL ? rc : WRONG;
}
static long c_worker_key_null_init(void) { return weft_worker_key_create(C.rt, NULL, free, &(weft_worker_key_t *){NULL}); }
static long c_worker_key_null_out(void) { return weft_worker_key_create(C.rt, init_worker, free, NULL); }
static long c_worker_key_too_many(void)
{
    weft_worker_key_t *keys[64];
    int made = 0, rc = 0;
    for (; made < 64; made++)
        if (weft_worker_key_create(C.rt, init_worker, free, &keys[made])) break;
    weft_worker_key_t *extra = (weft_worker_key_t *)(uintptr_t)1;
    if (made == 64) rc = weft_worker_key_create(C.rt, init_worker, free, &extra);
    for (int i = 0; i < made; i++) weft_worker_key_destroy(keys[i]);
    if (made != 64) return WRONG;
    return extra == NULL ? rc : WRONG;
}
static long c_worker_local_get_null(void)
{
    weft_worker_key_destroy(NULL);
    return weft_worker_local_get(NULL) == NULL ? WEFT_EINVAL : WRONG;
}
static long c_worker_local_get_main(void)
{
    weft_worker_key_t *k;
    if (weft_worker_key_create(C.rt, init_worker, free, &k)) return WRONG;
    void *v = weft_worker_local_get(k);
    int rc = v == NULL ? WEFT_EINVAL : WRONG;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", weft_last_error_message());
    weft_worker_key_destroy(k);
    return strstr(msg, "worker") ? rc : WRONG;
}
static long c_mutex_init_null(void) { return weft_mutex_init(NULL); }
static long c_mutex_lock_null(void) { return weft_mutex_lock(NULL); }
static long c_mutex_unlock_null(void) { return weft_mutex_unlock(NULL); }
static long c_mutex_null_getters(void)
{
    weft_mutex_destroy(NULL);
    weft_mutex_clear_poison(NULL);
    return weft_mutex_is_poisoned(NULL) == 0;
}

/* ---- devices, programs --------------------------------------------------------------- */

static long c_device_count_null(void) { return weft_device_count(NULL) == 0; }
static long c_device_info_null_rt(void) { return weft_device_info(NULL, 0, &(weft_device_info_t){0}); }
static long c_device_info_minus_one(void) { return weft_device_info(C.rt, -1, &(weft_device_info_t){0}); }
static long c_device_info_past_end(void) { return weft_device_info(C.rt, C.nd, &(weft_device_info_t){0}); }
static long c_device_info_int_max(void) { return weft_device_info(C.rt, INT_MAX, &(weft_device_info_t){0}); }
static long c_device_info_int_min(void) { return weft_device_info(C.rt, INT_MIN, &(weft_device_info_t){0}); }
static long c_device_info_null_out(void) { return weft_device_info(C.rt, 0, NULL); }
static long c_device_print_edges(void)
{
    return weft_device_print(NULL, NULL) == 0 && weft_device_print(C.rt, NULL) == C.nd &&
           weft_device_print(NULL, C.devnull) == 0 && weft_device_print_all(NULL) >= C.nd;
}
static long c_device_cl_null_rt(void) { return weft_device_cl(NULL, 0, NULL, NULL, NULL); }
static long c_device_cl_minus_one(void) { return weft_device_cl(C.rt, -1, NULL, NULL, NULL); }
static long c_device_cl_past_end(void) { return weft_device_cl(C.rt, C.nd, NULL, NULL, NULL); }
static long c_device_cl_all_null_outputs(void) { return weft_device_cl(C.rt, 0, NULL, NULL, NULL); }

static void cl_of(int d, cl_context *ctx, cl_command_queue *q) { weft_device_cl(C.rt, d, NULL, ctx, q); }
static long c_adopt_null_rt(void)
{
    cl_context ctx;
    cl_command_queue q;
    cl_of(0, &ctx, &q);
    return weft_device_adopt(NULL, ctx, q, NULL);
}
static long c_adopt_null_ctx(void)
{
    cl_context ctx;
    cl_command_queue q;
    cl_of(0, &ctx, &q);
    return weft_device_adopt(C.rt, NULL, q, NULL);
}
static long c_adopt_null_queue(void)
{
    cl_context ctx;
    cl_command_queue q;
    cl_of(0, &ctx, &q);
    return weft_device_adopt(C.rt, ctx, NULL, NULL);
}
static long c_adopt_mismatched(void)
{
    cl_context ctx0, ctx1;
    cl_command_queue q0, q1;
    cl_of(0, &ctx0, &q0);
    cl_of(1, &ctx1, &q1);
    int idx = -5;
    int rc = weft_device_adopt(C.rt, ctx0, q1, &idx);
    return weft_device_count(C.rt) == C.nd && idx == -5 ? rc : WRONG;
}

static long c_program_null_rt(void)
{
    weft_program_t *p = (weft_program_t *)(uintptr_t)1;
    weft_panic_t *why = (weft_panic_t *)(uintptr_t)1;
    int rc = weft_program_create(NULL, SRC, NULL, &p, &why);
    return p == NULL && why == NULL ? rc : WRONG;
}
static long c_program_null_src(void) { return weft_program_create(C.rt, NULL, NULL, &(weft_program_t *){NULL}, NULL); }
static long c_program_null_out(void) { return weft_program_create(C.rt, SRC, NULL, NULL, NULL); }
static long c_program_no_device(void) { return weft_program_create(C.rt, SRC, NULL, &(weft_program_t *){NULL}, NULL); }
static long c_program_bad_source(void)
{
    weft_program_t *p = (weft_program_t *)(uintptr_t)1;
    weft_panic_t *why = NULL;
    int rc = weft_program_create(C.rt, "__kernel void broken( { syntax error }", NULL, &p, &why);
    int ok = p == NULL && why && weft_panic_build_log(why) && weft_panic_device(why) && weft_panic_cl_status(why) < 0;
    weft_panic_destroy(why);
    return ok ? rc : WRONG;
}
static long c_program_bad_options(void)
{
    weft_program_t *p = (weft_program_t *)(uintptr_t)1;
    weft_panic_t *why = NULL;
    int rc = weft_program_create(C.rt, SRC, "-this-is-not-an-option", &p, &why);
    int ok = p == NULL && why && weft_panic_cl_status(why) < 0;
    weft_panic_destroy(why);
    return ok ? rc : WRONG;
}
static long c_program_cl_edges(void)
{
    weft_program_destroy(NULL);
    return weft_program_cl(NULL, 0) == NULL && weft_program_cl(C.prog, -1) == NULL &&
           weft_program_cl(C.prog, C.nd) == NULL && weft_program_cl(C.prog, INT_MIN) == NULL &&
           weft_program_cl(C.prog, 0) != NULL;
}

/* ---- buffers -------------------------------------------------------------------------- */

static int buffer_create_rc(weft_runtime_t *rt, int dev, size_t bytes, weft_access_t acc)
{
    weft_buffer_t *b = (weft_buffer_t *)(uintptr_t)1;
    int rc = weft_buffer_create(rt, dev, bytes, acc, &b);
    if (rc == 0) {
        weft_buffer_destroy(b);
        return 0;
    }
    return b == NULL ? rc : WRONG;
}
static long c_buffer_null_rt(void) { return buffer_create_rc(NULL, 0, 64, WEFT_READ); }
static long c_buffer_null_out(void) { return weft_buffer_create(C.rt, 0, 64, WEFT_READ, NULL); }
static long c_buffer_dev_minus_one(void) { return buffer_create_rc(C.rt, -1, 64, WEFT_READ); }
static long c_buffer_dev_past_end(void) { return buffer_create_rc(C.rt, C.nd, 64, WEFT_READ); }
static long c_buffer_zero_bytes(void) { return buffer_create_rc(C.rt, 0, 0, WEFT_READ); }
static long c_buffer_access_zero(void) { return buffer_create_rc(C.rt, 0, 64, (weft_access_t)0); }
static long c_buffer_access_four(void) { return buffer_create_rc(C.rt, 0, 64, (weft_access_t)4); }
static long c_buffer_access_negative(void) { return buffer_create_rc(C.rt, 0, 64, (weft_access_t)-1); }
static long c_buffer_size_max(void)
{
    int rc = buffer_create_rc(C.rt, 0, SIZE_MAX, WEFT_READ_WRITE);
    return strstr(weft_last_error_message(), "CL_DEVICE_MAX_MEM_ALLOC_SIZE") ? rc : WRONG;
}
static long c_buffer_above_max_alloc(void)
{
    weft_device_info_t i;
    if (weft_device_info(C.rt, 0, &i)) return WRONG;
    return buffer_create_rc(C.rt, 0, (size_t)i.max_alloc_bytes + 1, WEFT_READ_WRITE);
}
static long c_wrap_null_host(void)
{
    weft_buffer_t *b = (weft_buffer_t *)(uintptr_t)1;
    int rc = weft_buffer_wrap(C.rt, 0, NULL, 64, WEFT_READ, &b);
    return b == NULL ? rc : WRONG;
}
static long c_wrap_zero_bytes(void) { return weft_buffer_wrap(C.rt, 0, C.host, 0, WEFT_READ, &(weft_buffer_t *){NULL}); }
static long c_adopt_buffer_null_rt(void) { return weft_buffer_adopt(NULL, 0, weft_buffer_cl(C.buf), &(weft_buffer_t *){NULL}); }
static long c_adopt_buffer_null_mem(void) { return weft_buffer_adopt(C.rt, 0, NULL, &(weft_buffer_t *){NULL}); }
static long c_adopt_buffer_null_out(void) { return weft_buffer_adopt(C.rt, 0, weft_buffer_cl(C.buf), NULL); }
static long c_adopt_buffer_bad_device(void) { return weft_buffer_adopt(C.rt, -1, weft_buffer_cl(C.buf), &(weft_buffer_t *){NULL}); }
static long c_adopt_buffer_other_context(void)
{
    weft_buffer_t *b = (weft_buffer_t *)(uintptr_t)1;
    int rc = weft_buffer_adopt(C.rt, 0, weft_buffer_cl(C.buf1), &b);
    return b == NULL ? rc : WRONG;
}
static long c_buffer_null_getters(void)
{
    weft_buffer_destroy(NULL);
    return weft_buffer_cl(NULL) == NULL && weft_buffer_size(NULL) == 0 && weft_buffer_device(NULL) == -1 &&
           weft_buffer_host(NULL) == NULL && weft_buffer_is_zero_copy(NULL) == 0;
}
static long c_write_null_buffer(void) { return weft_buffer_write(NULL, 0, C.host, 4); }
static long c_write_null_src(void) { return weft_buffer_write(C.buf, 0, NULL, 4); }
static long c_write_null_src_zero(void) { return weft_buffer_write(C.buf, 0, NULL, 0); }
static long c_write_offset_past_end(void) { return weft_buffer_write(C.buf, 257, C.host, 0); }
static long c_write_bytes_overflow(void) { return weft_buffer_write(C.buf, 1, C.host, SIZE_MAX); }
static long c_write_offset_overflow(void) { return weft_buffer_write(C.buf, SIZE_MAX, C.host, 1); }
static long c_write_straddles_end(void) { return weft_buffer_write(C.buf, 200, C.host, 57); }
static long c_write_empty_at_end(void) { return weft_buffer_write(C.buf, 256, C.host, 0); }
static long c_read_null_buffer(void) { return weft_buffer_read(NULL, 0, C.host, 4); }
static long c_read_null_dst(void) { return weft_buffer_read(C.buf, 0, NULL, 4); }
static long c_read_offset_past_end(void) { return weft_buffer_read(C.buf, 257, C.host, 0); }
static long c_read_bytes_overflow(void) { return weft_buffer_read(C.buf, 1, C.host, SIZE_MAX); }
static long c_read_offset_overflow(void) { return weft_buffer_read(C.buf, SIZE_MAX, C.host, 1); }
static long c_read_empty_at_end(void) { return weft_buffer_read(C.buf, 256, C.host, 0); }
static long c_sync_dev_null(void) { return weft_buffer_sync_to_device(NULL, 0, 4); }
static long c_sync_dev_not_wrapped(void) { return weft_buffer_sync_to_device(C.buf, 0, 4); }
static long c_sync_dev_past_end(void) { return weft_buffer_sync_to_device(C.wrapped, 257, 0); }
static long c_sync_dev_overflow(void) { return weft_buffer_sync_to_device(C.wrapped, 1, SIZE_MAX); }
static long c_sync_dev_offset_overflow(void) { return weft_buffer_sync_to_device(C.wrapped, SIZE_MAX, 2); }
static long c_sync_dev_whole(void) { return weft_buffer_sync_to_device(C.wrapped, 0, 256); }
static long c_sync_host_null(void) { return weft_buffer_sync_to_host(NULL, 0, 4); }
static long c_sync_host_not_wrapped(void) { return weft_buffer_sync_to_host(C.buf, 0, 4); }
static long c_sync_host_overflow(void) { return weft_buffer_sync_to_host(C.wrapped, 1, SIZE_MAX); }
static long c_sync_host_offset_overflow(void) { return weft_buffer_sync_to_host(C.wrapped, SIZE_MAX, 2); }

static int map_rc(weft_buffer_t *b, size_t off, size_t bytes, weft_access_t acc)
{
    void *p = (void *)1;
    int rc = weft_buffer_map(b, off, bytes, acc, &p);
    if (rc == 0) return weft_buffer_unmap(b, p) == 0 ? 0 : WRONG;
    return p == NULL ? rc : WRONG;
}
static long c_map_null_buffer(void) { return map_rc(NULL, 0, 4, WEFT_READ); }
static long c_map_null_ptr(void) { return weft_buffer_map(C.buf, 0, 4, WEFT_READ, NULL); }
static long c_map_zero_bytes(void) { return map_rc(C.buf, 0, 0, WEFT_READ); }
static long c_map_past_end(void) { return map_rc(C.buf, 250, 10, WEFT_READ); }
static long c_map_offset_overflow(void) { return map_rc(C.buf, SIZE_MAX, 1, WEFT_READ); }
static long c_map_access_zero(void) { return map_rc(C.buf, 0, 4, (weft_access_t)0); }
static long c_map_access_four(void) { return map_rc(C.buf, 0, 4, (weft_access_t)4); }
static long c_map_fine(void) { return map_rc(C.buf, 0, 256, WEFT_READ_WRITE); }
static long c_unmap_null_buffer(void) { return weft_buffer_unmap(NULL, C.host); }
static long c_unmap_null_ptr(void) { return weft_buffer_unmap(C.buf, NULL); }

/* ---- launches ------------------------------------------------------------------------- */

static uint32_t launch_n = 64;
static weft_karg_t base_args[2];

static weft_launch_t base_launch(void)
{
    base_args[0] = weft_karg_buffer(C.buf);
    base_args[1] = weft_karg_scalar(&launch_n, sizeof launch_n);
    return wt_launch_1d(0, NULL, SRC, "bi_k", 64, base_args, 2);
}

static int launch_rc(const weft_launch_t *l)
{
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    int rc = weft_launch(C.rt, l, &h);
    if (rc == 0) return weft_join(h, NULL, NULL) == 0 ? 0 : WRONG;
    return h == NULL ? rc : WRONG;
}

static long c_karg_and_init(void)
{
    weft_launch_init(NULL);
    weft_karg_t b = weft_karg_buffer(NULL), s = weft_karg_scalar(NULL, 0), l = weft_karg_local(0);
    weft_launch_t x;
    weft_launch_init(&x);
    return b.kind == WEFT_KARG_BUFFER && s.kind == WEFT_KARG_SCALAR && l.kind == WEFT_KARG_LOCAL && x.dims == 1 &&
           x.device == 0 && x.nargs == 0;
}
static long c_launch_null_rt(void)
{
    weft_launch_t l = base_launch();
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    int rc = weft_launch(NULL, &l, &h);
    return h == NULL ? rc : WRONG;
}
static long c_launch_null_out(void)
{
    weft_launch_t l = base_launch();
    return weft_launch(C.rt, &l, NULL);
}
static long c_launch_null_launch(void) { return launch_rc(NULL); }
static long c_launch_ok(void)
{
    weft_launch_t l = base_launch();
    return launch_rc(&l);
}
#define LAUNCH_CASE(fn, change)                                                                                      \
    static long fn(void)                                                                                             \
    {                                                                                                                \
        weft_launch_t l = base_launch();                                                                             \
        change;                                                                                                      \
        return launch_rc(&l);                                                                                        \
    }
LAUNCH_CASE(c_launch_device_minus_one, l.device = -1)
LAUNCH_CASE(c_launch_device_past_end, l.device = C.nd)
LAUNCH_CASE(c_launch_no_kernel, l.kernel = NULL)
LAUNCH_CASE(c_launch_empty_kernel, l.kernel = "")
LAUNCH_CASE(c_launch_program_and_source, l.program = C.prog)
LAUNCH_CASE(c_launch_neither, l.source = NULL)
LAUNCH_CASE(c_launch_dims_zero, l.dims = 0)
LAUNCH_CASE(c_launch_dims_four, l.dims = 4)
LAUNCH_CASE(c_launch_global_zero, l.global[0] = 0)
LAUNCH_CASE(c_launch_global_zero_dim2, (l.dims = 2, l.global[1] = 0))
LAUNCH_CASE(c_launch_offset_overflow, l.offset[0] = SIZE_MAX - 10)
LAUNCH_CASE(c_launch_local_partial, (l.dims = 2, l.global[1] = 4, l.local[0] = 8))
LAUNCH_CASE(c_launch_local_not_dividing, l.local[0] = 48)
LAUNCH_CASE(c_launch_args_null, l.args = NULL)
LAUNCH_CASE(c_launch_buffer_null, base_args[0] = weft_karg_buffer(NULL))
LAUNCH_CASE(c_launch_buffer_other_device, base_args[0] = weft_karg_buffer(C.buf1))
LAUNCH_CASE(c_launch_scalar_null, base_args[1] = weft_karg_scalar(NULL, 4))
LAUNCH_CASE(c_launch_scalar_zero, base_args[1] = weft_karg_scalar(&launch_n, 0))
LAUNCH_CASE(c_launch_local_zero, base_args[1] = weft_karg_local(0))
LAUNCH_CASE(c_launch_kind_zero, base_args[1].kind = (weft_karg_kind_t)0)
LAUNCH_CASE(c_launch_kind_99, base_args[1].kind = (weft_karg_kind_t)99)
LAUNCH_CASE(c_launch_program_ok, (l.source = NULL, l.program = C.prog))

/* Device failures: accepted at launch, a panic at join (never a return code). */
static int launch_join_rc(const weft_launch_t *l)
{
    weft_handle_t *h = NULL;
    if (weft_launch(C.rt, l, &h)) return WRONG;
    weft_panic_t *p = NULL;
    int rc = weft_join(h, NULL, &p);
    int ok = rc != WEFT_EPANIC || (p && weft_panic_device(p) && weft_panic_kernel(p));
    weft_panic_destroy(p);
    return ok ? rc : WRONG;
}
static long c_launch_too_few_args(void)
{
    weft_launch_t l = base_launch();
    l.nargs = 1;
    return launch_join_rc(&l) == WEFT_EPANIC;
}
static long c_launch_unknown_entry(void)
{
    weft_launch_t l = base_launch();
    l.kernel = "no_such_kernel";
    weft_handle_t *h = NULL;
    return weft_launch(C.rt, &l, &h) == WEFT_EINVAL && !h &&
           strstr(weft_last_error_message(), "no_such_kernel") != NULL;
}
static long c_launch_broken_source(void)
{
    weft_launch_t l = base_launch();
    l.source = "__kernel void bi_k( { }";
    return launch_join_rc(&l) == WEFT_EPANIC;
}
static long c_launch_huge_local(void)
{
    weft_launch_t l = base_launch();
    l.global[0] = (size_t)1 << 20;
    l.local[0] = (size_t)1 << 20; /* divides, but no device takes work-groups that big */
    return launch_join_rc(&l) == WEFT_EPANIC;
}
static long c_scope_launch_null(void)
{
    weft_launch_t l = base_launch();
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    int rc = weft_scope_launch(NULL, &l, &h);
    return h == NULL ? rc : WRONG;
}

/* ---- faults, status names ---------------------------------------------------------- */

static long c_fault_null_rt(void) { return weft_fault_inject(NULL, 0, 0, -5, NULL); }
static long c_fault_device_below(void) { return weft_fault_inject(C.rt, -2, 0, -5, NULL); }
static long c_fault_device_int_min(void) { return weft_fault_inject(C.rt, INT_MIN, 0, -5, NULL); }
static long c_fault_launch_below(void) { return weft_fault_inject(C.rt, 0, -2, -5, NULL); }
static long c_fault_launch_long_min(void) { return weft_fault_inject(C.rt, 0, LONG_MIN, -5, NULL); }
static long c_fault_status_zero(void) { return weft_fault_inject(C.rt, 0, 0, 0, NULL); }
static long c_fault_status_positive(void) { return weft_fault_inject(C.rt, 0, 0, 7, NULL); }
/* A device number with no device yet is accepted (devices may be adopted
 * later, up to 64 of them) and never fires on the others; one past what a
 * runtime can ever hold is refused. */
static long c_fault_absent_device(void)
{
    /* A device the runtime does not have: the fault could never fire. */
    int rc = weft_fault_inject(C.rt, 63, 0, -5, "k");
    int absent = rc == WEFT_EINVAL && strstr(weft_last_error_message(), "device 63 does not exist") != NULL;
    int beyond = weft_fault_inject(C.rt, 64, 0, -5, "k");
    weft_fault_clear(C.rt);
    weft_fault_clear(NULL);
    return absent && beyond == WEFT_EINVAL && strstr(weft_last_error_message(), "-1 to 63") != NULL;
}
static long c_status_names(void)
{
    return strcmp(weft_cl_status_name(1), "CL_UNKNOWN_ERROR") == 0 &&
           strcmp(weft_cl_status_name(INT_MIN), "CL_UNKNOWN_ERROR") == 0 &&
           strcmp(weft_cl_status_name(0), "CL_SUCCESS") == 0 &&
           strcmp(weft_cl_status_name(-5), "CL_OUT_OF_RESOURCES") == 0;
}
static long c_status_parse_null_name(void) { return weft_cl_status_parse(NULL, &(int){0}); }
static long c_status_parse_null_out(void) { return weft_cl_status_parse("CL_OUT_OF_RESOURCES", NULL); }
static long c_status_parse_lowercase(void) { return weft_cl_status_parse("cl_out_of_resources", &(int){0}); }
static long c_status_parse_empty(void) { return weft_cl_status_parse("", &(int){0}); }
static long c_status_parse_trailing(void) { return weft_cl_status_parse("CL_OUT_OF_RESOURCES ", &(int){0}); }
static long c_status_parse_ok(void)
{
    int s = 0;
    return weft_cl_status_parse("CL_INVALID_KERNEL_ARGS", &s) == 0 && s == -52;
}

/* ---- parallel operations --------------------------------------------------------------- */

static unsigned char red_result, red_identity;
static weft_arg_t pf_args[2];

typedef struct pf_req {
    weft_runtime_t *rt;
    weft_kernel_t k;
    weft_range_t r;
    const weft_arg_t *args;
    size_t nargs;
    weft_policy_t pol;
    int null_policy;
    int null_out;
} pf_req;

static pf_req base_req(void)
{
    pf_req q;
    memset(&q, 0, sizeof q);
    q.rt = C.rt;
    q.k = CPU_K;
    q.r = weft_range_1d(256, 64);
    pf_args[0] = weft_arg_split(C.host, 256, 1, WEFT_READ_WRITE);
    pf_args[1] = weft_arg_reduce(&red_result, 1, &red_identity, combine_u8);
    q.args = pf_args;
    q.nargs = 1;
    weft_policy_init(&q.pol);
    return q;
}

static int pf_rc(const pf_req *q)
{
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    int rc = weft_parallel_for(q->rt, &q->k, q->r, q->args, q->nargs, q->null_policy ? NULL : &q->pol,
                               q->null_out ? NULL : &h);
    if (rc == 0) return weft_join(h, NULL, NULL) == 0 ? 0 : WRONG;
    return q->null_out || h == NULL ? rc : WRONG;
}

#define PF_CASE(fn, change)                                                                                            \
    static long fn(void)                                                                                               \
    {                                                                                                                  \
        pf_req q = base_req();                                                                                         \
        change;                                                                                                        \
        return pf_rc(&q);                                                                                              \
    }
PF_CASE(c_pf_ok, (void)0)
PF_CASE(c_pf_null_rt, q.rt = NULL)
PF_CASE(c_pf_null_out, q.null_out = 1)
PF_CASE(c_pf_no_name, q.k.name = NULL)
PF_CASE(c_pf_empty_name, q.k.name = "")
PF_CASE(c_pf_no_body, q.k.cpu = NULL)
PF_CASE(c_pf_source_no_entry, q.k.cl_source = SRC)
PF_CASE(c_pf_source_empty_entry, (q.k.cl_source = SRC, q.k.cl_entry = ""))
PF_CASE(c_pf_dims_zero, q.r.dims = 0)
PF_CASE(c_pf_dims_three, q.r.dims = 3)
PF_CASE(c_pf_group_zero, q.r.group[0] = 0)
PF_CASE(c_pf_2d_group_x_zero, (q.r = weft_range_2d(16, 16, 4, 4), q.r.group[0] = 0, pf_args[0].unit = 16))
PF_CASE(c_pf_2d_no_columns, (q.r = weft_range_2d(0, 16, 4, 4), pf_args[0].unit = 16))
PF_CASE(c_pf_2d_overflow, (q.r = weft_range_2d(SIZE_MAX, 2, 4, 1), q.nargs = 0))
PF_CASE(c_pf_2d_width_rounding_overflow, (q.r = weft_range_2d(SIZE_MAX - 1, 1, 64, 1), q.nargs = 0))
PF_CASE(c_pf_1d_size_max, (q.r = weft_range_1d(SIZE_MAX, 64), q.nargs = 0))
PF_CASE(c_pf_1d_rounding_overflow, (q.r = weft_range_1d(SIZE_MAX - 62, 64), q.nargs = 0))
PF_CASE(c_pf_args_null, q.args = NULL)
PF_CASE(c_pf_split_unit_zero, pf_args[0].unit = 0)
PF_CASE(c_pf_split_access_zero, pf_args[0].access = (weft_access_t)0)
PF_CASE(c_pf_split_access_four, pf_args[0].access = (weft_access_t)4)
PF_CASE(c_pf_split_unit_overflow, pf_args[0].unit = SIZE_MAX / 128)
PF_CASE(c_pf_split_null_data, pf_args[0].data = NULL)
PF_CASE(c_pf_split_too_small, pf_args[0].bytes = 255)
PF_CASE(c_pf_whole_null, pf_args[0] = weft_arg_whole(NULL, 256))
PF_CASE(c_pf_whole_empty, pf_args[0] = weft_arg_whole(C.host, 0))
PF_CASE(c_pf_whole_written, (pf_args[0] = weft_arg_whole(C.host, 256), pf_args[0].access = WEFT_READ_WRITE))
PF_CASE(c_pf_reduce_ok, q.nargs = 2)
PF_CASE(c_pf_reduce_no_result, (q.nargs = 2, pf_args[1].data = NULL))
PF_CASE(c_pf_reduce_no_identity, (q.nargs = 2, pf_args[1].value = NULL))
PF_CASE(c_pf_reduce_no_combine, (q.nargs = 2, pf_args[1].combine = NULL))
PF_CASE(c_pf_reduce_unit_zero, (q.nargs = 2, pf_args[1].unit = 0))
PF_CASE(c_pf_reduce_overflow, (q.r = weft_range_1d((size_t)1 << 40, 1), q.args = &pf_args[1], pf_args[1].unit = (size_t)1 << 40))
PF_CASE(c_pf_scalar_null, pf_args[0] = weft_arg_scalar(NULL, 4))
PF_CASE(c_pf_scalar_zero, pf_args[0] = weft_arg_scalar(&launch_n, 0))
PF_CASE(c_pf_local_zero, pf_args[0] = weft_arg_local(0))
PF_CASE(c_pf_kind_zero, pf_args[0].kind = (weft_arg_kind_t)0)
PF_CASE(c_pf_kind_99, pf_args[0].kind = (weft_arg_kind_t)99)
PF_CASE(c_pf_policy_kind_zero, q.pol.kind = (weft_policy_kind_t)0)
PF_CASE(c_pf_policy_kind_five, q.pol.kind = (weft_policy_kind_t)5)
PF_CASE(c_pf_on_fault_two, q.pol.on_fault = (weft_on_fault_t)2)
PF_CASE(c_pf_on_fault_negative, q.pol.on_fault = (weft_on_fault_t)-1)
PF_CASE(c_pf_no_place, (q.pol.use_cpu = 0, q.pol.devices = 0))
PF_CASE(c_pf_cpu_kernel_no_cpu, q.pol.use_cpu = 0)
PF_CASE(c_pf_device_kernel_no_device, (q.k.cpu = NULL, q.k.cl_source = SRC, q.k.cl_entry = "bi_k"))
PF_CASE(c_pf_device_kernel_devices_off, (q.k.cpu = NULL, q.k.cl_source = SRC, q.k.cl_entry = "bi_k", q.pol.devices = 0))
PF_CASE(c_pf_empty_range_null_data, (q.r = weft_range_1d(0, 64), pf_args[0].data = NULL, pf_args[0].bytes = 0))
PF_CASE(c_pf_null_policy, q.null_policy = 1)

static long c_pf_misc(void)
{
    weft_range_t a = weft_range_1d(0, 0), b = weft_range_2d(0, 0, 0, 0);
    weft_policy_init(NULL);
    weft_policy_t p;
    weft_policy_init(&p);
    weft_arg_t s = weft_arg_split_halo(NULL, 0, 0, 3), w = weft_arg_whole(NULL, 0), l = weft_arg_local(0);
    return a.dims == 1 && a.group[0] == 64 && b.dims == 2 && b.group[0] == 16 && b.group[1] == 4 &&
           p.kind == WEFT_POLICY_GUIDED && p.use_cpu == 1 && p.devices == WEFT_ALL_DEVICES &&
           p.on_fault == WEFT_FAULT_PROPAGATE && s.kind == WEFT_ARG_SPLIT && s.access == WEFT_READ && s.halo == 3 &&
           w.kind == WEFT_ARG_WHOLE && w.access == WEFT_READ && l.kind == WEFT_ARG_LOCAL;
}
static long c_scope_pf_null(void)
{
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)1;
    int rc = weft_scope_parallel_for(NULL, &CPU_K, weft_range_1d(4, 1), NULL, 0, NULL, &h);
    return h == NULL ? rc : WRONG;
}
static long c_parallel_run_null(void)
{
    weft_panic_t *p = (weft_panic_t *)(uintptr_t)1;
    int rc = weft_parallel_run(NULL, &CPU_K, weft_range_1d(4, 1), NULL, 0, NULL, &p);
    return p == NULL ? rc : WRONG;
}

/* Two operations writing the same bytes at once: the second is refused. */
static atomic_int hold;
static void holding_body(size_t b, size_t e, void *const *argv)
{
    (void)b;
    (void)e;
    (void)argv;
    uint64_t deadline = wt_now_ns() + 30ull * 1000000000u;
    while (atomic_load(&hold) && wt_now_ns() < deadline) weft_sleep_ns(100000);
}
static long c_pf_borrow(void)
{
    static const weft_kernel_t HOLD = {.name = "holding", .cpu = holding_body};
    weft_arg_t a = weft_arg_split(C.host + 1024, 64, 1, WEFT_WRITE);
    weft_handle_t *h1, *h2 = (weft_handle_t *)(uintptr_t)1;
    atomic_store(&hold, 1);
    if (weft_parallel_for(C.rt, &HOLD, weft_range_1d(64, 64), &a, 1, NULL, &h1)) return WRONG;
    weft_arg_t b = weft_arg_split(C.host + 1056, 64, 1, WEFT_READ_WRITE); /* overlaps a's bytes 32..63 */
    int rc = weft_parallel_for(C.rt, &CPU_K, weft_range_1d(64, 64), &b, 1, NULL, &h2);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", weft_last_error_message());
    atomic_store(&hold, 0);
    if (weft_join(h1, NULL, NULL)) return WRONG;
    if (rc == 0) weft_join(h2, NULL, NULL);
    return h2 == NULL && strstr(msg, "holding") ? rc : WRONG;
}
static long c_stats_null_rt(void) { return weft_runtime_last_run_stats(NULL, &(weft_run_stats_t){0}); }
static long c_stats_null_out(void) { return weft_runtime_last_run_stats(C.rt, NULL); }

static weft_runtime_t *trace_rt(void)
{
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 1;
    o.devices = "none";
    weft_runtime_t *rt = NULL;
    return weft_runtime_create(&o, &rt) == 0 ? rt : NULL;
}
static long c_trace_start_null_rt(void) { return weft_trace_start(NULL, "/tmp/x.json"); }
static long c_trace_flush_null_rt(void) { return weft_trace_flush(NULL); }
/* A NULL path records in memory only: flushing that trace has no file. */
static long c_trace_flush_memory_only(void)
{
    weft_runtime_t *rt = trace_rt();
    int rc = rt && weft_trace_start(rt, NULL) == 0 ? weft_trace_flush(rt) : WRONG;
    weft_runtime_destroy(rt);
    return rc;
}
static long c_trace_start_empty_path(void)
{
    weft_runtime_t *rt = trace_rt();
    int rc = rt ? weft_trace_start(rt, "") : WRONG;
    weft_runtime_destroy(rt);
    return rc;
}
static long c_trace_flush_not_on(void)
{
    weft_runtime_t *rt = trace_rt();
    int rc = rt ? weft_trace_flush(rt) : WRONG;
    weft_runtime_destroy(rt);
    return rc;
}
static long c_trace_unwritable(void)
{
    weft_runtime_t *rt = trace_rt();
    int rc = rt ? weft_trace_start(rt, "/nonexistent-dir-of-weft/trace.json") : WRONG; /* refused at once */
    weft_runtime_destroy(rt);
    return rc;
}

/* ---- bundled kernels ------------------------------------------------------------------ */

#ifdef WEFT_TEST_HAVE_KERNELS
static weft_k_args_t ka;
static float kres;
static uint32_t khist[WEFT_K_HIST_BINS];
static long c_k_start_null(void) { return weft_k_start(NULL, NULL, NULL, NULL); }
static long c_k_run_null_args(void) { return weft_k_run(C.rt, NULL, NULL, NULL); }
static long c_k_saxpy_null_args(void) { return weft_k_saxpy_args(NULL, 4, 1.0f, C.f, C.f + 8); }
static long c_k_saxpy_null_x(void) { return weft_k_saxpy_args(&ka, 4, 1.0f, NULL, C.f); }
static long c_k_saxpy_null_y(void) { return weft_k_saxpy_args(&ka, 4, 1.0f, C.f, NULL); }
static long c_k_saxpy_empty(void) { return weft_k_saxpy_args(&ka, 0, 1.0f, NULL, NULL); }
static long c_k_saxpy_null_rt(void) { return weft_k_saxpy(NULL, NULL, 4, 1.0f, C.f, C.f + 8, NULL); }
static long c_k_sdot_group_three(void) { return weft_k_sdot_args(&ka, 8, C.f, C.f, &kres, 3); }
static long c_k_sdot_group_big(void) { return weft_k_sdot_args(&ka, 8, C.f, C.f, &kres, 2048); }
static long c_k_sdot_null_result(void) { return weft_k_sdot_args(&ka, 8, C.f, C.f, NULL, 0); }
static long c_k_mandel_width_zero(void) { return weft_k_mandelbrot_args(&ka, 0, 4, 0, 0, 1, 1, 8, (uint32_t *)C.f); }
static long c_k_mandel_height_zero(void) { return weft_k_mandelbrot_args(&ka, 4, 0, 0, 0, 1, 1, 8, (uint32_t *)C.f); }
static long c_k_mandel_width_huge(void)
{
    return weft_k_mandelbrot_args(&ka, (size_t)UINT32_MAX + 1, 1, 0, 0, 1, 1, 8, (uint32_t *)C.f);
}
static long c_k_mandel_null_out(void) { return weft_k_mandelbrot_args(&ka, 4, 4, 0, 0, 1, 1, 8, NULL); }
static long c_k_stencil_same(void) { return weft_k_stencil5_args(&ka, 8, 8, 0.5f, 0.1f, C.f, C.f); }
static long c_k_stencil_width_zero(void) { return weft_k_stencil5_args(&ka, 0, 8, 0.5f, 0.1f, C.f, C.f + 64); }
static long c_k_stencil_null_in(void) { return weft_k_stencil5_args(&ka, 8, 8, 0.5f, 0.1f, NULL, C.f); }
static long c_k_hist_equal(void) { return weft_k_histogram_args(&ka, 8, C.f, 1.0f, 1.0f, khist); }
static long c_k_hist_reversed(void) { return weft_k_histogram_args(&ka, 8, C.f, 2.0f, 1.0f, khist); }
static long c_k_hist_nan(void) { return weft_k_histogram_args(&ka, 8, C.f, NAN, 1.0f, khist); }
static long c_k_hist_inf(void) { return weft_k_histogram_args(&ka, 8, C.f, 0.0f, INFINITY, khist); }
static long c_k_hist_null_hist(void) { return weft_k_histogram_args(&ka, 8, C.f, 0.0f, 1.0f, NULL); }
static long c_k_hist_null_data(void) { return weft_k_histogram_args(&ka, 8, NULL, 0.0f, 1.0f, khist); }
static long c_k_hist_empty(void) { return weft_k_histogram_args(&ka, 0, NULL, 0.0f, 1.0f, khist); }
static long c_k_nbody_zero(void) { return weft_k_nbody_args(&ka, 0, 0.1f, 0.01f, C.f, C.f + 64, C.f + 128); }
static long c_k_nbody_huge(void)
{
    return weft_k_nbody_args(&ka, (size_t)UINT32_MAX + 1, 0.1f, 0.01f, C.f, C.f + 64, C.f + 128);
}
static long c_k_nbody_same(void) { return weft_k_nbody_args(&ka, 4, 0.1f, 0.01f, C.f, C.f + 64, C.f); }
static long c_k_nbody_eps_zero(void) { return weft_k_nbody_args(&ka, 4, 0.1f, 0.0f, C.f, C.f + 64, C.f + 128); }
static long c_k_nbody_eps_nan(void) { return weft_k_nbody_args(&ka, 4, 0.1f, NAN, C.f, C.f + 64, C.f + 128); }
static long c_k_sgemm_n_zero(void) { return weft_k_sgemm_args(&ka, 4, 0, 4, 1, C.f, C.f + 64, 0, C.f + 128); }
static long c_k_sgemm_k_zero(void) { return weft_k_sgemm_args(&ka, 4, 4, 0, 1, C.f, C.f + 64, 0, C.f + 128); }
static long c_k_sgemm_m_huge(void)
{
    return weft_k_sgemm_args(&ka, (size_t)INT32_MAX + 1, 4, 4, 1, C.f, C.f + 64, 0, C.f + 128);
}
static long c_k_sgemm_overlap(void) { return weft_k_sgemm_args(&ka, 4, 4, 4, 1, C.f, C.f + 64, 0, C.f + 8); }
static long c_k_sgemm_null_a(void) { return weft_k_sgemm_args(&ka, 4, 4, 4, 1, NULL, C.f + 64, 0, C.f + 128); }
static long c_k_sgemm_null_rt(void) { return weft_k_sgemm(NULL, NULL, 4, 4, 4, 1, C.f, C.f + 64, 0, C.f + 128, NULL); }
static long c_k_sgemm_no_place(void)
{
    weft_policy_t p;
    weft_policy_init(&p);
    p.use_cpu = 0;
    p.devices = 0;
    return weft_k_sgemm(C.rt, &p, 4, 4, 4, 1, C.f, C.f + 64, 0, C.f + 128, NULL);
}
#endif

/* ---- the table ---------------------------------------------------------------------------- */

typedef struct bad_case {
    const char *name;
    long (*call)(void);
    long expect;
    int flags;
} bad_case;

#define R(fn, expect, flags) {#fn, fn, expect, flags}
#define V(fn, flags) {#fn, fn, 1, (flags) | VAL}
static const bad_case CASES[] = {
    V(c_strerror, 0), V(c_err_name, 0),
    V(c_options_init_null, 0), R(c_create_null_out, WEFT_EINVAL, 0),
    R(c_create_threads_negative, WEFT_EINVAL, 0), R(c_create_threads_int_min, WEFT_EINVAL, 0),
    R(c_create_devices_nomatch, WEFT_EINVAL, 0), R(c_create_devices_index, WEFT_EINVAL, 0),
    R(c_create_devices_empty_term, WEFT_EINVAL, 0), R(c_create_devices_comma, WEFT_EINVAL, 0),
    R(c_create_devices_blank, WEFT_EINVAL, 0), R(c_create_devices_negative, WEFT_EINVAL, 0),
    R(c_create_devices_huge_index, WEFT_EINVAL, 0), R(c_create_devices_long_term, WEFT_EINVAL, 0),
    R(c_create_devices_emptystring, 0, 0),
    R(c_env_threads_abc, WEFT_EINVAL, MAIN), R(c_env_threads_zero, WEFT_EINVAL, MAIN),
    R(c_env_threads_negative, WEFT_EINVAL, MAIN), R(c_env_threads_too_many, WEFT_EINVAL, MAIN),
    R(c_env_threads_trailing, WEFT_EINVAL, MAIN), R(c_env_threads_overflow, WEFT_EINVAL, MAIN),
    R(c_env_fault_no_status, WEFT_EINVAL, MAIN), R(c_env_fault_positive, WEFT_EINVAL, MAIN),
    R(c_env_fault_device, WEFT_EINVAL, MAIN), R(c_env_fault_launch, WEFT_EINVAL, MAIN),
    R(c_env_fault_key, WEFT_EINVAL, MAIN), R(c_env_fault_name, WEFT_EINVAL, MAIN),
    R(c_env_fault_bare, WEFT_EINVAL, MAIN), R(c_env_devices, WEFT_EINVAL, MAIN),
    V(c_runtime_null_getters, 0), V(c_current_worker_main, MAIN),
    V(c_panic_null_getters, 0), V(c_panic_payload_edges, 0),
    R(c_spawn_null_rt, WEFT_EINVAL, 0), R(c_spawn_null_fn, WEFT_EINVAL, 0), R(c_spawn_null_out, WEFT_EINVAL, 0),
    R(c_join_null, WEFT_EINVAL, 0), V(c_handle_null, 0), V(c_builder_null_means_defaults, 0),
    R(c_name_invalid_byte, WEFT_EINVAL, 0), R(c_name_newline, WEFT_EINVAL, 0), R(c_name_del, WEFT_EINVAL, 0),
    R(c_name_overlong, WEFT_EINVAL, 0), R(c_name_surrogate, WEFT_EINVAL, 0), R(c_name_truncated, WEFT_EINVAL, 0),
    R(c_name_c1_control, WEFT_EINVAL, 0), R(c_name_beyond_unicode, WEFT_EINVAL, 0), R(c_name_empty, 0, 0),
    R(c_stack_one, WEFT_EINVAL, 0), R(c_stack_below_min, WEFT_EINVAL, 0), R(c_stack_absurd, WEFT_EINVAL, 0),
    R(c_stack_size_max, WEFT_EINVAL, 0),
    R(c_builder_null_rt, WEFT_EINVAL, 0), R(c_builder_null_fn, WEFT_EINVAL, 0), R(c_builder_null_out, WEFT_EINVAL, 0),
    R(c_scope_null_rt, WEFT_EINVAL, 0), R(c_scope_null_body, WEFT_EINVAL, 0),
    R(c_scope_spawn_null_scope, WEFT_EINVAL, 0), R(c_scope_builder_null_scope, WEFT_EINVAL, 0),
    R(c_scope_spawn_null_fn, WEFT_EINVAL, 0), R(c_scope_builder_bad_name, WEFT_EINVAL, 0),
    R(c_scope_builder_small_stack, WEFT_EINVAL, 0), R(c_scope_builder_absurd_stack, WEFT_EINVAL, 0),
    V(c_scope_misc_null, 0),
    R(c_local_key_null_init, WEFT_EINVAL, 0), R(c_local_key_null_out, WEFT_EINVAL, 0),
    R(c_local_get_null, WEFT_EINVAL, 0), R(c_worker_key_null_rt, WEFT_EINVAL, 0),
    R(c_worker_key_null_init, WEFT_EINVAL, 0), R(c_worker_key_null_out, WEFT_EINVAL, 0),
    R(c_worker_key_too_many, WEFT_ENOMEM, 0), R(c_worker_local_get_null, WEFT_EINVAL, 0),
    R(c_worker_local_get_main, WEFT_EINVAL, MAIN),
    R(c_mutex_init_null, WEFT_EINVAL, 0), R(c_mutex_lock_null, WEFT_EINVAL, 0), R(c_mutex_unlock_null, WEFT_EINVAL, 0),
    V(c_mutex_null_getters, 0),
    V(c_device_count_null, 0), R(c_device_info_null_rt, WEFT_EINVAL, 0), R(c_device_info_minus_one, WEFT_EINVAL, 0),
    R(c_device_info_past_end, WEFT_EINVAL, 0), R(c_device_info_int_max, WEFT_EINVAL, 0),
    R(c_device_info_int_min, WEFT_EINVAL, 0), R(c_device_info_null_out, WEFT_EINVAL, 0),
    V(c_device_print_edges, 0), R(c_device_cl_null_rt, WEFT_EINVAL, 0), R(c_device_cl_minus_one, WEFT_EINVAL, 0),
    R(c_device_cl_past_end, WEFT_EINVAL, 0), R(c_device_cl_all_null_outputs, 0, DEV),
    R(c_adopt_null_rt, WEFT_EINVAL, DEV), R(c_adopt_null_ctx, WEFT_EINVAL, DEV), R(c_adopt_null_queue, WEFT_EINVAL, DEV),
    R(c_adopt_mismatched, WEFT_EINVAL, DEV2),
    R(c_program_null_rt, WEFT_EINVAL, 0), R(c_program_null_src, WEFT_EINVAL, 0), R(c_program_null_out, WEFT_EINVAL, 0),
    R(c_program_no_device, WEFT_ENODEV, NODEV), R(c_program_bad_source, WEFT_EBUILD, DEV),
    R(c_program_bad_options, WEFT_EBUILD, DEV), V(c_program_cl_edges, DEV),
    R(c_buffer_null_rt, WEFT_EINVAL, 0), R(c_buffer_null_out, WEFT_EINVAL, 0), R(c_buffer_dev_minus_one, WEFT_EINVAL, 0),
    R(c_buffer_dev_past_end, WEFT_EINVAL, 0), R(c_buffer_zero_bytes, WEFT_EINVAL, 0),
    R(c_buffer_access_zero, WEFT_EINVAL, 0), R(c_buffer_access_four, WEFT_EINVAL, 0),
    R(c_buffer_access_negative, WEFT_EINVAL, 0), R(c_buffer_size_max, WEFT_EINVAL, DEV),
    R(c_buffer_above_max_alloc, WEFT_EINVAL, DEV), R(c_wrap_null_host, WEFT_EINVAL, 0),
    R(c_wrap_zero_bytes, WEFT_EINVAL, 0),
    R(c_adopt_buffer_null_rt, WEFT_EINVAL, DEV), R(c_adopt_buffer_null_mem, WEFT_EINVAL, 0),
    R(c_adopt_buffer_null_out, WEFT_EINVAL, DEV), R(c_adopt_buffer_bad_device, WEFT_EINVAL, DEV),
    R(c_adopt_buffer_other_context, WEFT_EINVAL, DEV2), V(c_buffer_null_getters, 0),
    R(c_write_null_buffer, WEFT_EINVAL, 0), R(c_write_null_src, WEFT_EINVAL, DEV),
    R(c_write_null_src_zero, WEFT_EINVAL, DEV), R(c_write_offset_past_end, WEFT_EINVAL, DEV),
    R(c_write_bytes_overflow, WEFT_EINVAL, DEV), R(c_write_offset_overflow, WEFT_EINVAL, DEV),
    R(c_write_straddles_end, WEFT_EINVAL, DEV), R(c_write_empty_at_end, 0, DEV),
    R(c_read_null_buffer, WEFT_EINVAL, 0), R(c_read_null_dst, WEFT_EINVAL, DEV),
    R(c_read_offset_past_end, WEFT_EINVAL, DEV), R(c_read_bytes_overflow, WEFT_EINVAL, DEV),
    R(c_read_offset_overflow, WEFT_EINVAL, DEV), R(c_read_empty_at_end, 0, DEV),
    R(c_sync_dev_null, WEFT_EINVAL, 0), R(c_sync_dev_not_wrapped, WEFT_EINVAL, DEV),
    R(c_sync_dev_past_end, WEFT_EINVAL, DEV), R(c_sync_dev_overflow, WEFT_EINVAL, DEV),
    R(c_sync_dev_offset_overflow, WEFT_EINVAL, DEV), R(c_sync_dev_whole, 0, DEV),
    R(c_sync_host_null, WEFT_EINVAL, 0), R(c_sync_host_not_wrapped, WEFT_EINVAL, DEV),
    R(c_sync_host_overflow, WEFT_EINVAL, DEV), R(c_sync_host_offset_overflow, WEFT_EINVAL, DEV),
    R(c_map_null_buffer, WEFT_EINVAL, 0), R(c_map_null_ptr, WEFT_EINVAL, DEV), R(c_map_zero_bytes, WEFT_EINVAL, DEV),
    R(c_map_past_end, WEFT_EINVAL, DEV), R(c_map_offset_overflow, WEFT_EINVAL, DEV),
    R(c_map_access_zero, WEFT_EINVAL, DEV), R(c_map_access_four, WEFT_EINVAL, DEV), R(c_map_fine, 0, DEV),
    R(c_unmap_null_buffer, WEFT_EINVAL, 0), R(c_unmap_null_ptr, WEFT_EINVAL, DEV),
    V(c_karg_and_init, 0), R(c_launch_null_rt, WEFT_EINVAL, 0), R(c_launch_null_out, WEFT_EINVAL, 0),
    R(c_launch_null_launch, WEFT_EINVAL, 0), R(c_launch_ok, 0, DEV),
    R(c_launch_device_minus_one, WEFT_EINVAL, 0), R(c_launch_device_past_end, WEFT_EINVAL, 0),
    R(c_launch_no_kernel, WEFT_EINVAL, DEV), R(c_launch_empty_kernel, WEFT_EINVAL, DEV),
    R(c_launch_program_and_source, WEFT_EINVAL, DEV), R(c_launch_neither, WEFT_EINVAL, DEV),
    R(c_launch_dims_zero, WEFT_EINVAL, DEV), R(c_launch_dims_four, WEFT_EINVAL, DEV),
    R(c_launch_global_zero, WEFT_EINVAL, DEV), R(c_launch_global_zero_dim2, WEFT_EINVAL, DEV),
    R(c_launch_offset_overflow, WEFT_EINVAL, DEV), R(c_launch_local_partial, WEFT_EINVAL, DEV),
    R(c_launch_local_not_dividing, WEFT_EINVAL, DEV), R(c_launch_args_null, WEFT_EINVAL, DEV),
    R(c_launch_buffer_null, WEFT_EINVAL, DEV), R(c_launch_buffer_other_device, WEFT_EINVAL, DEV2),
    R(c_launch_scalar_null, WEFT_EINVAL, DEV), R(c_launch_scalar_zero, WEFT_EINVAL, DEV),
    R(c_launch_local_zero, WEFT_EINVAL, DEV), R(c_launch_kind_zero, WEFT_EINVAL, DEV),
    R(c_launch_kind_99, WEFT_EINVAL, DEV), R(c_launch_program_ok, 0, DEV),
    V(c_launch_too_few_args, DEV), V(c_launch_unknown_entry, DEV), V(c_launch_broken_source, DEV),
    V(c_launch_huge_local, DEV), R(c_scope_launch_null, WEFT_EINVAL, 0),
    R(c_fault_null_rt, WEFT_EINVAL, 0), R(c_fault_device_below, WEFT_EINVAL, 0),
    R(c_fault_device_int_min, WEFT_EINVAL, 0), R(c_fault_launch_below, WEFT_EINVAL, 0),
    R(c_fault_launch_long_min, WEFT_EINVAL, 0), R(c_fault_status_zero, WEFT_EINVAL, 0),
    R(c_fault_status_positive, WEFT_EINVAL, 0), V(c_fault_absent_device, 0), V(c_status_names, 0),
    R(c_status_parse_null_name, WEFT_EINVAL, 0), R(c_status_parse_null_out, WEFT_EINVAL, 0),
    R(c_status_parse_lowercase, WEFT_EINVAL, 0), R(c_status_parse_empty, WEFT_EINVAL, 0),
    R(c_status_parse_trailing, WEFT_EINVAL, 0), V(c_status_parse_ok, 0),
    V(c_pf_misc, 0), R(c_scope_pf_null, WEFT_EINVAL, 0), R(c_parallel_run_null, WEFT_EINVAL, 0),
    R(c_pf_ok, 0, 0), R(c_pf_null_rt, WEFT_EINVAL, 0), R(c_pf_null_out, WEFT_EINVAL, 0),
    R(c_pf_no_name, WEFT_EINVAL, 0), R(c_pf_empty_name, WEFT_EINVAL, 0), R(c_pf_no_body, WEFT_EINVAL, 0),
    R(c_pf_source_no_entry, WEFT_EINVAL, 0), R(c_pf_source_empty_entry, WEFT_EINVAL, 0),
    R(c_pf_dims_zero, WEFT_EINVAL, 0), R(c_pf_dims_three, WEFT_EINVAL, 0), R(c_pf_group_zero, WEFT_EINVAL, 0),
    R(c_pf_2d_group_x_zero, WEFT_EINVAL, 0), R(c_pf_2d_no_columns, WEFT_EINVAL, 0),
    R(c_pf_2d_overflow, WEFT_EINVAL, 0), R(c_pf_2d_width_rounding_overflow, WEFT_EINVAL, 0),
    R(c_pf_1d_size_max, WEFT_EINVAL, 0), R(c_pf_1d_rounding_overflow, WEFT_EINVAL, 0),
    R(c_pf_args_null, WEFT_EINVAL, 0), R(c_pf_split_unit_zero, WEFT_EINVAL, 0),
    R(c_pf_split_access_zero, WEFT_EINVAL, 0), R(c_pf_split_access_four, WEFT_EINVAL, 0),
    R(c_pf_split_unit_overflow, WEFT_EINVAL, 0), R(c_pf_split_null_data, WEFT_EINVAL, 0),
    R(c_pf_split_too_small, WEFT_EINVAL, 0), R(c_pf_whole_null, WEFT_EINVAL, 0), R(c_pf_whole_empty, WEFT_EINVAL, 0),
    R(c_pf_whole_written, WEFT_EINVAL, 0), R(c_pf_reduce_ok, 0, 0), R(c_pf_reduce_no_result, WEFT_EINVAL, 0),
    R(c_pf_reduce_no_identity, WEFT_EINVAL, 0), R(c_pf_reduce_no_combine, WEFT_EINVAL, 0),
    R(c_pf_reduce_unit_zero, WEFT_EINVAL, 0), R(c_pf_reduce_overflow, WEFT_EINVAL, 0),
    R(c_pf_scalar_null, WEFT_EINVAL, 0), R(c_pf_scalar_zero, WEFT_EINVAL, 0), R(c_pf_local_zero, WEFT_EINVAL, 0),
    R(c_pf_kind_zero, WEFT_EINVAL, 0), R(c_pf_kind_99, WEFT_EINVAL, 0), R(c_pf_policy_kind_zero, WEFT_EINVAL, 0),
    R(c_pf_policy_kind_five, WEFT_EINVAL, 0), R(c_pf_on_fault_two, WEFT_EINVAL, 0),
    R(c_pf_on_fault_negative, WEFT_EINVAL, 0), R(c_pf_no_place, WEFT_EINVAL, 0),
    R(c_pf_cpu_kernel_no_cpu, WEFT_EINVAL, 0), R(c_pf_device_kernel_no_device, WEFT_EINVAL, NODEV),
    R(c_pf_device_kernel_devices_off, WEFT_EINVAL, 0), R(c_pf_empty_range_null_data, 0, 0),
    R(c_pf_null_policy, 0, 0), R(c_pf_borrow, WEFT_EBORROW, 0),
    R(c_stats_null_rt, WEFT_EINVAL, 0), R(c_stats_null_out, WEFT_EINVAL, 0),
    R(c_trace_start_null_rt, WEFT_EINVAL, 0), R(c_trace_flush_null_rt, WEFT_EINVAL, 0),
    R(c_trace_flush_memory_only, WEFT_EINVAL, 0), R(c_trace_start_empty_path, WEFT_EINVAL, 0),
    R(c_trace_flush_not_on, WEFT_EINVAL, 0), R(c_trace_unwritable, WEFT_EINVAL, 0),
#ifdef WEFT_TEST_HAVE_KERNELS
    R(c_k_start_null, WEFT_EINVAL, 0), R(c_k_run_null_args, WEFT_EINVAL, 0),
    R(c_k_saxpy_null_args, WEFT_EINVAL, 0), R(c_k_saxpy_null_x, WEFT_EINVAL, 0), R(c_k_saxpy_null_y, WEFT_EINVAL, 0),
    R(c_k_saxpy_empty, 0, 0), R(c_k_saxpy_null_rt, WEFT_EINVAL, 0),
    R(c_k_sdot_group_three, WEFT_EINVAL, 0), R(c_k_sdot_group_big, WEFT_EINVAL, 0),
    R(c_k_sdot_null_result, WEFT_EINVAL, 0), R(c_k_mandel_width_zero, WEFT_EINVAL, 0),
    R(c_k_mandel_height_zero, WEFT_EINVAL, 0), R(c_k_mandel_width_huge, WEFT_EINVAL, 0),
    R(c_k_mandel_null_out, WEFT_EINVAL, 0), R(c_k_stencil_same, WEFT_EINVAL, 0),
    R(c_k_stencil_width_zero, WEFT_EINVAL, 0), R(c_k_stencil_null_in, WEFT_EINVAL, 0),
    R(c_k_hist_equal, WEFT_EINVAL, 0), R(c_k_hist_reversed, WEFT_EINVAL, 0), R(c_k_hist_nan, WEFT_EINVAL, 0),
    R(c_k_hist_inf, WEFT_EINVAL, 0), R(c_k_hist_null_hist, WEFT_EINVAL, 0), R(c_k_hist_null_data, WEFT_EINVAL, 0),
    R(c_k_hist_empty, 0, 0), R(c_k_nbody_zero, WEFT_EINVAL, 0), R(c_k_nbody_huge, WEFT_EINVAL, 0),
    R(c_k_nbody_same, WEFT_EINVAL, 0), R(c_k_nbody_eps_zero, WEFT_EINVAL, 0), R(c_k_nbody_eps_nan, WEFT_EINVAL, 0),
    R(c_k_sgemm_n_zero, WEFT_EINVAL, 0), R(c_k_sgemm_k_zero, WEFT_EINVAL, 0), R(c_k_sgemm_m_huge, WEFT_EINVAL, 0),
    R(c_k_sgemm_overlap, WEFT_EINVAL, 0), R(c_k_sgemm_null_a, WEFT_EINVAL, 0), R(c_k_sgemm_null_rt, WEFT_EINVAL, 0),
    R(c_k_sgemm_no_place, WEFT_EINVAL, 0),
#endif
};
#define NCASES (sizeof CASES / sizeof CASES[0])

static int applicable(const bad_case *c, int on_main)
{
    if ((c->flags & DEV) && C.nd < 1) return 0;
    if ((c->flags & DEV2) && C.nd < 2) return 0;
    if ((c->flags & NODEV) && C.nd != 0) return 0;
    if ((c->flags & MAIN) && !on_main) return 0;
    return 1;
}

/* Run every applicable row; describe the mismatches in report. */
static int run_table(int on_main, char *report, size_t cap, size_t *ran)
{
    int bad = 0;
    size_t len = 0;
    *ran = 0;
    for (size_t i = 0; i < NCASES; i++) {
        const bad_case *c = &CASES[i];
        if (!applicable(c, on_main)) continue;
        (*ran)++;
        /* A known message first: a failing row must replace it with its own. */
        int sentinel;
        weft_cl_status_parse("bad-input-sentinel", &sentinel);
        long got = c->call();
        const char *msg = weft_last_error_message();
        int msg_ok = 1;
        if (!(c->flags & VAL) && c->expect < 0)
            msg_ok = msg[0] != '\0' && strstr(msg, "bad-input-sentinel") == NULL;
        if (got != c->expect || !msg_ok) {
            bad++;
            if (len < cap)
                len += (size_t)snprintf(report + len, cap - len, "  %s: got %ld (%s), expected %ld (%s)%s; message \"%s\"\n",
                                        c->name, got, weft_err_name((int)got), c->expect, weft_err_name((int)c->expect),
                                        msg_ok ? "" : ", no message of its own", msg);
        }
    }
    return bad;
}

/* ---- set-up, the runs, the runtime afterwards ------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    wt_capture_install(); /* the panics rows cause are expected: keep them quiet */
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 2;
    if (weft_runtime_create(&o, &C.rt)) return -1;
    C.nd = weft_device_count(C.rt);
    C.devnull = fopen("/dev/null", "w");
    for (size_t i = 0; i < HOSTN; i++) C.f[i] = (float)i / 64.0f;
    if (C.nd >= 1) {
        weft_panic_t *why = NULL;
        if (weft_buffer_create(C.rt, 0, 256, WEFT_READ_WRITE, &C.buf) ||
            weft_buffer_wrap(C.rt, 0, C.host + 2048, 256, WEFT_READ_WRITE, &C.wrapped) ||
            weft_program_create(C.rt, SRC, NULL, &C.prog, &why))
            return -1;
    }
    if (C.nd >= 2 && weft_buffer_create(C.rt, 1, 256, WEFT_READ_WRITE, &C.buf1)) return -1;
    fprintf(stderr, "note: %d device(s); %zu rows in the table\n", C.nd, NCASES);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    weft_buffer_destroy(C.buf);
    weft_buffer_destroy(C.wrapped);
    weft_buffer_destroy(C.buf1);
    weft_program_destroy(C.prog);
    weft_runtime_destroy(C.rt);
    if (C.devnull) fclose(C.devnull);
    wt_capture_restore();
    return 0;
}

static void table_on_main_thread(void **state)
{
    (void)state;
    char report[8192] = "";
    size_t ran;
    int bad = run_table(1, report, sizeof report, &ran);
    fprintf(stderr, "note: main thread: %zu rows run, %d wrong\n", ran, bad);
    if (bad) fail_msg("%d rows disagree with the documentation:\n%s", bad, report);
}

typedef struct in_task {
    int bad;
    size_t ran;
    char report[8192];
} in_task;

static void *table_task(void *arg)
{
    in_task *t = arg;
    t->bad = run_table(0, t->report, sizeof t->report, &t->ran);
    return NULL;
}

static void table_in_a_task(void **state)
{
    (void)state;
    static in_task t;
    weft_handle_t *h;
    assert_int_equal(weft_spawn(C.rt, table_task, &t, &h), 0);
    assert_int_equal(weft_join(h, NULL, NULL), 0);
    fprintf(stderr, "note: in a task: %zu rows run, %d wrong\n", t.ran, t.bad);
    if (t.bad) fail_msg("%d rows disagree with the documentation (in a task):\n%s", t.bad, t.report);
}

static int add_one(weft_scope_t *s, void *arg)
{
    weft_handle_t *h;
    void *r = NULL;
    if (weft_scope_spawn(s, echo, arg, &h) || weft_join(h, &r, NULL)) return -1;
    return r == arg ? 0 : -2;
}

static void runtime_still_works(void **state)
{
    (void)state;
    weft_handle_t *h;
    void *r = NULL;
    assert_int_equal(weft_spawn(C.rt, echo, (void *)7, &h), 0);
    assert_int_equal(weft_join(h, &r, NULL), 0);
    assert_ptr_equal(r, (void *)7);
    assert_int_equal(weft_scope(C.rt, add_one, (void *)9, NULL), 0);
    /* A tiny launch on every device. */
    for (int d = 0; d < C.nd; d++) {
        uint32_t y[64];
        for (int i = 0; i < 64; i++) y[i] = (uint32_t)i;
        weft_buffer_t *b = NULL;
        assert_int_equal(weft_buffer_wrap(C.rt, d, y, sizeof y, WEFT_READ_WRITE, &b), 0);
        weft_karg_t args[] = {weft_karg_buffer(b), weft_karg_scalar(&launch_n, sizeof launch_n)};
        weft_launch_t l = wt_launch_1d(d, NULL, SRC, "bi_k", 64, args, 2);
        assert_int_equal(weft_launch(C.rt, &l, &h), 0);
        assert_int_equal(weft_join(h, NULL, NULL), 0);
        assert_int_equal(weft_buffer_sync_to_host(b, 0, sizeof y), 0);
        weft_buffer_destroy(b);
        for (int i = 0; i < 64; i++) assert_int_equal(y[i], (uint32_t)i + 1);
    }
    /* A split operation over every place. */
    unsigned char data[512];
    memset(data, 5, sizeof data);
    weft_arg_t a = weft_arg_split(data, sizeof data, 1, WEFT_READ_WRITE);
    assert_int_equal(weft_parallel_run(C.rt, &CPU_K, weft_range_1d(sizeof data, 64), &a, 1, NULL, NULL), 0);
    for (size_t i = 0; i < sizeof data; i++) assert_int_equal(data[i], 6);
    assert_int_equal(weft_runtime_detached_panics(C.rt), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_on_main_thread),
        cmocka_unit_test(table_in_a_task),
        cmocka_unit_test(runtime_still_works),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
