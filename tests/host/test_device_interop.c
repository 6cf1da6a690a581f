/* test_device_interop.c — weft and raw OpenCL together: weft_device_cl hands
 * out the context, queue and device; a cl_mem made with clCreateBuffer on
 * that context is adopted with weft_buffer_adopt and used by a kernel; a
 * context and queue the user made are adopted with weft_device_adopt and
 * launched on under the new index. The user's objects stay valid after weft
 * lets go of them. Skips cleanly when the machine has no OpenCL device. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/opencl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SRC[] =
    "__kernel void twice_plus(__global int *v, int k)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    v[i] = v[i] * 2 + k;\n"
    "}\n";

#define N 1000

/* Launch twice_plus over a buffer of N ints on device dev. */
static void run_twice_plus(weft_runtime_t *rt, int dev, weft_program_t *prog, weft_buffer_t *b, int k)
{
    weft_karg_t args[2] = {weft_karg_buffer(b), weft_karg_scalar(&k, sizeof k)};
    weft_launch_t l = wt_launch_1d(dev, prog, SRC, "twice_plus", N, args, 2);
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(rt, &l, &h));
    WT_CHECK(weft_join(h, NULL, WT_PANIC));
}

static cl_uint refcount_mem(cl_mem m)
{
    cl_uint n = 0;
    assert_int_equal(clGetMemObjectInfo(m, CL_MEM_REFERENCE_COUNT, sizeof n, &n, NULL), CL_SUCCESS);
    return n;
}

static void device_cl_objects(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, d, &info));
        cl_device_id id = NULL;
        cl_context ctx = NULL;
        cl_command_queue q = NULL;
        WT_CHECK(weft_device_cl(rt, d, &id, &ctx, &q));
        assert_non_null(id);
        assert_non_null(ctx);
        assert_non_null(q);
        char name[256];
        assert_int_equal(clGetDeviceInfo(id, CL_DEVICE_NAME, sizeof name, name, NULL), CL_SUCCESS);
        assert_string_equal(name, info.name);
        cl_context qctx = NULL;
        cl_device_id qdev = NULL;
        assert_int_equal(clGetCommandQueueInfo(q, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL), CL_SUCCESS);
        assert_int_equal(clGetCommandQueueInfo(q, CL_QUEUE_DEVICE, sizeof qdev, &qdev, NULL), CL_SUCCESS);
        assert_ptr_equal(qctx, ctx);
        assert_ptr_equal(qdev, id);
        /* In order, as documented. */
        cl_command_queue_properties props = 0;
        assert_int_equal(clGetCommandQueueInfo(q, CL_QUEUE_PROPERTIES, sizeof props, &props, NULL), CL_SUCCESS);
        assert_int_equal(props & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, 0);
        /* Each out-pointer is optional. */
        WT_CHECK(weft_device_cl(rt, d, NULL, NULL, NULL));
        cl_context only = NULL;
        WT_CHECK(weft_device_cl(rt, d, NULL, &only, NULL));
        assert_ptr_equal(only, ctx);
    }
    cl_context ctx = (cl_context)1;
    assert_int_equal(weft_device_cl(rt, weft_device_count(rt), NULL, &ctx, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "does not exist");
    assert_int_equal(weft_device_cl(NULL, 0, NULL, NULL, NULL), WEFT_EINVAL);
    weft_runtime_destroy(rt);
}

static void adopt_raw_buffer(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    for (int d = 0; d < weft_device_count(rt); d++) {
        cl_context ctx = NULL;
        cl_command_queue q = NULL;
        WT_CHECK(weft_device_cl(rt, d, NULL, &ctx, &q));
        int host[N];
        for (int i = 0; i < N; i++) host[i] = i - 300;
        cl_int err = CL_SUCCESS;
        cl_mem mem = clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof host, host, &err);
        assert_int_equal(err, CL_SUCCESS);
        assert_int_equal(refcount_mem(mem), 1);

        weft_buffer_t *b = NULL;
        WT_CHECK(weft_buffer_adopt(rt, d, mem, &b));
        assert_ptr_equal(weft_buffer_cl(b), mem);
        assert_int_equal(weft_buffer_size(b), sizeof host);
        assert_int_equal(weft_buffer_device(b), d);
        assert_null(weft_buffer_host(b));
        assert_int_equal(refcount_mem(mem), 2); /* weft retained it */

        run_twice_plus(rt, d, NULL, b, 7);
        /* Read with raw OpenCL on weft's queue. */
        int out[N];
        assert_int_equal(clEnqueueReadBuffer(q, mem, CL_TRUE, 0, sizeof out, out, 0, NULL, NULL), CL_SUCCESS);
        for (int i = 0; i < N; i++)
            if (out[i] != (i - 300) * 2 + 7) fail_msg("device %d: out[%d] = %d", d, i, out[i]);
        /* And through weft. */
        int back[N];
        WT_CHECK(weft_buffer_read(b, 0, back, sizeof back));
        assert_memory_equal(out, back, sizeof out);

        weft_buffer_destroy(b);
        assert_int_equal(refcount_mem(mem), 1); /* ours is still good */
        assert_int_equal(clEnqueueReadBuffer(q, mem, CL_TRUE, 0, sizeof out, out, 0, NULL, NULL), CL_SUCCESS);
        assert_int_equal(out[N - 1], (N - 1 - 300) * 2 + 7);
        assert_int_equal(clReleaseMemObject(mem), CL_SUCCESS);
    }
    weft_runtime_destroy(rt);
}

