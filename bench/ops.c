/* bench/ops.c — the driver of the bundled-operation workloads (see ops.h).
 *
 * One interleaved set of cases per operation:
 *   weft on the CPU workers alone   vs  OpenMP (same thread count)
 *   weft on device d alone          vs  the same kernel through raw OpenCL on d
 *   weft split across all places    vs  OpenMP, once per policy
 * A single place runs the default policy (guided, BENCH_SINGLE_POLICY); the
 * split runs static, dynamic, guided and adaptive. Every block of every case
 * is checked. */
#include "ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rawcl.h"
#include "workloads.h"

uint32_t bench_hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

void *bench_page_alloc(size_t bytes)
{
    size_t n = (bytes + 4095) / 4096 * 4096;
    return aligned_alloc(4096, n ? n : 4096);
}

size_t bench_op_size(const bench_op_def *d, const bench_options *o)
{
    if (o->size) return o->size;
    return o->smoke ? d->size_smoke : o->quick ? d->size_quick : d->size_full;
}

int bench_op_setup(bench_op *w, const bench_op_def *d, size_t n)
{
    memset(w, 0, sizeof *w);
    w->def = d;
    w->size = n;
    if (n < d->size_min || n > d->size_max) {
        bench_progress("%s: size %zu is outside %zu..%zu", d->name, n, d->size_min, d->size_max);
        return -1;
    }
    if (d->setup(w)) {
        bench_progress("%s: setup failed: %s", d->name, weft_last_error_message());
        return -1;
    }
    return 0;
}

void bench_op_teardown(bench_op *w)
{
    if (w->def && w->def->teardown) w->def->teardown(w);
    w->state = NULL;
}

weft_policy_t bench_policy(int kind, int use_cpu, uint64_t devices)
{
    weft_policy_t p;
    weft_policy_init(&p);
    p.kind = (weft_policy_kind_t)kind;
    p.use_cpu = use_cpu;
    p.devices = devices;
    return p;
}

int bench_op_run_weft(bench_op *w, weft_runtime_t *rt, const weft_policy_t *pol, const char *who)
{
    weft_panic_t *p = NULL;
    int rc = weft_k_run(rt, &w->args, pol, &p);
    if (rc) {
        bench_progress("%s: %s: weft_k_run: %s: %s", w->def->name, who, weft_err_name(rc),
                       p ? weft_panic_message(p) : weft_last_error_message());
        weft_panic_destroy(p);
        return -1;
    }
    return 0;
}

/* ---- cases -------------------------------------------------------------------- */

enum { CASE_WEFT, CASE_OMP, CASE_RAW };

typedef struct op_case {
    bench_op *w;
    bench_ctx *b;
    int kind;
    weft_policy_t pol;
    bench_rawcl raw;
    int raw_ready;
    char who[64];
    int said;                     /* a failure was reported already */
} op_case;

static int case_body(void *p, uint64_t iters)
{
    op_case *c = p;
    for (uint64_t i = 0; i < iters; i++) {
        switch (c->kind) {
        case CASE_WEFT:
            if (bench_op_run_weft(c->w, c->b->rt, &c->pol, c->who)) return -1;
            break;
        case CASE_OMP: c->w->def->omp(c->w, c->b->workers); break;
        case CASE_RAW:
            if (!c->raw_ready) return -1; /* could not be set up (said so) */
            if (bench_rawcl_run(&c->raw)) {
                if (!c->said++) bench_progress("%s: %s", c->w->def->name, c->raw.err);
                return -1;
            }
            break;
        }
    }
    return 0;
}

static int case_check(void *p, uint64_t iters)
{
    op_case *c = p;
    char why[256] = "";
    if (c->w->def->check(c->w, iters, why, sizeof why) == 0) return 0;
    if (c->said++ < 3) bench_progress("%s: %s: WRONG RESULT: %s", c->w->def->name, c->who, why);
    return -1;
}

static void placement_all(bench_ctx *b, char *buf, size_t cap)
{
    int ndev = weft_device_count(b->rt);
    snprintf(buf, cap, "all: cpu + %d device%s", ndev, ndev == 1 ? "" : "s");
}

