/* test_device_fault.c — injected device failures become panics on the
 * launch's handle, with the OpenCL status and its name, the device, the
 * kernel, the range, and the file and line of the weft_launch call; only the
 * chosen launch fails. Faults come from weft_fault_inject() or from
 * $WEFT_FAULT at runtime creation; bad $WEFT_FAULT strings make
 * weft_runtime_create fail with WEFT_EINVAL and a message.
 *
 * Run without arguments for the API tests. Run with the argument "env" (its
 * own CTest entry) under WEFT_FAULT="device=0,launch=1,status=CL_INVALID_VALUE".
 * Skips cleanly when the machine has no OpenCL device. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/testing.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a launch to fail --------------------------------------------------------- */
static const char SRC[] =
    "__kernel void add_one(__global int *v)\n"
    "{\n"
    "    v[get_global_id(0)] += 1;\n"
    "}\n"
    "__kernel void add_ten(__global int *v)\n"
    "{\n"
    "    v[get_global_id(0)] += 10;\n"
    "}\n";

#define LEN 1024
#define OFFSET 100
#define GLOBAL 256

typedef struct target {
    weft_buffer_t *buf;
    weft_karg_t args[1];
    weft_launch_t l;
} target;

/* A launch of `kernel` over [OFFSET, OFFSET+GLOBAL) of a zeroed buffer. */
static void target_init(target *t, weft_runtime_t *rt, int dev, const char *kernel)
{
    static const int zeros[LEN];
    WT_CHECK(weft_buffer_create(rt, dev, sizeof zeros, WEFT_READ_WRITE, &t->buf));
    WT_CHECK(weft_buffer_write(t->buf, 0, zeros, sizeof zeros));
    t->args[0] = weft_karg_buffer(t->buf);
    t->l = wt_launch_1d(dev, NULL, SRC, kernel, GLOBAL, t->args, 1);
    t->l.offset[0] = OFFSET;
}

/* Every element of the target: `per_run` times `runs` inside the range, 0 outside. */
static void target_check(const target *t, int per_run, int runs)
{
    int v[LEN];
    WT_CHECK(weft_buffer_read(t->buf, 0, v, sizeof v));
    for (int i = 0; i < LEN; i++) {
        int want = i >= OFFSET && i < OFFSET + GLOBAL ? per_run * runs : 0;
        if (v[i] != want) fail_msg("v[%d] = %d, want %d", i, v[i], want);
    }
}

/* Launch and join; returns the join status, *p gets the panic. */
static int run(weft_runtime_t *rt, const weft_launch_t *l, weft_panic_t **p)
{
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(rt, l, &h));
    return weft_join(h, NULL, p);
}

/* The whole payload of an injected CL_OUT_OF_RESOURCES. */
static void check_payload(const weft_panic_t *p, const weft_device_info_t *info, const char *kernel,
                          int status, const char *status_name, int line)
{
    assert_non_null(p);
    assert_int_equal(weft_panic_cl_status(p), status);
    assert_string_equal(weft_panic_cl_status_name(p), status_name);
    assert_string_equal(weft_panic_device(p), info->name);
    assert_string_equal(weft_panic_kernel(p), kernel);
    size_t begin = 0, end = 0;
    assert_int_equal(weft_panic_range(p, &begin, &end), 1);
    assert_int_equal(begin, OFFSET);
    assert_int_equal(end, OFFSET + GLOBAL);
    assert_string_equal(weft_panic_file(p), __FILE__);
    assert_int_equal(weft_panic_line(p), line);
    assert_null(weft_panic_build_log(p));
    assert_null(weft_panic_cause(p));
    const char *msg = weft_panic_message(p);
    wt_assert_contains(msg, kernel);
    wt_assert_contains(msg, info->name);
    wt_assert_contains(msg, status_name);
    wt_assert_contains(msg, "[100, 356)");
}

