/* bench/workloads/op_saxpy.c — workload "saxpy": y = a*x + y
 * (weft_k_saxpy), and its OpenMP baseline. Whole numbers: checked exactly.
 *
 * The bundled operations' files (op_*.c) build with the flags of the
 * kernels' CPU twins (-O3 -ffp-contract=off -fno-math-errno, see
 * bench/CMakeLists.txt): references and OpenMP loops round as the kernels
 * do, and the loops are written in the twins' form, so that a ratio measures
 * the parallel runtime, not two ways of writing the loop body. */
#include <stdio.h>

#include "workloads.h"

typedef struct saxpy_st {
    float *x, *y;
} saxpy_st;

static float x_of(size_t i) { return (float)(bench_hash32((uint32_t)i) & 7u); }
static float y0_of(size_t i) { return (float)(i & 1023u); }

void bench_saxpy_fill(float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        x[i] = x_of(i);
        y[i] = y0_of(i);
    }
}

int bench_saxpy_check(float *y, size_t n, uint64_t ops, char *why, size_t cap)
{
    int ok = ops <= 500000; /* beyond, y would leave the floats' exact range */
    if (!ok) snprintf(why, cap, "%llu ops in a block would leave exact float range", (unsigned long long)ops);
    float k = (float)ops * BENCH_SAXPY_A;
    for (size_t i = 0; i < n; i++) {
        float want = y0_of(i) + k * x_of(i);
        if (ok && y[i] != want) {
            snprintf(why, cap, "y[%zu] = %g after %llu ops, expected %g", i, (double)y[i], (unsigned long long)ops,
                     (double)want);
            ok = 0;
        }
        y[i] = y0_of(i);
    }
    return ok ? 0 : -1;
}

static int saxpy_setup(bench_op *w)
{
    saxpy_st *s = w->state = bench_op_alloc(w, sizeof *s);
    const size_t bytes = w->size * sizeof(float);
    if (!s || !(s->x = bench_op_alloc(w, bytes)) || !(s->y = bench_op_alloc(w, bytes))) return -1;
    bench_saxpy_fill(s->x, s->y, w->size);
    return weft_k_saxpy_args(&w->args, w->size, BENCH_SAXPY_A, s->x, s->y);
}

static void saxpy_omp(bench_op *w)
{
    saxpy_st *s = w->state;
    const size_t n = w->size;
    const float a = BENCH_SAXPY_A;
    const float *restrict x = s->x;
    float *restrict y = s->y;
#pragma omp parallel for num_threads(w->threads) schedule(static)
    for (size_t i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}

static int saxpy_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    return bench_saxpy_check(((saxpy_st *)w->state)->y, w->size, ops, why, cap);
}

static double saxpy_work(const bench_op *w) { return 12.0 * (double)w->size / 1e9; }

static void saxpy_describe(const bench_op *w, char *buf, size_t cap) { snprintf(buf, cap, "%zu floats", w->size); }

const bench_op_def bench_op_saxpy = {
    .name = "saxpy",
    .description = "y = a*x + y (weft_k_saxpy): CPU, each device, split; vs OpenMP and raw OpenCL",
    .size_help = "floats (default 16777216, quick 8388608)",
    .unit = "GB/s",
    .size_full = (size_t)16 << 20, .size_quick = (size_t)8 << 20, .size_smoke = 5003, .size_max = (size_t)1 << 28,
    .setup = saxpy_setup, .check = saxpy_check, .work = saxpy_work, .describe = saxpy_describe,
    .cpu_base = saxpy_omp,
    .cpu_note = "omp parallel for schedule(static), one element per iteration; GB/s counts 12 B per element",
    .cpu_goal = BENCH_OMP_GOAL, .cpu_target = BENCH_OMP_TARGET,
    .device_goal = 1.0 / 1.05, .device_target = "saxpy through weft within 5% of raw OpenCL on the same device",
    .sepmem = &bench_op_saxpy,
};
