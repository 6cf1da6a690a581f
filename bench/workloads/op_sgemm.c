/* bench/workloads/op_sgemm.c — workload "sgemm": C = A*B (n x n x n,
 * row-major) through weft_k_sgemm — OpenBLAS on the CPU workers, CLBlast on
 * every device, row blocks handed out by weft's splitter — against the
 * libraries alone: cblas_sgemm on every usable core
 * (openblas_set_num_threads) for the CPU and the split, one CLBlastSgemm on
 * the device's own queue for a device.
 *
 * A and B hold small whole numbers (-2..2), so every product and sum is exact
 * in float whatever the order: each result is checked exactly, in O(n^2), by
 * Freivalds' test — C*r against A*(B*r) in 64-bit integers, r random and
 * non-zero, so that any single wrong element changes its row's sum — plus
 * two elements computed directly. C is poisoned after each check, so a block
 * that leaves elements unwritten fails.
 *
 * weft_k_sgemm sets OpenBLAS to one thread (weft provides the parallelism);
 * the baseline sets it to the core count for its own calls and back after. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "workloads.h" /* first: weft/opencl.h sets the OpenCL version clblast_c.h's CL headers use */

#include <cblas.h>
#include <clblast_c.h>

#define POISON 12345.0f

typedef struct gemm_st {
    float *A, *B, *C;
    int64_t *r, *Br, *ABr;        /* Freivalds: r, B*r, A*(B*r) */
    int64_t c00, clast;           /* two elements computed directly */
} gemm_st;

static void poison(bench_op *w)
{
    gemm_st *g = w->state;
    for (size_t i = 0; i < w->size * w->size; i++) g->C[i] = POISON;
}

static int gemm_setup(bench_op *w)
{
    const size_t n = w->size, bytes = n * n * sizeof(float);
    gemm_st *g = w->state = bench_op_alloc(w, sizeof *g);
    if (!g || !(g->A = bench_op_alloc(w, bytes)) || !(g->B = bench_op_alloc(w, bytes)) ||
        !(g->C = bench_op_alloc(w, bytes)) || !(g->r = bench_op_alloc(w, n * sizeof(int64_t))) ||
        !(g->Br = bench_op_alloc(w, n * sizeof(int64_t))) || !(g->ABr = bench_op_alloc(w, n * sizeof(int64_t))))
        return -1;
    for (size_t i = 0; i < n * n; i++) {
        g->A[i] = (float)((int)(bench_hash32((uint32_t)i) % 5u) - 2);
        g->B[i] = (float)((int)(bench_hash32((uint32_t)i ^ 0x5bd1e995u) % 5u) - 2);
    }
    for (size_t j = 0; j < n; j++) g->r[j] = 1 + (int64_t)(bench_hash32((uint32_t)j * 2654435761u) & 0xfffff);
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++) g->Br[k] += (int64_t)g->B[k * n + j] * g->r[j];
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++) g->ABr[i] += (int64_t)g->A[i * n + k] * g->Br[k];
    for (size_t k = 0; k < n; k++) {
        g->c00 += (int64_t)g->A[k] * (int64_t)g->B[k * n];
        g->clast += (int64_t)g->A[(n - 1) * n + k] * (int64_t)g->B[k * n + n - 1];
    }
    poison(w);
    return 0;
}

static int gemm_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    (void)ops;
    const gemm_st *g = w->state;
    const size_t n = w->size;
    int ok = 1;
    if ((int64_t)g->C[0] != g->c00 || (int64_t)g->C[n * n - 1] != g->clast) {
        snprintf(why, cap, "C[0][0] = %.9g, C[n-1][n-1] = %.9g; expected %" PRId64 ", %" PRId64, (double)g->C[0],
                 (double)g->C[n * n - 1], g->c00, g->clast);
        ok = 0;
    }
    for (size_t i = 0; i < n && ok; i++) {
        int64_t s = 0;
        for (size_t j = 0; j < n && ok; j++) {
            float c = g->C[i * n + j];
            if (c != c || fabsf(c) > 16777216.0f || c != (float)(int64_t)c) {
                snprintf(why, cap, "C[%zu][%zu] = %.9g is not the whole number it must be", i, j, (double)c);
                ok = 0;
            }
            s += (int64_t)c * g->r[j];
        }
        if (ok && s != g->ABr[i]) {
            snprintf(why, cap, "row %zu of C is wrong (Freivalds: C*r = %" PRId64 ", A*(B*r) = %" PRId64 ")", i, s,
                     g->ABr[i]);
            ok = 0;
        }
    }
    poison(w);
    return ok ? 0 : -1;
}

static int gemm_weft(bench_op *w, weft_runtime_t *rt, const weft_policy_t *pol, weft_panic_t **panic)
{
    const gemm_st *g = w->state;
    const size_t n = w->size;
    return weft_k_sgemm(rt, pol, n, n, n, 1.0f, g->A, g->B, 0.0f, g->C, panic);
}

