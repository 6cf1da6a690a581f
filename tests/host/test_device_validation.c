/* test_device_validation.c — weft_launch refuses bad launches up front with
 * WEFT_EINVAL and a message, creates no handle and panics nothing: NULL
 * arguments, dims 0 and 4, a zero or overflowing size, a local size that does
 * not divide the global one, a buffer of another device, neither or both of
 * program and source, no kernel name, a kernel the program does not define,
 * bad arguments. Mistakes only the device can see (missing or mis-sized
 * arguments) are not returned: they panic the launch's handle with the
 * OpenCL status. The
 * runtime stays usable throughout. Skips cleanly without an OpenCL device. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/opencl.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char SRC[] =
    "__kernel void inc(__global int *v, int by)\n"
    "{\n"
    "    v[get_global_id(0)] += by;\n"
    "}\n";

#define N 256

typedef struct fixture {
    weft_runtime_t *rt;
    weft_program_t *prog;
    weft_buffer_t *buf;
    int by;
    int runs;                     /* good launches so far: v[i] == runs * by */
    weft_karg_t args[2];
} fixture;

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    WT_CHECK(weft_program_create(f->rt, SRC, NULL, &f->prog, NULL));
    static const int zeros[N];
    WT_CHECK(weft_buffer_create(f->rt, 0, sizeof zeros, WEFT_READ_WRITE, &f->buf));
    WT_CHECK(weft_buffer_write(f->buf, 0, zeros, sizeof zeros));
    f->by = 3;
    f->args[0] = weft_karg_buffer(f->buf);
    f->args[1] = weft_karg_scalar(&f->by, sizeof f->by);
    wt_capture_install(); /* counts panics: none are expected from refusals */
}

/* A good launch of inc over the whole buffer. */
static void good_launch(fixture *f, weft_launch_t *l)
{
    *l = wt_launch_1d(0, f->prog, NULL, "inc", N, f->args, 2);
}

