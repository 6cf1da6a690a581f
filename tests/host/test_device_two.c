/* test_device_two.c — two OpenCL devices in one runtime (run with
 * POCL_DEVICES="pthread basic"): both are found and described, each computes
 * the right values, and launches on both run inside one scope, alongside
 * each other. Skips cleanly when the machine has no OpenCL device. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/opencl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* These tests are about PoCL's two devices (basic and pthread). Skip
 * unless the runtime has PoCL's devices and only them (no OpenCL, PoCL run
 * by hand with one device, a GPU machine without PoCL) and POCL_DEVICES, when
 * set, asks for those two (not the _pocl_basic and _pocl_pthread2 CTest
 * entries); under CTest POCL_DEVICES="pthread basic" is set and PoCL must
 * then give both. */
static int other_pocl_devices(void)
{
    const char *pd = getenv("POCL_DEVICES");
    return pd && !(strstr(pd, "pthread") && strstr(pd, "basic"));
}

#define SKIP_UNLESS_TWO_DEVICES(rt)                                                   \
    do {                                                                              \
        int n_ = weft_device_count(rt), pocl_ = wt_pocl_devices(rt);                  \
        if (pocl_ == 0 || pocl_ != n_ || (n_ == 1 && !getenv("POCL_DEVICES")) ||      \
            other_pocl_devices()) {                                                   \
            weft_runtime_destroy(rt);                                                 \
            skip();                                                                   \
        }                                                                             \
        assert_int_equal(n_, 2);                                                      \
    } while (0)

static const char IOTA_SRC[] =
    "__kernel void affine(__global int *out, int mul, int add)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    out[i] = (int)i * mul + add;\n"
    "}\n";

#define N 5000

