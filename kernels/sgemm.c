/* kernels/sgemm.c — SGEMM, C = alpha*A*B + beta*C (row-major, packed).
 *
 * Two operations on the same arguments (weft_k_sgemm_args; argv: 0 M, 1 N,
 * 2 K (u32), 3 alpha, 4 beta (f32), 5 A, 6 B, 7 C), both with the same CPU
 * body, OpenBLAS cblas_sgemm on its rows of C, single-threaded:
 *
 * 1. weft_k_sgemm_kernel: the device body is the plain tiled OpenCL kernel
 *    of kernels/sgemm.cl.
 * 2. weft_k_sgemm(): the device body is CLBlast — a body that enqueues the
 *    work itself (weft_kernel_t::cl_body), CLBlastSgemm on the chunk's rows
 *    at offsets into the buffers weft made and filled. An ordinary parallel
 *    operation: weft moves the rows (none on unified memory), and the
 *    policies, speed models, write borrows, statistics and trace are those
 *    of every operation. */
#define CL_TARGET_OPENCL_VERSION 120
#include <clblast_c.h>
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/opencl.h"
#include "kernels_internal.h"

/* ---- the CPU body (OpenBLAS) ----------------------------------------------- */

/* weft gives each worker its own rows: OpenBLAS must not start threads of its
 * own on top (and concurrent multi-threaded calls serialise inside it). Checked
 * before every call, not once: a program may set OpenBLAS's threads itself
 * in between (a benchmark's multi-threaded baseline, say). */
static void blas_single_thread(void)
{
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

/* Rows of C per OpenBLAS call. OpenBLAS's bits for a row depend on the call
 * it is computed in (its micro-kernel's row tiles start at the call's first
 * row, and small calls take other kernels), so the CPU body computes C in
 * fixed cells of CELL rows, one call each, whatever rows weft hands it: a
 * row's bits no longer depend on the split, on the number of workers or of
 * MPI ranks. A piece that covers part of a cell computes the whole cell
 * into scratch and keeps its own rows (at most two such cells per piece). */
#define CELL 64

static void sgemm_cpu(size_t begin, size_t end, void *const *argv)
{
    const size_t M = WEFT_K_U32(argv, 0), N = WEFT_K_U32(argv, 1), K = WEFT_K_U32(argv, 2);
    const float alpha = WEFT_K_F32(argv, 3), beta = WEFT_K_F32(argv, 4);
    const float *A = argv[5], *B = argv[6];
    float *C = argv[7];
    blas_single_thread();
    float *scratch = NULL;
    for (size_t c0 = begin / CELL * CELL; c0 < end; c0 += CELL) {
        size_t c1 = c0 + CELL < M ? c0 + CELL : M, b = begin > c0 ? begin : c0, e = end < c1 ? end : c1;
        if (b == c0 && e == c1) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)(c1 - c0), (blasint)N, (blasint)K,
                        alpha, A + c0 * K, (blasint)K, B, (blasint)N, beta, C + c0 * N, (blasint)N);
            continue;
        }
        /* The cell's other rows belong to other pieces, perhaps being
         * written now: the scratch holds zeros there, never their values. */
        if (!scratch && !(scratch = malloc(CELL * N * sizeof *scratch)))
            weft_panic("weft_k_sgemm: out of memory for a %d x %zu scratch cell", CELL, N);
        memset(scratch, 0, (c1 - c0) * N * sizeof *scratch);
        memcpy(scratch + (b - c0) * N, C + b * N, (e - b) * N * sizeof *scratch);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)(c1 - c0), (blasint)N, (blasint)K, alpha,
                    A + c0 * K, (blasint)K, B, (blasint)N, beta, scratch, (blasint)N);
        memcpy(C + b * N, scratch + (b - c0) * N, (e - b) * N * sizeof *scratch);
    }
    free(scratch);
}

