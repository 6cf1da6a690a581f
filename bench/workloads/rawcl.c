/* bench/workloads/rawcl.c — the device baselines' OpenCL objects, and the
 * raw OpenCL baseline of a bundled operation: the very kernel weft runs
 * (weft_k_<op>_kernel.cl_source, built here with plain clBuildProgram) over
 * the whole range in one clEnqueueNDRangeKernel on the device's own queue,
 * with the arguments weft_k_<op>_args() describes — no weft in the timed
 * path.
 *
 * Buffers are made once: on a unified-memory device they wrap the host arrays
 * (CL_MEM_USE_HOST_PTR, no copy); elsewhere each op writes the arrays the
 * kernel reads, launches, and reads back the arrays it writes (what weft's
 * parallel_for moves by itself). WEFT_SEPARATE_MEMORY=1 takes that path on
 * unified devices too, for weft and the baseline alike. weft also uploads a
 * write-only output before the launch (bytes a kernel leaves alone must come
 * back as the host had them); the baseline does so when d->upload_writes
 * (the separate-memory rows, which compare the same copies), and makes every
 * buffer read-write when d->read_write (a ping-pong that swaps their roles
 * runs launches of its own on them). Reductions get one partial per
 * work-group, folded on the host in block order with the argument's combine
 * function, as weft does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

int bench_devbase_fail(bench_devbase *d, const char *what, cl_int err)
{
    snprintf(d->err, sizeof d->err, "device %d: %s: %s (%d)", d->dev, what, weft_cl_status_name(err), err);
    return -1;
}

int bench_devbase_open(bench_devbase *d, weft_runtime_t *rt, int dev)
{
    memset(d, 0, sizeof *d);
    d->dev = dev;
    weft_device_info_t info;
    if (weft_device_info(rt, dev, &info) || weft_device_cl(rt, dev, &d->id, &d->ctx, &d->q)) {
        snprintf(d->err, sizeof d->err, "device %d: %s", dev, weft_last_error_message());
        return -1;
    }
    d->unified = info.unified_memory; /* 0 in weft's separate-memory mode too: the same copies */
    return 0;
}

cl_mem bench_devbase_buffer(bench_devbase *d, cl_mem_flags flags, void *host, size_t bytes, cl_int *err)
{
    return clCreateBuffer(d->ctx, flags | (d->unified ? CL_MEM_USE_HOST_PTR : 0), bytes ? bytes : 1,
                          d->unified ? host : NULL, err);
}

void bench_devbase_free(bench_devbase *d)
{
    for (size_t i = 0; i < WEFT_K_MAX_ARGS; i++) {
        if (d->mem[i]) clReleaseMemObject(d->mem[i]);
        free(d->partials[i]);
        d->mem[i] = NULL;
        d->partials[i] = NULL;
    }
    if (d->k) clReleaseKernel(d->k);
    if (d->prog) clReleaseProgram(d->prog);
    d->k = NULL;
    d->prog = NULL;
}

static cl_mem_flags flags_of(const weft_arg_t *a)
{
    if (a->kind == WEFT_ARG_REDUCE) return CL_MEM_WRITE_ONLY;
    if (a->kind == WEFT_ARG_WHOLE) return CL_MEM_READ_ONLY;
    return a->access == WEFT_READ ? CL_MEM_READ_ONLY : a->access == WEFT_WRITE ? CL_MEM_WRITE_ONLY : CL_MEM_READ_WRITE;
}

