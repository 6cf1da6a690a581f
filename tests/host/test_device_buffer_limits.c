/* test_device_buffer_limits.c — buffers that cannot be: above the device's
 * CL_DEVICE_MAX_MEM_ALLOC_SIZE (the message names the limit), 0 bytes, a
 * device that does not exist, NULL arguments, a bad access mode, a cl_mem of
 * another context. Each gets WEFT_EINVAL with a message and leaves the
 * runtime usable. Skips cleanly when the machine has no OpenCL device. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/opencl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The runtime still allocates and round-trips on every device. */
static void still_usable(weft_runtime_t *rt)
{
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_buffer_t *b = NULL;
        WT_CHECK(weft_buffer_create(rt, d, 256, WEFT_READ_WRITE, &b));
        unsigned char in[256], out[256];
        for (int i = 0; i < 256; i++) in[i] = (unsigned char)(255 - i);
        WT_CHECK(weft_buffer_write(b, 0, in, sizeof in));
        WT_CHECK(weft_buffer_read(b, 0, out, sizeof out));
        assert_memory_equal(in, out, sizeof in);
        weft_buffer_destroy(b);
    }
}

static void above_max_alloc_refused(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_SELECTED_DEVICES, 1);
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, d, &info));
        assert_true(info.max_alloc_bytes > 0);
        char limit[32];
        snprintf(limit, sizeof limit, "%llu", (unsigned long long)info.max_alloc_bytes);

        weft_buffer_t *b = (weft_buffer_t *)1;
        int rc = weft_buffer_create(rt, d, (size_t)info.max_alloc_bytes + 1, WEFT_READ_WRITE, &b);
        assert_int_equal(rc, WEFT_EINVAL);
        assert_null(b);
        wt_assert_contains(weft_last_error_message(), limit);
        wt_assert_contains(weft_last_error_message(), "CL_DEVICE_MAX_MEM_ALLOC_SIZE");
        wt_assert_contains(weft_last_error_message(), info.name);
        wt_assert_contains(weft_last_error_message(), "weft_buffer_create");

        /* Far above as well (no overflow in the check). */
        b = (weft_buffer_t *)1;
        assert_int_equal(weft_buffer_create(rt, d, SIZE_MAX, WEFT_READ, &b), WEFT_EINVAL);
        assert_null(b);
        wt_assert_contains(weft_last_error_message(), limit);

        /* wrap checks the same limit before it looks at the memory. */
        char small[16];
        b = (weft_buffer_t *)1;
        assert_int_equal(weft_buffer_wrap(rt, d, small, (size_t)info.max_alloc_bytes + 1, WEFT_READ_WRITE, &b),
                         WEFT_EINVAL);
        assert_null(b);
        wt_assert_contains(weft_last_error_message(), limit);
        wt_assert_contains(weft_last_error_message(), "weft_buffer_wrap");
    }
    still_usable(rt);
    weft_runtime_destroy(rt);
}

static void zero_bytes_refused(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_SELECTED_DEVICES, 1);
    weft_buffer_t *b = (weft_buffer_t *)1;
    assert_int_equal(weft_buffer_create(rt, 0, 0, WEFT_READ_WRITE, &b), WEFT_EINVAL);
    assert_null(b);
    wt_assert_contains(weft_last_error_message(), "0 bytes");
    char host[8];
    b = (weft_buffer_t *)1;
    assert_int_equal(weft_buffer_wrap(rt, 0, host, 0, WEFT_READ_WRITE, &b), WEFT_EINVAL);
    assert_null(b);
    wt_assert_contains(weft_last_error_message(), "0 bytes");
    still_usable(rt);
    weft_runtime_destroy(rt);
}

static void bad_device_refused(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_SELECTED_DEVICES, 1);
    int n = weft_device_count(rt);
    int bad[] = {-1, n, n + 1, 1000};
    char host[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "device %d does not exist", bad[i]);
        weft_buffer_t *b = (weft_buffer_t *)1;
        assert_int_equal(weft_buffer_create(rt, bad[i], 64, WEFT_READ_WRITE, &b), WEFT_EINVAL);
        assert_null(b);
        wt_assert_contains(weft_last_error_message(), what);
        wt_assert_contains(weft_last_error_message(), "weft_buffer_create");
        b = (weft_buffer_t *)1;
        assert_int_equal(weft_buffer_wrap(rt, bad[i], host, sizeof host, WEFT_READ_WRITE, &b), WEFT_EINVAL);
        assert_null(b);
        wt_assert_contains(weft_last_error_message(), what);
    }
    still_usable(rt);
    weft_runtime_destroy(rt);
}