const weft_kernel_t weft_k_sgemm_kernel = {
    .name = "weft_sgemm",
    .cpu = sgemm_cpu,
    .cl_source = (const char *)weft__cl_sgemm,
    .cl_entry = "weft_sgemm",
};

static int overlaps(const void *a, size_t an, const void *b, size_t bn)
{
    const char *pa = a, *pb = b;
    return an && bn && pa < pb + bn && pb < pa + an;
}

int weft_k_sgemm_args(weft_k_args_t *args, size_t M, size_t N, size_t K, float alpha, const float *A,
                      const float *B, float beta, float *C)
{
    const char *c = "weft_k_sgemm_args";
    if (!args) return weft_error_set(WEFT_EINVAL, "%s: args is NULL", c);
    if (!N || !K) return weft_error_set(WEFT_EINVAL, "%s: N = %zu and K = %zu must be at least 1", c, N, K);
    if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
        return weft_error_set(WEFT_EINVAL, "%s: %zu x %zu x %zu: a dimension is above INT32_MAX", c, M, N, K);
    if (!B || (M && (!A || !C))) return weft_error_set(WEFT_EINVAL, "%s: %s is NULL", c, !B ? "B" : !A ? "A" : "C");
    size_t ab, bb, cb;
    if (weft__k_mul(M * sizeof(float), K, &ab) || weft__k_mul(K * sizeof(float), N, &bb) ||
        weft__k_mul(M * sizeof(float), N, &cb))
        return weft_error_set(WEFT_EINVAL, "%s: %zu x %zu x %zu overflows", c, M, N, K);
    if (overlaps(C, cb, A, ab) || overlaps(C, cb, B, bb))
        return weft_error_set(WEFT_EINVAL, "%s: C overlaps %s", c, overlaps(C, cb, A, ab) ? "A" : "B");
    weft__k_begin(args, &weft_k_sgemm_kernel, weft_range_2d(N, M, 16, 16));
    weft__k_u32(args, (uint32_t)M);
    weft__k_u32(args, (uint32_t)N);
    weft__k_u32(args, (uint32_t)K);
    weft__k_f32(args, alpha);
    weft__k_f32(args, beta);
    weft__k_push(args, weft_arg_split((void *)A, ab, K * sizeof(float), WEFT_READ));
    weft__k_push(args, weft_arg_whole(B, bb));
    weft__k_push(args, weft_arg_split(C, cb, N * sizeof(float), beta == 0.0f ? WEFT_WRITE : WEFT_READ_WRITE));
    return 0;
}

/* ---- the device body (CLBlast) --------------------------------------------- */

/* CLBlast before 1.6.1 is not safe to call from several threads at once: its
 * kernel/database caches race (heap-use-after-free in clblast::Database under
 * ASan; CNugteren/CLBlast#486, fixed by #495). Debian 12 ships 1.5.3. A call
 * only enqueues (the first one on a device also builds its kernels), so one
 * lock around the calls costs the devices nothing while they run. */
static pthread_mutex_t clblast_lock = PTHREAD_MUTEX_INITIALIZER;

/* NULL for an OpenCL status (weft names it), else "CLBLAST_STATUS_<n>" in
 * storage of this thread that weft copies before the next call. */
static const char *clblast_status_name(int st)
{
    static _Thread_local char buf[32];
    if (strcmp(weft_cl_status_name(st), "CL_UNKNOWN_ERROR") != 0) return NULL;
    snprintf(buf, sizeof buf, "CLBLAST_STATUS_%d", -st);
    return buf;
}

/* Rows [begin, end) of C on the chunk's device: weft has uploaded the rows
 * of A (and of C when beta != 0) and B, and reads the rows of C back. */