/* The first platform with a device, raw. */
static int first_device(cl_platform_id *plat, cl_device_id *dev)
{
    cl_uint np = 0;
    if (clGetPlatformIDs(0, NULL, &np) != CL_SUCCESS || np == 0) return 0;
    cl_platform_id plats[8];
    if (np > 8) np = 8;
    assert_int_equal(clGetPlatformIDs(np, plats, NULL), CL_SUCCESS);
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 1, dev, &nd) == CL_SUCCESS && nd > 0) {
            *plat = plats[p];
            return 1;
        }
    }
    return 0;
}

static void adopt_user_context_and_queue(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    cl_platform_id plat = NULL;
    cl_device_id dev = NULL;
    assert_true(first_device(&plat, &dev));
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)plat, 0};
    cl_int err = CL_SUCCESS;
    cl_context ctx = clCreateContext(props, 1, &dev, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    cl_command_queue q = clCreateCommandQueue(ctx, dev, 0, &err);
    assert_int_equal(err, CL_SUCCESS);

    /* A program made before the adoption does not cover the new device. */
    weft_program_t *before = NULL;
    WT_CHECK(weft_program_create(rt, SRC, NULL, &before, NULL));

    int n0 = weft_device_count(rt);
    int idx = -1;
    WT_CHECK(weft_device_adopt(rt, ctx, q, &idx));
    assert_int_equal(idx, n0);
    assert_int_equal(weft_device_count(rt), n0 + 1);
    weft_device_info_t info;
    WT_CHECK(weft_device_info(rt, idx, &info));
    assert_int_equal(info.index, idx);
    char name[256];
    assert_int_equal(clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof name, name, NULL), CL_SUCCESS);
    assert_string_equal(info.name, name);
    assert_true(info.compute_units > 0);
    assert_true(info.max_alloc_bytes > 0);
    assert_true(strlen(info.platform) > 0);
    cl_context got_ctx = NULL;
    cl_command_queue got_q = NULL;
    cl_device_id got_dev = NULL;
    WT_CHECK(weft_device_cl(rt, idx, &got_dev, &got_ctx, &got_q));
    assert_ptr_equal(got_ctx, ctx);
    assert_ptr_equal(got_q, q);
    assert_ptr_equal(got_dev, dev);

    /* Launch on it by source and by a program made after the adoption. */
    weft_buffer_t *b = NULL;
    WT_CHECK(weft_buffer_create(rt, idx, N * sizeof(int), WEFT_READ_WRITE, &b));
    int in[N], out[N];
    for (int i = 0; i < N; i++) in[i] = 3 * i;
    WT_CHECK(weft_buffer_write(b, 0, in, sizeof in));
    run_twice_plus(rt, idx, NULL, b, -1);
    weft_program_t *after = NULL;
    WT_CHECK(weft_program_create(rt, SRC, NULL, &after, NULL));
    assert_non_null(weft_program_cl(after, idx));
    run_twice_plus(rt, idx, after, b, 5);
    WT_CHECK(weft_buffer_read(b, 0, out, sizeof out));
    for (int i = 0; i < N; i++) {
        int want = (3 * i * 2 - 1) * 2 + 5;
        if (out[i] != want) fail_msg("adopted device: out[%d] = %d, want %d", i, out[i], want);
    }

    /* The old program: refused with a message, nothing runs. */
    assert_null(weft_program_cl(before, idx));
    int k = 0;
    weft_karg_t args[2] = {weft_karg_buffer(b), weft_karg_scalar(&k, sizeof k)};
    weft_launch_t l = wt_launch_1d(idx, before, NULL, "twice_plus", N, args, 2);
    weft_handle_t *h = (weft_handle_t *)1;
    assert_int_equal(weft_launch(rt, &l, &h), WEFT_EINVAL);
    assert_null(h);
    wt_assert_contains(weft_last_error_message(), "not built for device");

    /* Raw commands on the user's queue see weft's work (same context). */
    int raw[N];
    assert_int_equal(clEnqueueReadBuffer(q, weft_buffer_cl(b), CL_TRUE, 0, sizeof raw, raw, 0, NULL, NULL),
                     CL_SUCCESS);
    assert_memory_equal(raw, out, sizeof out);

    weft_buffer_destroy(b);
    weft_program_destroy(before);
    weft_program_destroy(after);
    weft_runtime_destroy(rt);

    /* weft let go of its references; ours still work. */
    cl_uint refs = 0;
    assert_int_equal(clGetContextInfo(ctx, CL_CONTEXT_REFERENCE_COUNT, sizeof refs, &refs, NULL), CL_SUCCESS);
    assert_true(refs >= 1);
    assert_int_equal(clGetCommandQueueInfo(q, CL_QUEUE_REFERENCE_COUNT, sizeof refs, &refs, NULL), CL_SUCCESS);
    assert_int_equal(refs, 1);
    cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, sizeof in, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    assert_int_equal(clEnqueueWriteBuffer(q, m, CL_TRUE, 0, sizeof in, in, 0, NULL, NULL), CL_SUCCESS);
    memset(raw, 0, sizeof raw);
    assert_int_equal(clEnqueueReadBuffer(q, m, CL_TRUE, 0, sizeof raw, raw, 0, NULL, NULL), CL_SUCCESS);
    assert_memory_equal(raw, in, sizeof in);
    assert_int_equal(clReleaseMemObject(m), CL_SUCCESS);
    assert_int_equal(clReleaseCommandQueue(q), CL_SUCCESS);
    assert_int_equal(clReleaseContext(ctx), CL_SUCCESS);
}