/* ---- API: weft_fault_inject ---------------------------------------------------- */
static void inject_first_launch(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, d, &info));
        target t;
        target_init(&t, rt, d, "add_one");
        WT_CHECK(weft_fault_inject(rt, d, 0, CL_OUT_OF_RESOURCES, NULL));
        int hooks = wt_capture_count();

        weft_handle_t *h = NULL;
        int line = __LINE__; int rc = weft_launch(rt, &t.l, &h);
        assert_int_equal(rc, 0); /* device failures are never returned by weft_launch */
        assert_non_null(h);
        weft_panic_t *p = NULL;
        void *result = (void *)1;
        assert_int_equal(weft_join(h, &result, &p), WEFT_EPANIC);
        assert_null(result);
        check_payload(p, &info, "add_one", CL_OUT_OF_RESOURCES, "CL_OUT_OF_RESOURCES", line);
        assert_string_equal(weft_panic_thread(p), "<unnamed>");
        weft_panic_destroy(p);

        /* The hook heard of it once, with the report the default hook prints. */
        wt_capture seen;
        wt_capture_get(&seen);
        assert_int_equal(seen.count - hooks, 1);
        assert_int_equal(seen.last.cl_status, CL_OUT_OF_RESOURCES);
        wt_assert_contains(seen.last.report, "thread '<unnamed>' panicked at ");
        wt_assert_contains(seen.last.report, __FILE__);
        wt_assert_contains(seen.last.report, "CL_OUT_OF_RESOURCES");
        wt_assert_contains(seen.last.report, info.name);
        wt_assert_contains(seen.last.report, "range: [100, 356)");
        target_check(&t, 1, 0); /* the failed launch did not run */

        /* Launch 1 succeeds, and so does launch 2. */
        assert_int_equal(run(rt, &t.l, &p), 0);
        assert_null(p);
        target_check(&t, 1, 1);
        assert_int_equal(run(rt, &t.l, &p), 0);
        target_check(&t, 1, 2);
        assert_int_equal(wt_capture_count(), hooks + 1);
        weft_buffer_destroy(t.buf);
        weft_fault_clear(rt);
    }
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* "the n-th launch on that device counting from 0 after this call": launches
 * made before the injection do not count. */
static void inject_counts_from_the_call(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, 0, &info));
    target t;
    target_init(&t, rt, 0, "add_one");
    weft_panic_t *p = NULL;
    for (int i = 0; i < 3; i++) assert_int_equal(run(rt, &t.l, &p), 0);
    target_check(&t, 1, 3);

    WT_CHECK(weft_fault_inject(rt, 0, 1, CL_MEM_OBJECT_ALLOCATION_FAILURE, NULL));
    assert_int_equal(run(rt, &t.l, &p), 0); /* launch 0 after the call */
    assert_null(p);
    weft_handle_t *h = NULL;
    int line = __LINE__; WT_CHECK(weft_launch(rt, &t.l, &h)); /* launch 1: fails */
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    check_payload(p, &info, "add_one", CL_MEM_OBJECT_ALLOCATION_FAILURE, "CL_MEM_OBJECT_ALLOCATION_FAILURE", line);
    weft_panic_destroy(p);
    assert_int_equal(run(rt, &t.l, &p), 0); /* launch 2 */
    target_check(&t, 1, 5);
    assert_int_equal(wt_capture_count(), 1);
    weft_buffer_destroy(t.buf);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* launch -1 fails every launch; a kernel filter spares other kernels; clear
 * removes the faults and restarts the counts. */
