/* bench/launch.c — workload "launch": what weft adds to a kernel launch, on
 * every device weft opened, against the same calls made directly on OpenCL.
 *
 *   empty: an empty kernel over 64 work-items.
 *          weft:   weft_launch + weft_join (program built once by
 *                  weft_program_create).
 *          opencl: clEnqueueNDRangeKernel + clFinish on the device's own
 *                  context and queue (weft_device_cl), with its own cl_kernel
 *                  from the same built program.
 *   saxpy: y = a*x + y over n floats (default 16M).
 *          unified-memory device (PoCL): weft_buffer_wrap (zero-copy) +
 *          weft_launch + weft_join, vs clCreateBuffer(CL_MEM_USE_HOST_PTR) on
 *          the same host arrays, clSetKernelArg, enqueue, clFinish.
 *          other devices (GPUs): what a user has to do for each op, the same
 *          for both: copy x and y to the device (weft_buffer_sync_to_device /
 *          blocking clEnqueueWriteBuffer), launch, wait, copy y back
 *          (weft_buffer_sync_to_host / blocking clEnqueueReadBuffer).
 *
 * Every saxpy block is checked against a CPU reference, element by element,
 * after the clock stops: x and y hold small whole numbers and a = 2, so that
 * after k ops y = y0 + 2k*x exactly, whatever the device rounds. The check
 * then puts y back to y0. Every device weft opened is measured (placement =
 * the device's name); the workload takes at least BENCH_LAUNCH_MIN_REPS timed
 * blocks per case, since a saxpy block is a single op of tens of ms. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

/* weft may take at most 20% (empty) and 5% (saxpy) more time than raw
 * OpenCL; ratio = raw/weft, so the goals are 1/1.20 and 1/1.05. */
#define EMPTY_GOAL (1.0 / 1.20)
#define SAXPY_GOAL (1.0 / 1.05)
#define EMPTY_GLOBAL 64
#define DEFAULT_N ((size_t)16 << 20)
#define SMOKE_N ((size_t)5003) /* not a multiple of a work-group */
#define SAXPY_A 2.0f

static const char launch_src[] =
    "__kernel void bench_empty(void) {}\n"
    "__kernel void bench_saxpy(const uint n, const float a,\n"
    "                          __global const float *x, __global float *y)\n"
    "{\n"
    "    size_t i = get_global_id(0);\n"
    "    if (i < n) y[i] = a * x[i] + y[i];\n"
    "}\n";

struct launch_ctx {
    weft_runtime_t *rt;
    int dev;
    int unified;
    cl_context ctx;
    cl_command_queue q;
    /* empty */
    weft_launch_t l_empty;
    cl_kernel k_empty;
    /* saxpy */
    size_t n;
    cl_uint n_arg;
    float a;
    float *x, *y;                 /* shared by both cases */
    weft_buffer_t *bx, *by;
    weft_karg_t args[4];
    weft_launch_t l_saxpy;
    cl_kernel k_saxpy;
    cl_mem mx, my;
    int said;                     /* a failure was reported already */
};

static void say_cl(struct launch_ctx *c, const char *what, cl_int err)
{
    if (c->said++) return;
    bench_progress("launch: device %d: %s failed: %s (%d)", c->dev, what, weft_cl_status_name(err), err);
}

static int join_checked(struct launch_ctx *c, weft_handle_t *h)
{
    weft_panic_t *p = NULL;
    int rc = weft_join(h, NULL, &p);
    if (rc && !c->said++)
        bench_progress("launch: device %d: weft_join: %s%s%s", c->dev, weft_err_name(rc),
                       p ? ": " : "", p ? weft_panic_message(p) : "");
    weft_panic_destroy(p);
    return rc ? -1 : 0;
}

static int launch_checked(struct launch_ctx *c, const weft_launch_t *l, weft_handle_t **h)
{
    int rc = weft_launch(c->rt, l, h);
    if (rc && !c->said++)
        bench_progress("launch: device %d: weft_launch: %s: %s", c->dev, weft_err_name(rc),
                       weft_last_error_message());
    return rc ? -1 : 0;
}

/* ---- empty kernel ------------------------------------------------------- */

