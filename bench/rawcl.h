/* bench/rawcl.h — the raw OpenCL baseline of the bundled operations: the very
 * kernel weft runs (weft_k_<op>_kernel.cl_source, built here by the bench with
 * plain clBuildProgram), launched over the whole range in one
 * clEnqueueNDRangeKernel on a device's own queue, with the arguments a
 * weft_k_<op>_args() call describes — no weft in the timed path.
 *
 * Buffers are made once: on a unified-memory device they wrap the host arrays
 * (CL_MEM_USE_HOST_PTR, no copy); elsewhere each op writes the arrays the
 * kernel reads, launches, and reads back the arrays it writes (what weft's
 * parallel_for moves by itself). Reductions get one partial per work-group,
 * folded on the host in block order with the argument's combine function, as
 * weft does. */
#ifndef WEFT_BENCH_RAWCL_H
#define WEFT_BENCH_RAWCL_H

#include "weft/kernels.h"
#include "weft/opencl.h"

typedef struct bench_rawcl {
    const weft_k_args_t *a;
    int device, unified;
    cl_context ctx;
    cl_command_queue q;
    cl_device_id id;
    cl_program prog;
    cl_kernel k;
    cl_mem mem[WEFT_K_MAX_ARGS];
    void *partials[WEFT_K_MAX_ARGS];   /* reductions: one partial per work-group */
    size_t nblocks;                    /* work-groups in the launch */
    size_t global[2], local[2];
    char err[512];                     /* what failed, for the progress line */
} bench_rawcl;

/* Build a->kernel's OpenCL source for device `device` of rt (its context,
 * queue and device id) and make the buffers. 0, or -1 with r->err set. */
int bench_rawcl_init(bench_rawcl *r, weft_runtime_t *rt, int device, const weft_k_args_t *a);
/* One op: copies (separate memory only), one launch, wait, fold reductions
 * into their results. 0, or -1 with r->err set. */
int bench_rawcl_run(bench_rawcl *r);
void bench_rawcl_free(bench_rawcl *r);

#endif