static void adopt_refusals(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    cl_platform_id plat = NULL;
    cl_device_id dev = NULL;
    assert_true(first_device(&plat, &dev));
    cl_int err = CL_SUCCESS;
    cl_context a = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    cl_context b = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    cl_command_queue qb = clCreateCommandQueue(b, dev, 0, &err);
    assert_int_equal(err, CL_SUCCESS);
    int n0 = weft_device_count(rt);
    int idx = -7;
    assert_int_equal(weft_device_adopt(rt, a, qb, &idx), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "another context");
    assert_int_equal(idx, -7);
    assert_int_equal(weft_device_adopt(rt, NULL, qb, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "context is NULL");
    assert_int_equal(weft_device_adopt(rt, a, NULL, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "queue is NULL");
    assert_int_equal(weft_device_adopt(NULL, a, qb, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "runtime is NULL");
    assert_int_equal(weft_device_count(rt), n0);
    /* Refusals took no references. */
    cl_uint refs = 0;
    assert_int_equal(clGetCommandQueueInfo(qb, CL_QUEUE_REFERENCE_COUNT, sizeof refs, &refs, NULL), CL_SUCCESS);
    assert_int_equal(refs, 1);
    /* The right pair works, with NULL index. */
    WT_CHECK(weft_device_adopt(rt, b, qb, NULL));
    assert_int_equal(weft_device_count(rt), n0 + 1);
    weft_runtime_destroy(rt);
    assert_int_equal(clReleaseCommandQueue(qb), CL_SUCCESS);
    assert_int_equal(clReleaseContext(b), CL_SUCCESS);
    assert_int_equal(clReleaseContext(a), CL_SUCCESS);
}

/* A runtime made with "none" can still take a device from the user. */
static void adopt_into_empty_runtime(void **state)
{
    (void)state;
    cl_platform_id plat = NULL;
    cl_device_id dev = NULL;
    if (!first_device(&plat, &dev)) skip();
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    assert_int_equal(weft_device_count(rt), 0);
    cl_int err = CL_SUCCESS;
    cl_context ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    cl_command_queue q = clCreateCommandQueue(ctx, dev, 0, &err);
    assert_int_equal(err, CL_SUCCESS);
    int idx = -1;
    WT_CHECK(weft_device_adopt(rt, ctx, q, &idx));
    assert_int_equal(idx, 0);
    assert_int_equal(weft_device_count(rt), 1);
    weft_buffer_t *b = NULL;
    WT_CHECK(weft_buffer_create(rt, 0, N * sizeof(int), WEFT_READ_WRITE, &b));
    int in[N], out[N];
    for (int i = 0; i < N; i++) in[i] = i;
    WT_CHECK(weft_buffer_write(b, 0, in, sizeof in));
    run_twice_plus(rt, 0, NULL, b, 1);
    WT_CHECK(weft_buffer_read(b, 0, out, sizeof out));
    for (int i = 0; i < N; i++) assert_int_equal(out[i], 2 * i + 1);
    weft_buffer_destroy(b);
    weft_runtime_destroy(rt);
    assert_int_equal(clReleaseCommandQueue(q), CL_SUCCESS);
    assert_int_equal(clReleaseContext(ctx), CL_SUCCESS);
}

int main(void)
{
    unsetenv("WEFT_FAULT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(device_cl_objects),
        cmocka_unit_test(adopt_raw_buffer),
        cmocka_unit_test(adopt_user_context_and_queue),
        cmocka_unit_test(adopt_refusals),
        cmocka_unit_test(adopt_into_empty_runtime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
