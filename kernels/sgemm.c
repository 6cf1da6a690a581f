/* kernels/sgemm.c — SGEMM, C = alpha*A*B + beta*C (row-major, packed).
 *
 * Two ways in:
 *
 * 1. weft_k_sgemm_kernel through weft_parallel_for: the CPU body calls
 *    OpenBLAS cblas_sgemm on its rows of C, single-threaded; the OpenCL body
 *    is the plain tiled kernel of kernels/sgemm.cl.
 *    argv: 0 M, 1 N, 2 K (u32), 3 alpha, 4 beta (f32), 5 A, 6 B, 7 C.
 *
 * 2. weft_k_sgemm(): each place runs its best BLAS on row blocks of C.
 *    CLBlast enqueues its own kernels on a queue, so devices cannot go through
 *    weft_parallel_for's OpenCL path (one .cl kernel per chunk). The design:
 *
 *    - One operation, one weft_scope. The rows of C are cut into blocks of
 *      SG_ROWS (16) rows and handed out by weft's own splitter
 *      (scheduler/split.h: static / dynamic / guided / adaptive, speeds
 *      measured as blocks finish, failed blocks requeued), under one lock —
 *      the same policies, with the same meaning, as weft_parallel_for.
 *    - Each device is a scope task on a dedicated thread (it spends its life
 *      waiting on its queue, so it must not hold a CPU worker): it takes a
 *      block, uploads its rows of A (and of C when beta != 0) — B once —
 *      calls CLBlastSgemm on the device's own queue (weft_device_cl), and
 *      reads its rows of C back. On unified-memory devices (PoCL) the buffers
 *      wrap the host arrays (CL_MEM_USE_HOST_PTR) and CLBlast works on the
 *      rows in place through offsets: nothing is copied.
 *    - The CPU is the scope body itself: it takes a block and cuts it into
 *      one tile of C per worker (rows x columns, as square as the block
 *      allows), each one single-threaded cblas_sgemm, run as tasks of a
 *      nested scope. (A row split alone, as weft_k_sgemm_kernel's CPU body
 *      gets from weft_parallel_for, leaves each call a few rows and the
 *      whole of B to pack: slow for the short blocks near the end.)
 *    - A place with nothing to take waits while blocks are in flight
 *      elsewhere (a failed block may come back to it), so everything ends in
 *      the scope, with one status and at most one panic.
 *    Rows are disjoint per block, so places never write the same bytes. */
#define CL_TARGET_OPENCL_VERSION 120
#include <clblast_c.h>
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_internal.h"
#include "../host/host.h"
#include "../coexec/engine.h"
#include "../coexec/split.h"

/* ---- the CPU body (OpenBLAS) ----------------------------------------------- */

/* weft gives each worker its own rows: OpenBLAS must not start threads of its
 * own on top (and concurrent multi-threaded calls serialise inside it). Checked
 * before every call, not once: a program may set OpenBLAS's threads itself
 * in between (a benchmark's multi-threaded baseline, say). */
static void blas_single_thread(void)
{
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

static void sgemm_cpu(size_t begin, size_t end, void *const *argv)
{
    const size_t N = WEFT_K_U32(argv, 1), K = WEFT_K_U32(argv, 2);
    const float alpha = WEFT_K_F32(argv, 3), beta = WEFT_K_F32(argv, 4);
    const float *A = argv[5], *B = argv[6];
    float *C = argv[7];
    blas_single_thread();
    if (begin >= end) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)(end - begin), (blasint)N, (blasint)K, alpha,
                A + begin * K, (blasint)K, B, (blasint)N, beta, C + begin * N, (blasint)N);
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

/* ---- weft_k_sgemm: OpenBLAS on the CPU, CLBlast on devices at once --------- */

#define SG_ROWS 16                   /* rows per block: the unit of the split */
#define SG_NAME "weft_k_sgemm"       /* adaptive model and trace name */
#define SG_FAULT "weft_sgemm_clblast" /* kernel name for injected faults */
#define SG_STACK (8u << 20)          /* device threads: CLBlast may build kernels */

