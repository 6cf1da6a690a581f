/* bench/workloads/op_sdot.c — workload "sdot": a dot product, a reduction
 * (weft_k_sdot), and its OpenMP baseline. weft's result is checked bit for
 * bit against the documented summation order, OpenMP's (another order)
 * within 1e-3 of a double-precision sum. Flags: see op_saxpy.c. */
#include <math.h>
#include <stdio.h>

#include "workloads.h"

#define SDOT_GROUP 256

typedef struct sdot_st {
    float *x, *y;
    float result;
    float ref_tree;       /* the documented order: pairwise tree per block, blocks in order */
    double ref;           /* double precision */
    int by_omp;           /* the last block was OpenMP's (another summation order) */
} sdot_st;

static int sdot_setup(bench_op *w)
{
    const size_t n = w->size;
    sdot_st *s = w->state = bench_op_alloc(w, sizeof *s);
    if (!s || !(s->x = bench_op_alloc(w, n * sizeof(float))) || !(s->y = bench_op_alloc(w, n * sizeof(float))))
        return -1;
    for (size_t i = 0; i < n; i++) {
        s->x[i] = (float)(bench_hash32((uint32_t)i) & 1023u) / 1024.0f;
        s->y[i] = (float)(bench_hash32((uint32_t)i ^ 0x9e3779b9u) & 1023u) / 1024.0f;
        s->ref += (double)s->x[i] * (double)s->y[i];
    }
    float t[SDOT_GROUP];
    for (size_t base = 0; base < n; base += SDOT_GROUP) {
        size_t m = n - base < SDOT_GROUP ? n - base : SDOT_GROUP;
        for (size_t l = 0; l < SDOT_GROUP; l++) t[l] = l < m ? s->x[base + l] * s->y[base + l] : 0.0f;
        for (size_t st = SDOT_GROUP / 2; st > 0; st >>= 1)
            for (size_t l = 0; l < st; l++) t[l] += t[l + st];
        s->ref_tree += t[0];
    }
    s->result = NAN;
    return weft_k_sdot_args(&w->args, n, s->x, s->y, &s->result, SDOT_GROUP);
}

static void sdot_omp(bench_op *w)
{
    sdot_st *s = w->state;
    const size_t n = w->size;
    const float *restrict x = s->x, *restrict y = s->y;
    float sum = 0.0f;
#pragma omp parallel for simd num_threads(w->threads) schedule(static) reduction(+ : sum)
    for (size_t i = 0; i < n; i++) sum += x[i] * y[i];
    s->result = sum;
    s->by_omp = 1;
}

static int sdot_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    (void)ops;
    sdot_st *s = w->state;
    int ok = 1;
    /* A float sum of millions of terms drifts: 1e-3 of the total allows
     * OpenMP's lane-wise sums; weft's must also match the documented order. */
    if (!(fabs((double)s->result - s->ref) <= 1e-3 * fabs(s->ref) + 1e-3)) {
        snprintf(why, cap, "x.y = %.9g, expected %.9g (double reference)", (double)s->result, s->ref);
        ok = 0;
    } else if (!s->by_omp && s->result != s->ref_tree) {
        snprintf(why, cap, "x.y = %.9g, not the documented pairwise-tree result %.9g bit for bit",
                 (double)s->result, (double)s->ref_tree);
        ok = 0;
    }
    s->result = NAN;
    s->by_omp = 0;
    return ok ? 0 : -1;
}

static double sdot_work(const bench_op *w) { return 8.0 * (double)w->size / 1e9; }

static void sdot_describe(const bench_op *w, char *buf, size_t cap) { snprintf(buf, cap, "%zu floats", w->size); }

const bench_op_def bench_op_sdot = {
    .name = "sdot",
    .description = "dot product, a reduction (weft_k_sdot): CPU, each device, split; vs OpenMP and raw OpenCL",
    .size_help = "floats per vector (default 16777216, quick 8388608)",
    .unit = "GB/s",
    .size_full = (size_t)16 << 20, .size_quick = (size_t)8 << 20, .size_smoke = 4099, .size_max = (size_t)1 << 28,
    .setup = sdot_setup, .check = sdot_check, .work = sdot_work, .describe = sdot_describe,
    .cpu_base = sdot_omp,
    .cpu_note = "omp parallel for simd reduction(+), so the float sum vectorises; weft's result is checked "
                "bit for bit against the documented summation order, OpenMP's within 1e-3 of a double sum",
    .cpu_goal = BENCH_OMP_GOAL, .cpu_target = BENCH_OMP_TARGET,
};
