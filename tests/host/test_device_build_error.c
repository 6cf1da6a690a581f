/* test_device_build_error.c — a program that does not compile.
 * weft_program_create returns WEFT_EBUILD and hands back a payload with the
 * compiler's build log (naming the bad line), the device and
 * CL_BUILD_PROGRAM_FAILURE; the same source given to a launch makes
 * weft_launch succeed and the join report the build failure as a panic, with
 * the kernel, file and line of the launch. The runtime stays usable. A
 * failed build is cached with its log: launching the same source again fails
 * at once with the same log, without building again (white-box: counts the
 * host layer's builds, host/host.h).
 * Skips cleanly when the machine has no OpenCL device. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/opencl.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"

/* 1 when some line of the log holds both ":3:" and "error" (PoCL writes
 * "error: <file>.cl:3:12: use of undeclared identifier ..."). */
static int log_has_error_on_line_3(const char *log)
{
    for (const char *at = log ? strstr(log, ":3:") : NULL; at; at = strstr(at + 1, ":3:")) {
        const char *bol = at;
        while (bol > log && bol[-1] != '\n') bol--;
        const char *eol = strchr(at, '\n');
        size_t len = eol ? (size_t)(eol - bol) : strlen(bol);
        char line[1024];
        if (len >= sizeof line) len = sizeof line - 1;
        memcpy(line, bol, len);
        line[len] = '\0';
        if (strstr(line, "error")) return 1;
    }
    return 0;
}

/* Line 3 uses an undeclared identifier. */
static const char BAD_SRC[] =
    "__kernel void broken(__global int *o)\n"
    "{\n"
    "    o[0] = undeclared_thing_xyz;\n"
    "}\n";

static const char GOOD_SRC[] =
    "__kernel void fill(__global int *o, int v)\n"
    "{\n"
    "    o[get_global_id(0)] = v + (int)get_global_id(0);\n"
    "}\n";

/* After a failure the runtime still builds and runs a good kernel. */
static void still_usable(weft_runtime_t *rt, int dev)
{
    weft_buffer_t *b = NULL;
    WT_CHECK(weft_buffer_create(rt, dev, 64 * sizeof(int), WEFT_WRITE, &b));
    int v = 40;
    weft_karg_t args[2] = {weft_karg_buffer(b), weft_karg_scalar(&v, sizeof v)};
    weft_launch_t l = wt_launch_1d(dev, NULL, GOOD_SRC, "fill", 64, args, 2);
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(rt, &l, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
    int out[64];
    WT_CHECK(weft_buffer_read(b, 0, out, sizeof out));
    for (int i = 0; i < 64; i++) assert_int_equal(out[i], 40 + i);
    weft_buffer_destroy(b);
}

static void program_create_reports_build_log(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, 0, &info));

    weft_program_t *prog = (weft_program_t *)1;
    weft_panic_t *why = NULL;
    int rc = weft_program_create(rt, BAD_SRC, NULL, &prog, &why);
    assert_int_equal(rc, WEFT_EBUILD);
    assert_null(prog);
    wt_assert_contains(weft_last_error_message(), "build failed");
    wt_assert_contains(weft_last_error_message(), info.name);
    assert_non_null(why);

    const char *log = weft_panic_build_log(why);
    assert_non_null(log);
    wt_assert_contains(log, ":3:");                   /* the bad line */
    if (!log_has_error_on_line_3(log)) fail_msg("no error for line 3 in the build log:\n%s", log);
    wt_assert_contains(log, "undeclared_thing_xyz"); /* and what is wrong on it */
    wt_assert_contains(log, "error");
    assert_string_equal(weft_panic_device(why), info.name);
    assert_int_equal(weft_panic_cl_status(why), CL_BUILD_PROGRAM_FAILURE);
    assert_string_equal(weft_panic_cl_status_name(why), "CL_BUILD_PROGRAM_FAILURE");
    wt_assert_contains(weft_panic_message(why), info.name);
    wt_assert_contains(weft_panic_message(why), "CL_BUILD_PROGRAM_FAILURE");
    /* The report the default hook would print carries the log. */
    char report[8192];
    weft_panic_format(why, report, sizeof report);
    wt_assert_contains(report, "build log");
    wt_assert_contains(report, ":3:");
    weft_panic_destroy(why);

    /* Without a `why`, the status and message are the same. */
    prog = (weft_program_t *)1;
    assert_int_equal(weft_program_create(rt, BAD_SRC, NULL, &prog, NULL), WEFT_EBUILD);
    assert_null(prog);
    wt_assert_contains(weft_last_error_message(), "CL_BUILD_PROGRAM_FAILURE");

    /* A bad build option also fails to build. */
    why = NULL;
    rc = weft_program_create(rt, GOOD_SRC, "-Dbroken=(", &prog, &why);
    if (rc == WEFT_EBUILD) {
        assert_non_null(why);
        assert_string_equal(weft_panic_device(why), info.name);
        assert_int_not_equal(weft_panic_cl_status(why), 0);
        weft_panic_destroy(why);
    } else {
        /* The compiler accepted it: the definition is unused. */
        assert_int_equal(rc, 0);
        weft_program_destroy(prog);
    }

    for (int d = 0; d < weft_device_count(rt); d++) still_usable(rt, d);
    weft_runtime_destroy(rt);
}

/* Builds attempted so far on device d (host/program.c counts them). */
static long builds_on(weft_runtime_t *rt, int d) { return atomic_load(&weft__host_of(rt)->devices[d]->builds); }