static int weft_empty(void *p, uint64_t iters)
{
    struct launch_ctx *c = p;
    for (uint64_t i = 0; i < iters; i++) {
        weft_handle_t *h;
        if (launch_checked(c, &c->l_empty, &h) || join_checked(c, h)) return -1;
    }
    return 0;
}

static int raw_empty(void *p, uint64_t iters)
{
    struct launch_ctx *c = p;
    const size_t global = EMPTY_GLOBAL;
    for (uint64_t i = 0; i < iters; i++) {
        cl_int err = clEnqueueNDRangeKernel(c->q, c->k_empty, 1, NULL, &global, NULL, 0, NULL, NULL);
        if (err == CL_SUCCESS) err = clFinish(c->q);
        if (err != CL_SUCCESS) {
            say_cl(c, "clEnqueueNDRangeKernel/clFinish (empty)", err);
            return -1;
        }
    }
    return 0;
}

/* ---- saxpy -------------------------------------------------------------- */

static float x_of(size_t i) { return (float)((i * 2654435761u >> 13) & 7); }
static float y0_of(size_t i) { return (float)(i & 1023); }

static int weft_saxpy(void *p, uint64_t iters)
{
    struct launch_ctx *c = p;
    size_t bytes = c->n * sizeof(float);
    for (uint64_t i = 0; i < iters; i++) {
        weft_handle_t *h;
        /* What portable user code does: the syncs are no-ops on zero-copy
         * buffers, copies elsewhere. */
        if (weft_buffer_sync_to_device(c->bx, 0, bytes) || weft_buffer_sync_to_device(c->by, 0, bytes)) {
            if (!c->said++) bench_progress("launch: weft_buffer_sync_to_device: %s", weft_last_error_message());
            return -1;
        }
        if (launch_checked(c, &c->l_saxpy, &h) || join_checked(c, h)) return -1;
        if (weft_buffer_sync_to_host(c->by, 0, bytes)) {
            if (!c->said++) bench_progress("launch: weft_buffer_sync_to_host: %s", weft_last_error_message());
            return -1;
        }
    }
    return 0;
}

static int raw_saxpy(void *p, uint64_t iters)
{
    struct launch_ctx *c = p;
    size_t bytes = c->n * sizeof(float), global = c->n;
    for (uint64_t i = 0; i < iters; i++) {
        cl_int err = CL_SUCCESS;
        if (!c->unified) {
            err = clEnqueueWriteBuffer(c->q, c->mx, CL_TRUE, 0, bytes, c->x, 0, NULL, NULL);
            if (err == CL_SUCCESS) err = clEnqueueWriteBuffer(c->q, c->my, CL_TRUE, 0, bytes, c->y, 0, NULL, NULL);
        }
        if (err == CL_SUCCESS) err = clSetKernelArg(c->k_saxpy, 0, sizeof c->n_arg, &c->n_arg);
        if (err == CL_SUCCESS) err = clSetKernelArg(c->k_saxpy, 1, sizeof c->a, &c->a);
        if (err == CL_SUCCESS) err = clSetKernelArg(c->k_saxpy, 2, sizeof c->mx, &c->mx);
        if (err == CL_SUCCESS) err = clSetKernelArg(c->k_saxpy, 3, sizeof c->my, &c->my);
        if (err == CL_SUCCESS)
            err = clEnqueueNDRangeKernel(c->q, c->k_saxpy, 1, NULL, &global, NULL, 0, NULL, NULL);
        if (err == CL_SUCCESS)
            err = c->unified ? clFinish(c->q)
                             : clEnqueueReadBuffer(c->q, c->my, CL_TRUE, 0, bytes, c->y, 0, NULL, NULL);
        if (err != CL_SUCCESS) {
            say_cl(c, "raw saxpy", err);
            return -1;
        }
    }
    return 0;
}

/* After a block of k ops: y must be y0 + k*a*x everywhere (exact: whole
 * numbers below 2^24). Then y goes back to y0 for the next block. */