typedef struct sg_job sg_job;

typedef struct sg_place {
    sg_job *j;
    int p;                           /* index in the splitter */
    int device;                      /* -1: the CPU */
    weft_handle_t *h;
    char name[300];
    size_t rows;                     /* rows done */
    /* device state */
    cl_context ctx;
    cl_command_queue queue;
    weft_device_info_t info;
    int ready, in_place;             /* in_place: buffers wrap the host arrays */
    cl_mem a, b, c;
    size_t cap_a, cap_c;             /* bytes of a and c (copy mode) */
} sg_place;

struct sg_job {
    weft_runtime_t *rt;
    const char *file;                /* the caller's, named by panics */
    int line;
    size_t M, N, K;
    float alpha, beta;
    const float *A, *B;
    float *C;
    int kind, failover;
    pthread_mutex_t m;
    pthread_cond_t cv;
    weft__split sp;
    int in_flight, stopped;
    weft_panic_t *failure;
    weft_run_stats_t stats;
    sg_place places[WEFT__MAX_PLACES];
    int nplaces;
};

static void sg_rows(const sg_job *j, size_t gb, size_t ge, size_t *rb, size_t *re)
{
    *rb = gb * SG_ROWS;
    *re = ge * SG_ROWS < j->M ? ge * SG_ROWS : j->M;
}

/* Next block for place pl: 1 with groups [*gb, *ge), 0 when none is left for
 * it. Waits while blocks are in flight elsewhere: one may fail and come back. */
static int sg_next(sg_job *j, sg_place *pl, size_t *gb, size_t *ge)
{
    pthread_mutex_lock(&j->m);
    for (;;) {
        if (j->stopped || j->sp.retired[pl->p]) break;
        if (weft__split_next(&j->sp, pl->p, gb, ge)) {
            j->in_flight++;
            pthread_mutex_unlock(&j->m);
            return 1;
        }
        if (j->in_flight == 0) break;
        pthread_cond_wait(&j->cv, &j->m);
    }
    pthread_mutex_unlock(&j->m);
    return 0;
}

static int other_live_place(const sg_job *j, int p)
{
    for (int q = 0; q < j->nplaces; q++)
        if (q != p && !j->sp.retired[q]) return 1;
    return 0;
}

static void sg_done(sg_job *j, sg_place *pl, size_t gb, size_t ge, uint64_t t0, uint64_t bytes,
                    weft_panic_t *failure, int retryable)
{
    uint64_t t1 = weft__now_ns();
    size_t rb, re;
    sg_rows(j, gb, ge, &rb, &re);
    weft__trace_chunk(j->rt, SG_NAME, pl->name, pl->device + 1, rb, re, bytes, t0, t1, failure != NULL);
    if (failure) weft__panic_notify(failure);
    pthread_mutex_lock(&j->m);
    j->in_flight--;
    j->stats.chunks++;
    j->stats.bytes_moved += bytes;
    if (!failure) {
        pl->rows += re - rb;
        weft__split_record(&j->sp, pl->p, ge - gb, (double)(t1 - t0) / 1e9);
    } else {
        j->stats.failed_chunks++;
        if (j->failover && retryable && !j->stopped && other_live_place(j, pl->p)) {
            weft__split_requeue(&j->sp, pl->p, gb, ge); /* C's rows were put back (sg_run_place) */
            weft_panic_destroy(failure);
        } else {
            j->stopped = 1;
            weft__split_retire(&j->sp, pl->p);
            if (!j->failure) j->failure = failure;
            else weft_panic_destroy(failure);
        }
    }
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->m);
}

static weft_panic_t *sg_panic(const sg_place *pl, int status, const char *status_name, const char *what,
                              size_t rb, size_t re)
{
    weft__failure f = {.thread = weft_current_name(), .file = pl->j->file, .line = pl->j->line,
                       .has_range = 1, .begin = rb, .end = re};
    if (pl->device >= 0) {
        f.cl_status = status;
        f.cl_status_name = status_name;
        f.device = pl->name;
        f.kernel = SG_FAULT;
    }
    return weft__panic_failure(&f, "%s: rows [%zu, %zu) on %s '%s': %s: %s (%d)", SG_NAME, rb, re,
                               pl->device < 0 ? "the CPU" : "device", pl->name, what, status_name, status);
}

