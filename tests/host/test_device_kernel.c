/* test_device_kernel.c — kernels compute the right values on every device:
 * saxpy, a 2-D launch with local size and offset, a kernel with a __local and
 * a scalar argument; launches built from source (cached); programs; buffers
 * (create/write/read, wrap with zero copy, map/unmap, out-of-range refusal).
 *
 * Registered twice: with PoCL's default device, and with POCL_DEVICES set to
 * "pthread basic" (every per-device check then runs on both). Skips cleanly
 * when the machine has no OpenCL device. */
#define _GNU_SOURCE
#include "weft_test.h"
#include <weft/opencl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- kernels ------------------------------------------------------------------ */
static const char SAXPY_SRC[] =
    "__kernel void saxpy(__global const float *x, __global float *y, float a)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    y[i] = a * x[i] + y[i];\n"
    "}\n";

static const char FILL2D_SRC[] =
    "__kernel void fill2d(__global int *val, __global int *ids, int width)\n"
    "{\n"
    "    size_t x = get_global_id(0), y = get_global_id(1);\n"
    "    val[y * width + x] = (int)(y * 1000 + x);\n"
    "    ids[y * width + x] = (int)(get_local_id(1) * get_local_size(0) + get_local_id(0))\n"
    "                       + 100 * (int)(get_group_id(1) * get_num_groups(0) + get_group_id(0));\n"
    "}\n";

static const char GROUP_SUM_SRC[] =
    "__kernel void group_sum(__global const int *in, __global int *out,\n"
    "                        __local int *scratch, int scale)\n"
    "{\n"
    "    size_t l = get_local_id(0), n = get_local_size(0);\n"
    "    scratch[l] = in[get_global_id(0)] * scale;\n"
    "    barrier(CLK_LOCAL_MEM_FENCE);\n"
    "    if (l == 0) {\n"
    "        int s = 0;\n"
    "        for (size_t i = 0; i < n; i++) s += scratch[i];\n"
    "        out[get_group_id(0)] = s;\n"
    "    }\n"
    "}\n";

static const char SCALE_SRC[] =
    "#ifndef SCALE\n"
    "#define SCALE 1\n"
    "#endif\n"
    "__kernel void scale_add(__global float *v, float f)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    v[i] = v[i] * f * SCALE + (float)i;\n"
    "}\n";

/* ---- saxpy on every device ------------------------------------------------- */
#define SAXPY_N 3000

/* Runs y = a*x + y on device dev, by program or by source, and checks every
 * element. Values are small integers and halves: exact in float, FMA or not. */
static void saxpy_on(weft_runtime_t *rt, int dev, weft_program_t *prog, float a)
{
    float *x = malloc(SAXPY_N * sizeof *x), *y = malloc(SAXPY_N * sizeof *y),
          *out = malloc(SAXPY_N * sizeof *out);
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(out);
    for (int i = 0; i < SAXPY_N; i++) {
        x[i] = (float)i;
        y[i] = (float)(7 * i - 1000);
    }
    weft_buffer_t *bx = NULL, *by = NULL;
    WT_CHECK(weft_buffer_create(rt, dev, SAXPY_N * sizeof(float), WEFT_READ, &bx));
    WT_CHECK(weft_buffer_create(rt, dev, SAXPY_N * sizeof(float), WEFT_READ_WRITE, &by));
    assert_int_equal(weft_buffer_device(bx), dev);
    assert_int_equal(weft_buffer_size(by), SAXPY_N * sizeof(float));
    WT_CHECK(weft_buffer_write(bx, 0, x, SAXPY_N * sizeof(float)));
    WT_CHECK(weft_buffer_write(by, 0, y, SAXPY_N * sizeof(float)));

    weft_karg_t args[3] = {weft_karg_buffer(bx), weft_karg_buffer(by), weft_karg_scalar(&a, sizeof a)};
    weft_launch_t l = wt_launch_1d(dev, prog, SAXPY_SRC, "saxpy", SAXPY_N, args, 3);
    weft_handle_t *h = NULL;
    WT_CHECK(weft_launch(rt, &l, &h));
    assert_non_null(h);
    WT_CHECK(weft_join(h, NULL, WT_PANIC));

    WT_CHECK(weft_buffer_read(by, 0, out, SAXPY_N * sizeof(float)));
    for (int i = 0; i < SAXPY_N; i++) {
        float want = a * (float)i + (float)(7 * i - 1000);
        if (out[i] != want)
            fail_msg("device %d: saxpy y[%d] = %g, want %g", dev, i, (double)out[i], (double)want);
    }
    weft_buffer_destroy(bx);
    weft_buffer_destroy(by);
    free(x);
    free(y);
    free(out);
}