/* Not BAD_SRC: the other tests may have built (and cached) that already. */
static const char BAD_ONCE_SRC[] =
    "__kernel void broken_once(__global int *o)\n"
    "{\n"
    "    o[0] = not_declared_once;\n"
    "}\n";

static void failed_build_cached(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_buffer_t *b = NULL;
        WT_CHECK(weft_buffer_create(rt, d, 16 * sizeof(int), WEFT_WRITE, &b));
        weft_karg_t args[1] = {weft_karg_buffer(b)};
        weft_launch_t l = wt_launch_1d(d, NULL, BAD_ONCE_SRC, "broken_once", 16, args, 1);
        long before = builds_on(rt, d);
        char *first_log = NULL;
        for (int round = 0; round < 3; round++) {
            weft_handle_t *h = NULL;
            weft_panic_t *p = NULL;
            WT_CHECK(weft_launch(rt, &l, &h));
            assert_int_equal(weft_join(h, NULL, &p), WEFT_EPANIC);
            assert_int_equal(weft_panic_cl_status(p), CL_BUILD_PROGRAM_FAILURE);
            assert_string_equal(weft_panic_kernel(p), "broken_once");
            const char *log = weft_panic_build_log(p);
            assert_non_null(log);
            wt_assert_contains(log, "not_declared_once");
            if (!first_log) first_log = strdup(log);
            else assert_string_equal(log, first_log);
            weft_panic_destroy(p);
            if (builds_on(rt, d) != before + 1)
                fail_msg("device %d, launch %d: %ld builds, want 1", d, round, builds_on(rt, d) - before);
        }
        /* weft_program_create finds the same failure in the cache (it stops
         * at device 0's, the first it builds for). */
        if (d == 0) {
            weft_program_t *prog = (weft_program_t *)1;
            weft_panic_t *why = NULL;
            assert_int_equal(weft_program_create(rt, BAD_ONCE_SRC, NULL, &prog, &why), WEFT_EBUILD);
            assert_null(prog);
            wt_assert_contains(weft_last_error_message(), "CL_BUILD_PROGRAM_FAILURE");
            assert_string_equal(weft_panic_build_log(why), first_log);
            weft_panic_destroy(why);
            assert_int_equal(builds_on(rt, d), before + 1);
        }
        /* Other options are another build. */
        l.options = "-DSOMETHING=1";
        weft_handle_t *h = NULL;
        WT_CHECK(weft_launch(rt, &l, &h));
        assert_int_equal(weft_join(h, NULL, NULL), WEFT_EPANIC);
        assert_int_equal(builds_on(rt, d), before + 2);
        free(first_log);
        weft_buffer_destroy(b);
        still_usable(rt, d);
    }
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

static void launch_source_build_failure_panics(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, d, &info));
        weft_buffer_t *b = NULL;
        WT_CHECK(weft_buffer_create(rt, d, 16 * sizeof(int), WEFT_WRITE, &b));
        weft_karg_t args[1] = {weft_karg_buffer(b)};
        weft_launch_t l = wt_launch_1d(d, NULL, BAD_SRC, "broken", 16, args, 1);
        weft_handle_t *h = NULL;
        int hooks_before = wt_capture_count();
        int line = __LINE__; int rc = weft_launch(rt, &l, &h);
        assert_int_equal(rc, 0); /* the failure belongs to the handle */
        assert_non_null(h);
        weft_panic_t *p = NULL;
        void *result = (void *)1;
        assert_int_equal(weft_join(h, &result, &p), WEFT_EPANIC);
        assert_null(result);
        assert_non_null(p);
        const char *log = weft_panic_build_log(p);
        assert_non_null(log);
        wt_assert_contains(log, ":3:");
        if (!log_has_error_on_line_3(log)) fail_msg("no error for line 3 in the build log:\n%s", log);
        wt_assert_contains(log, "undeclared_thing_xyz");
        assert_string_equal(weft_panic_kernel(p), "broken");
        assert_string_equal(weft_panic_device(p), info.name);
        assert_int_equal(weft_panic_cl_status(p), CL_BUILD_PROGRAM_FAILURE);
        assert_string_equal(weft_panic_cl_status_name(p), "CL_BUILD_PROGRAM_FAILURE");
        wt_assert_contains(weft_panic_message(p), "build failed");
        assert_string_equal(weft_panic_file(p), __FILE__);
        assert_int_equal(weft_panic_line(p), line);
        assert_string_equal(weft_panic_thread(p), "<unnamed>");
        weft_panic_destroy(p);
        /* The hook heard of it once, with the kernel named. */
        wt_capture heard;
        wt_capture_get(&heard);
        assert_int_equal(heard.count - hooks_before, 1);
        assert_int_equal(heard.last.cl_status, CL_BUILD_PROGRAM_FAILURE);
        assert_true(heard.last.has_build_log);
        assert_string_equal(heard.last.kernel, "broken");

        /* A failed build is not cached as a success: it fails again. */
        WT_CHECK(weft_launch(rt, &l, &h));
        assert_int_equal(weft_join(h, NULL, NULL), WEFT_EPANIC);
        weft_buffer_destroy(b);
        still_usable(rt, d);
    }
    wt_capture_restore();
    weft_runtime_destroy(rt);
}

int main(void)
{
    unsetenv("WEFT_FAULT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(program_create_reports_build_log),
        cmocka_unit_test(launch_source_build_failure_panics),
        cmocka_unit_test(failed_build_cached),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