/* The runtime still runs a good launch, and every element shows it. */
static void still_usable(fixture *f)
{
    weft_launch_t l;
    good_launch(f, &l);
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(f->rt, &l, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
    f->runs++;
    int v[N];
    WT_CHECK(weft_buffer_read(f->buf, 0, v, sizeof v));
    for (int i = 0; i < N; i++)
        if (v[i] != f->runs * f->by) fail_msg("v[%d] = %d after %d runs", i, v[i], f->runs);
}

static void fixture_free(fixture *f)
{
    weft_buffer_destroy(f->buf);
    weft_program_destroy(f->prog);
    weft_runtime_destroy(f->rt);
    wt_capture_restore();
}

/* l must be refused with WEFT_EINVAL, a message holding `says`, no handle and
 * no panic; then the runtime must still work. */
#define expect_refused(f, l, says) expect_refused_at(__LINE__, (f), (l), (says))
static void expect_refused_at(int line, fixture *f, const weft_launch_t *l, const char *says)
{
    weft_handle_t *h = (weft_handle_t *)1;
    int before = wt_capture_count();
    int rc = weft_launch(f->rt, l, &h);
    if (rc != WEFT_EINVAL) {
        if (rc == 0) weft_join(h, NULL, NULL);
        fail_msg("line %d: weft_launch gave %s, want WEFT_EINVAL", line, weft_err_name(rc));
    }
    if (h != NULL) fail_msg("line %d: a handle came back from a refused launch", line);
    const char *msg = weft_last_error_message();
    if (!strstr(msg, says)) fail_msg("line %d: expected \"%s\" in \"%s\"", line, says, msg);
    if (!strstr(msg, "weft_launch")) fail_msg("line %d: message does not name weft_launch: %s", line, msg);
    assert_int_equal(wt_capture_count(), before);
    still_usable(f);
}

static void refused_launches(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    weft_launch_t l;

    /* NULLs */
    weft_handle_t *h = (weft_handle_t *)1;
    assert_int_equal(weft_launch(f.rt, NULL, &h), WEFT_EINVAL);
    assert_null(h);
    wt_assert_contains(weft_last_error_message(), "launch is NULL");
    good_launch(&f, &l);
    h = (weft_handle_t *)1;
    assert_int_equal(weft_launch(NULL, &l, &h), WEFT_EINVAL);
    assert_null(h);
    wt_assert_contains(weft_last_error_message(), "runtime is NULL");
    assert_int_equal(weft_launch(f.rt, &l, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "out is NULL");
    still_usable(&f);

    good_launch(&f, &l);
    l.dims = 0;
    expect_refused(&f, &l, "dims is 0");
    good_launch(&f, &l);
    l.dims = 4;
    expect_refused(&f, &l, "dims is 4");

    good_launch(&f, &l);
    l.global[0] = 0;
    expect_refused(&f, &l, "global size of dimension 0 is 0");
    good_launch(&f, &l);
    l.dims = 2; /* global[1] left at 0 */
    expect_refused(&f, &l, "global size of dimension 1 is 0");
    good_launch(&f, &l);
    l.offset[0] = SIZE_MAX - 10;
    expect_refused(&f, &l, "overflows");

    good_launch(&f, &l);
    l.local[0] = 100; /* 256 % 100 != 0 */
    expect_refused(&f, &l, "local size 100 does not divide global size 256");
    good_launch(&f, &l);
    l.dims = 2;
    l.global[1] = 4;
    l.local[0] = 16; /* and none for dimension 1 */
    expect_refused(&f, &l, "every dimension or for none");

    good_launch(&f, &l);
    l.program = NULL; /* neither */
    expect_refused(&f, &l, "exactly one of program and source");
    good_launch(&f, &l);
    l.source = SRC; /* both */
    expect_refused(&f, &l, "exactly one of program and source");

    good_launch(&f, &l);
    l.kernel = NULL;
    expect_refused(&f, &l, "no kernel name");
    good_launch(&f, &l);
    l.kernel = "";
    expect_refused(&f, &l, "no kernel name");

    good_launch(&f, &l);
    l.device = -1;
    expect_refused(&f, &l, "device -1 does not exist");
    good_launch(&f, &l);
    l.device = weft_device_count(f.rt);
    char says[64];
    snprintf(says, sizeof says, "device %d does not exist", l.device);
    expect_refused(&f, &l, says);

    /* Arguments */
    weft_karg_t bad[2];
    good_launch(&f, &l);
    l.args = NULL;
    expect_refused(&f, &l, "nargs is 2 but args is NULL");
    good_launch(&f, &l);
    bad[0] = weft_karg_buffer(NULL);
    bad[1] = f.args[1];
    l.args = bad;
    expect_refused(&f, &l, "argument 0: buffer is NULL");
    good_launch(&f, &l);
    bad[0] = f.args[0];
    bad[1] = weft_karg_scalar(NULL, 4);
    l.args = bad;
    expect_refused(&f, &l, "argument 1: scalar needs a value and a size");
    bad[1] = weft_karg_scalar(&f.by, 0);
    expect_refused(&f, &l, "argument 1: scalar needs a value and a size");
    bad[1] = weft_karg_local(0);
    expect_refused(&f, &l, "argument 1: __local size is 0");
    bad[1] = f.args[1];
    bad[1].kind = (weft_karg_kind_t)42;
    expect_refused(&f, &l, "argument 1: unknown kind 42");

    /* Scoped launches check the same, and a NULL scope. */
    assert_int_equal(weft_scope_launch(NULL, &l, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "scope is NULL");

    assert_int_equal(wt_capture_count(), 0);
    fixture_free(&f);
}

/* A buffer of one device given to a launch on another. A second device comes
 * from PoCL, or else from adopting a context of the first device's hardware. */
static void buffer_of_another_device(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    cl_context ctx = NULL;
    cl_command_queue q = NULL;
    if (weft_device_count(f.rt) < 2) {
        cl_device_id id = NULL;
        WT_CHECK(weft_device_cl(f.rt, 0, &id, NULL, NULL));
        cl_int err = CL_SUCCESS;
        ctx = clCreateContext(NULL, 1, &id, NULL, NULL, &err);
        assert_int_equal(err, CL_SUCCESS);
        q = clCreateCommandQueue(ctx, id, 0, &err);
        assert_int_equal(err, CL_SUCCESS);
        WT_CHECK(weft_device_adopt(f.rt, ctx, q, NULL));
    }
    assert_true(weft_device_count(f.rt) >= 2);
    weft_program_t *both = NULL;
    WT_CHECK(weft_program_create(f.rt, SRC, NULL, &both, NULL));
    weft_launch_t l;
    good_launch(&f, &l);
    l.program = both;
    l.device = 1; /* f.buf lives on device 0 */
    expect_refused(&f, &l, "argument 0: buffer lives on device 0, launch is on device 1");
    /* The same in a scope body would be refused the same way; and the buffer
     * works on its own device. */
    l.device = 0;
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(f.rt, &l, &h));
    WT_CHECK(weft_join(h, NULL, NULL));
    f.runs++;
    still_usable(&f);
    weft_program_destroy(both);
    fixture_free(&f);
    if (q) clReleaseCommandQueue(q);
    if (ctx) clReleaseContext(ctx);
}

/* What only the device can tell: the launch is accepted and its handle
 * panics with the OpenCL status. */
static int launch_and_join(fixture *f, const weft_launch_t *l, weft_panic_t **p)
{
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(f->rt, l, &h));
    assert_non_null(h);
    return weft_join(h, NULL, p);
}

static void device_side_mistakes_panic(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    weft_device_info_t info;
    WT_CHECK(weft_device_info(f.rt, 0, &info));
    weft_launch_t l;
    weft_panic_t *p = NULL;

    /* An entry point the program lacks is bad input (design: unknown kernel
     * gets WEFT_EINVAL), refused before any handle exists; the message names
     * what the program does define. */
    good_launch(&f, &l);
    l.kernel = "no_such_kernel";
    weft_handle_t *h = (weft_handle_t *)&f;
    assert_int_equal(weft_launch(f.rt, &l, &h), WEFT_EINVAL);
    assert_null(h);
    wt_assert_contains(weft_last_error_message(), "no_such_kernel");
    wt_assert_contains(weft_last_error_message(), "inc");
    still_usable(&f);

    good_launch(&f, &l);
    l.nargs = 1; /* `by` never set */
    assert_int_equal(launch_and_join(&f, &l, &p), WEFT_EPANIC);
    assert_int_equal(weft_panic_cl_status(p), CL_INVALID_KERNEL_ARGS);
    assert_string_equal(weft_panic_kernel(p), "inc");
    wt_assert_contains(weft_panic_message(p), "CL_INVALID_KERNEL_ARGS");
    weft_panic_destroy(p);
    still_usable(&f);

    good_launch(&f, &l);
    short small = 1;
    weft_karg_t args[2] = {f.args[0], weft_karg_scalar(&small, sizeof small)};
    l.args = args;
    assert_int_equal(launch_and_join(&f, &l, &p), WEFT_EPANIC);
    assert_int_equal(weft_panic_cl_status(p), CL_INVALID_ARG_SIZE);
    weft_panic_destroy(p);
    still_usable(&f);

    good_launch(&f, &l);
    weft_karg_t three[3] = {f.args[0], f.args[1], f.args[1]};
    l.args = three;
    l.nargs = 3; /* one too many */
    assert_int_equal(launch_and_join(&f, &l, &p), WEFT_EPANIC);
    assert_int_equal(weft_panic_cl_status(p), CL_INVALID_ARG_INDEX);
    weft_panic_destroy(p);
    still_usable(&f);

    assert_int_equal(wt_capture_count(), 3); /* each panic reached the hook once; the refusal none */
    fixture_free(&f);
}

static void launch_init_defaults(void **state)
{
    (void)state;
    weft_launch_t l;
    memset(&l, 0x5a, sizeof l);
    weft_launch_init(&l);
    assert_int_equal(l.device, 0);
    assert_int_equal(l.dims, 1);
    assert_null(l.program);
    assert_null(l.source);
    assert_null(l.options);
    assert_null(l.kernel);
    assert_null(l.args);
    assert_int_equal(l.nargs, 0);
    for (int d = 0; d < 3; d++) {
        assert_int_equal(l.global[d], 0);
        assert_int_equal(l.local[d], 0);
        assert_int_equal(l.offset[d], 0);
    }
    weft_launch_init(NULL);
    int v = 9;
    weft_karg_t s = weft_karg_scalar(&v, sizeof v);
    assert_int_equal(s.kind, WEFT_KARG_SCALAR);
    assert_ptr_equal(s.value, &v);
    assert_int_equal(s.size, sizeof v);
    weft_karg_t lo = weft_karg_local(128);
    assert_int_equal(lo.kind, WEFT_KARG_LOCAL);
    assert_int_equal(lo.size, 128);
    weft_karg_t b = weft_karg_buffer(NULL);
    assert_int_equal(b.kind, WEFT_KARG_BUFFER);
    assert_null(b.buffer);
}

int main(void)
{
    unsetenv("WEFT_FAULT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refused_launches),
        cmocka_unit_test(buffer_of_another_device),
        cmocka_unit_test(device_side_mistakes_panic),
        cmocka_unit_test(launch_init_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
