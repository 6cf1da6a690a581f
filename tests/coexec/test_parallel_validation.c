/* test_parallel_validation.c — bad requests to weft_parallel_for,
 * weft_scope_parallel_for and weft_parallel_run are refused with WEFT_EINVAL
 * and a message saying what is wrong, start nothing (no output written, no
 * handle), and leave the runtime usable: NULL kernel, runtime or handle
 * pointer; a kernel without a name, without any body, with source but no
 * entry; 0 or 3 dimensions; a work-group size of 0; a split array smaller
 * than the range needs (the message gives the bytes); a split unit of 0; a
 * whole argument with write access; a reduction without combine or
 * identity; a NULL or empty scalar; a __local of 0 bytes; an unknown
 * argument kind, policy kind or on_fault; a policy with no place, or whose
 * places lack the body they need; a device bit for a device that does not
 * exist. */
#define _GNU_SOURCE
#include "weft_test.h"

#include "parallel_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 100

typedef struct fixture {
    weft_runtime_t *rt;
    uint32_t out[N + PK_PAD], cnt[N + PK_PAD];
    uint32_t seed;
    uint64_t n;
    weft_arg_t args[4];
    weft_policy_t pol;
} fixture;

static void reset_args(fixture *f)
{
    pk_fill(f->out, f->cnt, N);
    f->seed = 9;
    f->n = N;
    f->args[0] = weft_arg_split(f->out, N * 4, 4, WEFT_WRITE);
    f->args[1] = weft_arg_split(f->cnt, N * 4, 4, WEFT_READ_WRITE);
    f->args[2] = weft_arg_scalar(&f->seed, sizeof f->seed);
    f->args[3] = weft_arg_scalar(&f->n, sizeof f->n);
    weft_policy_init(&f->pol);
}

/* The request is refused with EINVAL and a message holding `needle`; nothing
 * ran; then the same runtime runs a good request right. */
static void expect_einval(fixture *f, const weft_kernel_t *k, weft_range_t r, const weft_arg_t *args, size_t nargs,
                          const weft_policy_t *pol, const char *needle, const char *what)
{
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)0x1;
    int rc = weft_parallel_for(f->rt, k, r, args, nargs, pol, &h);
    if (rc != WEFT_EINVAL)
        fail_msg("%s: weft_parallel_for returned %s (%s), expected WEFT_EINVAL", what, weft_err_name(rc),
                 weft_last_error_message());
    if (h) fail_msg("%s: *out not cleared on failure", what);
    const char *msg = weft_last_error_message();
    if (!strstr(msg, needle)) fail_msg("%s: message \"%s\" does not mention \"%s\"", what, msg, needle);
    /* weft_parallel_run refuses it the same way, with a NULL panic. */
    weft_panic_t *p = (weft_panic_t *)(uintptr_t)0x1;
    assert_int_equal(weft_parallel_run(f->rt, k, r, args, nargs, pol, &p), WEFT_EINVAL);
    assert_null(p);
    for (size_t i = 0; i < N + PK_PAD; i++)
        if (f->out[i] != PK_SENTINEL || f->cnt[i] != 0) fail_msg("%s: element %zu written by a refused run", what, i);
    /* Still usable. */
    reset_args(f);
    WT_CHECK(weft_parallel_run(f->rt, &PK_IOTA, weft_range_1d(N, 64), f->args, 4, &f->pol, WT_PANIC));
    pk_check_iota(f->out, f->cnt, N, f->seed, what);
    reset_args(f);
}

