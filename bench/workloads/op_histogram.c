/* bench/workloads/op_histogram.c — workload "histogram": 256 bins, a
 * reduction of whole histograms (weft_k_histogram), and its OpenMP baseline
 * (an array reduction). Counts checked exactly. Flags: see op_saxpy.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "workloads.h"

#define HBINS WEFT_K_HIST_BINS
#define H_LO 0.0f
#define H_HI 1.0f

typedef struct hist_st {
    float *data;
    uint32_t hist[HBINS], ref[HBINS];
} hist_st;

static int hist_setup(bench_op *w)
{
    hist_st *s = w->state = bench_op_alloc(w, sizeof *s);
    if (!s || !(s->data = bench_op_alloc(w, w->size * sizeof(float)))) return -1;
    const float scale = (float)HBINS / (H_HI - H_LO);
    for (size_t i = 0; i < w->size; i++) {
        uint32_t h = bench_hash32((uint32_t)i);
        /* Mostly inside [lo, hi), some outside, a few NaN. */
        float v = (h % 4099u == 0) ? NAN : -0.1f + 1.2f * (float)(h >> 8) / 16777216.0f;
        s->data[i] = v;
        if (v >= H_LO && v < H_HI) {
            uint32_t b = (uint32_t)((v - H_LO) * scale);
            s->ref[b < HBINS - 1 ? b : HBINS - 1]++;
        }
    }
    memset(s->hist, 0xff, sizeof s->hist);
    return weft_k_histogram_args(&w->args, w->size, s->data, H_LO, H_HI, s->hist);
}

static void hist_omp(bench_op *w)
{
    hist_st *s = w->state;
    const size_t n = w->size;
    const float *restrict d = s->data;
    const float lo = H_LO, hi = H_HI, scale = (float)HBINS / (H_HI - H_LO);
    uint32_t h[HBINS] = {0};
#pragma omp parallel for num_threads(w->threads) schedule(static) reduction(+ : h[:HBINS])
    for (size_t i = 0; i < n; i++) {
        float v = d[i];
        if (v >= lo && v < hi) {
            uint32_t b = (uint32_t)((v - lo) * scale);
            h[b < HBINS - 1 ? b : HBINS - 1]++;
        }
    }
    memcpy(s->hist, h, sizeof h);
}

static int hist_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    (void)ops;
    hist_st *s = w->state;
    size_t b = bench_first_diff(s->hist, s->ref, HBINS, sizeof s->hist[0]);
    if (b < HBINS) snprintf(why, cap, "bin %zu = %u, expected %u", b, s->hist[b], s->ref[b]);
    memset(s->hist, 0xff, sizeof s->hist);
    return b < HBINS ? -1 : 0;
}

static double hist_work(const bench_op *w) { return 4.0 * (double)w->size / 1e9; }

static void hist_describe(const bench_op *w, char *buf, size_t cap) { snprintf(buf, cap, "%zu floats", w->size); }

const bench_op_def bench_op_histogram = {
    .name = "histogram",
    .description = "256-bin histogram, a reduction of whole histograms (weft_k_histogram): CPU, each device, "
                   "split; vs OpenMP and raw OpenCL",
    .size_help = "floats (default 33554432, quick 16777216)",
    .unit = "GB/s",
    .size_full = (size_t)32 << 20, .size_quick = (size_t)16 << 20, .size_smoke = 10007, .size_max = (size_t)1 << 28,
    .setup = hist_setup, .check = hist_check, .work = hist_work, .describe = hist_describe,
    .cpu_base = hist_omp,
    .cpu_note = "omp parallel for reduction(+: h[:256]), one value per iteration; counts checked exactly",
    .cpu_goal = BENCH_OMP_GOAL, .cpu_target = BENCH_OMP_TARGET,
};