/* ---- the CPU place ---------------------------------------------------------- */

/* One tile of C: rows [rb, re) x columns [cb, ce), one single-threaded
 * cblas_sgemm. */
typedef struct sg_tile {
    const sg_job *j;
    size_t rb, re, cb, ce;
} sg_tile;

static void *sg_tile_run(void *arg)
{
    const sg_tile *t = arg;
    const sg_job *j = t->j;
    blas_single_thread();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)(t->re - t->rb), (blasint)(t->ce - t->cb),
                (blasint)j->K, j->alpha, j->A + t->rb * j->K, (blasint)j->K, j->B + t->cb, (blasint)j->N, j->beta,
                j->C + t->rb * j->N + t->cb, (blasint)j->N);
    return NULL;
}

typedef struct sg_tiles {
    sg_tile *v;
    size_t n;
} sg_tiles;

static int sg_tiles_body(weft_scope_t *s, void *arg)
{
    sg_tiles *ts = arg;
    for (size_t i = 0; i < ts->n; i++)
        if (weft_scope_spawn(s, sg_tile_run, &ts->v[i], NULL)) sg_tile_run(&ts->v[i]); /* could not queue */
    return 0;
}

/* A block of rows on the CPU workers: cut into one tile per worker, pr rows
 * of tiles by pc columns, as square as the block allows. (Cutting by rows
 * alone would give every worker a few rows of C and the whole of B to pack
 * in each call: for the short blocks the splitter hands out, OpenBLAS would
 * spend its time packing B.) */
static weft_panic_t *sg_cpu_block(sg_job *j, sg_place *pl, size_t rb, size_t re)
{
    const size_t rows = re - rb, W = (size_t)weft_runtime_cpu_threads(j->rt);
    size_t best_pr = 1, best_score = 0;
    for (size_t pr = 1; pr <= W && pr <= rows; pr++) {
        size_t pc = W / pr;
        if (pc > j->N) pc = j->N;
        size_t tr = (rows + pr - 1) / pr, tc = (j->N + pc - 1) / pc;
        size_t score = (tr < tc ? tr : tc) * pr * pc; /* squareness x workers used */
        if (score > best_score) {
            best_score = score;
            best_pr = pr;
        }
    }
    size_t pr = best_pr, pc = W / pr < j->N ? W / pr : j->N;
    sg_tile stack[64];
    sg_tiles ts = {.v = pr * pc <= 64 ? stack : malloc(pr * pc * sizeof *ts.v), .n = 0};
    if (!ts.v) return sg_panic(pl, WEFT_ENOMEM, "WEFT_ENOMEM", "out of memory", rb, re);
    for (size_t r = 0; r < pr; r++)
        for (size_t c = 0; c < pc; c++)
            ts.v[ts.n++] = (sg_tile){.j = j,
                                     .rb = rb + rows * r / pr,
                                     .re = rb + rows * (r + 1) / pr,
                                     .cb = j->N * c / pc,
                                     .ce = j->N * (c + 1) / pc};
    weft_panic_t *why = NULL;
    int rc = weft_scope(j->rt, sg_tiles_body, &ts, &why);
    if (ts.v != stack) free(ts.v);
    if (rc && !why) why = sg_panic(pl, rc, weft_err_name(rc), "could not run the CPU tiles", rb, re);
    size_t range[2] = {rb, re};
    weft__panic_fill(why, NULL, range, NULL, 0);
    return why;
}

/* ---- a device place ---------------------------------------------------------- */

/* CLBlast before 1.6.1 is not safe to call from several threads at once: its
 * kernel/database caches race (heap-use-after-free in clblast::Database under
 * ASan; CNugteren/CLBlast#486, fixed by #495). Debian 12 ships 1.5.3. A call
 * only enqueues (the first one on a device also builds its kernels), so one
 * lock around the calls costs the devices nothing while they run. */