static void saxpy_every_device(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    weft_program_t *prog = NULL;
    weft_panic_t *why = NULL;
    WT_CHECK(weft_program_create(rt, SAXPY_SRC, NULL, &prog, &why));
    assert_null(why);
    for (int d = 0; d < weft_device_count(rt); d++) {
        saxpy_on(rt, d, prog, 2.5f);
        saxpy_on(rt, d, prog, -0.5f); /* kernel objects are reused: run again */
    }
    weft_program_destroy(prog);
    weft_runtime_destroy(rt);
}

/* ---- 2-D with local size and offset ---------------------------------------- */
#define W 24
#define H 12

static void launch_2d_local_offset(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    for (int d = 0; d < weft_device_count(rt); d++) {
        int init[W * H], val[W * H], ids[W * H];
        for (int i = 0; i < W * H; i++) init[i] = -1;
        weft_buffer_t *bv = NULL, *bi = NULL;
        WT_CHECK(weft_buffer_create(rt, d, sizeof val, WEFT_READ_WRITE, &bv));
        WT_CHECK(weft_buffer_create(rt, d, sizeof ids, WEFT_READ_WRITE, &bi));
        WT_CHECK(weft_buffer_write(bv, 0, init, sizeof init));
        WT_CHECK(weft_buffer_write(bi, 0, init, sizeof init));
        int width = W;
        weft_karg_t args[3] = {weft_karg_buffer(bv), weft_karg_buffer(bi), weft_karg_scalar(&width, sizeof width)};
        weft_launch_t l;
        weft_launch_init(&l);
        l.device = d;
        l.source = FILL2D_SRC;
        l.kernel = "fill2d";
        l.dims = 2;
        l.global[0] = 16;
        l.global[1] = 8;
        l.local[0] = 4;
        l.local[1] = 2;
        l.offset[0] = 4;
        l.offset[1] = 2;
        l.args = args;
        l.nargs = 3;
        weft_handle_t *h = NULL;
        WT_CHECK(weft_launch(rt, &l, &h));
        WT_CHECK(weft_join(h, NULL, WT_PANIC));
        WT_CHECK(weft_buffer_read(bv, 0, val, sizeof val));
        WT_CHECK(weft_buffer_read(bi, 0, ids, sizeof ids));
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                int inside = x >= 4 && x < 20 && y >= 2 && y < 10;
                int want_val = inside ? y * 1000 + x : -1;
                int want_ids = -1;
                if (inside) {
                    int lx = (x - 4) % 4, ly = (y - 2) % 2, gx = (x - 4) / 4, gy = (y - 2) / 2;
                    want_ids = ly * 4 + lx + 100 * (gy * 4 + gx);
                }
                if (val[y * W + x] != want_val || ids[y * W + x] != want_ids)
                    fail_msg("device %d: (%d,%d): val %d ids %d, want %d and %d", d, x, y,
                             val[y * W + x], ids[y * W + x], want_val, want_ids);
            }
        }
        weft_buffer_destroy(bv);
        weft_buffer_destroy(bi);
    }
    weft_runtime_destroy(rt);
}

/* ---- __local and scalar arguments ------------------------------------------ */
#define GS_N 4096
#define GS_LOCAL 64

