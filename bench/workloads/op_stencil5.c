/* bench/workloads/op_stencil5.c — workload "stencil5": one step of a
 * 5-point stencil, rows split with a halo (weft_k_stencil5), and its OpenMP
 * baseline. Checked bit for bit. Flags: see op_saxpy.c. */
#include <stdio.h>
#include <string.h>

#include "workloads.h"

#define ST_C0 0.5f
#define ST_C1 0.125f

typedef struct stencil_st {
    float *in, *out, *ref;
} stencil_st;

static int stencil_setup(bench_op *w)
{
    const size_t W = w->size, H = w->size, n = W * H;
    stencil_st *s = w->state = bench_op_alloc(w, sizeof *s);
    if (!s || !(s->in = bench_op_alloc(w, n * sizeof(float))) || !(s->out = bench_op_alloc(w, n * sizeof(float))) ||
        !(s->ref = bench_op_alloc(w, n * sizeof(float))))
        return -1;
    for (size_t i = 0; i < n; i++) s->in[i] = (float)(bench_hash32((uint32_t)i) >> 8) / 16777216.0f;
    for (size_t y = 0; y < H; y++)
        for (size_t x = 0; x < W; x++) {
            size_t i = y * W + x;
            if (x == 0 || y == 0 || x == W - 1 || y == H - 1) s->ref[i] = s->in[i];
            else s->ref[i] = ST_C0 * s->in[i] + ST_C1 * ((s->in[i - W] + s->in[i + W]) + (s->in[i - 1] + s->in[i + 1]));
        }
    memset(s->out, 0xff, n * sizeof(float));
    return weft_k_stencil5_args(&w->args, W, H, ST_C0, ST_C1, s->in, s->out);
}

static void stencil_omp(bench_op *w)
{
    const stencil_st *s = w->state;
    const size_t W = w->size, H = w->size;
    const float *in = s->in;
    float *out = s->out;
#pragma omp parallel for num_threads(w->workers) schedule(static)
    for (size_t y = 0; y < H; y++) {
        const float *restrict r = in + y * W;
        float *restrict o = out + y * W;
        if (y == 0 || y == H - 1 || W <= 2) {
            memcpy(o, r, W * sizeof *o);
            continue;
        }
        const float *restrict up = r - W, *restrict down = r + W;
        o[0] = r[0];
        for (size_t x = 1; x < W - 1; x++) o[x] = ST_C0 * r[x] + ST_C1 * ((up[x] + down[x]) + (r[x - 1] + r[x + 1]));
        o[W - 1] = r[W - 1];
    }
}

static int stencil_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    (void)ops;
    stencil_st *s = w->state;
    size_t n = w->size * w->size, i = bench_first_diff(s->out, s->ref, n, sizeof(float));
    if (i < n)
        snprintf(why, cap, "cell (%zu, %zu) = %.9g, expected %.9g", i % w->size, i / w->size, (double)s->out[i],
                 (double)s->ref[i]);
    memset(s->out, 0xff, n * sizeof(float));
    return i < n ? -1 : 0;
}

static double stencil_work(const bench_op *w) { return 8.0 * (double)(w->size * w->size) / 1e9; }

static void stencil_describe(const bench_op *w, char *buf, size_t cap)
{
    snprintf(buf, cap, "%zux%zu grid, one step", w->size, w->size);
}

const bench_op_def bench_op_stencil5 = {
    .name = "stencil5",
    .description = "one step of a 5-point stencil, split rows with a halo (weft_k_stencil5): CPU, each device, "
                   "split; vs OpenMP and raw OpenCL",
    .size_help = "grid width = height (default 4096, quick 2048)",
    .unit = "GB/s",
    .size_full = 4096, .size_quick = 2048, .size_smoke = 37, .size_max = 32768,
    .setup = stencil_setup, .check = stencil_check, .work = stencil_work, .describe = stencil_describe,
    .cpu_base = stencil_omp,
    .cpu_note = "omp parallel for schedule(static) over rows; GB/s counts 8 B per cell (read once, written once); "
                "checked bit for bit",
};