static void gemm_openblas(bench_op *w)
{
    const gemm_st *g = w->state;
    const blasint n = (blasint)w->size;
    openblas_set_num_threads(w->cores);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, g->A, n, g->B, n, 0.0f, g->C, n);
    openblas_set_num_threads(1); /* as weft_k_sgemm wants it */
}

/* CLBlast alone: A, B, C in mem[0..2]. */
static int clblast_init(bench_devbase *d, bench_op *w)
{
    gemm_st *g = w->state;
    size_t bytes = w->size * w->size * sizeof(float);
    cl_int err = CL_SUCCESS;
    float *host[3] = {g->A, g->B, g->C};
    for (int i = 0; i < 3 && err == CL_SUCCESS; i++)
        d->mem[i] = bench_devbase_buffer(d, i < 2 ? CL_MEM_READ_ONLY : CL_MEM_READ_WRITE, host[i], bytes, &err);
    return err == CL_SUCCESS ? 0 : bench_devbase_fail(d, "clCreateBuffer", err);
}

static int clblast_run(bench_devbase *d, bench_op *w)
{
    gemm_st *g = w->state;
    const size_t n = w->size, bytes = n * n * sizeof(float);
    const float zero = 0.0f;
    cl_int err = CL_SUCCESS;
    if (!d->unified) {
        err = clEnqueueWriteBuffer(d->q, d->mem[0], CL_FALSE, 0, bytes, g->A, 0, NULL, NULL);
        if (err == CL_SUCCESS) err = clEnqueueWriteBuffer(d->q, d->mem[1], CL_FALSE, 0, bytes, g->B, 0, NULL, NULL);
        /* C goes up too where weft's copies are matched (the sepmem row): weft uploads its write-only rows. */
        if (err == CL_SUCCESS)
            err = d->upload_writes ? clEnqueueWriteBuffer(d->q, d->mem[2], CL_FALSE, 0, bytes, g->C, 0, NULL, NULL)
                                   : clEnqueueFillBuffer(d->q, d->mem[2], &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
        if (err != CL_SUCCESS) return bench_devbase_fail(d, "copies", err);
    }
    CLBlastStatusCode st = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, n, n, n, 1.0f,
                                        d->mem[0], 0, n, d->mem[1], 0, n, 0.0f, d->mem[2], 0, n, &d->q, NULL);
    if (st != CLBlastSuccess) {
        clFinish(d->q);
        return bench_devbase_fail(d, "CLBlastSgemm", (cl_int)st);
    }
    err = d->unified ? clFinish(d->q) : clEnqueueReadBuffer(d->q, d->mem[2], CL_TRUE, 0, bytes, g->C, 0, NULL, NULL);
    return err == CL_SUCCESS ? 0 : bench_devbase_fail(d, d->unified ? "clFinish" : "reading C", err);
}

static double gemm_work(const bench_op *w) { return 2.0 * (double)w->size * (double)w->size * (double)w->size / 1e9; }

static void gemm_describe(const bench_op *w, char *buf, size_t cap)
{
    snprintf(buf, cap, "%zu^3, OpenBLAS on %d threads", w->size, w->cores);
}

const bench_op_def bench_op_sgemm = {
    .name = "sgemm",
    .description = "C = A*B with weft_k_sgemm (OpenBLAS on CPU workers, CLBlast on devices): CPU, each device, "
                   "split; vs OpenBLAS on all cores and CLBlast alone",
    .size_help = "n for n x n x n (default 2048, quick 1024)",
    .unit = "GFLOP/s",
    .size_full = 2048, .size_quick = 1024, .size_smoke = 67 /* not a multiple of 16-row blocks */,
    .size_max = 16384,
    .setup = gemm_setup, .check = gemm_check, .work = gemm_work, .describe = gemm_describe, .run = gemm_weft,
    .cpu_baseline = "openblas", .cpu_base = gemm_openblas,
    .cpu_note = "weft_k_sgemm (one single-threaded OpenBLAS call per worker and row block) vs cblas_sgemm with "
                "openblas_set_num_threads(all usable cores); checked exactly (Freivalds)",
    .cpu_goal = 0.95, .cpu_goal_is_ratio = 1, .cpu_target = "SGEMM CPU-only >= 0.95x OpenBLAS on all usable cores",
    .dev_baseline = "clblast", .dev_init = clblast_init, .dev_run = clblast_run,
    .dev_note = "weft_k_sgemm on one device (CLBlast per row block) vs one CLBlastSgemm on the device's queue",
    .split_goal = 0.9,
    .split_target = "SGEMM on the whole machine (guided) >= 0.9x OpenBLAS on all usable cores",
    .target_apart = 1,
    .sepmem = &bench_op_sgemm,
};