static pthread_mutex_t clblast_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *clblast_status_name(int st, char *buf, size_t cap)
{
    const char *cl = weft_cl_status_name(st);
    if (strcmp(cl, "CL_UNKNOWN_ERROR") != 0) return cl;
    snprintf(buf, cap, "CLBLAST_STATUS_%d", -st);
    return buf;
}

static cl_int ensure(sg_place *pl, cl_mem *m, size_t *cap, size_t bytes, cl_mem_flags flags)
{
    if (*m && *cap >= bytes) return CL_SUCCESS;
    if (*m) clReleaseMemObject(*m);
    *m = NULL;
    *cap = 0;
    cl_int err;
    *m = clCreateBuffer(pl->ctx, flags, bytes, NULL, &err);
    if (err == CL_SUCCESS) *cap = bytes;
    return err;
}

/* Tests: make unified-memory devices (PoCL) take the copying path that
 * discrete GPUs take, so that CPU-only machines test it too. */
static atomic_int force_copy;

void weft__k_sgemm_force_copy(int on) { atomic_store(&force_copy, on != 0); }

/* B (and, in place, A and C) once per device; what failed in *what. */
static cl_int sg_device_setup(sg_place *pl, const char **what)
{
    sg_job *j = pl->j;
    size_t ab = j->M * j->K * sizeof(float), bb = j->K * j->N * sizeof(float), cb = j->M * j->N * sizeof(float);
    cl_int err;
    *what = "B is above CL_DEVICE_MAX_MEM_ALLOC_SIZE";
    if (bb > pl->info.max_alloc_bytes) return CL_INVALID_BUFFER_SIZE;
    pl->in_place = !atomic_load(&force_copy) && pl->info.unified_memory && ab <= pl->info.max_alloc_bytes && cb <= pl->info.max_alloc_bytes;
    if (pl->in_place) {
        *what = "wrapping the host arrays";
        pl->a = clCreateBuffer(pl->ctx, CL_MEM_READ_ONLY | CL_MEM_USE_HOST_PTR, ab, (void *)j->A, &err);
        if (err == CL_SUCCESS)
            pl->b = clCreateBuffer(pl->ctx, CL_MEM_READ_ONLY | CL_MEM_USE_HOST_PTR, bb, (void *)j->B, &err);
        if (err == CL_SUCCESS)
            pl->c = clCreateBuffer(pl->ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, cb, j->C, &err);
        return err;
    }
    *what = "uploading B";
    pl->b = clCreateBuffer(pl->ctx, CL_MEM_READ_ONLY, bb, NULL, &err);
    if (err == CL_SUCCESS) err = clEnqueueWriteBuffer(pl->queue, pl->b, CL_FALSE, 0, bb, j->B, 0, NULL, NULL);
    return err;
}