static void local_and_scalar_arguments(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    weft_program_t *prog = NULL;
    WT_CHECK(weft_program_create(rt, GROUP_SUM_SRC, NULL, &prog, NULL));
    static int in[GS_N];
    for (int i = 0; i < GS_N; i++) in[i] = i % 97 - 40;
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_buffer_t *bin = NULL, *bout = NULL;
        WT_CHECK(weft_buffer_create(rt, d, sizeof in, WEFT_READ, &bin));
        WT_CHECK(weft_buffer_create(rt, d, (GS_N / GS_LOCAL) * sizeof(int), WEFT_WRITE, &bout));
        WT_CHECK(weft_buffer_write(bin, 0, in, sizeof in));
        int scale = 3 + d;
        weft_karg_t args[4] = {weft_karg_buffer(bin), weft_karg_buffer(bout),
                               weft_karg_local(GS_LOCAL * sizeof(int)), weft_karg_scalar(&scale, sizeof scale)};
        weft_launch_t l = wt_launch_1d(d, prog, NULL, "group_sum", GS_N, args, 4);
        l.local[0] = GS_LOCAL;
        weft_handle_t *h = NULL;
        WT_CHECK(weft_launch(rt, &l, &h));
        scale = -1000; /* the scalar was copied at launch */
        WT_CHECK(weft_join(h, NULL, WT_PANIC));
        int out[GS_N / GS_LOCAL];
        WT_CHECK(weft_buffer_read(bout, 0, out, sizeof out));
        for (int g = 0; g < GS_N / GS_LOCAL; g++) {
            int want = 0;
            for (int i = g * GS_LOCAL; i < (g + 1) * GS_LOCAL; i++) want += in[i] * (3 + d);
            if (out[g] != want) fail_msg("device %d: group %d sum %d, want %d", d, g, out[g], want);
        }
        weft_buffer_destroy(bin);
        weft_buffer_destroy(bout);
    }
    weft_program_destroy(prog);
    weft_runtime_destroy(rt);
}

/* ---- launch by source (cached), programs ------------------------------------- */
static void launch_by_source_twice(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    for (int d = 0; d < weft_device_count(rt); d++) {
        saxpy_on(rt, d, NULL, 3.0f);  /* builds at launch */
        saxpy_on(rt, d, NULL, -2.0f); /* same source: from the cache */
    }
    /* Same source, other options: the cache keeps them apart. */
    for (int d = 0; d < weft_device_count(rt); d++) {
        const char *opts[4] = {"-DSCALE=3", NULL, "-DSCALE=3", "-DSCALE=5"};
        const int scale[4] = {3, 1, 3, 5};
        for (int k = 0; k < 4; k++) {
            float v[128];
            for (int i = 0; i < 128; i++) v[i] = (float)(i % 7);
            weft_buffer_t *b = NULL;
            WT_CHECK(weft_buffer_create(rt, d, sizeof v, WEFT_READ_WRITE, &b));
            WT_CHECK(weft_buffer_write(b, 0, v, sizeof v));
            float f = 0.5f;
            weft_karg_t args[2] = {weft_karg_buffer(b), weft_karg_scalar(&f, sizeof f)};
            weft_launch_t l = wt_launch_1d(d, NULL, SCALE_SRC, "scale_add", 128, args, 2);
            l.options = opts[k];
            weft_handle_t *h = NULL;
            WT_CHECK(weft_launch(rt, &l, &h));
            WT_CHECK(weft_join(h, NULL, WT_PANIC));
            WT_CHECK(weft_buffer_read(b, 0, v, sizeof v));
            for (int i = 0; i < 128; i++) {
                float want = (float)(i % 7) * 0.5f * (float)scale[k] + (float)i;
                if (v[i] != want)
                    fail_msg("device %d, options %s: v[%d] = %g, want %g", d, opts[k] ? opts[k] : "(none)", i,
                             (double)v[i], (double)want);
            }
            weft_buffer_destroy(b);
        }
    }
    weft_runtime_destroy(rt);
}

static int program_has_kernel(cl_program prog, const char *name)
{
    char names[1024] = "";
    if (clGetProgramInfo(prog, CL_PROGRAM_KERNEL_NAMES, sizeof names, names, NULL) != CL_SUCCESS) return 0;
    return strstr(names, name) != NULL;
}

