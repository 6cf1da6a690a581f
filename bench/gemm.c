/* bench/gemm.c — workload "sgemm": C = A*B (n x n x n, row-major) through
 * weft_k_sgemm — OpenBLAS on the CPU workers, CLBlast on every device, row
 * blocks handed out by weft's splitter — against the libraries alone:
 *
 *   weft on the CPU workers alone   vs  OpenBLAS cblas_sgemm on all cores
 *                                       (openblas_set_num_threads(cores))
 *   weft on device d alone          vs  CLBlastSgemm on d's own queue
 *   weft on every place, per policy vs  OpenBLAS on all cores
 *
 * A and B hold small whole numbers (-2..2), so every product and sum is exact
 * in float whatever the order: each result is checked exactly, in O(n^2), by
 * Freivalds' test — C*r against A*(B*r) in 64-bit integers, r random and
 * non-zero, so that any single wrong element changes its row's sum — plus
 * two elements computed directly. C is filled with a poison value after each
 * check, so a block that leaves elements unwritten fails.
 *
 * weft_k_sgemm sets OpenBLAS to one thread on first use (weft provides the
 * parallelism); the baseline sets it to the core count for its own calls and
 * back to one after. */
#include <cblas.h>
#include <clblast_c.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "workloads.h"

#define GEMM_FULL 2048
#define GEMM_QUICK 1024
#define GEMM_SMOKE 67 /* not a multiple of weft's 16-row blocks */
#define GEMM_GOAL 0.9
#define POISON 12345.0f

typedef struct gemm {
    size_t n;
    float *A, *B, *C;
    int64_t *r, *Br, *ABr;        /* Freivalds: r, B*r, A*(B*r) */
    int64_t c00, clast;           /* two elements computed directly */
    int cores;                    /* OpenBLAS baseline threads */
} gemm;

static void fill_poison(gemm *g)
{
    for (size_t i = 0; i < g->n * g->n; i++) g->C[i] = POISON;
}

static int gemm_setup(gemm *g, size_t n)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    g->A = bench_page_alloc(n * n * sizeof(float));
    g->B = bench_page_alloc(n * n * sizeof(float));
    g->C = bench_page_alloc(n * n * sizeof(float));
    g->r = malloc(n * sizeof *g->r);
    g->Br = malloc(n * sizeof *g->Br);
    g->ABr = malloc(n * sizeof *g->ABr);
    if (!g->A || !g->B || !g->C || !g->r || !g->Br || !g->ABr) return -1;
    for (size_t i = 0; i < n * n; i++) {
        g->A[i] = (float)((int)(bench_hash32((uint32_t)i) % 5u) - 2);
        g->B[i] = (float)((int)(bench_hash32((uint32_t)i ^ 0x5bd1e995u) % 5u) - 2);
    }
    for (size_t j = 0; j < n; j++) g->r[j] = 1 + (int64_t)(bench_hash32((uint32_t)j * 2654435761u) & 0xfffff);
    for (size_t k = 0; k < n; k++) {
        int64_t s = 0;
        for (size_t j = 0; j < n; j++) s += (int64_t)g->B[k * n + j] * g->r[j];
        g->Br[k] = s;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t s = 0;
        for (size_t k = 0; k < n; k++) s += (int64_t)g->A[i * n + k] * g->Br[k];
        g->ABr[i] = s;
    }
    g->c00 = g->clast = 0;
    for (size_t k = 0; k < n; k++) {
        g->c00 += (int64_t)g->A[k] * (int64_t)g->B[k * n];
        g->clast += (int64_t)g->A[(n - 1) * n + k] * (int64_t)g->B[k * n + n - 1];
    }
    fill_poison(g);
    return 0;
}

static void gemm_free(gemm *g)
{
    free(g->A);
    free(g->B);
    free(g->C);
    free(g->r);
    free(g->Br);
    free(g->ABr);
}