static weft_panic_t *sg_device_block(sg_job *j, sg_place *pl, size_t rb, size_t re, uint64_t *bytes)
{
    const size_t rows = re - rb, N = j->N, K = j->K;
    int injected = weft__fault_check(j->rt, pl->device, SG_FAULT);
    if (injected) return sg_panic(pl, injected, weft_cl_status_name(injected), "failed (injected fault)", rb, re);
    const char *what = NULL;
    cl_int err = CL_SUCCESS;
    if (!pl->ready) {
        err = sg_device_setup(pl, &what);
        if (err != CL_SUCCESS) return sg_panic(pl, err, weft_cl_status_name(err), what, rb, re);
        pl->ready = 1;
        if (!pl->in_place) *bytes += K * N * sizeof(float);
    }
    size_t a_off = 0, c_off = 0;
    if (pl->in_place) {
        a_off = rb * K;
        c_off = rb * N;
        /* beta == 0: C is output only; zero it so that NaN there cannot leak
         * through 0*C whatever CLBlast does. */
        if (j->beta == 0.0f) memset(j->C + rb * N, 0, rows * N * sizeof(float));
    } else {
        const size_t ab = rows * K * sizeof(float), cb = rows * N * sizeof(float);
        what = "allocating row buffers";
        err = ensure(pl, &pl->a, &pl->cap_a, ab, CL_MEM_READ_ONLY);
        if (err == CL_SUCCESS) err = ensure(pl, &pl->c, &pl->cap_c, cb, CL_MEM_READ_WRITE);
        if (err == CL_SUCCESS) {
            what = "uploading rows";
            err = clEnqueueWriteBuffer(pl->queue, pl->a, CL_FALSE, 0, ab, j->A + rb * K, 0, NULL, NULL);
            *bytes += ab;
        }
        if (err == CL_SUCCESS && j->beta != 0.0f) {
            err = clEnqueueWriteBuffer(pl->queue, pl->c, CL_FALSE, 0, cb, j->C + rb * N, 0, NULL, NULL);
            *bytes += cb;
        } else if (err == CL_SUCCESS) {
            const float zero = 0.0f;
            err = clEnqueueFillBuffer(pl->queue, pl->c, &zero, sizeof zero, 0, cb, 0, NULL, NULL);
        }
        if (err != CL_SUCCESS) {
            clFinish(pl->queue);
            return sg_panic(pl, err, weft_cl_status_name(err), what, rb, re);
        }
    }
    pthread_mutex_lock(&clblast_lock);
    CLBlastStatusCode st = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, rows, N, K,
                                        j->alpha, pl->a, a_off, K, pl->b, 0, N, j->beta, pl->c, c_off, N,
                                        &pl->queue, NULL);
    pthread_mutex_unlock(&clblast_lock);
    if (st != CLBlastSuccess) {
        char buf[64];
        clFinish(pl->queue);
        return sg_panic(pl, st, clblast_status_name(st, buf, sizeof buf), "CLBlastSgemm failed", rb, re);
    }
    if (pl->in_place) {
        what = "waiting for CLBlastSgemm";
        err = clFinish(pl->queue);
    } else {
        what = "reading rows back";
        err = clEnqueueReadBuffer(pl->queue, pl->c, CL_TRUE, 0, rows * N * sizeof(float), j->C + rb * N, 0, NULL,
                                  NULL);
        *bytes += rows * N * sizeof(float);
    }
    if (err != CL_SUCCESS) {
        clFinish(pl->queue);
        return sg_panic(pl, err, weft_cl_status_name(err), what, rb, re);
    }
    return NULL;
}

/* ---- the places' loop --------------------------------------------------------- */

static void sg_run_place(sg_place *pl)
{
    sg_job *j = pl->j;
    size_t gb, ge;
    float *saved = NULL;
    size_t cap = 0;
    while (sg_next(j, pl, &gb, &ge)) {
        size_t rb, re;
        sg_rows(j, gb, ge, &rb, &re);
        uint64_t t0 = weft__now_ns(), bytes = 0;
        /* Failover with beta != 0 reads C: keep the block's rows, so that a
         * place that failed half-way cannot leave the retry a changed C. */
        size_t n = (re - rb) * j->N;
        int keep = j->failover && j->beta != 0.0f;
        if (keep && n > cap) {
            free(saved);
            cap = (saved = malloc(n * sizeof *saved)) ? n : 0;
        }
        if (keep && saved) memcpy(saved, j->C + rb * j->N, n * sizeof *saved);
        weft_panic_t *failure = pl->device < 0 ? sg_cpu_block(j, pl, rb, re) : sg_device_block(j, pl, rb, re, &bytes);
        if (failure && keep && saved) memcpy(j->C + rb * j->N, saved, n * sizeof *saved);
        sg_done(j, pl, gb, ge, t0, bytes, failure, !keep || saved); /* no copy: no retry */
    }
    free(saved);
}

static void *sg_device_task(void *arg)
{
    sg_place *pl = arg;
    sg_run_place(pl);
    if (pl->a) clReleaseMemObject(pl->a);
    if (pl->b) clReleaseMemObject(pl->b);
    if (pl->c) clReleaseMemObject(pl->c);
    pl->a = pl->b = pl->c = NULL;
    return NULL;
}