static void inject_every_launch_of_one_kernel(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, 0, &info));
    target one, ten;
    target_init(&one, rt, 0, "add_one");
    target_init(&ten, rt, 0, "add_ten");
    WT_CHECK(weft_fault_inject(rt, -1, -1, CL_INVALID_VALUE, "add_ten"));
    weft_panic_t *p = NULL;
    for (int i = 0; i < 3; i++) {
        weft_handle_t *h = NULL;
        int line = __LINE__; WT_CHECK(weft_launch(rt, &ten.l, &h));
        assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
        check_payload(p, &info, "add_ten", CL_INVALID_VALUE, "CL_INVALID_VALUE", line);
        weft_panic_destroy(p);
        assert_int_equal(run(rt, &one.l, &p), 0);
        assert_null(p);
    }
    target_check(&one, 1, 3);
    target_check(&ten, 10, 0);
    assert_int_equal(wt_capture_count(), 3);

    weft_fault_clear(rt);
    assert_int_equal(run(rt, &ten.l, &p), 0);
    target_check(&ten, 10, 1);

    /* After a clear, counting restarts from 0. */
    WT_CHECK(weft_fault_inject(rt, 0, 0, CL_OUT_OF_HOST_MEMORY, NULL));
    assert_int_equal(run(rt, &one.l, &p), WEFT_EPANIC);
    assert_int_equal(weft_panic_cl_status(p), CL_OUT_OF_HOST_MEMORY);
    assert_string_equal(weft_panic_cl_status_name(p), "CL_OUT_OF_HOST_MEMORY");
    weft_panic_destroy(p);
    assert_int_equal(run(rt, &one.l, &p), 0);
    target_check(&one, 1, 4);

    /* A fault for a device the runtime does not have could never fire: refused. */
    weft_fault_clear(rt);
    int n = weft_device_count(rt);
    char says[128];
    assert_int_equal(weft_fault_inject(rt, n, -1, CL_OUT_OF_RESOURCES, NULL), WEFT_EINVAL);
    snprintf(says, sizeof says, "weft_fault_inject: device %d does not exist: the runtime has %d device%s", n, n,
             n == 1 ? "" : "s");
    wt_assert_contains(weft_last_error_message(), says);
    assert_int_equal(weft_fault_inject(rt, 9, 0, CL_OUT_OF_RESOURCES, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "device 9 does not exist");
    assert_int_equal(run(rt, &one.l, &p), 0);
    target_check(&one, 1, 5);
    weft_fault_clear(rt);
    weft_fault_clear(NULL);

    weft_buffer_destroy(one.buf);
    weft_buffer_destroy(ten.buf);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

/* The panic names the task that launched. */
typedef struct named_launch {
    weft_runtime_t *rt;
    const weft_launch_t *l;
    int launch_rc, join_rc, cl_status, line;
    char thread[64];
} named_launch;

static void *launch_from_task(void *arg)
{
    named_launch *n = arg;
    weft_handle_t *h = NULL;
    n->line = __LINE__; n->launch_rc = weft_launch(n->rt, n->l, &h);
    if (n->launch_rc) return NULL;
    weft_panic_t *p = NULL;
    n->join_rc = weft_join(h, NULL, &p);
    if (p) {
        n->cl_status = weft_panic_cl_status(p);
        snprintf(n->thread, sizeof n->thread, "%s", weft_panic_thread(p));
        weft_panic_destroy(p);
    }
    return NULL;
}

static void panic_names_the_launching_task(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    target t;
    target_init(&t, rt, 0, "add_one");
    WT_CHECK(weft_fault_inject(rt, 0, 0, CL_OUT_OF_RESOURCES, NULL));
    named_launch n = {.rt = rt, .l = &t.l};
    weft_builder_t b;
    weft_builder_init(&b);
    b.name = "gpu-feeder";
    weft_handle_t *h = NULL;
    WT_CHECK(weft_builder_spawn(&b, rt, launch_from_task, &n, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
    assert_int_equal(n.launch_rc, 0);
    assert_int_equal(n.join_rc, WEFT_EPANIC);
    assert_int_equal(n.cl_status, CL_OUT_OF_RESOURCES);
    assert_string_equal(n.thread, "gpu-feeder");
    weft_buffer_destroy(t.buf);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

static void inject_bad_arguments(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    assert_int_equal(weft_fault_inject(NULL, 0, 0, CL_OUT_OF_RESOURCES, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "runtime is NULL");
    assert_int_equal(weft_fault_inject(rt, 0, 0, 0, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "not a failure");
    assert_int_equal(weft_fault_inject(rt, 0, 0, 5, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "not a failure");
    assert_int_equal(weft_fault_inject(rt, -2, 0, CL_OUT_OF_RESOURCES, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), ">= -1");
    assert_int_equal(weft_fault_inject(rt, 0, -2, CL_OUT_OF_RESOURCES, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), ">= -1");
    /* None of them took effect. */
    target t;
    target_init(&t, rt, 0, "add_one");
    weft_panic_t *p = NULL;
    assert_int_equal(run(rt, &t.l, &p), 0);
    target_check(&t, 1, 1);
    weft_buffer_destroy(t.buf);
    weft_runtime_destroy(rt);
}

static void status_names(void **state)
{
    (void)state;
    assert_string_equal(weft_cl_status_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES");
    assert_string_equal(weft_cl_status_name(CL_INVALID_VALUE), "CL_INVALID_VALUE");
    assert_string_equal(weft_cl_status_name(CL_BUILD_PROGRAM_FAILURE), "CL_BUILD_PROGRAM_FAILURE");
    assert_string_equal(weft_cl_status_name(CL_SUCCESS), "CL_SUCCESS");
    assert_string_equal(weft_cl_status_name(-12345), "CL_UNKNOWN_ERROR");
    int s = 0;
    assert_int_equal(weft_cl_status_parse("CL_OUT_OF_RESOURCES", &s), 0);
    assert_int_equal(s, CL_OUT_OF_RESOURCES);
    assert_int_equal(weft_cl_status_parse("CL_INVALID_KERNEL_ARGS", &s), 0);
    assert_int_equal(s, CL_INVALID_KERNEL_ARGS);
    assert_int_equal(weft_cl_status_parse("CL_NO_SUCH_THING", &s), WEFT_EINVAL);
    assert_int_equal(weft_cl_status_parse(NULL, &s), WEFT_EINVAL);
}

/* ---- $WEFT_FAULT ----------------------------------------------------------- */
static void env_faults_parsed_at_creation(void **state)
{
    (void)state;
    /* Two clauses: a name and a number, an index and a wildcard, a kernel. */
    setenv("WEFT_FAULT", "device=0,launch=0,status=CL_OUT_OF_RESOURCES;device=*,launch=2,status=-9999,kernel=add_ten", 1);
    weft_runtime_t *rt = NULL;
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 1;
    int rc = weft_runtime_create(&o, &rt);
    unsetenv("WEFT_FAULT");
    if (rc) fail_msg("create: %s: %s", weft_err_name(rc), weft_last_error_message());
    if (weft_device_count(rt) == 0) {
        weft_runtime_destroy(rt);
        skip();
    }
    wt_capture_install();
    target one, ten;
    target_init(&one, rt, 0, "add_one");
    target_init(&ten, rt, 0, "add_ten");
    weft_panic_t *p = NULL;
    assert_int_equal(run(rt, &one.l, &p), WEFT_EPANIC); /* launch 0 */
    assert_int_equal(weft_panic_cl_status(p), CL_OUT_OF_RESOURCES);
    weft_panic_destroy(p);
    assert_int_equal(run(rt, &ten.l, &p), 0);           /* launch 1 */
    assert_int_equal(run(rt, &ten.l, &p), WEFT_EPANIC); /* launch 2, add_ten */
    assert_int_equal(weft_panic_cl_status(p), -9999);
    assert_string_equal(weft_panic_cl_status_name(p), "CL_UNKNOWN_ERROR");
    assert_string_equal(weft_panic_kernel(p), "add_ten");
    weft_panic_destroy(p);
    assert_int_equal(run(rt, &one.l, &p), 0); /* launch 3 */
    target_check(&one, 1, 1);
    target_check(&ten, 10, 1);
    weft_buffer_destroy(one.buf);
    weft_buffer_destroy(ten.buf);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

static void env_bad_faults_refused(void **state)
{
    (void)state;
    static const struct {
        const char *spec;
        const char *says; /* in the message */
    } bad[] = {
        {"device=0,launch=1", "needs status"},
        {"status=CL_NO_SUCH_STATUS", "neither a CL_ error name nor a negative number"},
        {"status=5", "neither a CL_ error name nor a negative number"},
        {"status=CL_SUCCESS", "needs status"},
        {"device=x,status=CL_OUT_OF_RESOURCES", "is not an index"},
        {"device=-3,status=CL_OUT_OF_RESOURCES", "is not an index"},
        {"launch=1.5,status=CL_OUT_OF_RESOURCES", "is not an index"},
        {"device=100000,status=CL_OUT_OF_RESOURCES", "out of range"},
        {"device=63,status=CL_OUT_OF_RESOURCES", "device 63 does not exist: the runtime has"},
        {"colour=red,status=CL_OUT_OF_RESOURCES", "unknown key"},
        {"device=0,status=-5;garbage", "is not key=value"},
        {"device", "is not key=value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("WEFT_FAULT", bad[i].spec, 1);
        weft_runtime_t *rt = (weft_runtime_t *)1;
        weft_runtime_options_t o;
        weft_runtime_options_init(&o);
        o.cpu_threads = 1;
        int rc = weft_runtime_create(&o, &rt);
        unsetenv("WEFT_FAULT");
        if (rc != WEFT_EINVAL) {
            if (rc == 0) weft_runtime_destroy(rt);
            fail_msg("WEFT_FAULT=\"%s\": create gave %s, want WEFT_EINVAL", bad[i].spec, weft_err_name(rc));
        }
        assert_null(rt);
        wt_assert_contains(weft_last_error_message(), "WEFT_FAULT");
        wt_assert_contains(weft_last_error_message(), bad[i].spec);
        wt_assert_contains(weft_last_error_message(), bad[i].says);
    }
    /* A device past the ones the runtime opened, named with their count. */
    setenv("WEFT_FAULT", "device=7,status=CL_OUT_OF_RESOURCES", 1);
    weft_runtime_options_t o;
    weft_runtime_options_init(&o);
    o.cpu_threads = 1;
    o.devices = "none";
    weft_runtime_t *none = (weft_runtime_t *)1;
    assert_int_equal(weft_runtime_create(&o, &none), WEFT_EINVAL);
    unsetenv("WEFT_FAULT");
    assert_null(none);
    wt_assert_contains(weft_last_error_message(),
                       "WEFT_FAULT=\"device=7,status=CL_OUT_OF_RESOURCES\": device 7 does not exist: the runtime "
                       "has 0 devices");
    /* An empty WEFT_FAULT injects nothing. */
    setenv("WEFT_FAULT", "", 1);
    weft_runtime_t *rt = NULL;
    int rc = weft_runtime_create(NULL, &rt);
    unsetenv("WEFT_FAULT");
    assert_int_equal(rc, 0);
    weft_runtime_destroy(rt);
}

/* ---- the "env" entry: WEFT_FAULT set by CTest --------------------------------- */
static void env_from_ctest(void **state)
{
    (void)state;
    const char *spec = getenv("WEFT_FAULT");
    assert_non_null(spec);
    assert_string_equal(spec, "device=0,launch=1,status=CL_INVALID_VALUE");
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, 0, &info));
    target t;
    target_init(&t, rt, 0, "add_one");
    weft_panic_t *p = NULL;
    assert_int_equal(run(rt, &t.l, &p), 0); /* launch 0 */
    assert_null(p);
    weft_handle_t *h = NULL;
    int line = __LINE__; WT_CHECK(weft_launch(rt, &t.l, &h)); /* launch 1 */
    assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
    check_payload(p, &info, "add_one", CL_INVALID_VALUE, "CL_INVALID_VALUE", line);
    weft_panic_destroy(p);
    assert_int_equal(run(rt, &t.l, &p), 0); /* launch 2 */
    target_check(&t, 1, 2);
    assert_int_equal(wt_capture_count(), 1);
    /* Other devices are untouched. */
    for (int d = 1; d < weft_device_count(rt); d++) {
        target u;
        target_init(&u, rt, d, "add_one");
        for (int i = 0; i < 3; i++) assert_int_equal(run(rt, &u.l, &p), 0);
        target_check(&u, 1, 3);
        weft_buffer_destroy(u.buf);
    }
    weft_buffer_destroy(t.buf);
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "env") == 0) {
        const struct CMUnitTest env_tests[] = {
            cmocka_unit_test(env_from_ctest),
        };
        return cmocka_run_group_tests_name("test_device_fault_env", env_tests, NULL, NULL);
    }
    unsetenv("WEFT_FAULT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inject_first_launch),
        cmocka_unit_test(inject_counts_from_the_call),
        cmocka_unit_test(inject_every_launch_of_one_kernel),
        cmocka_unit_test(panic_names_the_launching_task),
        cmocka_unit_test(inject_bad_arguments),
        cmocka_unit_test(status_names),
        cmocka_unit_test(env_faults_parsed_at_creation),
        cmocka_unit_test(env_bad_faults_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
