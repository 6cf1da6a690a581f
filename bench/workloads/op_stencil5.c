/* bench/workloads/op_stencil5.c — workload "stencil5": one step of a
 * 5-point stencil, rows split with a halo (weft_k_stencil5), and its OpenMP
 * baseline; and its separate-memory row: 100 steps in the iterated form
 * (weft_k_stencil5, one operation per step) against raw OpenCL doing what
 * those 100 operations do. Checked bit for bit. Flags: see op_saxpy.c. */
#include <stdio.h>
#include <string.h>

#include "workloads.h"

#define ST_C0 0.5f
#define ST_C1 0.125f

typedef struct stencil_st {
    float *in, *out, *ref;
} stencil_st;

static void fill_grid(float *g, size_t n)
{
    for (size_t i = 0; i < n; i++) g[i] = (float)(bench_hash32((uint32_t)i) >> 8) / 16777216.0f;
}

/* One step, serially: the reference. */
static void ref_step(const float *in, float *out, size_t W, size_t H)
{
    for (size_t y = 0; y < H; y++)
        for (size_t x = 0; x < W; x++) {
            size_t i = y * W + x;
            if (x == 0 || y == 0 || x == W - 1 || y == H - 1) out[i] = in[i];
            else out[i] = ST_C0 * in[i] + ST_C1 * ((in[i - W] + in[i + W]) + (in[i - 1] + in[i + 1]));
        }
}

static int stencil_setup(bench_op *w)
{
    const size_t W = w->size, H = w->size, n = W * H;
    stencil_st *s = w->state = bench_op_alloc(w, sizeof *s);
    if (!s || !(s->in = bench_op_alloc(w, n * sizeof(float))) || !(s->out = bench_op_alloc(w, n * sizeof(float))) ||
        !(s->ref = bench_op_alloc(w, n * sizeof(float))))
        return -1;
    fill_grid(s->in, n);
    ref_step(s->in, s->ref, W, H);
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

/* ---- the separate-memory row: 100 steps, one operation each --------------------- */

#define ST_STEPS 100u

typedef struct steps_st {
    float *a, *b, *init, *ref; /* a: the grid (then the result: ST_STEPS is even), b: scratch */
} steps_st;

static int steps_setup(bench_op *w)
{
    const size_t W = w->size, H = w->size, n = W * H;
    steps_st *s = w->state = bench_op_alloc(w, sizeof *s);
    if (!s || !(s->a = bench_op_alloc(w, n * sizeof(float))) || !(s->b = bench_op_alloc(w, n * sizeof(float))) ||
        !(s->init = bench_op_alloc(w, n * sizeof(float))) || !(s->ref = bench_op_alloc(w, n * sizeof(float))))
        return -1;
    fill_grid(s->init, n);
    memcpy(s->ref, s->init, n * sizeof(float));
    for (unsigned k = 0; k < ST_STEPS; k += 2) {
        ref_step(s->ref, s->b, W, H);
        ref_step(s->b, s->ref, W, H);
    }
    memset(s->b, 0xff, n * sizeof(float));
    /* One step from a to b: what the raw baseline builds its buffers for. */
    return weft_k_stencil5_args(&w->args, W, H, ST_C0, ST_C1, s->a, s->b);
}

/* Each op starts from the same grid (a copy, on both sides, inside the time). */
static void steps_start(bench_op *w)
{
    steps_st *s = w->state;
    memcpy(s->a, s->init, w->size * w->size * sizeof(float));
}

static int steps_weft(bench_op *w, weft_runtime_t *rt, const weft_policy_t *pol, weft_panic_t **panic)
{
    steps_st *s = w->state;
    steps_start(w);
    return weft_k_stencil5(rt, pol, w->size, w->size, ST_C0, ST_C1, s->a, s->b, ST_STEPS, NULL, panic);
}

/* What ST_STEPS separate weft operations do, in raw OpenCL: per step, the
 * step's grids as the arguments' host arrays, then bench_rawcl_run (upload,
 * one launch, read back, clFinish). The buffers are the device's own: it
 * needs copies (no wrapped host arrays to swap). */
static int steps_raw_init(bench_devbase *d, bench_op *w)
{
    if (d->unified) {
        snprintf(d->err, sizeof d->err, "device %d: the 100-step baseline copies each step: separate memory only",
                 d->dev);
        return -1;
    }
    return bench_rawcl_init(d, w);
}

static int steps_raw(bench_devbase *d, bench_op *w)
{
    steps_st *s = w->state;
    float *src = s->a, *dst = s->b;
    steps_start(w);
    for (unsigned k = 0; k < ST_STEPS; k++) {
        if (weft_k_stencil5_args(&w->args, w->size, w->size, ST_C0, ST_C1, src, dst) || bench_rawcl_run(d, w))
            return -1;
        float *t = src;
        src = dst;
        dst = t;
    }
    return 0;
}

static int steps_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    (void)ops;
    steps_st *s = w->state;
    size_t n = w->size * w->size, i = bench_first_diff(s->a, s->ref, n, sizeof(float));
    if (i < n)
        snprintf(why, cap, "cell (%zu, %zu) = %.9g after %u steps, expected %.9g", i % w->size, i / w->size,
                 (double)s->a[i], ST_STEPS, (double)s->ref[i]);
    memset(s->a, 0xff, n * sizeof(float));
    memset(s->b, 0xff, n * sizeof(float));
    return i < n ? -1 : 0;
}

static double steps_work(const bench_op *w) { return ST_STEPS * stencil_work(w); }

static void steps_describe(const bench_op *w, char *buf, size_t cap)
{
    snprintf(buf, cap, "%zux%zu grid, %u steps", w->size, w->size, ST_STEPS);
}

static const bench_op_def stencil5_steps = {
    .name = "stencil5",
    .description = "100 steps of the 5-point stencil, one operation each (weft_k_stencil5)",
    .size_help = "grid width = height (default 1024, quick 512)",
    .unit = "GB/s",
    .size_full = 1024, .size_quick = 512, .size_smoke = 37, .size_max = 32768,
    .setup = steps_setup, .check = steps_check, .work = steps_work, .describe = steps_describe, .run = steps_weft,
    .dev_init = steps_raw_init, .dev_run = steps_raw,
    .dev_note = "100 steps of weft_k_stencil5 (the iterated form: 100 operations, each joined) vs raw OpenCL doing "
                "what those 100 operations do: per step, upload, one launch, read back, clFinish (like for like)",
};

const bench_op_def bench_op_stencil5 = {
    .name = "stencil5",
    .description = "one step of a 5-point stencil, split rows with a halo (weft_k_stencil5): CPU, each device, "
                   "split; vs OpenMP and raw OpenCL",
    .size_help = "grid width = height (default 4096, quick 2048; the 100-step separate-memory row: 1024, quick 512)",
    .unit = "GB/s",
    .size_full = 4096, .size_quick = 2048, .size_smoke = 37, .size_max = 32768,
    .setup = stencil_setup, .check = stencil_check, .work = stencil_work, .describe = stencil_describe,
    .cpu_base = stencil_omp,
    .cpu_note = "omp parallel for schedule(static) over rows; GB/s counts 8 B per cell (read once, written once); "
                "checked bit for bit",
    .sepmem = &stencil5_steps,
};