static void sg_place_key(const sg_job *j, const sg_place *pl, char *buf, size_t cap)
{
    if (pl->device < 0) snprintf(buf, cap, "cpu:%d", weft_runtime_cpu_threads(j->rt));
    else snprintf(buf, cap, "%s", pl->info.name);
}

static int sg_body(weft_scope_t *s, void *arg)
{
    sg_job *j = arg;
    int rc = 0;
    sg_place *cpu = NULL;
    for (int p = 0; p < j->nplaces; p++) {
        sg_place *pl = &j->places[p];
        if (pl->device < 0) {
            cpu = pl;
            continue;
        }
        weft_builder_t b;
        weft_builder_init(&b);
        char name[32];
        snprintf(name, sizeof name, "weft-sgemm-dev%d", pl->device);
        b.name = name;
        b.stack_size = SG_STACK;
        int src = weft_scope_builder_spawn(s, &b, sg_device_task, pl, &pl->h);
        if (src) {
            /* Could not start it: its share goes to the others. */
            pl->h = NULL;
            if (!rc) rc = src;
            pthread_mutex_lock(&j->m);
            weft__split_retire(&j->sp, p);
            pthread_cond_broadcast(&j->cv);
            pthread_mutex_unlock(&j->m);
        }
    }
    if (cpu) sg_run_place(cpu);
    for (int p = 0; p < j->nplaces; p++) {
        weft_panic_t *why = NULL;
        if (j->places[p].h && weft_join(j->places[p].h, NULL, &why) == WEFT_EPANIC) {
            pthread_mutex_lock(&j->m);
            j->stopped = 1;
            if (!j->failure) j->failure = why;
            else weft_panic_destroy(why);
            pthread_mutex_unlock(&j->m);
        }
        j->places[p].h = NULL;
    }
    /* All rows done? (A start failure is forgiven when the others did it all.) */
    if (!j->failure && (j->sp.nrequeued || j->sp.next < j->sp.total)) {
        size_t rb, re;
        if (j->sp.nrequeued) sg_rows(j, j->sp.requeued[0].gb, j->sp.requeued[0].ge, &rb, &re);
        else sg_rows(j, j->sp.next, j->sp.total, &rb, &re);
        if (rc) return rc;
        char msg[256];
        snprintf(msg, sizeof msg, "%s: rows [%zu, %zu) failed on every place that could run them", SG_NAME, rb, re);
        j->failure = weft__panic_new(weft_current_name(), j->file, j->line, msg);
        if (j->failure) {
            size_t range[2] = {rb, re};
            weft__panic_fill(j->failure, NULL, range, NULL, 0);
            weft__panic_notify(j->failure);
        }
        return WEFT_EPANIC;
    }
    return j->failure ? WEFT_EPANIC : 0;
}