static void program_create_and_cache(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    int n = weft_device_count(rt);
    weft_program_t *p1 = NULL, *p2 = NULL, *p3 = NULL;
    weft_panic_t *why = (weft_panic_t *)1;
    WT_CHECK(weft_program_create(rt, SCALE_SRC, NULL, &p1, &why));
    assert_null(why);
    WT_CHECK(weft_program_create(rt, SCALE_SRC, NULL, &p2, NULL));
    WT_CHECK(weft_program_create(rt, SCALE_SRC, "-DSCALE=2", &p3, NULL));
    assert_non_null(p1);
    assert_non_null(p2);
    for (int d = 0; d < n; d++) {
        cl_program c1 = weft_program_cl(p1, d), c2 = weft_program_cl(p2, d), c3 = weft_program_cl(p3, d);
        assert_non_null(c1);
        assert_non_null(c3);
        assert_ptr_equal(c1, c2);     /* same source and options: built once */
        assert_ptr_not_equal(c1, c3); /* other options: another build */
        assert_true(program_has_kernel(c1, "scale_add"));
        cl_build_status bs = CL_BUILD_NONE;
        cl_device_id id = NULL;
        WT_CHECK(weft_device_cl(rt, d, &id, NULL, NULL));
        assert_int_equal(clGetProgramBuildInfo(c1, id, CL_PROGRAM_BUILD_STATUS, sizeof bs, &bs, NULL), CL_SUCCESS);
        assert_int_equal(bs, CL_BUILD_SUCCESS);
    }
    assert_null(weft_program_cl(p1, n));
    assert_null(weft_program_cl(p1, -1));
    assert_null(weft_program_cl(NULL, 0));
    /* Destroying a handle keeps the build in the cache for the others. */
    cl_program kept = weft_program_cl(p2, 0);
    weft_program_destroy(p1);
    assert_ptr_equal(weft_program_cl(p2, 0), kept);

    /* The options reach the compiler: SCALE=2 doubles. */
    for (int d = 0; d < n; d++) {
        float v[256];
        for (int i = 0; i < 256; i++) v[i] = (float)(i % 13);
        weft_buffer_t *b = NULL;
        WT_CHECK(weft_buffer_create(rt, d, sizeof v, WEFT_READ_WRITE, &b));
        WT_CHECK(weft_buffer_write(b, 0, v, sizeof v));
        float f = 1.5f;
        weft_karg_t args[2] = {weft_karg_buffer(b), weft_karg_scalar(&f, sizeof f)};
        weft_launch_t l = wt_launch_1d(d, p3, NULL, "scale_add", 256, args, 2);
        weft_handle_t *h = NULL;
        WT_CHECK(weft_launch(rt, &l, &h));
        WT_CHECK(weft_join(h, NULL, WT_PANIC));
        float out[256];
        WT_CHECK(weft_buffer_read(b, 0, out, sizeof out));
        for (int i = 0; i < 256; i++) {
            float want = (float)(i % 13) * 1.5f * 2 + (float)i;
            if (out[i] != want) fail_msg("device %d: v[%d] = %g, want %g", d, i, (double)out[i], (double)want);
        }
        weft_buffer_destroy(b);
    }
    weft_program_destroy(p2);
    weft_program_destroy(p3);
    weft_program_destroy(NULL);
    weft_runtime_destroy(rt);
}

/* ---- buffers ------------------------------------------------------------------ */
static void buffer_round_trip(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    for (int d = 0; d < weft_device_count(rt); d++) {
        unsigned char in[1024], out[1024];
        for (int i = 0; i < 1024; i++) in[i] = (unsigned char)(i * 7 + d);
        weft_buffer_t *b = NULL;
        WT_CHECK(weft_buffer_create(rt, d, sizeof in, WEFT_READ_WRITE, &b));
        assert_int_equal(weft_buffer_size(b), 1024);
        assert_int_equal(weft_buffer_device(b), d);
        assert_null(weft_buffer_host(b));
        assert_int_equal(weft_buffer_is_zero_copy(b), 0);
        assert_non_null(weft_buffer_cl(b));
        WT_CHECK(weft_buffer_write(b, 0, in, sizeof in));
        memset(out, 0, sizeof out);
        WT_CHECK(weft_buffer_read(b, 0, out, sizeof out));
        assert_memory_equal(in, out, sizeof in);

        /* A partial write in the middle, a partial read at an offset. */
        unsigned char patch[50];
        memset(patch, 0xab, sizeof patch);
        WT_CHECK(weft_buffer_write(b, 100, patch, sizeof patch));
        memcpy(in + 100, patch, sizeof patch);
        WT_CHECK(weft_buffer_read(b, 0, out, sizeof out));
        assert_memory_equal(in, out, sizeof in);
        unsigned char tail[24];
        WT_CHECK(weft_buffer_read(b, 1000, tail, sizeof tail));
        assert_memory_equal(in + 1000, tail, sizeof tail);
        weft_buffer_destroy(b);
    }
    weft_buffer_destroy(NULL);
    weft_runtime_destroy(rt);
}