static int gemm_verify(gemm *g, char *why, size_t cap)
{
    const size_t n = g->n;
    int ok = 1;
    if ((int64_t)g->C[0] != g->c00 || (int64_t)g->C[n * n - 1] != g->clast) {
        snprintf(why, cap, "C[0][0] = %.9g, C[n-1][n-1] = %.9g; expected %" PRId64 ", %" PRId64, (double)g->C[0],
                 (double)g->C[n * n - 1], g->c00, g->clast);
        ok = 0;
    }
    for (size_t i = 0; i < n && ok; i++) {
        int64_t s = 0;
        const float *row = g->C + i * n;
        for (size_t j = 0; j < n; j++) {
            float c = row[j];
            if (c != c || fabsf(c) > 16777216.0f || c != (float)(int64_t)c) {
                snprintf(why, cap, "C[%zu][%zu] = %.9g is not the whole number it must be", i, j, (double)c);
                ok = 0;
                break;
            }
            s += (int64_t)c * g->r[j];
        }
        if (ok && s != g->ABr[i]) {
            snprintf(why, cap, "row %zu of C is wrong (Freivalds: C*r = %" PRId64 ", A*(B*r) = %" PRId64 ")", i, s,
                     g->ABr[i]);
            ok = 0;
        }
    }
    fill_poison(g);
    return ok ? 0 : -1;
}

/* ---- cases ------------------------------------------------------------------------ */

enum { G_WEFT, G_OPENBLAS, G_CLBLAST };

typedef struct gcase {
    gemm *g;
    bench_ctx *b;
    int kind;
    weft_policy_t pol;
    char who[64];
    int said;
    /* CLBlast alone */
    int dev, unified, ready;
    cl_command_queue q;
    cl_context ctx;
    cl_mem a, bm, c;
} gcase;

static int gcase_body(void *p, uint64_t iters)
{
    gcase *c = p;
    gemm *g = c->g;
    const size_t n = g->n;
    for (uint64_t it = 0; it < iters; it++) {
        if (c->kind == G_WEFT) {
            weft_panic_t *pn = NULL;
            int rc = weft_k_sgemm(c->b->rt, &c->pol, n, n, n, 1.0f, g->A, g->B, 0.0f, g->C, &pn);
            if (rc) {
                if (!c->said++)
                    bench_progress("sgemm: %s: weft_k_sgemm: %s: %s", c->who, weft_err_name(rc),
                                   pn ? weft_panic_message(pn) : weft_last_error_message());
                weft_panic_destroy(pn);
                return -1;
            }
        } else if (c->kind == G_OPENBLAS) {
            openblas_set_num_threads(g->cores);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)n, (blasint)n, (blasint)n, 1.0f, g->A,
                        (blasint)n, g->B, (blasint)n, 0.0f, g->C, (blasint)n);
            openblas_set_num_threads(1); /* as weft_k_sgemm wants it */
        } else {
            if (!c->ready) return -1;
            cl_int err = CL_SUCCESS;
            size_t bytes = n * n * sizeof(float);
            const char *what = "copies";
            if (!c->unified) {
                err = clEnqueueWriteBuffer(c->q, c->a, CL_FALSE, 0, bytes, g->A, 0, NULL, NULL);
                if (err == CL_SUCCESS) err = clEnqueueWriteBuffer(c->q, c->bm, CL_FALSE, 0, bytes, g->B, 0, NULL, NULL);
                const float zero = 0.0f;
                if (err == CL_SUCCESS) err = clEnqueueFillBuffer(c->q, c->c, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
            }
            if (err == CL_SUCCESS) {
                CLBlastStatusCode st = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, n, n,
                                                    n, 1.0f, c->a, 0, n, c->bm, 0, n, 0.0f, c->c, 0, n, &c->q, NULL);
                if (st != CLBlastSuccess) {
                    err = st;
                    what = "CLBlastSgemm";
                }
            }
            if (err == CL_SUCCESS) {
                what = c->unified ? "clFinish" : "reading C";
                err = c->unified ? clFinish(c->q) : clEnqueueReadBuffer(c->q, c->c, CL_TRUE, 0, bytes, g->C, 0, NULL, NULL);
            }
            if (err != CL_SUCCESS) {
                clFinish(c->q);
                if (!c->said++) bench_progress("sgemm: %s: %s failed: %d", c->who, what, (int)err);
                return -1;
            }
        }
    }
    return 0;
}