static void null_pointers(void **state)
{
    fixture *f = *state;
    weft_range_t r = weft_range_1d(N, 64);
    expect_einval(f, NULL, r, f->args, 4, NULL, "kernel is NULL", "NULL kernel");
    weft_handle_t *h = NULL;
    assert_int_equal(weft_parallel_for(NULL, &PK_IOTA, r, f->args, 4, NULL, &h), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "runtime is NULL");
    assert_int_equal(weft_parallel_for(f->rt, &PK_IOTA, r, f->args, 4, NULL, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "out is NULL");
    assert_int_equal(weft_scope_parallel_for(NULL, &PK_IOTA, r, f->args, 4, NULL, &h), WEFT_EINVAL);
    assert_null(h);
    wt_assert_contains(weft_last_error_message(), "scope is NULL");
    assert_int_equal(weft_parallel_run(NULL, &PK_IOTA, r, f->args, 4, NULL, NULL), WEFT_EINVAL);
    expect_einval(f, &PK_IOTA, r, NULL, 4, NULL, "args is NULL", "NULL args");
    weft_run_stats_t st;
    assert_int_equal(weft_runtime_last_run_stats(NULL, &st), WEFT_EINVAL);
    assert_int_equal(weft_runtime_last_run_stats(f->rt, NULL), WEFT_EINVAL);
}

static void bad_kernels(void **state)
{
    fixture *f = *state;
    weft_range_t r = weft_range_1d(N, 64);
    weft_kernel_t k = PK_IOTA;
    k.name = NULL;
    expect_einval(f, &k, r, f->args, 4, NULL, "no name", "kernel without name");
    k.name = "";
    expect_einval(f, &k, r, f->args, 4, NULL, "no name", "kernel with empty name");
    k = PK_IOTA;
    k.cpu = NULL;
    k.cl_source = NULL;
    expect_einval(f, &k, r, f->args, 4, NULL, "neither a CPU nor an OpenCL body", "kernel without bodies");
    k = PK_IOTA;
    k.cl_entry = NULL;
    expect_einval(f, &k, r, f->args, 4, NULL, "no entry name", "source without entry");
}

static void bad_ranges(void **state)
{
    fixture *f = *state;
    weft_range_t r = weft_range_1d(N, 64);
    r.dims = 3;
    expect_einval(f, &PK_IOTA, r, f->args, 4, NULL, "3 dimensions", "dims 3");
    r.dims = 0;
    expect_einval(f, &PK_IOTA, r, f->args, 4, NULL, "0 dimensions", "dims 0");
    r = weft_range_1d(N, 64);
    r.group[0] = 0;
    expect_einval(f, &PK_IOTA, r, f->args, 4, NULL, "work-group size of dimension 0 is 0", "group 0");
    r = weft_range_2d(10, 10, 4, 4);
    r.group[1] = 0;
    weft_arg_t a2[] = {weft_arg_split(f->out, N * 4, 40, WEFT_WRITE), weft_arg_split(f->cnt, N * 4, 40, WEFT_WRITE),
                       f->args[2], f->args[3], weft_arg_scalar(&f->n, 8)};
    expect_einval(f, &PK_IOTA2D, r, a2, 5, NULL, "work-group size of dimension 1 is 0", "2-D group y 0");
    /* A range so large that the split bytes overflow. */
    r = weft_range_1d(SIZE_MAX / 2, 64);
    expect_einval(f, &PK_IOTA, r, f->args, 4, NULL, "overflows", "overflowing range");
}

static void bad_arguments(void **state)
{
    fixture *f = *state;
    weft_range_t r = weft_range_1d(N, 64);
    weft_arg_t a[4];
    /* Split array too small: by one element. */
    memcpy(a, f->args, sizeof a);
    a[0].bytes = (N - 1) * 4;
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "bytes", "split array too small");
    char want[128];
    snprintf(want, sizeof want, "array of %d bytes is smaller than the %d the range needs", (N - 1) * 4, N * 4);
    memcpy(a, f->args, sizeof a);
    a[1].bytes = (N - 1) * 4;
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, want, "read-write split too small");
    wt_assert_contains(weft_last_error_message(), "argument 1");
    /* Unit 0, NULL data, bad access. */
    memcpy(a, f->args, sizeof a);
    a[0].unit = 0;
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "unit is 0", "unit 0");
    memcpy(a, f->args, sizeof a);
    a[0].data = NULL;
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "data is NULL", "NULL split data");
    memcpy(a, f->args, sizeof a);
    a[0].access = (weft_access_t)7;
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "access 7", "bad access");
    /* Whole with write access. */
    memcpy(a, f->args, sizeof a);
    a[1] = weft_arg_whole(f->cnt, N * 4);
    a[1].access = WEFT_READ_WRITE;
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "read-only", "whole with write access");
    a[1] = weft_arg_whole(NULL, N * 4);
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "whole array is NULL", "whole NULL");
    /* Reductions without combine, identity or size. */
    float res = 0, zero = 0;
    memcpy(a, f->args, sizeof a);
    a[1] = weft_arg_reduce(&res, sizeof res, &zero, NULL);
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "a reduction needs result, identity, combine", "reduce no combine");
    a[1] = weft_arg_reduce(&res, sizeof res, NULL, NULL);
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "a reduction needs", "reduce no identity");
    /* Scalars and locals. */
    memcpy(a, f->args, sizeof a);
    a[2] = weft_arg_scalar(NULL, 4);
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "scalar needs a value and a size", "NULL scalar");
    a[2] = weft_arg_scalar(&f->seed, 0);
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "scalar needs a value and a size", "empty scalar");
    memcpy(a, f->args, sizeof a);
    a[2] = weft_arg_local(0);
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "__local size is 0", "local 0");
    memcpy(a, f->args, sizeof a);
    a[3].kind = (weft_arg_kind_t)42;
    expect_einval(f, &PK_IOTA, r, a, 4, NULL, "unknown kind 42", "unknown arg kind");
    /* An empty range needs no bytes: a NULL, 0-byte split is fine. */
    weft_arg_t e[] = {weft_arg_split(NULL, 0, 4, WEFT_WRITE), weft_arg_split(NULL, 0, 4, WEFT_READ_WRITE),
                      f->args[2], f->args[3]};
    uint64_t zero_n = 0;
    e[3] = weft_arg_scalar(&zero_n, 8);
    WT_CHECK(weft_parallel_run(f->rt, &PK_IOTA, weft_range_1d(0, 64), e, 4, NULL, WT_PANIC));
}