static void buffer_out_of_range(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    weft_buffer_t *b = NULL;
    WT_CHECK(weft_buffer_create(rt, 0, 1024, WEFT_READ_WRITE, &b));
    unsigned char data[64] = {0};
    assert_int_equal(weft_buffer_read(b, 1000, data, 25), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "weft_buffer_read");
    wt_assert_contains(weft_last_error_message(), "outside the 1024-byte buffer");
    assert_int_equal(weft_buffer_write(b, 1000, data, 25), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "weft_buffer_write");
    wt_assert_contains(weft_last_error_message(), "outside");
    assert_int_equal(weft_buffer_write(b, 1025, data, 0), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "outside");
    assert_int_equal(weft_buffer_read(b, SIZE_MAX, data, 2), WEFT_EINVAL); /* offset + bytes overflows */
    wt_assert_contains(weft_last_error_message(), "outside");
    assert_int_equal(weft_buffer_write(b, 8, data, SIZE_MAX - 4), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "outside");
    void *ptr = (void *)1;
    assert_int_equal(weft_buffer_map(b, 1020, 8, WEFT_READ, &ptr), WEFT_EINVAL);
    assert_null(ptr);
    wt_assert_contains(weft_last_error_message(), "weft_buffer_map");
    assert_int_equal(weft_buffer_read(b, 0, NULL, 4), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "NULL");
    assert_int_equal(weft_buffer_write(NULL, 0, data, 4), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "buffer is NULL");
    /* The exact end is fine, and the buffer is intact. */
    unsigned char tail[24];
    memset(tail, 0x5a, sizeof tail);
    WT_CHECK(weft_buffer_write(b, 1000, tail, sizeof tail));
    unsigned char back[24];
    WT_CHECK(weft_buffer_read(b, 1000, back, sizeof back));
    assert_memory_equal(tail, back, sizeof tail);
    weft_buffer_destroy(b);
    weft_runtime_destroy(rt);
}

#define WRAP_N 2048

static void buffer_wrap_zero_copy(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_device_info_t info;
        WT_CHECK(weft_device_info(rt, d, &info));
        float *host = aligned_alloc(4096, WRAP_N * sizeof(float));
        assert_non_null(host);
        for (int i = 0; i < WRAP_N; i++) host[i] = (float)(i % 31);
        weft_buffer_t *b = NULL;
        WT_CHECK(weft_buffer_wrap(rt, d, host, WRAP_N * sizeof(float), WEFT_READ_WRITE, &b));
        assert_ptr_equal(weft_buffer_host(b), host);
        assert_int_equal(weft_buffer_size(b), WRAP_N * sizeof(float));
        assert_int_equal(weft_buffer_device(b), d);
        /* PoCL's CPU devices share the host's memory: zero copy, unless
         * separate-memory mode says otherwise. Elsewhere zero copy exactly
         * when the device says its memory is unified. */
        int pocl = strstr(info.platform, "Portable Computing Language") != NULL;
        if (pocl) assert_int_equal(info.unified_memory, wt_separate_memory() ? 0 : 1);
        int zero_copy = weft_buffer_is_zero_copy(b);
        assert_int_equal(zero_copy, info.unified_memory ? 1 : 0);

        float f = 2.0f;
        weft_karg_t args[2] = {weft_karg_buffer(b), weft_karg_scalar(&f, sizeof f)};
        weft_launch_t l = wt_launch_1d(d, NULL, SCALE_SRC, "scale_add", WRAP_N, args, 2);
        weft_handle_t *h = NULL;
        WT_CHECK(weft_launch(rt, &l, &h));
        WT_CHECK(weft_join(h, NULL, WT_PANIC));
        /* Zero copy: no read, no sync, the kernel wrote the host's memory
         * itself. With a device copy, sync_to_host brings the result. */
        if (!zero_copy) WT_CHECK(weft_buffer_sync_to_host(b, 0, WRAP_N * sizeof(float)));
        for (int i = 0; i < WRAP_N; i++) {
            float want = (float)(i % 31) * 2.0f + (float)i;
            if (host[i] != want) fail_msg("device %d: host[%d] = %g, want %g", d, i, (double)host[i], (double)want);
        }
        /* The sync calls are no-ops on zero-copy buffers (copies otherwise),
         * and range-checked either way. */
        WT_CHECK(weft_buffer_sync_to_host(b, 0, WRAP_N * sizeof(float)));
        WT_CHECK(weft_buffer_sync_to_device(b, 0, WRAP_N * sizeof(float)));
        assert_int_equal(weft_buffer_sync_to_host(b, 4, WRAP_N * sizeof(float)), WEFT_EINVAL);
        wt_assert_contains(weft_last_error_message(), "outside");
        /* Reading through OpenCL sees the same values. */
        float *back = malloc(WRAP_N * sizeof *back);
        assert_non_null(back);
        WT_CHECK(weft_buffer_read(b, 0, back, WRAP_N * sizeof(float)));
        assert_memory_equal(back, host, WRAP_N * sizeof(float));
        free(back);
        weft_buffer_destroy(b);
        free(host);
    }
    /* A buffer that wraps nothing has nothing to sync. */
    weft_buffer_t *plain = NULL;
    WT_CHECK(weft_buffer_create(rt, 0, 64, WEFT_READ_WRITE, &plain));
    assert_int_equal(weft_buffer_sync_to_host(plain, 0, 64), WEFT_EINVAL);
    wt_assert_contains(weft_last_error_message(), "does not wrap host memory");
    weft_buffer_destroy(plain);
    weft_runtime_destroy(rt);
}