/* K == 0: C = beta*C (0 when beta is 0, whatever C held). */
static void sg_scale(float *C, size_t n, float beta)
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
    weft_policy_t defaults;
    if (!pol) {
        weft_policy_init(&defaults);
        pol = &defaults;
    }
    if (pol->kind < WEFT_POLICY_STATIC || pol->kind > WEFT_POLICY_ADAPTIVE)
        return weft_error_set(WEFT_EINVAL, "%s: unknown policy kind %d", c, (int)pol->kind);
    if (pol->on_fault != WEFT_FAULT_PROPAGATE && pol->on_fault != WEFT_FAULT_FAILOVER)
        return weft_error_set(WEFT_EINVAL, "%s: unknown on_fault %d", c, (int)pol->on_fault);
    if (K == 0) {
        sg_scale(C, M * N, beta);
        return 0;
    }
    weft_k_args_t check; /* the same checks as the parallel_for form (overflow, overlap) */
    int rc = weft_k_sgemm_args(&check, M, N, K, alpha, A, B, beta, C);
    if (rc) return rc;

    sg_job *j = calloc(1, sizeof *j);
    if (!j) return weft_error_set(WEFT_ENOMEM, "%s: out of memory", c);
    *j = (sg_job){.rt = rt, .file = file, .line = line, .M = M, .N = N, .K = K, .alpha = alpha, .beta = beta, .A = A, .B = B, .C = C,
                  .kind = pol->kind, .failover = pol->on_fault == WEFT_FAULT_FAILOVER};
    if (pol->use_cpu) {
        sg_place *pl = &j->places[j->nplaces];
        pl->device = -1;
        snprintf(pl->name, sizeof pl->name, "CPU (%d worker%s, OpenBLAS)", weft_runtime_cpu_threads(rt),
                 weft_runtime_cpu_threads(rt) == 1 ? "" : "s");
        pl->p = j->nplaces++;
    }
    int ndev = weft_device_count(rt);
    for (int d = 0; d < ndev && d < 64; d++) {
        if (!(pol->devices >> d & 1)) continue;
        sg_place *pl = &j->places[j->nplaces];
        weft_device_info_t info;
        if (weft_device_cl(rt, d, NULL, &pl->ctx, &pl->queue) || weft_device_info(rt, d, &info)) continue;
        pl->device = d;
        pl->info = info;
        snprintf(pl->name, sizeof pl->name, "%s (CLBlast)", info.name);
        pl->p = j->nplaces++;
    }
    if (j->nplaces == 0) {
        free(j);
        return weft_error_set(WEFT_EINVAL, "%s: the policy allows no place (no CPU, no device of the runtime)", c);
    }
    double speed[WEFT__MAX_PLACES];
    int measured[WEFT__MAX_PLACES], all = 1;
    for (int p = 0; p < j->nplaces; p++) {
        sg_place *pl = &j->places[p];
        pl->j = j;
        speed[p] = pl->device < 0 ? (double)weft_runtime_cpu_threads(rt) : (double)(pl->info.compute_units ? pl->info.compute_units : 1);
        measured[p] = 0;
        char key[256];
        double v;
        sg_place_key(j, pl, key, sizeof key);
        if (j->kind == WEFT_POLICY_ADAPTIVE && weft__model_load(SG_NAME, key, &v)) {
            speed[p] = v / SG_ROWS;
            measured[p] = 1;
        }
        all &= measured[p];
    }
    if (!all)
        for (int p = 0; p < j->nplaces; p++) measured[p] = 0;
    size_t groups = (M + SG_ROWS - 1) / SG_ROWS;
    size_t chunk = pol->chunk ? (pol->chunk + SG_ROWS - 1) / SG_ROWS : 0;
    if (!chunk && pol->kind != WEFT_POLICY_DYNAMIC) chunk = 2; /* guided: not below 32 rows */
    weft__split_init(&j->sp, j->kind, groups, j->nplaces, speed, measured, chunk);
    pthread_mutex_init(&j->m, NULL);
    pthread_cond_init(&j->cv, NULL);

    weft_panic_t *scope_panic = NULL;
    rc = weft_scope(rt, sg_body, j, &scope_panic);

    if (rc == 0 && j->kind == WEFT_POLICY_ADAPTIVE) {
        for (int p = 0; p < j->nplaces; p++) {
            char key[256];
            if (!j->sp.measured[p]) continue;
            sg_place_key(j, &j->places[p], key, sizeof key);
            weft__model_store(SG_NAME, key, j->sp.speed[p] * SG_ROWS);
        }
    }
    for (int p = 0; p < j->nplaces; p++) j->stats.items[j->places[p].device + 1] = j->places[p].rows;
    weft__engine_publish_stats(rt, &j->stats);

    weft_panic_t *failure = j->failure;
    if (scope_panic) { /* the body returned or a task panicked unjoined: keep the first */
        if (!failure) failure = scope_panic;
        else weft_panic_destroy(scope_panic);
    }
    if (failure && rc == 0) rc = WEFT_EPANIC;
    if (panic) *panic = failure;
    else weft_panic_destroy(failure);
    weft__split_free(&j->sp);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->m);
    free(j);
    return rc;
}