int bench_rawcl_init(bench_devbase *d, bench_op *w)
{
    const weft_k_args_t *a = &w->args;
    const weft_kernel_t *k = a->kernel;
    if (!k->cl_source || !k->cl_entry) {
        snprintf(d->err, sizeof d->err, "raw OpenCL: kernel %s has no OpenCL body", k->name);
        return -1;
    }
    /* The fold below calls a reduction's plain combine: one with a context
     * (weft_arg_reduce_ctx) would need weft's block contexts. */
    for (size_t i = 0; i < a->nargs; i++)
        if (a->args[i].kind == WEFT_ARG_REDUCE && !a->args[i].combine) {
            snprintf(d->err, sizeof d->err, "raw OpenCL: kernel %s folds argument %zu with combine_ctx, which "
                     "this baseline does not", k->name, i);
            return -1;
        }
    cl_int err;
    const char *src = k->cl_source;
    d->prog = clCreateProgramWithSource(d->ctx, 1, &src, NULL, &err);
    if (!d->prog) return bench_devbase_fail(d, "clCreateProgramWithSource", err);
    err = clBuildProgram(d->prog, 1, &d->id, k->cl_options, NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[256] = "";
        clGetProgramBuildInfo(d->prog, d->id, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        bench_devbase_fail(d, "clBuildProgram", err);
        snprintf(d->err + strlen(d->err), sizeof d->err - strlen(d->err), ": %.200s", log);
        return -1;
    }
    d->k = clCreateKernel(d->prog, k->cl_entry, &err);
    if (!d->k) return bench_devbase_fail(d, "clCreateKernel", err);

    /* The whole range in one launch, rounded up to whole work-groups. */
    const weft_range_t *rg = &a->range;
    d->nblocks = 1;
    for (unsigned i = 0; i < rg->dims && i < 2; i++) {
        d->local[i] = rg->group[i];
        d->global[i] = (rg->size[i] + rg->group[i] - 1) / rg->group[i] * rg->group[i];
        d->nblocks *= d->global[i] / d->local[i];
    }
    for (size_t i = 0; i < a->nargs; i++) {
        const weft_arg_t *g = &a->args[i];
        err = CL_SUCCESS;
        if (g->kind == WEFT_ARG_SCALAR) {
            err = clSetKernelArg(d->k, (cl_uint)i, g->size, g->value);
        } else if (g->kind == WEFT_ARG_LOCAL) {
            err = clSetKernelArg(d->k, (cl_uint)i, g->size, NULL);
        } else {
            void *host = g->data;
            size_t bytes = g->bytes;
            if (g->kind == WEFT_ARG_REDUCE) {
                bytes = d->nblocks * g->unit;
                host = d->partials[i] = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
                if (!host) return bench_devbase_fail(d, "out of memory for partials", CL_OUT_OF_HOST_MEMORY);
            }
            d->mem[i] = bench_devbase_buffer(d, d->read_write ? CL_MEM_READ_WRITE : flags_of(g), host, bytes, &err);
            if (err == CL_SUCCESS) err = clSetKernelArg(d->k, (cl_uint)i, sizeof(cl_mem), &d->mem[i]);
        }
        if (err != CL_SUCCESS) {
            char what[32];
            snprintf(what, sizeof what, "argument %zu", i);
            return bench_devbase_fail(d, what, err);
        }
    }
    return 0;
}

int bench_rawcl_run(bench_devbase *d, bench_op *w)
{
    const weft_k_args_t *a = &w->args;
    cl_int err = CL_SUCCESS;
    for (size_t i = 0; !d->unified && i < a->nargs && err == CL_SUCCESS; i++) {
        const weft_arg_t *g = &a->args[i];
        int up = g->kind == WEFT_ARG_WHOLE ||
                 (g->kind == WEFT_ARG_SPLIT && ((g->access & WEFT_READ) || d->upload_writes));
        if (up && g->bytes)
            err = clEnqueueWriteBuffer(d->q, d->mem[i], CL_FALSE, 0, g->bytes, g->data, 0, NULL, NULL);
    }
    if (err != CL_SUCCESS) return bench_devbase_fail(d, "clEnqueueWriteBuffer", err);
    err = clEnqueueNDRangeKernel(d->q, d->k, a->range.dims, NULL, d->global, d->local, 0, NULL, NULL);
    if (err != CL_SUCCESS) return bench_devbase_fail(d, "clEnqueueNDRangeKernel", err);
    for (size_t i = 0; !d->unified && i < a->nargs && err == CL_SUCCESS; i++) {
        const weft_arg_t *g = &a->args[i];
        if (g->kind == WEFT_ARG_SPLIT && (g->access & WEFT_WRITE) && g->bytes)
            err = clEnqueueReadBuffer(d->q, d->mem[i], CL_FALSE, 0, g->bytes, g->data, 0, NULL, NULL);
        else if (g->kind == WEFT_ARG_REDUCE)
            err = clEnqueueReadBuffer(d->q, d->mem[i], CL_FALSE, 0, d->nblocks * g->unit, d->partials[i], 0, NULL,
                                      NULL);
    }
    if (err != CL_SUCCESS) return bench_devbase_fail(d, "clEnqueueReadBuffer", err);
    if ((err = clFinish(d->q)) != CL_SUCCESS) return bench_devbase_fail(d, "clFinish", err);
    /* Reductions: identity, then every partial in block order. */
    for (size_t i = 0; i < a->nargs; i++) {
        const weft_arg_t *g = &a->args[i];
        if (g->kind != WEFT_ARG_REDUCE) continue;
        unsigned char acc[4096];
        if (g->unit > sizeof acc) return bench_devbase_fail(d, "reduction element too large", CL_INVALID_VALUE);
        memcpy(acc, g->value, g->unit);
        const unsigned char *p = d->partials[i];
        for (size_t blk = 0; blk < d->nblocks; blk++) g->combine(acc, p + blk * g->unit);
        memcpy(g->data, acc, g->unit);
    }
    return 0;
}