#define MAP_N 4096

static void buffer_map_unmap(void **state)
{
    (void)state;
    weft_runtime_t *rt = wt_runtime(2, WT_SELECTED_DEVICES, 1);
    for (int d = 0; d < weft_device_count(rt); d++) {
        weft_buffer_t *b = NULL;
        WT_CHECK(weft_buffer_create(rt, d, MAP_N * sizeof(int), WEFT_READ_WRITE, &b));
        int *p = NULL;
        WT_CHECK(weft_buffer_map(b, 0, MAP_N * sizeof(int), WEFT_WRITE, (void **)&p));
        assert_non_null(p);
        for (int i = 0; i < MAP_N; i++) p[i] = i * 3 - d;
        WT_CHECK(weft_buffer_unmap(b, p));

        /* A mapped sub-range reads what was written. */
        int *q = NULL;
        WT_CHECK(weft_buffer_map(b, 1024 * sizeof(int), 1024 * sizeof(int), WEFT_READ, (void **)&q));
        assert_non_null(q);
        for (int i = 0; i < 1024; i++)
            if (q[i] != (1024 + i) * 3 - d) fail_msg("device %d: mapped [%d] = %d", d, i, q[i]);
        WT_CHECK(weft_buffer_unmap(b, q));

        /* Read-write map: change a few, then read through OpenCL. */
        WT_CHECK(weft_buffer_map(b, 0, 16 * sizeof(int), WEFT_READ_WRITE, (void **)&q));
        for (int i = 0; i < 16; i++) q[i] = -q[i];
        WT_CHECK(weft_buffer_unmap(b, q));
        int *all = malloc(MAP_N * sizeof *all);
        assert_non_null(all);
        WT_CHECK(weft_buffer_read(b, 0, all, MAP_N * sizeof(int)));
        for (int i = 0; i < MAP_N; i++) {
            int want = i < 16 ? -(i * 3 - d) : i * 3 - d;
            if (all[i] != want) fail_msg("device %d: [%d] = %d, want %d", d, i, all[i], want);
        }
        free(all);

        void *bad = (void *)1;
        assert_int_equal(weft_buffer_map(b, 0, 0, WEFT_READ, &bad), WEFT_EINVAL);
        wt_assert_contains(weft_last_error_message(), "0 bytes");
        assert_int_equal(weft_buffer_map(b, 0, 16, (weft_access_t)0, &bad), WEFT_EINVAL);
        wt_assert_contains(weft_last_error_message(), "access");
        assert_int_equal(weft_buffer_unmap(b, NULL), WEFT_EINVAL);
        wt_assert_contains(weft_last_error_message(), "pointer is NULL");
        weft_buffer_destroy(b);
    }
    weft_runtime_destroy(rt);
}

int main(void)
{
    unsetenv("WEFT_FAULT");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(saxpy_every_device),
        cmocka_unit_test(launch_2d_local_offset),
        cmocka_unit_test(local_and_scalar_arguments),
        cmocka_unit_test(launch_by_source_twice),
        cmocka_unit_test(program_create_and_cache),
        cmocka_unit_test(buffer_round_trip),
        cmocka_unit_test(buffer_out_of_range),
        cmocka_unit_test(buffer_wrap_zero_copy),
        cmocka_unit_test(buffer_map_unmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
