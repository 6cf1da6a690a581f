/* test_device_validation.c — weft_launch refuses bad launches up front with
 * WEFT_EINVAL and a message, creates no handle and panics nothing: NULL
 * arguments, dims 0 and 4, a zero or overflowing size, a local size that does
 * not divide the global one, a buffer of another device, a buffer or program
 * of another runtime, __local sizes above the device's local memory, neither
 * or both of program and source, no kernel name, a kernel the program does
 * not define, bad arguments. Mistakes only the device can see (missing or
 * mis-sized arguments) are not returned: they panic the launch's handle with
 * the OpenCL status, the argument's index and the kernel's argument count.
 * The
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
    wt_assert_contains(weft_panic_message(p), "CL_INVALID_KERNEL_ARGS (-52), the kernel takes 2 arguments, 1 given");
    weft_panic_destroy(p);
    still_usable(&f);

    good_launch(&f, &l);
    short small = 1;
    weft_karg_t args[2] = {f.args[0], weft_karg_scalar(&small, sizeof small)};
    l.args = args;
    assert_int_equal(launch_and_join(&f, &l, &p), WEFT_EPANIC);
    assert_int_equal(weft_panic_cl_status(p), CL_INVALID_ARG_SIZE);
    wt_assert_contains(weft_panic_message(p),
                       "CL_INVALID_ARG_SIZE (-51), argument 1 could not be set (the kernel takes 2 arguments, 2 given)");
    weft_panic_destroy(p);
    still_usable(&f);

    good_launch(&f, &l);
    weft_karg_t three[3] = {f.args[0], f.args[1], f.args[1]};
    l.args = three;
    l.nargs = 3; /* one too many */
    assert_int_equal(launch_and_join(&f, &l, &p), WEFT_EPANIC);
    assert_int_equal(weft_panic_cl_status(p), CL_INVALID_ARG_INDEX);
    wt_assert_contains(weft_panic_message(p), "argument 2 could not be set (the kernel takes 2 arguments, 3 given)");
    weft_panic_destroy(p);
    still_usable(&f);

    assert_int_equal(wt_capture_count(), 3); /* each panic reached the hook once; the refusal none */
    fixture_free(&f);
}

static int scoped_foreign_launch(weft_scope_t *s, void *arg)
{
    weft_handle_t *h = (weft_handle_t *)1;
    assert_int_equal(weft_scope_launch(s, arg, &h), WEFT_EINVAL);
    assert_null(h);
    return 0;
}

/* A buffer or a program of another runtime is refused, naming the
 * argument: the buffer's memory lives in the other runtime's context. */
static void objects_of_another_runtime(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    weft_runtime_t *other = wt_runtime(1, WT_SELECTED_DEVICES, 1);
    weft_program_t *their_prog = NULL;
    weft_buffer_t *their_buf = NULL;
    WT_CHECK(weft_program_create(other, SRC, NULL, &their_prog, NULL));
    WT_CHECK(weft_buffer_create(other, 0, N * sizeof(int), WEFT_READ_WRITE, &their_buf));
    weft_launch_t l;

    good_launch(&f, &l);
    weft_karg_t args[2] = {weft_karg_buffer(their_buf), f.args[1]};
    l.args = args;
    expect_refused(&f, &l, "weft_launch: argument 0: the buffer belongs to another runtime");

    good_launch(&f, &l);
    l.program = their_prog;
    expect_refused(&f, &l, "weft_launch: the program belongs to another runtime");

    /* Through a scope too. */
    good_launch(&f, &l);
    l.args = args;
    WT_CHECK(weft_scope(f.rt, scoped_foreign_launch, &l, WT_PANIC));
    wt_assert_contains(weft_last_error_message(), "weft_scope_launch: argument 0: the buffer belongs to another runtime");

    weft_buffer_destroy(their_buf);
    weft_program_destroy(their_prog);
    weft_runtime_destroy(other);
    fixture_free(&f);
}

static const char LOCAL_SRC[] =
    "__kernel void with_local(__global int *v, __local int *a, __local int *b)\n"
    "{\n"
    "    a[get_local_id(0)] = 1; b[get_local_id(0)] = 2;\n"
    "    barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    v[get_global_id(0)] += a[get_local_id(0)] + b[get_local_id(0)];\n"
    "}\n";

/* __local sizes are checked against CL_DEVICE_LOCAL_MEM_SIZE, added up:
 * drivers need not check them (PoCL crashed on 1 TiB). */
