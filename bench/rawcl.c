/* bench/rawcl.c — one bundled operation through plain OpenCL (see rawcl.h). */
#include "rawcl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/weft.h"

static int fail(bench_rawcl *r, const char *what, cl_int err)
{
    snprintf(r->err, sizeof r->err, "raw OpenCL on device %d: %s: %s (%d)", r->device, what,
             weft_cl_status_name(err), err);
    return -1;
}

static cl_mem_flags flags_of(const weft_arg_t *a)
{
    if (a->kind == WEFT_ARG_REDUCE) return CL_MEM_WRITE_ONLY;
    if (a->kind == WEFT_ARG_WHOLE) return CL_MEM_READ_ONLY;
    return a->access == WEFT_READ ? CL_MEM_READ_ONLY : a->access == WEFT_WRITE ? CL_MEM_WRITE_ONLY : CL_MEM_READ_WRITE;
}

int bench_rawcl_init(bench_rawcl *r, weft_runtime_t *rt, int device, const weft_k_args_t *a)
{
    memset(r, 0, sizeof *r);
    r->a = a;
    r->device = device;
    weft_device_info_t info;
    if (weft_device_info(rt, device, &info) || weft_device_cl(rt, device, &r->id, &r->ctx, &r->q)) {
        snprintf(r->err, sizeof r->err, "raw OpenCL: device %d: %s", device, weft_last_error_message());
        return -1;
    }
    /* WEFT_BENCH_FORCE_COPY=1: take the discrete-GPU path (device buffers,
     * copies each op) on a unified device too, so CPU-only machines test it. */
    const char *force = getenv("WEFT_BENCH_FORCE_COPY");
    r->unified = info.unified_memory && !(force && *force == '1');
    const weft_kernel_t *k = a->kernel;
    if (!k->cl_source || !k->cl_entry) {
        snprintf(r->err, sizeof r->err, "raw OpenCL: kernel %s has no OpenCL body", k->name);
        return -1;
    }
    cl_int err;
    const char *src = k->cl_source;
    r->prog = clCreateProgramWithSource(r->ctx, 1, &src, NULL, &err);
    if (!r->prog) return fail(r, "clCreateProgramWithSource", err);
    err = clBuildProgram(r->prog, 1, &r->id, k->cl_options, NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[256] = "";
        clGetProgramBuildInfo(r->prog, r->id, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        fail(r, "clBuildProgram", err);
        snprintf(r->err + strlen(r->err), sizeof r->err - strlen(r->err), ": %.200s", log);
        return -1;
    }
    r->k = clCreateKernel(r->prog, k->cl_entry, &err);
    if (!r->k) return fail(r, "clCreateKernel", err);

    /* The whole range in one launch, rounded up to whole work-groups. */
    const weft_range_t *rg = &a->range;
    r->nblocks = 1;
    for (unsigned d = 0; d < rg->dims && d < 2; d++) {
        r->local[d] = rg->group[d];
        r->global[d] = (rg->size[d] + rg->group[d] - 1) / rg->group[d] * rg->group[d];
        r->nblocks *= r->global[d] / r->local[d];
    }
    for (size_t i = 0; i < a->nargs; i++) {
        const weft_arg_t *g = &a->args[i];
        err = CL_SUCCESS;
        switch (g->kind) {
        case WEFT_ARG_SPLIT:
        case WEFT_ARG_WHOLE:
        case WEFT_ARG_REDUCE: {
            void *host = g->data;
            size_t bytes = g->bytes;
            if (g->kind == WEFT_ARG_REDUCE) {
                bytes = r->nblocks * g->unit;
                host = r->partials[i] = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
                if (!host) return fail(r, "out of memory for partials", CL_OUT_OF_HOST_MEMORY);
            }
            cl_mem_flags fl = flags_of(g) | (r->unified ? CL_MEM_USE_HOST_PTR : 0);
            r->mem[i] = clCreateBuffer(r->ctx, fl, bytes ? bytes : 1, r->unified ? host : NULL, &err);
            if (err == CL_SUCCESS) err = clSetKernelArg(r->k, (cl_uint)i, sizeof(cl_mem), &r->mem[i]);
            break;
        }
        case WEFT_ARG_SCALAR: err = clSetKernelArg(r->k, (cl_uint)i, g->size, g->value); break;
        case WEFT_ARG_LOCAL: err = clSetKernelArg(r->k, (cl_uint)i, g->size, NULL); break;
        }
        if (err != CL_SUCCESS) {
            char what[64];
            snprintf(what, sizeof what, "argument %zu", i);
            return fail(r, what, err);
        }
    }
    return 0;
}

int bench_rawcl_run(bench_rawcl *r)
{
    const weft_k_args_t *a = r->a;
    cl_int err = CL_SUCCESS;
    if (!r->unified) {
        for (size_t i = 0; i < a->nargs && err == CL_SUCCESS; i++) {
            const weft_arg_t *g = &a->args[i];
            int reads = g->kind == WEFT_ARG_WHOLE || (g->kind == WEFT_ARG_SPLIT && (g->access & WEFT_READ));
            if (reads && g->bytes)
                err = clEnqueueWriteBuffer(r->q, r->mem[i], CL_FALSE, 0, g->bytes, g->data, 0, NULL, NULL);
        }
        if (err != CL_SUCCESS) return fail(r, "clEnqueueWriteBuffer", err);
    }
    err = clEnqueueNDRangeKernel(r->q, r->k, a->range.dims, NULL, r->global, r->local, 0, NULL, NULL);
    if (err != CL_SUCCESS) return fail(r, "clEnqueueNDRangeKernel", err);
    if (!r->unified) {
        for (size_t i = 0; i < a->nargs && err == CL_SUCCESS; i++) {
            const weft_arg_t *g = &a->args[i];
            if (g->kind == WEFT_ARG_SPLIT && (g->access & WEFT_WRITE) && g->bytes)
                err = clEnqueueReadBuffer(r->q, r->mem[i], CL_FALSE, 0, g->bytes, g->data, 0, NULL, NULL);
            else if (g->kind == WEFT_ARG_REDUCE)
                err = clEnqueueReadBuffer(r->q, r->mem[i], CL_FALSE, 0, r->nblocks * g->unit, r->partials[i], 0,
                                          NULL, NULL);
        }
        if (err != CL_SUCCESS) return fail(r, "clEnqueueReadBuffer", err);
    }
    err = clFinish(r->q);
    if (err != CL_SUCCESS) return fail(r, "clFinish", err);
    /* Reductions: identity, then every partial in block order. */
    for (size_t i = 0; i < a->nargs; i++) {
        const weft_arg_t *g = &a->args[i];
        if (g->kind != WEFT_ARG_REDUCE) continue;
        unsigned char acc[4096];
        if (g->unit > sizeof acc) return fail(r, "reduction element too large for the bench", CL_INVALID_VALUE);
        memcpy(acc, g->value, g->unit);
        const unsigned char *p = r->partials[i];
        for (size_t blk = 0; blk < r->nblocks; blk++) g->combine(acc, p + blk * g->unit);
        memcpy(g->data, acc, g->unit);
    }
    return 0;
}

void bench_rawcl_free(bench_rawcl *r)
{
    for (size_t i = 0; i < WEFT_K_MAX_ARGS; i++) {
        if (r->mem[i]) clReleaseMemObject(r->mem[i]);
        free(r->partials[i]);
        r->mem[i] = NULL;
        r->partials[i] = NULL;
    }
    if (r->k) clReleaseKernel(r->k);
    if (r->prog) clReleaseProgram(r->prog);
    r->k = NULL;
    r->prog = NULL;
}