static void null_and_bad_access_refused(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_SELECTED_DEVICES, 1);
    weft_buffer_t *b = (weft_buffer_t *)1;
    assert_int_equal(weft_buffer_create(NULL, 0, 64, WEFT_READ_WRITE, &b), WEFT_EINVAL);
    assert_null(b);
    wt_assert_contains(weft_last_error_message(), "runtime is NULL");
    assert_int_equal(weft_buffer_create(rt, 0, 64, WEFT_READ_WRITE, NULL), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "out is NULL");
    b = (weft_buffer_t *)1;
    assert_int_equal(weft_buffer_create(rt, 0, 64, (weft_access_t)0, &b), WEFT_EINVAL);
    assert_null(b);
    wt_assert_contains(weft_last_error_message(), "access");
    assert_int_equal(weft_buffer_create(rt, 0, 64, (weft_access_t)7, &b), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "access");
    b = (weft_buffer_t *)1;
    assert_int_equal(weft_buffer_wrap(rt, 0, NULL, 64, WEFT_READ_WRITE, &b), WEFT_EINVAL);
    assert_null(b);
    wt_assert_contains(weft_last_error_message(), "host memory is NULL");
    b = (weft_buffer_t *)1;
    assert_int_equal(weft_buffer_adopt(rt, 0, NULL, &b), WEFT_EINVAL);
    assert_null(b);
    wt_assert_contains(weft_last_error_message(), "mem is NULL");
    /* The accessors are NULL-safe. */
    assert_null(weft_buffer_cl(NULL));
    assert_int_equal(weft_buffer_size(NULL), 0);
    assert_int_equal(weft_buffer_device(NULL), -1);
    assert_null(weft_buffer_host(NULL));
    assert_int_equal(weft_buffer_is_zero_copy(NULL), 0);
    still_usable(rt);
    weft_runtime_destroy(rt);
}

/* A cl_mem from a context weft does not own is refused by adopt. */
static void adopt_foreign_context_refused(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_SELECTED_DEVICES, 1);
    cl_device_id id = NULL;
    WT_CHECK(weft_device_cl(rt, 0, &id, NULL, NULL));
    cl_int err = CL_SUCCESS;
    cl_context other = clCreateContext(NULL, 1, &id, NULL, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    cl_mem mem = clCreateBuffer(other, CL_MEM_READ_WRITE, 128, NULL, &err);
    assert_int_equal(err, CL_SUCCESS);
    weft_buffer_t *b = (weft_buffer_t *)1;
    assert_int_equal(weft_buffer_adopt(rt, 0, mem, &b), WEFT_EINVAL);
    assert_null(b);
    wt_assert_contains(weft_last_error_message(), "another context");
    b = (weft_buffer_t *)1;
    assert_int_equal(weft_buffer_adopt(rt, weft_device_count(rt), mem, &b), WEFT_EINVAL);
    assert_null(b);
    wt_assert_contains(weft_last_error_message(), "does not exist");
    clReleaseMemObject(mem);
    clReleaseContext(other);
    still_usable(rt);
    weft_runtime_destroy(rt);
}

/* Without devices there is nothing to allocate on. */
static void no_devices_no_buffers(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(1, WT_NO_DEVICES, 0);
    assert_int_equal(weft_device_count(rt), 0);
    weft_buffer_t *b = (weft_buffer_t *)1;
    assert_int_equal(weft_buffer_create(rt, 0, 64, WEFT_READ_WRITE, &b), WEFT_EINVAL);
    assert_null(b);
    wt_assert_contains(weft_last_error_message(), "0 devices");
    weft_program_t *p = (weft_program_t *)1;
    assert_int_equal(weft_program_create(rt, "__kernel void k(void) {}", NULL, &p, NULL), WEFT_ENODEV);
    assert_null(p);
    wt_assert_contains(weft_last_error_message(), "no OpenCL device");
    weft_runtime_destroy(rt);
}

int main(void)
{
    unsetenv("WEFT_FAULT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(above_max_alloc_refused),
        cmocka_unit_test(zero_bytes_refused),
        cmocka_unit_test(bad_device_refused),
        cmocka_unit_test(null_and_bad_access_refused),
        cmocka_unit_test(adopt_foreign_context_refused),
        cmocka_unit_test(no_devices_no_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