static int sgemm_clblast(weft_cl_chunk_t *ch)
{
    const size_t N = WEFT_K_U32(ch->argv, 1), K = WEFT_K_U32(ch->argv, 2);
    const float alpha = WEFT_K_F32(ch->argv, 3), beta = WEFT_K_F32(ch->argv, 4);
    const size_t rows = ch->end - ch->begin;
    cl_mem A = ch->mem[5], B = ch->mem[6], C = ch->mem[7];
    if (beta == 0.0f) {
        /* C is output only, so its rows hold anything (NaN included): zero
         * them, so that nothing leaks through 0*C whatever CLBlast does. */
        const float zero = 0.0f;
        cl_int err = clEnqueueFillBuffer(ch->queue, C, &zero, sizeof zero, ch->begin * N * sizeof(float),
                                         rows * N * sizeof(float), 0, NULL, NULL);
        if (err != CL_SUCCESS) return err;
    }
    pthread_mutex_lock(&clblast_lock);
    CLBlastStatusCode st = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, rows, N, K,
                                        alpha, A, ch->begin * K, K, B, 0, N, beta, C, ch->begin * N, N, &ch->queue,
                                        &ch->done);
    pthread_mutex_unlock(&clblast_lock);
    if (st != CLBlastSuccess) {
        ch->done = NULL; /* none was made */
        ch->status_name = clblast_status_name(st);
        return st;
    }
    return 0;
}

/* weft_k_sgemm's operation: OpenBLAS on the CPU workers, CLBlast on devices.
 * Its name keys the speed models and the trace; its body's name is what
 * injected faults match. */
static const weft_kernel_t sgemm_blas_kernel = {
    .name = "weft_k_sgemm",
    .cpu = sgemm_cpu,
    .cl_entry = "weft_sgemm_clblast",
    .cl_body = sgemm_clblast,
};

/* ---- weft_k_sgemm ------------------------------------------------------------ */

/* K == 0: C = beta*C (0 when beta is 0, whatever C held). */
static void sgemm_scale(float *C, size_t n, float beta)
{
    for (size_t i = 0; i < n; i++) C[i] = beta == 0.0f ? 0.0f : beta * C[i];
}

int weft_k_sgemm_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol, size_t M, size_t N,
                    size_t K, float alpha, const float *A, const float *B, float beta, float *C,
                    weft_panic_t **panic)
{
    const char *c = "weft_k_sgemm";
    if (panic) *panic = NULL;
    if (!rt) return weft_error_set(WEFT_EINVAL, "%s: runtime is NULL", c);
    if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
        return weft_error_set(WEFT_EINVAL, "%s: %zu x %zu x %zu: a dimension is above INT32_MAX", c, M, N, K);
    if (!M || !N) return 0;
    if (!C || (K && (!A || !B))) return weft_error_set(WEFT_EINVAL, "%s: %s is NULL", c, !C ? "C" : !A ? "A" : "B");
    weft_policy_t p;
    if (pol) p = *pol;
    else weft_policy_init(&p);
    if (p.kind < WEFT_POLICY_STATIC || p.kind > WEFT_POLICY_ADAPTIVE)
        return weft_error_set(WEFT_EINVAL, "%s: unknown policy kind %d", c, (int)p.kind);
    if (p.on_fault != WEFT_FAULT_PROPAGATE && p.on_fault != WEFT_FAULT_FAILOVER)
        return weft_error_set(WEFT_EINVAL, "%s: unknown on_fault %d", c, (int)p.on_fault);
    if (K == 0) {
        sgemm_scale(C, M * N, beta);
        return 0;
    }
    weft_k_args_t a;
    int rc = weft_k_sgemm_args(&a, M, N, K, alpha, A, B, beta, C);
    if (rc) return rc;
    a.kernel = &sgemm_blas_kernel;
    /* Guided and adaptive: no chunk below 32 rows (a BLAS call on fewer
     * spends its time packing B). */
    if (!p.chunk && p.kind != WEFT_POLICY_DYNAMIC) p.chunk = 32;
    return weft_k_run_at(file, line, rt, &a, &p, panic);
}