static int gcase_check(void *p, uint64_t iters)
{
    (void)iters;
    gcase *c = p;
    char why[256];
    if (gemm_verify(c->g, why, sizeof why) == 0) return 0;
    if (c->said++ < 3) bench_progress("sgemm: %s: WRONG RESULT: %s", c->who, why);
    return -1;
}

static int clblast_setup(gcase *c, weft_runtime_t *rt, int dev)
{
    weft_device_info_t info;
    gemm *g = c->g;
    size_t bytes = g->n * g->n * sizeof(float);
    c->dev = dev;
    if (weft_device_info(rt, dev, &info) || weft_device_cl(rt, dev, NULL, &c->ctx, &c->q)) return -1;
    const char *force = getenv("WEFT_BENCH_FORCE_COPY"); /* as rawcl.c */
    c->unified = info.unified_memory && !(force && *force == '1');
    cl_mem_flags host = c->unified ? CL_MEM_USE_HOST_PTR : 0;
    cl_int err;
    c->a = clCreateBuffer(c->ctx, CL_MEM_READ_ONLY | host, bytes, c->unified ? g->A : NULL, &err);
    if (c->a) c->bm = clCreateBuffer(c->ctx, CL_MEM_READ_ONLY | host, bytes, c->unified ? g->B : NULL, &err);
    if (c->bm) c->c = clCreateBuffer(c->ctx, CL_MEM_READ_WRITE | host, bytes, c->unified ? g->C : NULL, &err);
    if (!c->c) {
        bench_progress("sgemm: device %d: clCreateBuffer: %s", dev, weft_cl_status_name(err));
        return -1;
    }
    c->ready = 1;
    return 0;
}

static void clblast_free(gcase *c)
{
    if (c->a) clReleaseMemObject(c->a);
    if (c->bm) clReleaseMemObject(c->bm);
    if (c->c) clReleaseMemObject(c->c);
    c->a = c->bm = c->c = NULL;
}

/* The target alone, at size n: weft on the CPU workers, OpenBLAS on all
 * cores, weft on every place (guided, the default). Few blocks: each op is
 * long. */
static int gemm_target(bench_ctx *b, size_t n, const char *all)
{
    gemm *g = calloc(1, sizeof *g);
    if (!g) return -1;
    bench_progress("sgemm: the target at %zu x %zu x %zu: the whole machine vs OpenBLAS", n, n, n);
    if (gemm_setup(g, n)) {
        bench_progress("sgemm: out of memory for n = %zu", n);
        gemm_free(g);
        free(g);
        return -1;
    }
    g->cores = b->machine->usable_cpus > 0 ? b->machine->usable_cpus : 1;
    gcase cs[3] = {
        {.g = g, .b = b, .kind = G_WEFT, .pol = bench_policy(BENCH_SINGLE_POLICY, 1, 0), .who = "weft cpu"},
        {.g = g, .b = b, .kind = G_OPENBLAS, .who = "openblas"},
        {.g = g, .b = b, .kind = G_WEFT, .pol = bench_policy(WEFT_POLICY_GUIDED, 1, WEFT_ALL_DEVICES),
         .who = "weft split guided"},
    };
    bench_case bc[3];
    bench_measure m[3];
    for (int i = 0; i < 3; i++)
        bc[i] = (bench_case){.name = cs[i].who, .body = gcase_body, .ctx = &cs[i], .ops_per_iter = 1.0,
                             .check = gcase_check};
    int saved = b->max_reps;
    b->max_reps = 5;
    char label[48];
    snprintf(label, sizeof label, "sgemm %zu", n);
    bench_measure_set(b, label, bc, 3, m);
    b->max_reps = saved;
    double work = 2.0 * (double)n * (double)n * (double)n / 1e9;
    bench_record *r = bench_add_record(b, "sgemm", "cpu", n, b->workers, &m[0], "GFLOP/s", "openblas", &m[1], 0);
    if (r) {
        bench_record_policy(r, bench_policy_name(BENCH_SINGLE_POLICY));
        bench_record_work(r, work, "GFLOP/s");
        snprintf(r->note, sizeof r->note, "the target's size in a quick run (at most 5 timed blocks): weft_k_sgemm on "
                                          "the CPU workers vs cblas_sgemm on %d threads",
                 g->cores);
    }
    int threads = b->workers;
    for (int dv = 0; dv < weft_device_count(b->rt); dv++) {
        weft_device_info_t info;
        if (weft_device_info(b->rt, dv, &info) == 0) threads += (int)info.compute_units;
    }
    r = bench_add_record(b, "sgemm", "split", n, threads, &m[2], "GFLOP/s", "openblas", &m[1], GEMM_GOAL);
    if (r) {
        snprintf(r->placement, sizeof r->placement, "%s", all);
        bench_record_all_places(b, r);
        bench_record_policy(r, "guided");
        bench_record_work(r, work, "GFLOP/s");
        r->goal_kind = 'x';
        snprintf(r->target, sizeof r->target, "SGEMM %zu on the whole machine (guided) >= 0.9x OpenBLAS with %d threads",
                 n, g->cores);
        snprintf(r->note, sizeof r->note, "the target's size in a quick run (at most 5 timed blocks): weft_k_sgemm on "
                                          "every place vs cblas_sgemm on %d threads",
                 g->cores);
        if (!m[1].verified) b->failures--; /* counted once, in the cpu row */
    }
    gemm_free(g);
    free(g);
    return 0;
}