static void local_sizes_checked(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f);
    weft_device_info_t info;
    WT_CHECK(weft_device_info(f.rt, 0, &info));
    assert_true(info.local_mem_bytes > 0);
    size_t limit = (size_t)info.local_mem_bytes;
    char says[256];
    weft_launch_t l = wt_launch_1d(0, NULL, LOCAL_SRC, "with_local", N, NULL, 3);
    l.local[0] = 16;

    weft_karg_t huge[3] = {f.args[0], weft_karg_local((size_t)1 << 40), weft_karg_local(64)};
    l.args = huge;
    snprintf(says, sizeof says,
             "weft_launch: argument 1: __local size 1099511627776 bytes brings the work-group's __local memory to "
             "1099511627776 bytes, above the device's CL_DEVICE_LOCAL_MEM_SIZE of %zu bytes",
             limit);
    expect_refused(&f, &l, says);

    /* Each fits, both together do not: the second is named. */
    weft_karg_t pair[3] = {f.args[0], weft_karg_local(limit / 2 + 8), weft_karg_local(limit / 2)};
    l.args = pair;
    snprintf(says, sizeof says,
             "weft_launch: argument 2: __local size %zu bytes brings the work-group's __local memory to %zu bytes",
             limit / 2, limit / 2 + 8 + limit / 2);
    expect_refused(&f, &l, says);

    /* Within the limit, it runs. */
    weft_karg_t fits[3] = {f.args[0], weft_karg_local(16 * sizeof(int)), weft_karg_local(16 * sizeof(int))};
    l.args = fits;
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(f.rt, &l, &h));
    WT_CHECK(weft_join(h, NULL, WT_PANIC));
    int v[N];
    WT_CHECK(weft_buffer_read(f.buf, 0, v, sizeof v));
    for (int i = 0; i < N; i++)
        if (v[i] != f.runs * f.by + 3) fail_msg("v[%d] = %d, want %d", i, v[i], f.runs * f.by + 3);
    fixture_free(&f);
}

/* ---- the same mistakes in a parallel operation's device set-up ---------------- */

static void pk_cpu(size_t b, size_t e, void *const *argv)
{
    uint32_t *y = argv[0];
    for (size_t i = b; i < e; i++) y[i] += 1;
}

static const char PK_SRC[] =
    "__kernel void pk_add(__global uint *y, ulong n, __local uint *t)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    t[get_local_id(0)] = 1u;\n"
    "    barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    if (i < n) y[i] += t[get_local_id(0)];\n"
    "}\n";

static const weft_kernel_t PK = {.name = "pk op", .cpu = pk_cpu, .cl_source = PK_SRC, .cl_entry = "pk_add"};

/* The device place's set-up fails; its panic (no failover) must say `says`. */
#define expect_setup_panic(rt, args, nargs, status, says) \
    expect_setup_panic_at(__LINE__, (rt), (args), (nargs), (status), (says))
static void expect_setup_panic_at(int line, weft_runtime_t *rt, const weft_arg_t *args, size_t nargs, cl_int status,
                                  const char *says)
{
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.devices = 1;
    pol.use_cpu = 0;
    pol.on_fault = WEFT_FAULT_PROPAGATE;
    weft_panic_t *p = NULL;
    int rc = weft_parallel_run(rt, &PK, weft_range_1d(N, 16), args, nargs, &pol, &p);
    if (rc != WEFT_EPANIC) fail_msg("line %d: got %s, want WEFT_EPANIC", line, weft_err_name(rc));
    if (weft_panic_cl_status(p) != status)
        fail_msg("line %d: status %s in \"%s\"", line, weft_panic_cl_status_name(p), weft_panic_message(p));
    if (!strstr(weft_panic_message(p), says)) fail_msg("line %d: expected \"%s\" in \"%s\"", line, says, weft_panic_message(p));
    weft_panic_destroy(p);
}

static void parallel_setup_names_arguments(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    wt_capture_install();
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, 0, &info));
    uint32_t y[N] = {0};
    uint64_t n64 = N;
    uint32_t n32 = N;
    weft_arg_t split = weft_arg_split(y, sizeof y, sizeof *y, WEFT_READ_WRITE);

    weft_arg_t two[] = {split, weft_arg_scalar(&n64, sizeof n64)};
    expect_setup_panic(rt, two, 2, CL_INVALID_KERNEL_ARGS, "the kernel takes 3 arguments, 2 given");

    weft_arg_t narrow[] = {split, weft_arg_scalar(&n32, sizeof n32), weft_arg_local(16 * sizeof(uint32_t))};
    expect_setup_panic(rt, narrow, 3, CL_INVALID_ARG_SIZE,
                       "argument 1 could not be set (the kernel takes 3 arguments, 3 given)");

    char says[256];
    weft_arg_t huge[] = {split, weft_arg_scalar(&n64, sizeof n64), weft_arg_local((size_t)1 << 40)};
    snprintf(says, sizeof says,
             "argument 2: __local size 1099511627776 bytes brings the work-group's __local memory to "
             "1099511627776 bytes, above the device's CL_DEVICE_LOCAL_MEM_SIZE of %llu bytes",
             (unsigned long long)info.local_mem_bytes);
    expect_setup_panic(rt, huge, 3, CL_OUT_OF_RESOURCES, says);

    /* Right, it runs. */
    weft_arg_t good[] = {split, weft_arg_scalar(&n64, sizeof n64), weft_arg_local(16 * sizeof(uint32_t))};
    weft_policy_t pol;
    weft_policy_init(&pol);
    pol.devices = 1;
    pol.use_cpu = 0;
    WT_CHECK(weft_parallel_run(rt, &PK, weft_range_1d(N, 16), good, 3, &pol, WT_PANIC));
    for (int i = 0; i < N; i++)
        if (y[i] != 1) fail_msg("y[%d] = %u, want 1", i, y[i]);
    wt_capture_restore();
    weft_runtime_destroy(rt);
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
        cmocka_unit_test(objects_of_another_runtime),
        cmocka_unit_test(local_sizes_checked),
        cmocka_unit_test(parallel_setup_names_arguments),
        cmocka_unit_test(launch_init_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
