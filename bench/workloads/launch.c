/* bench/workloads/launch.c — workload "launch": what weft adds to a kernel
 * launch, on every device weft opened, against the same calls made directly
 * on OpenCL (the device's own context and queue, weft_device_cl, and its own
 * cl_kernel from the same built program).
 *
 *   empty: an empty kernel over 64 work-items: weft_launch + weft_join vs
 *          clEnqueueNDRangeKernel + clFinish.
 *   saxpy: y = a*x + y over n floats (default 16M). On a unified-memory
 *          device (PoCL) weft_buffer_wrap (zero-copy) vs
 *          clCreateBuffer(CL_MEM_USE_HOST_PTR) on the same host arrays. On
 *          other devices (GPUs) what a user does for each op, the same for
 *          both: copy x and y in, launch, wait, copy y back.
 *
 * Every saxpy block is checked in full after the clock stops (whole numbers:
 * exact, see bench_saxpy_check). The workload takes at least
 * BENCH_LAUNCH_MIN_REPS timed blocks per case: a saxpy block is one op. */
#include <stdarg.h>
#include <stdlib.h>

#include "workloads.h"

/* weft may take at most 20% (empty) and 5% (saxpy) more time than raw
 * OpenCL; ratio = raw/weft, so the goals are 1/1.20 and 1/1.05. */
#define EMPTY_GOAL (1.0 / 1.20)
#define SAXPY_GOAL (1.0 / 1.05)
#define EMPTY_GLOBAL 64
#define DEFAULT_N ((size_t)16 << 20)
#define SMOKE_N ((size_t)5003) /* not a multiple of a work-group */

static const char launch_src[] = "__kernel void bench_empty(void) {}\n"
                                 "__kernel void bench_saxpy(const uint n, const float a,\n"
                                 "                          __global const float *x, __global float *y)\n"
                                 "{\n"
                                 "    size_t i = get_global_id(0);\n"
                                 "    if (i < n) y[i] = a * x[i] + y[i];\n"
                                 "}\n";