static int saxpy_check(void *p, uint64_t iters)
{
    struct launch_ctx *c = p;
    int ok = 1;
    if (iters > 500000) {
        bench_progress("launch: saxpy: %" PRIu64 " ops in a block would leave exact float range", iters);
        ok = 0;
    }
    float k = (float)iters * c->a;
    for (size_t i = 0; i < c->n; i++) {
        float want = y0_of(i) + k * x_of(i);
        if (ok && c->y[i] != want) {
            bench_progress("launch: saxpy on device %d: y[%zu] = %g after %" PRIu64 " ops, expected %g", c->dev, i,
                           (double)c->y[i], iters, (double)want);
            ok = 0;
        }
        c->y[i] = y0_of(i);
    }
    return ok ? 0 : -1;
}

/* ---- per device --------------------------------------------------------- */

static void release_raw(struct launch_ctx *c)
{
    if (c->k_empty) clReleaseKernel(c->k_empty);
    if (c->k_saxpy) clReleaseKernel(c->k_saxpy);
    if (c->mx) clReleaseMemObject(c->mx);
    if (c->my) clReleaseMemObject(c->my);
    weft_buffer_destroy(c->bx);
    weft_buffer_destroy(c->by);
    c->k_empty = c->k_saxpy = NULL;
    c->mx = c->my = NULL;
    c->bx = c->by = NULL;
}

static int run_device(bench_ctx *b, weft_program_t *prog, int dev, float *x, float *y, size_t n)
{
    weft_device_info_t info;
    if (weft_device_info(b->rt, dev, &info)) return -1;
    struct launch_ctx c = {.rt = b->rt, .dev = dev, .unified = info.unified_memory, .n = n,
                           .n_arg = (cl_uint)n, .a = SAXPY_A, .x = x, .y = y};
    cl_device_id id;
    if (weft_device_cl(b->rt, dev, &id, &c.ctx, &c.q)) return -1;
    bench_progress("launch: device %d: %s (%s memory)", dev, info.name, c.unified ? "unified" : "separate");

    /* The raw side: its own kernel objects from the same built program. */
    cl_program clp = weft_program_cl(prog, dev);
    cl_int err;
    c.k_empty = clCreateKernel(clp, "bench_empty", &err);
    if (c.k_empty) c.k_saxpy = clCreateKernel(clp, "bench_saxpy", &err);
    size_t bytes = n * sizeof(float);
    cl_mem_flags host = c.unified ? CL_MEM_USE_HOST_PTR : 0;
    if (c.k_saxpy) c.mx = clCreateBuffer(c.ctx, CL_MEM_READ_ONLY | host, bytes, c.unified ? x : NULL, &err);
    if (c.mx) c.my = clCreateBuffer(c.ctx, CL_MEM_READ_WRITE | host, bytes, c.unified ? y : NULL, &err);
    if (!c.my) {
        say_cl(&c, "setting up the raw OpenCL side", err);
        release_raw(&c);
        return -1;
    }
    /* The weft side. */
    if (weft_buffer_wrap(b->rt, dev, x, bytes, WEFT_READ, &c.bx) ||
        weft_buffer_wrap(b->rt, dev, y, bytes, WEFT_READ_WRITE, &c.by)) {
        bench_progress("launch: device %d: weft_buffer_wrap: %s", dev, weft_last_error_message());
        release_raw(&c);
        return -1;
    }
    if (c.unified && !(weft_buffer_is_zero_copy(c.bx) && weft_buffer_is_zero_copy(c.by)))
        bench_progress("launch: device %d: unified memory, yet weft_buffer_wrap is not zero-copy", dev);

    weft_launch_init(&c.l_empty);
    c.l_empty.device = dev;
    c.l_empty.program = prog;
    c.l_empty.kernel = "bench_empty";
    c.l_empty.global[0] = EMPTY_GLOBAL;

    c.args[0] = weft_karg_scalar(&c.n_arg, sizeof c.n_arg);
    c.args[1] = weft_karg_scalar(&c.a, sizeof c.a);
    c.args[2] = weft_karg_buffer(c.bx);
    c.args[3] = weft_karg_buffer(c.by);
    weft_launch_init(&c.l_saxpy);
    c.l_saxpy.device = dev;
    c.l_saxpy.program = prog;
    c.l_saxpy.kernel = "bench_saxpy";
    c.l_saxpy.global[0] = n;
    c.l_saxpy.args = c.args;
    c.l_saxpy.nargs = 4;

    char label[64];
    bench_measure ms, mb;
    bench_record *r;

    snprintf(label, sizeof label, "launch/empty dev %d", dev);
    bench_case we = {"weft", weft_empty, &c, 1.0, NULL};
    bench_case re = {"opencl", raw_empty, &c, 1.0, NULL};
    bench_compare(b, label, &we, &re, &ms, &mb);
    r = bench_add_record(b, "launch", "empty", EMPTY_GLOBAL, (int)info.compute_units, &ms, "launches/s",
                         "opencl", &mb, EMPTY_GOAL);
    if (r) {
        bench_record_place(r, info.name, dev);
        snprintf(r->target, sizeof r->target, "weft_launch of an empty kernel within 1.2x of raw OpenCL (device %d)", dev);
        snprintf(r->note, sizeof r->note,
                 "weft_launch+weft_join vs clEnqueueNDRangeKernel+clFinish, global 64, same queue");
    }

    snprintf(label, sizeof label, "launch/saxpy dev %d", dev);
    bench_case ws = {"weft", weft_saxpy, &c, 1.0, saxpy_check};
    bench_case rs = {"opencl", raw_saxpy, &c, 1.0, saxpy_check};
    bench_compare(b, label, &ws, &rs, &ms, &mb);
    r = bench_add_record(b, "launch", "saxpy", n, (int)info.compute_units, &ms, "GB/s", "opencl", &mb,
                         SAXPY_GOAL);
    if (r) {
        bench_record_place(r, info.name, dev);
        snprintf(r->target, sizeof r->target, "weft_launch saxpy within 5%% of raw OpenCL (device %d)", dev);
        /* Bytes the kernel touches: read x, read y, write y. */
        bench_record_work(r, 3.0 * (double)bytes / 1e9, "GB/s");
        if (c.unified)
            snprintf(r->note, sizeof r->note,
                     "zero-copy on both sides (weft_buffer_wrap / CL_MEM_USE_HOST_PTR); GB/s counts 12 B per "
                     "element; checked in full");
        else
            snprintf(r->note, sizeof r->note,
                     "each op copies x,y to the device, runs, copies y back (weft and raw alike); GB/s counts "
                     "12 B per element; checked in full");
    }
    release_raw(&c);
    return 0;
}