static void two_devices_found(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    SKIP_UNLESS_TWO_DEVICES(rt);
    assert_int_equal(weft_device_count(rt), 2);
    weft_device_info_t a, b;
    WT_CHECK(weft_device_info(rt, 0, &a));
    WT_CHECK(weft_device_info(rt, 1, &b));
    assert_int_equal(a.index, 0);
    assert_int_equal(b.index, 1);
    assert_string_not_equal(a.name, b.name);
    /* PoCL's two CPU drivers, one each. */
    int pthread_dev = strstr(a.name, "pthread") ? 0 : strstr(b.name, "pthread") ? 1 : -1;
    int basic_dev = strstr(a.name, "basic") ? 0 : strstr(b.name, "basic") ? 1 : -1;
    assert_true(pthread_dev >= 0);
    assert_true(basic_dev >= 0);
    assert_int_not_equal(pthread_dev, basic_dev);
    assert_int_equal(a.type, WEFT_DEVICE_CPU);
    assert_int_equal(b.type, WEFT_DEVICE_CPU);
    assert_string_equal(a.platform, b.platform);
    weft_device_info_t none;
    assert_int_equal(weft_device_info(rt, 2, &none), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "device 2 does not exist");
    wt_assert_contains(weft_last_error_message(), "2 devices");

    /* Each device has its own context and queue. */
    cl_context c0 = NULL, c1 = NULL;
    cl_command_queue q0 = NULL, q1 = NULL;
    WT_CHECK(weft_device_cl(rt, 0, NULL, &c0, &q0));
    WT_CHECK(weft_device_cl(rt, 1, NULL, &c1, &q1));
    assert_ptr_not_equal(c0, c1);
    assert_ptr_not_equal(q0, q1);

    /* weft_device_print: one line per device. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(weft_device_print(rt, f), 2);
    fclose(f);
    wt_assert_contains(text, a.name);
    wt_assert_contains(text, b.name);
    wt_assert_contains(text, "0: ");
    wt_assert_contains(text, "1: ");
    free(text);
    weft_runtime_destroy(rt);
}

static void check_affine(const int *out, int mul, int add, int dev)
{
    for (int i = 0; i < N; i++)
        if (out[i] != i * mul + add) fail_msg("device %d: out[%d] = %d, want %d", dev, i, out[i], i * mul + add);
}

static void each_device_computes(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    SKIP_UNLESS_TWO_DEVICES(rt);
    assert_int_equal(weft_device_count(rt), 2);
    weft_program_t *prog = NULL;
    WT_CHECK(weft_program_create(rt, IOTA_SRC, NULL, &prog, NULL));
    assert_non_null(weft_program_cl(prog, 0));
    assert_non_null(weft_program_cl(prog, 1));
    assert_ptr_not_equal(weft_program_cl(prog, 0), weft_program_cl(prog, 1));
    static int out[N];
    for (int d = 0; d < 2; d++) {
        weft_buffer_t *b = NULL;
        WT_CHECK(weft_buffer_create(rt, d, sizeof out, WEFT_WRITE, &b));
        int mul = 3 + d * 4, add = -17 * (d + 1);
        weft_karg_t args[3] = {weft_karg_buffer(b), weft_karg_scalar(&mul, sizeof mul),
                               weft_karg_scalar(&add, sizeof add)};
        weft_launch_t l = wt_launch_1d(d, prog, NULL, "affine", N, args, 3);
        weft_handle_t *h = NULL;
        WT_CHECK(weft_launch(rt, &l, &h));
        WT_CHECK(weft_join(h, NULL, NULL));
        memset(out, 0, sizeof out);
        WT_CHECK(weft_buffer_read(b, 0, out, sizeof out));
        check_affine(out, 3 + d * 4, -17 * (d + 1), d);
        weft_buffer_destroy(b);
    }
    weft_program_destroy(prog);
    weft_runtime_destroy(rt);
}

/* ---- launches on both devices inside one scope -------------------------------- */
typedef struct both {
    weft_buffer_t *buf[2];        /* one per device, unjoined launches */
    weft_buffer_t *joined[2];     /* one per device, joined in the body */
    int mul[2], add[2];
    int rc[2], join_rc[2];
} both;

static int launch_on_both(weft_scope_t *s, void *arg)
{
    both *b = arg;
    weft_handle_t *h[2] = {NULL, NULL};
    for (int d = 0; d < 2; d++) {
        /* Scalars are copied at launch: locals are fine. */
        weft_karg_t args[3] = {weft_karg_buffer(b->buf[d]), weft_karg_scalar(&b->mul[d], sizeof(int)),
                               weft_karg_scalar(&b->add[d], sizeof(int))};
        weft_launch_t l = wt_launch_1d(d, NULL, IOTA_SRC, "affine", N, args, 3);
        b->rc[d] = weft_scope_launch(s, &l, NULL); /* the scope joins it */
        args[0] = weft_karg_buffer(b->joined[d]);
        if (b->rc[d] == 0) b->rc[d] = weft_scope_launch(s, &l, &h[d]);
    }
    for (int d = 0; d < 2; d++) b->join_rc[d] = h[d] ? weft_join(h[d], NULL, NULL) : -100;
    return 0;
}

static void scope_launches_on_both(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    SKIP_UNLESS_TWO_DEVICES(rt);
    assert_int_equal(weft_device_count(rt), 2);
    both b = {.mul = {5, -2}, .add = {1, 1000}};
    for (int d = 0; d < 2; d++) {
        WT_CHECK(weft_buffer_create(rt, d, N * sizeof(int), WEFT_WRITE, &b.buf[d]));
        WT_CHECK(weft_buffer_create(rt, d, N * sizeof(int), WEFT_WRITE, &b.joined[d]));
    }
    WT_CHECK(weft_scope(rt, launch_on_both, &b, WT_PANIC));
    static int out[N];
    for (int d = 0; d < 2; d++) {
        assert_int_equal(b.rc[d], 0);
        assert_int_equal(b.join_rc[d], 0);
        WT_CHECK(weft_buffer_read(b.buf[d], 0, out, sizeof out));
        check_affine(out, b.mul[d], b.add[d], d);
        memset(out, 0, sizeof out);
        WT_CHECK(weft_buffer_read(b.joined[d], 0, out, sizeof out));
        check_affine(out, b.mul[d], b.add[d], d);
        weft_buffer_destroy(b.buf[d]);
        weft_buffer_destroy(b.joined[d]);
    }
    weft_runtime_destroy(rt);
}

/* Many launches alternating between the devices, all in flight at once. */
static void many_launches_alternating(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_ALL_DEVICES, 0);
    SKIP_UNLESS_TWO_DEVICES(rt);
    assert_int_equal(weft_device_count(rt), 2);
    enum { K = 16, M = 1024 };
    weft_buffer_t *bufs[K];
    weft_handle_t *hs[K];
    int mul[K], add[K];
    for (int k = 0; k < K; k++) {
        int d = k % 2;
        mul[k] = k + 1;
        add[k] = -k;
        WT_CHECK(weft_buffer_create(rt, d, M * sizeof(int), WEFT_WRITE, &bufs[k]));
        weft_karg_t args[3] = {weft_karg_buffer(bufs[k]), weft_karg_scalar(&mul[k], sizeof(int)),
                               weft_karg_scalar(&add[k], sizeof(int))};
        weft_launch_t l = wt_launch_1d(d, NULL, IOTA_SRC, "affine", M, args, 3);
        WT_CHECK(weft_launch(rt, &l, &hs[k]));
    }
    int out[M];
    for (int k = K - 1; k >= 0; k--) {
        WT_CHECK(weft_join(hs[k], NULL, NULL));
        WT_CHECK(weft_buffer_read(bufs[k], 0, out, sizeof out));
        for (int i = 0; i < M; i++)
            if (out[i] != i * mul[k] + add[k]) fail_msg("launch %d: out[%d] = %d", k, i, out[i]);
        weft_buffer_destroy(bufs[k]);
    }
    weft_runtime_destroy(rt);
}

int main(void)
{
    unsetenv("WEFT_DEVICES");
    unsetenv("WEFT_FAULT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_devices_found),
        cmocka_unit_test(each_device_computes),
        cmocka_unit_test(scope_launches_on_both),
        cmocka_unit_test(many_launches_alternating),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