struct launch_ctx {
    weft_runtime_t *rt;
    int dev;
    bench_devbase raw;            /* raw.k: bench_saxpy; raw.mem[0], [1]: x, y */
    cl_kernel k_empty;
    weft_launch_t l_empty, l_saxpy;
    size_t n;
    cl_uint n_arg;
    float a, *x, *y;              /* x, y shared by both sides */
    weft_buffer_t *bx, *by;
    weft_karg_t args[4];
    int said;                     /* a failure was reported already */
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(struct launch_ctx *c, const char *fmt, ...)
{
    if (c->said++) return -1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bench_progress("launch: device %d: %s", c->dev, msg);
    return -1;
}

static int launch_join(struct launch_ctx *c, const weft_launch_t *l)
{
    weft_handle_t *h;
    weft_panic_t *p = NULL;
    int rc = weft_launch(c->rt, l, &h);
    if (rc) return fail(c, "weft_launch: %s: %s", weft_err_name(rc), weft_last_error_message());
    if ((rc = weft_join(h, NULL, &p)) != 0)
        fail(c, "weft_join: %s%s%s", weft_err_name(rc), p ? ": " : "", p ? weft_panic_message(p) : "");
    weft_panic_destroy(p);
    return rc ? -1 : 0;
}

static int weft_empty(void *p, uint64_t iters)
{
    struct launch_ctx *c = p;
    for (uint64_t i = 0; i < iters; i++)
        if (launch_join(c, &c->l_empty)) return -1;
    return 0;
}

static int raw_empty(void *p, uint64_t iters)
{
    struct launch_ctx *c = p;
    const size_t global = EMPTY_GLOBAL;
    for (uint64_t i = 0; i < iters; i++) {
        cl_int err = clEnqueueNDRangeKernel(c->raw.q, c->k_empty, 1, NULL, &global, NULL, 0, NULL, NULL);
        if (err == CL_SUCCESS) err = clFinish(c->raw.q);
        if (err != CL_SUCCESS) return fail(c, "clEnqueueNDRangeKernel/clFinish (empty): %s", weft_cl_status_name(err));
    }
    return 0;
}

static int weft_saxpy(void *p, uint64_t iters)
{
    struct launch_ctx *c = p;
    size_t bytes = c->n * sizeof(float);
    for (uint64_t i = 0; i < iters; i++) {
        /* What portable user code does: no-ops on zero-copy buffers. */
        if (weft_buffer_sync_to_device(c->bx, 0, bytes) || weft_buffer_sync_to_device(c->by, 0, bytes))
            return fail(c, "weft_buffer_sync_to_device: %s", weft_last_error_message());
        if (launch_join(c, &c->l_saxpy)) return -1;
        if (weft_buffer_sync_to_host(c->by, 0, bytes))
            return fail(c, "weft_buffer_sync_to_host: %s", weft_last_error_message());
    }
    return 0;
}

static int raw_saxpy(void *p, uint64_t iters)
{
    struct launch_ctx *c = p;
    bench_devbase *d = &c->raw;
    size_t bytes = c->n * sizeof(float), global = c->n;
    for (uint64_t i = 0; i < iters; i++) {
        cl_int err = CL_SUCCESS;
        if (!d->unified) {
            err = clEnqueueWriteBuffer(d->q, d->mem[0], CL_TRUE, 0, bytes, c->x, 0, NULL, NULL);
            if (err == CL_SUCCESS) err = clEnqueueWriteBuffer(d->q, d->mem[1], CL_TRUE, 0, bytes, c->y, 0, NULL, NULL);
        }
        if (err == CL_SUCCESS) err = clSetKernelArg(d->k, 0, sizeof c->n_arg, &c->n_arg);
        if (err == CL_SUCCESS) err = clSetKernelArg(d->k, 1, sizeof c->a, &c->a);
        if (err == CL_SUCCESS) err = clSetKernelArg(d->k, 2, sizeof d->mem[0], &d->mem[0]);
        if (err == CL_SUCCESS) err = clSetKernelArg(d->k, 3, sizeof d->mem[1], &d->mem[1]);
        if (err == CL_SUCCESS) err = clEnqueueNDRangeKernel(d->q, d->k, 1, NULL, &global, NULL, 0, NULL, NULL);
        if (err == CL_SUCCESS)
            err = d->unified ? clFinish(d->q) : clEnqueueReadBuffer(d->q, d->mem[1], CL_TRUE, 0, bytes, c->y, 0, NULL, NULL);
        if (err != CL_SUCCESS) return fail(c, "raw saxpy: %s (%d)", weft_cl_status_name(err), err);
    }
    return 0;
}

static int saxpy_check(void *p, uint64_t iters)
{
    struct launch_ctx *c = p;
    char why[256];
    return bench_saxpy_check(c->y, c->n, iters, why, sizeof why) ? fail(c, "saxpy: %s", why) : 0;
}

static void release(struct launch_ctx *c)
{
    if (c->k_empty) clReleaseKernel(c->k_empty);
    bench_devbase_free(&c->raw);
    weft_buffer_destroy(c->bx);
    weft_buffer_destroy(c->by);
}

static void measure(bench_ctx *b, struct launch_ctx *c, const char *variant, bench_body_fn weft, bench_body_fn raw,
                    bench_body_fn check, const weft_device_info_t *info)
{
    char label[64];
    bench_measure m[2];
    snprintf(label, sizeof label, "launch/%s dev %d", variant, c->dev);
    bench_case cs[2] = {{"weft", weft, c, 1.0, check}, {"opencl", raw, c, 1.0, check}};
    bench_measure_set(b, label, cs, 2, m);
    int saxpy = check != NULL;
    bench_record *r = bench_add_record(b, "launch", variant, saxpy ? c->n : EMPTY_GLOBAL, (int)info->compute_units,
                                       &m[0], "launches/s", "opencl", &m[1], saxpy ? SAXPY_GOAL : EMPTY_GOAL);
    if (!r) return;
    bench_record_place(r, info->name, c->dev);
    if (!saxpy) {
        snprintf(r->target, sizeof r->target, "weft_launch of an empty kernel within 1.2x of raw OpenCL (device %d)",
                 c->dev);
        snprintf(r->note, sizeof r->note, "weft_launch+weft_join vs clEnqueueNDRangeKernel+clFinish, global 64, same queue");
        return;
    }
    snprintf(r->target, sizeof r->target, "weft_launch saxpy within 5%% of raw OpenCL (device %d)", c->dev);
    bench_record_work(r, 12.0 * (double)c->n / 1e9, "GB/s"); /* read x, read y, write y */
    snprintf(r->note, sizeof r->note, "%s; GB/s counts 12 B per element; checked in full",
             c->raw.unified ? "zero-copy on both sides (weft_buffer_wrap / CL_MEM_USE_HOST_PTR)"
                            : "each op copies x,y to the device, runs, copies y back (weft and raw alike)");
}

static int run_device(bench_ctx *b, weft_program_t *prog, int dev, float *x, float *y, size_t n)
{
    weft_device_info_t info;
    struct launch_ctx c = {.rt = b->rt, .dev = dev, .n = n, .n_arg = (cl_uint)n, .a = BENCH_SAXPY_A, .x = x, .y = y};
    if (weft_device_info(b->rt, dev, &info) || bench_devbase_open(&c.raw, b->rt, dev)) return -1;
    c.raw.unified = info.unified_memory; /* as weft_buffer_wrap does */
    bench_progress("launch: device %d: %s (%s memory)", dev, info.name, c.raw.unified ? "unified" : "separate");

    /* The raw side: its own kernel objects from the same built program. */
    cl_program clp = weft_program_cl(prog, dev);
    size_t bytes = n * sizeof(float);
    cl_int err;
    c.k_empty = clCreateKernel(clp, "bench_empty", &err);
    if (c.k_empty) c.raw.k = clCreateKernel(clp, "bench_saxpy", &err);
    if (c.raw.k) c.raw.mem[0] = bench_devbase_buffer(&c.raw, CL_MEM_READ_ONLY, x, bytes, &err);
    if (c.raw.mem[0]) c.raw.mem[1] = bench_devbase_buffer(&c.raw, CL_MEM_READ_WRITE, y, bytes, &err);
    int bad = !c.raw.mem[1];
    if (bad) fail(&c, "setting up the raw OpenCL side: %s", weft_cl_status_name(err));
    else if ((bad = weft_buffer_wrap(b->rt, dev, x, bytes, WEFT_READ, &c.bx) ||
                    weft_buffer_wrap(b->rt, dev, y, bytes, WEFT_READ_WRITE, &c.by)))
        fail(&c, "weft_buffer_wrap: %s", weft_last_error_message());
    if (bad) {
        release(&c);
        return -1;
    }
    if (c.raw.unified && !(weft_buffer_is_zero_copy(c.bx) && weft_buffer_is_zero_copy(c.by)))
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
    c.l_saxpy = c.l_empty;
    c.l_saxpy.kernel = "bench_saxpy";
    c.l_saxpy.global[0] = n;
    c.l_saxpy.args = c.args;
    c.l_saxpy.nargs = 4;

    measure(b, &c, "empty", weft_empty, raw_empty, NULL, &info);
    measure(b, &c, "saxpy", weft_saxpy, raw_saxpy, saxpy_check, &info);
    release(&c);
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
    int status = x && y ? 0 : -1;
    if (status) bench_progress("launch: out of memory for %zu floats", n);
    else bench_saxpy_fill(x, y, n);
    b->min_reps = b->opt->smoke ? 0 : BENCH_LAUNCH_MIN_REPS;
    for (int d = 0; d < ndev && x && y; d++)
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