static int run_launch(bench_ctx *b)
{
    int ndev = weft_device_count(b->rt);
    if (ndev == 0) {
        bench_progress("launch: no OpenCL device opened: nothing to measure");
        return 0;
    }
    size_t n = b->opt->size ? b->opt->size : b->opt->smoke ? SMOKE_N : DEFAULT_N;
    weft_program_t *prog = NULL;
    weft_panic_t *why = NULL;
    int rc = weft_program_create(b->rt, launch_src, NULL, &prog, &why);
    if (rc) {
        bench_progress("launch: weft_program_create: %s: %s", weft_err_name(rc),
                       why ? weft_panic_message(why) : weft_last_error_message());
        weft_panic_destroy(why);
        return -1;
    }
    /* Page-aligned, as CL_MEM_USE_HOST_PTR wants for zero-copy. */
    size_t bytes = (n * sizeof(float) + 4095) / 4096 * 4096;
    float *x = aligned_alloc(4096, bytes), *y = aligned_alloc(4096, bytes);
    if (!x || !y) {
        bench_progress("launch: out of memory for %zu floats", n);
        free(x);
        free(y);
        weft_program_destroy(prog);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        x[i] = x_of(i);
        y[i] = y0_of(i);
    }
    int status = 0;
    b->min_reps = b->opt->smoke ? 0 : BENCH_LAUNCH_MIN_REPS;
    for (int d = 0; d < ndev; d++)
        if (run_device(b, prog, d, x, y, n)) {
            bench_progress("launch: device %d could not be measured", d);
            b->failures++;
            status = -1;
        }
    b->min_reps = 0;
    free(x);
    free(y);
    weft_program_destroy(prog);
    return status;
}

const bench_workload bench_workload_launch = {
    .name = "launch",
    .description = "kernel launch+join (empty kernel, 16M saxpy) on every device vs raw OpenCL on the same queue",
    .size_help = "saxpy elements (default 16777216)",
    .run = run_launch,
};