static int run_sgemm(bench_ctx *b)
{
    const bench_options *o = b->opt;
    size_t n = o->size ? o->size : o->smoke ? GEMM_SMOKE : o->quick ? GEMM_QUICK : GEMM_FULL;
    if (n > 16384) {
        bench_progress("sgemm: --size %zu is too large (at most 16384)", n);
        return -1;
    }
    gemm *g = calloc(1, sizeof *g);
    if (!g) return -1;
    bench_progress("sgemm: setting up %zu x %zu x %zu", n, n, n);
    if (gemm_setup(g, n)) {
        bench_progress("sgemm: out of memory for n = %zu", n);
        gemm_free(g);
        free(g);
        return -1;
    }
    g->cores = b->machine->usable_cpus > 0 ? b->machine->usable_cpus : 1;
    int ndev = weft_device_count(b->rt);
    if (ndev > 62) ndev = 62;
    static const int policies[4] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED,
                                    WEFT_POLICY_ADAPTIVE};
    int ncases = 2 + 2 * ndev + (ndev ? 4 : 0);
    gcase *cs = calloc((size_t)ncases, sizeof *cs);
    bench_case *bc = calloc((size_t)ncases, sizeof *bc);
    bench_measure *m = calloc((size_t)ncases, sizeof *m);
    if (!cs || !bc || !m) {
        free(cs);
        free(bc);
        free(m);
        gemm_free(g);
        free(g);
        return -1;
    }
    int k = 0;
    cs[k] = (gcase){.g = g, .b = b, .kind = G_WEFT, .pol = bench_policy(BENCH_SINGLE_POLICY, 1, 0)};
    snprintf(cs[k++].who, sizeof cs[0].who, "weft cpu");
    cs[k] = (gcase){.g = g, .b = b, .kind = G_OPENBLAS};
    snprintf(cs[k++].who, sizeof cs[0].who, "openblas");
    for (int dv = 0; dv < ndev; dv++) {
        cs[k] = (gcase){.g = g, .b = b, .kind = G_WEFT, .pol = bench_policy(BENCH_SINGLE_POLICY, 0, (uint64_t)1 << dv)};
        snprintf(cs[k++].who, sizeof cs[0].who, "weft dev %d", dv);
        cs[k] = (gcase){.g = g, .b = b, .kind = G_CLBLAST};
        snprintf(cs[k].who, sizeof cs[0].who, "clblast dev %d", dv);
        clblast_setup(&cs[k], b->rt, dv);
        k++;
    }
    for (int p = 0; ndev && p < 4; p++) {
        cs[k] = (gcase){.g = g, .b = b, .kind = G_WEFT, .pol = bench_policy(policies[p], 1, WEFT_ALL_DEVICES)};
        snprintf(cs[k].who, sizeof cs[0].who, "weft split %s", bench_policy_name(policies[p]));
        k++;
    }
    for (int i = 0; i < k; i++)
        bc[i] = (bench_case){.name = cs[i].who, .body = gcase_body, .ctx = &cs[i], .ops_per_iter = 1.0,
                             .check = gcase_check};
    bench_measure_set(b, "sgemm", bc, k, m);

    double work = 2.0 * (double)n * (double)n * (double)n / 1e9;
    bench_record *r = bench_add_record(b, "sgemm", "cpu", n, b->workers, &m[0], "GFLOP/s", "openblas", &m[1], 0);
    if (r) {
        bench_record_policy(r, bench_policy_name(BENCH_SINGLE_POLICY));
        bench_record_work(r, work, "GFLOP/s");
        snprintf(r->note, sizeof r->note,
                 "%zu^3, weft_k_sgemm (one single-threaded OpenBLAS call per worker and row block) vs cblas_sgemm "
                 "with openblas_set_num_threads(%d); checked exactly (Freivalds)",
                 n, g->cores);
    }
    for (int dv = 0; dv < ndev; dv++) {
        weft_device_info_t info;
        weft_device_info(b->rt, dv, &info);
        r = bench_add_record(b, "sgemm", "device", n, (int)info.compute_units, &m[2 + 2 * dv], "GFLOP/s", "clblast",
                             &m[3 + 2 * dv], 0);
        if (!r) continue;
        bench_record_place(r, info.name, dv);
        bench_record_policy(r, bench_policy_name(BENCH_SINGLE_POLICY));
        bench_record_work(r, work, "GFLOP/s");
        snprintf(r->note, sizeof r->note,
                 "weft_k_sgemm on one device (CLBlast per row block) vs one CLBlastSgemm on the device's queue (%s)",
                 cs[3 + 2 * dv].unified ? "host arrays wrapped" : "copies in and out each op");
    }
    /* A quick run measures every placement at GEMM_QUICK, then the target
     * (the whole machine at GEMM_FULL against OpenBLAS) on its own. */
    int target_apart = o->quick && !o->size && n != GEMM_FULL && ndev;
    char all[64];
    snprintf(all, sizeof all, "all: cpu + %d device%s", ndev, ndev == 1 ? "" : "s");
    if (ndev) {
        int threads = b->workers;
        for (int dv = 0; dv < ndev; dv++) {
            weft_device_info_t info;
            if (weft_device_info(b->rt, dv, &info) == 0) threads += (int)info.compute_units;
        }
        for (int p = 0; p < 4; p++) {
            int guided = policies[p] == WEFT_POLICY_GUIDED && !target_apart;
            r = bench_add_record(b, "sgemm", "split", n, threads, &m[2 + 2 * ndev + p], "GFLOP/s", "openblas", &m[1],
                                 guided ? GEMM_GOAL : 0);
            if (!r) continue;
            snprintf(r->placement, sizeof r->placement, "%s", all);
            bench_record_all_places(b, r);
            bench_record_policy(r, bench_policy_name(policies[p]));
            bench_record_work(r, work, "GFLOP/s");
            r->goal_kind = 'x';
            if (guided)
                snprintf(r->target, sizeof r->target,
                         "SGEMM %zu on the whole machine (guided) >= 0.9x OpenBLAS with %d threads", n, g->cores);
            snprintf(r->note, sizeof r->note,
                     "weft_k_sgemm on the CPU workers (OpenBLAS) and every device (CLBlast) at once, vs "
                     "cblas_sgemm alone on %d threads%s",
                     g->cores, target_apart ? "; a quick run measures every placement at 1024, the target at 2048" : "");
            if (!m[1].verified) b->failures--; /* counted once, in the cpu row */
        }
    }
    for (int i = 0; i < k; i++)
        if (cs[i].kind == G_CLBLAST) clblast_free(&cs[i]);
    free(cs);
    free(bc);
    free(m);
    gemm_free(g);
    free(g);
    return target_apart ? gemm_target(b, GEMM_FULL, all) : 0;
}

const bench_workload bench_workload_sgemm = {
    .name = "sgemm",
    .description = "C = A*B with weft_k_sgemm (OpenBLAS on CPU workers, CLBlast on devices): CPU, each device, "
                   "split; vs OpenBLAS on all cores and CLBlast alone",
    .size_help = "n for n x n x n (default 2048, quick 1024)",
    .run = run_sgemm,
};
