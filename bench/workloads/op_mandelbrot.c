/* bench/workloads/op_mandelbrot.c — workload "mandelbrot": escape-time
 * Mandelbrot, compute-bound with uneven rows (weft_k_mandelbrot), and its
 * OpenMP baseline, rows in 16-pixel strips as the kernel's CPU twin. Every
 * image is checked bit for bit. Flags: see op_saxpy.c. */
#include <stdio.h>
#include <string.h>

#include "workloads.h"

#define MANDEL_ITER 256
#define MANDEL_LANES 16

typedef struct mandel_st {
    size_t w, h;
    float x0, y0, dx, dy;
    uint32_t *out, *ref;
} mandel_st;

static int mandel_setup(bench_op *w)
{
    mandel_st *s = w->state = bench_op_alloc(w, sizeof *s);
    if (!s) return -1;
    s->w = w->size;
    s->h = w->size * 3 / 4 ? w->size * 3 / 4 : 1;
    s->x0 = -2.2f;
    s->y0 = -1.2f;
    s->dx = 3.2f / (float)s->w;
    s->dy = 2.4f / (float)s->h;
    if (!(s->out = bench_op_alloc(w, s->w * s->h * sizeof(uint32_t))) ||
        !(s->ref = bench_op_alloc(w, s->w * s->h * sizeof(uint32_t))))
        return -1;
    /* The kernel's arithmetic, one pixel at a time. */
    for (size_t py = 0; py < s->h; py++) {
        float cy = s->y0 + (float)py * s->dy;
        for (size_t px = 0; px < s->w; px++) {
            float cx = s->x0 + (float)px * s->dx, x = 0.0f, y = 0.0f;
            uint32_t it = 0;
            for (; it < MANDEL_ITER && x * x + y * y <= 4.0f; it++) {
                float xn = x * x - y * y + cx;
                y = 2.0f * x * y + cy;
                x = xn;
            }
            s->ref[py * s->w + px] = it;
        }
    }
    memset(s->out, 0xff, s->w * s->h * sizeof(uint32_t));
    return weft_k_mandelbrot_args(&w->args, s->w, s->h, s->x0, s->y0, s->dx, s->dy, MANDEL_ITER, s->out);
}

static float sel(uint32_t m, float a, float b)
{
    uint32_t ua, ub, r;
    float f;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    r = (ua & m) | (ub & ~m);
    memcpy(&f, &r, sizeof f);
    return f;
}

/* One row in strips of 16 pixels, as kernels/mandelbrot.c does. */
static void mandel_row(const mandel_st *s, size_t py)
{
    const size_t w = s->w;
    const float cy = s->y0 + (float)(int64_t)py * s->dy;
    uint32_t *restrict row = s->out + py * w;
    for (size_t px0 = 0; px0 < w; px0 += MANDEL_LANES) {
        float cx[MANDEL_LANES], x[MANDEL_LANES] = {0}, y[MANDEL_LANES] = {0};
        uint32_t cnt[MANDEL_LANES] = {0};
        for (int l = 0; l < MANDEL_LANES; l++) cx[l] = s->x0 + (float)(int64_t)(px0 + (size_t)l) * s->dx;
        for (uint32_t it = 0; it < MANDEL_ITER; it++) {
            uint32_t any = 0;
            for (int l = 0; l < MANDEL_LANES; l++) {
                float xl = x[l], yl = y[l];
                float xx = xl * xl, yy = yl * yl;
                uint32_t in = -(uint32_t)(xx + yy <= 4.0f);
                float xn = xx - yy + cx[l];
                float yn = 2.0f * xl * yl + cy;
                x[l] = sel(in, xn, xl);
                y[l] = sel(in, yn, yl);
                cnt[l] -= in;
                any |= in;
            }
            if (!any) break;
        }
        size_t m = w - px0 < MANDEL_LANES ? w - px0 : MANDEL_LANES;
        for (size_t l = 0; l < m; l++) row[px0 + l] = cnt[l];
    }
}

static void mandel_omp(bench_op *w)
{
    const mandel_st *s = w->state;
    const size_t h = s->h;
#pragma omp parallel for num_threads(w->threads) schedule(dynamic)
    for (size_t py = 0; py < h; py++) mandel_row(s, py);
}

static int mandel_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    (void)ops;
    mandel_st *s = w->state;
    size_t n = s->w * s->h, i = bench_first_diff(s->out, s->ref, n, sizeof(uint32_t));
    if (i < n)
        snprintf(why, cap, "pixel (%zu, %zu) = %u iterations, expected %u", i % s->w, i / s->w, s->out[i], s->ref[i]);
    memset(s->out, 0xff, n * sizeof(uint32_t));
    return i < n ? -1 : 0;
}

static double mandel_work(const bench_op *w)
{
    const mandel_st *s = w->state;
    return (double)(s->w * s->h) / 1e6;
}

static void mandel_describe(const bench_op *w, char *buf, size_t cap)
{
    const mandel_st *s = w->state;
    snprintf(buf, cap, "%zux%zu, at most %d iterations", s->w, s->h, MANDEL_ITER);
}

const bench_op_def bench_op_mandelbrot = {
    .name = "mandelbrot",
    .description = "escape-time Mandelbrot, compute-bound, uneven rows (weft_k_mandelbrot): CPU, each device, "
                   "split; vs OpenMP and raw OpenCL",
    .size_help = "image width; height = 3/4 width (default 2048, quick 1024)",
    .unit = "Mpx/s",
    .size_full = 2048, .size_quick = 1024, .size_smoke = 61, .size_max = 32768,
    .setup = mandel_setup, .check = mandel_check, .work = mandel_work, .describe = mandel_describe,
    .cpu_base = mandel_omp,
    .cpu_note = "omp parallel for schedule(dynamic) over rows, each row in 16-pixel strips as the CPU twin; "
                "every image checked bit for bit",
    .cpu_goal = BENCH_OMP_GOAL, .cpu_target = BENCH_OMP_TARGET,
};