int bench_op_workload(bench_ctx *b, const bench_op_def *d)
{
    bench_op *w = calloc(1, sizeof *w);
    if (!w) return -1;
    size_t n = bench_op_size(d, b->opt);
    bench_progress("%s: setting up size %zu (inputs and a reference computed serially)", d->name, n);
    if (bench_op_setup(w, d, n)) {
        bench_op_teardown(w);
        free(w);
        return -1;
    }
    int ndev = weft_device_count(b->rt);
    if (ndev > 62) ndev = 62;
    static const int policies[4] = {WEFT_POLICY_STATIC, WEFT_POLICY_DYNAMIC, WEFT_POLICY_GUIDED,
                                    WEFT_POLICY_ADAPTIVE};
    int ncases = 2 + 2 * ndev + (ndev ? 4 : 0);
    op_case *cs = calloc((size_t)ncases, sizeof *cs);
    bench_case *bc = calloc((size_t)ncases, sizeof *bc);
    bench_measure *m = calloc((size_t)ncases, sizeof *m);
    int status = 0;
    if (!cs || !bc || !m) {
        status = -1;
        goto out;
    }
    int k = 0;
    /* 0: weft on the CPU workers; 1: OpenMP. */
    cs[k] = (op_case){.w = w, .b = b, .kind = CASE_WEFT, .pol = bench_policy(BENCH_SINGLE_POLICY, 1, 0)};
    snprintf(cs[k].who, sizeof cs[k].who, "weft cpu");
    k++;
    cs[k] = (op_case){.w = w, .b = b, .kind = CASE_OMP};
    snprintf(cs[k].who, sizeof cs[k].who, "openmp");
    k++;
    /* 2 + 2d: weft on device d; 3 + 2d: raw OpenCL on device d. */
    for (int dv = 0; dv < ndev; dv++) {
        cs[k] = (op_case){.w = w, .b = b, .kind = CASE_WEFT,
                          .pol = bench_policy(BENCH_SINGLE_POLICY, 0, (uint64_t)1 << dv)};
        snprintf(cs[k].who, sizeof cs[k].who, "weft dev %d", dv);
        k++;
        cs[k] = (op_case){.w = w, .b = b, .kind = CASE_RAW};
        snprintf(cs[k].who, sizeof cs[k].who, "opencl dev %d", dv);
        if (bench_rawcl_init(&cs[k].raw, b->rt, dv, &w->args)) {
            bench_progress("%s: %s", d->name, cs[k].raw.err);
            bench_rawcl_free(&cs[k].raw);
        } else {
            cs[k].raw_ready = 1;
        }
        k++;
    }
    /* Then the split, one case per policy. */
    for (int p = 0; ndev && p < 4; p++) {
        cs[k] = (op_case){.w = w, .b = b, .kind = CASE_WEFT, .pol = bench_policy(policies[p], 1, WEFT_ALL_DEVICES)};
        snprintf(cs[k].who, sizeof cs[k].who, "weft split %s", bench_policy_name(policies[p]));
        k++;
    }
    for (int i = 0; i < k; i++)
        bc[i] = (bench_case){.name = cs[i].who, .body = case_body, .ctx = &cs[i], .ops_per_iter = 1.0,
                             .check = case_check};
    bench_measure_set(b, d->name, bc, k, m);

    char desc[96];
    d->describe(w, desc, sizeof desc);
    double work = d->work(w);
    bench_record *r;
    /* CPU alone vs OpenMP. */
    r = bench_add_record(b, d->name, "cpu", n, b->workers, &m[0], d->unit, "openmp", &m[1], d->cpu_goal);
    if (r) {
        bench_record_policy(r, bench_policy_name(BENCH_SINGLE_POLICY));
        bench_record_work(r, work, d->unit);
        if (d->cpu_target) snprintf(r->target, sizeof r->target, "%s", d->cpu_target);
        snprintf(r->note, sizeof r->note, "%s; %s", desc, d->omp_note);
    }
    for (int dv = 0; dv < ndev; dv++) {
        weft_device_info_t info;
        weft_device_info(b->rt, dv, &info);
        r = bench_add_record(b, d->name, "device", n, (int)info.compute_units, &m[2 + 2 * dv], d->unit, "opencl",
                             &m[3 + 2 * dv], d->device_goal);
        if (!r) continue;
        bench_record_place(r, info.name, dv);
        bench_record_policy(r, bench_policy_name(BENCH_SINGLE_POLICY));
        bench_record_work(r, work, d->unit);
        if (d->device_target) snprintf(r->target, sizeof r->target, "%s", d->device_target);
        snprintf(r->note, sizeof r->note,
                 "weft_k_<op> on device %d alone vs raw OpenCL: the kernel's own source (weft_k_<op>_kernel.cl_source) "
                 "built by the bench, one launch over the whole range, buffers made once (%s)",
                 dv, cs[3 + 2 * dv].raw.unified ? "wrapping the host arrays" : "copies in and out each op");
    }
    if (ndev) {
        char all[64];
        placement_all(b, all, sizeof all);
        int threads = b->workers;
        for (int dv = 0; dv < ndev; dv++) {
            weft_device_info_t info;
            if (weft_device_info(b->rt, dv, &info) == 0) threads += (int)info.compute_units;
        }
        for (int p = 0; p < 4; p++) {
            int i = 2 + 2 * ndev + p;
            r = bench_add_record(b, d->name, "split", n, threads, &m[i], d->unit, "openmp", &m[1], 0);
            if (!r) continue;
            snprintf(r->placement, sizeof r->placement, "%s", all);
            bench_record_all_places(b, r);
            bench_record_policy(r, bench_policy_name(policies[p]));
            bench_record_work(r, work, d->unit);
            snprintf(r->note, sizeof r->note,
                     "the CPU workers and every device at once (thr = workers + compute units), vs the same OpenMP "
                     "loop as the cpu row (on a CPU-only machine the device shares the workers' cores)");
            /* The OpenMP figure is counted once, in the cpu row. */
            if (!m[1].verified) b->failures--;
        }
    }
out:
    for (int i = 0; cs && i < ncases; i++)
        if (cs[i].raw_ready) bench_rawcl_free(&cs[i].raw);
    free(cs);
    free(bc);
    free(m);
    bench_op_teardown(w);
    free(w);
    return status;
}

/* ---- the registry entries ------------------------------------------------------ */

#define OP_WORKLOAD(op)                                                                  \
    static int run_##op(bench_ctx *b) { return bench_op_workload(b, &bench_op_##op); } \
    const bench_workload bench_workload_##op = {                                         \
        .name = #op,                                                                     \
        .run = run_##op,                                                                 \
        .def = &bench_op_##op,                                                           \
    };

OP_WORKLOAD(saxpy)
OP_WORKLOAD(sdot)
OP_WORKLOAD(mandelbrot)
OP_WORKLOAD(stencil5)
OP_WORKLOAD(histogram)
OP_WORKLOAD(nbody)