static void bad_policies(void **state)
{
    fixture *f = *state;
    weft_range_t r = weft_range_1d(N, 64);
    weft_policy_t p;
    weft_policy_init(&p);
    p.use_cpu = 0;
    p.devices = 0;
    expect_einval(f, &PK_IOTA, r, f->args, 4, &p, "the policy allows no place", "no place");
    weft_policy_init(&p);
    p.kind = (weft_policy_kind_t)9;
    expect_einval(f, &PK_IOTA, r, f->args, 4, &p, "unknown policy kind 9", "policy kind 9");
    weft_policy_init(&p);
    p.on_fault = (weft_on_fault_t)5;
    expect_einval(f, &PK_IOTA, r, f->args, 4, &p, "unknown on_fault 5", "on_fault 5");
    /* Places without the body they need. */
    weft_kernel_t cpu_only = PK_IOTA;
    cpu_only.cl_source = NULL;
    cpu_only.cl_entry = NULL;
    weft_policy_init(&p);
    p.use_cpu = 0;
    expect_einval(f, &cpu_only, r, f->args, 4, &p, "no place can run kernel 'pk_iota'", "CPU-only kernel on devices");
    int nd = weft_device_count(f->rt);
    if (nd > 0) {
        weft_kernel_t dev_only = PK_IOTA;
        dev_only.cpu = NULL;
        weft_policy_init(&p);
        p.devices = 0;
        expect_einval(f, &dev_only, r, f->args, 4, &p, "lack the body they need", "device-only kernel on the CPU");
        /* Device-only kernels run where allowed. */
        weft_policy_init(&p);
        WT_CHECK(weft_parallel_run(f->rt, &dev_only, r, f->args, 4, &p, WT_PANIC));
        pk_check_iota(f->out, f->cnt, N, f->seed, "device-only kernel");
        reset_args(f);
    }
    /* A device bit for a device that does not exist, and nothing else. */
    weft_policy_init(&p);
    p.use_cpu = 0;
    p.devices = (uint64_t)1 << 40;
    expect_einval(f, &PK_IOTA, r, f->args, 4, &p, "no place can run", "absent device");
}

typedef struct scope_ctx {
    fixture *f;
    int rc_null, rc_group, rc_good;
    char msg_null[256], msg_group[256];
} scope_ctx;

static int scope_body(weft_scope_t *s, void *arg)
{
    scope_ctx *c = arg;
    fixture *f = c->f;
    weft_handle_t *h = (weft_handle_t *)(uintptr_t)0x1;
    c->rc_null = weft_scope_parallel_for(s, NULL, weft_range_1d(N, 64), f->args, 4, NULL, &h);
    snprintf(c->msg_null, sizeof c->msg_null, "%s", weft_last_error_message());
    if (h) return -100;
    weft_range_t r = weft_range_1d(N, 64);
    r.group[0] = 0;
    c->rc_group = weft_scope_parallel_for(s, &PK_IOTA, r, f->args, 4, NULL, NULL);
    snprintf(c->msg_group, sizeof c->msg_group, "%s", weft_last_error_message());
    /* A good one, joined by the scope. */
    c->rc_good = weft_scope_parallel_for(s, &PK_IOTA, weft_range_1d(N, 64), f->args, 4, NULL, NULL);
    return 0;
}

/* Inside a scope a refused start is a returned error; the scope itself
 * succeeds and joins the good operation. */
static void scope_refusals(void **state)
{
    fixture *f = *state;
    scope_ctx c = {.f = f};
    weft_panic_t *p = NULL;
    int rc = weft_scope(f->rt, scope_body, &c, &p);
    if (rc) fail_msg("scope: %s: %s", weft_err_name(rc), p ? weft_panic_message(p) : "");
    assert_int_equal(c.rc_null, WEFT_EINVAL);
    wt_assert_contains(c.msg_null, "kernel is NULL");
    assert_int_equal(c.rc_group, WEFT_EINVAL);
    wt_assert_contains(c.msg_group, "work-group size");
    assert_int_equal(c.rc_good, 0);
    pk_check_iota(f->out, f->cnt, N, f->seed, "scoped good operation");
    reset_args(f);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    reset_args(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    weft_runtime_destroy(f->rt);
    free(f);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(null_pointers),
        cmocka_unit_test(bad_kernels),
        cmocka_unit_test(bad_ranges),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(bad_policies),
        cmocka_unit_test(scope_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
