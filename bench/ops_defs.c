/* bench/ops_defs.c — the bundled operations as benchmark workloads: inputs,
 * references computed here (serially, independently of weft), checks, and
 * the OpenMP baselines.
 *
 * Built with the flags of the kernels' CPU twins (-O3 -ffp-contract=off
 * -fno-math-errno, bench/CMakeLists.txt): the references and the OpenMP
 * loops round as the kernels do, so exact operations (saxpy on whole
 * numbers, mandelbrot, stencil5, histogram, sdot's documented order) are
 * checked bit for bit, and the others (nbody, sdot through OpenMP) within
 * float tolerance of a double-precision reference.
 *
 * The OpenMP loops are the straightforward `#pragma omp parallel for` over
 * the split dimension, on as many threads as weft has CPU workers. Their
 * bodies are written in the same form as the CPU twins in kernels/ (16-pixel
 * strips for mandelbrot, 8 lanes over a structure of arrays for nbody), so
 * that the ratio measures the parallel runtime, not two ways of writing the
 * loop body. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

/* ---- helpers ---------------------------------------------------------------- */

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

static int oom(const char *op, size_t n)
{
    bench_progress("%s: out of memory for size %zu", op, n);
    return -1;
}

/* ---- saxpy ------------------------------------------------------------------ */

/* x and y hold small whole numbers and a = 2: after k ops y = y0 + 2k*x
 * exactly, whatever the order or the place. */
typedef struct saxpy_st {
    size_t n;
    float *x, *y;
} saxpy_st;

#define SAXPY_A 2.0f
static float sx_of(size_t i) { return (float)(bench_hash32((uint32_t)i) & 7u); }
static float sy0_of(size_t i) { return (float)(i & 1023u); }

static int saxpy_setup(bench_op *w)
{
    saxpy_st *s = calloc(1, sizeof *s);
    if (!s) return oom("saxpy", w->size);
    w->state = s;
    s->n = w->size;
    s->x = bench_page_alloc(s->n * sizeof(float));
    s->y = bench_page_alloc(s->n * sizeof(float));
    if (!s->x || !s->y) return oom("saxpy", s->n);
    for (size_t i = 0; i < s->n; i++) {
        s->x[i] = sx_of(i);
        s->y[i] = sy0_of(i);
    }
    return weft_k_saxpy_args(&w->args, s->n, SAXPY_A, s->x, s->y) ? -1 : 0;
}

static void saxpy_teardown(bench_op *w)
{
    saxpy_st *s = w->state;
    if (!s) return;
    free(s->x);
    free(s->y);
    free(s);
}

static void saxpy_omp(bench_op *w, int threads)
{
    saxpy_st *s = w->state;
    const size_t n = s->n;
    const float a = SAXPY_A;
    const float *restrict x = s->x;
    float *restrict y = s->y;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}

static int saxpy_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    saxpy_st *s = w->state;
    int ok = 1;
    if (ops > 500000) {
        snprintf(why, cap, "%llu ops in a block would leave exact float range", (unsigned long long)ops);
        ok = 0;
    }
    float k = (float)ops * SAXPY_A;
    for (size_t i = 0; i < s->n; i++) {
        float want = sy0_of(i) + k * sx_of(i);
        if (ok && s->y[i] != want) {
            snprintf(why, cap, "y[%zu] = %g after %llu ops, expected %g", i, (double)s->y[i],
                     (unsigned long long)ops, (double)want);
            ok = 0;
        }
        s->y[i] = sy0_of(i);
    }
    return ok ? 0 : -1;
}

static double saxpy_work(const bench_op *w) { return 12.0 * (double)w->size / 1e9; }

static void saxpy_describe(const bench_op *w, char *buf, size_t cap) { snprintf(buf, cap, "%zu floats", w->size); }

const bench_op_def bench_op_saxpy = {
    .name = "saxpy",
    .description = "y = a*x + y (weft_k_saxpy): CPU, each device, split; vs OpenMP and raw OpenCL",
    .size_help = "floats (default 16777216, quick 8388608)",
    .unit = "GB/s",
    .size_full = (size_t)16 << 20, .size_quick = (size_t)8 << 20, .size_smoke = 5003,
    .size_min = 1, .size_max = (size_t)1 << 28,
    .setup = saxpy_setup, .teardown = saxpy_teardown, .omp = saxpy_omp, .check = saxpy_check,
    .work = saxpy_work, .describe = saxpy_describe,
    .omp_note = "omp parallel for schedule(static), one element per iteration; GB/s counts 12 B per element",
    .cpu_goal = 1.0 / 1.2, .cpu_target = "parallel_for on the CPU workers within 1.2x of OpenMP (saxpy)",
    .device_goal = 1.0 / 1.05, .device_target = "saxpy through weft within 5% of raw OpenCL on the same device",
};

/* ---- sdot ------------------------------------------------------------------- */

#define SDOT_GROUP 256

typedef struct sdot_st {
    size_t n;
    float *x, *y;
    float result;
    float ref_tree;       /* the documented order: pairwise tree per block, blocks in order */
    double ref;           /* double precision */
    int by_omp;           /* the last block was OpenMP's (another summation order) */
} sdot_st;

static int sdot_setup(bench_op *w)
{
    sdot_st *s = calloc(1, sizeof *s);
    if (!s) return oom("sdot", w->size);
    w->state = s;
    s->n = w->size;
    s->x = bench_page_alloc(s->n * sizeof(float));
    s->y = bench_page_alloc(s->n * sizeof(float));
    if (!s->x || !s->y) return oom("sdot", s->n);
    double ref = 0;
    for (size_t i = 0; i < s->n; i++) {
        s->x[i] = (float)(bench_hash32((uint32_t)i) & 1023u) / 1024.0f;
        s->y[i] = (float)(bench_hash32((uint32_t)i ^ 0x9e3779b9u) & 1023u) / 1024.0f;
        ref += (double)s->x[i] * (double)s->y[i];
    }
    s->ref = ref;
    float acc = 0.0f, t[SDOT_GROUP];
    for (size_t base = 0; base < s->n; base += SDOT_GROUP) {
        size_t m = s->n - base < SDOT_GROUP ? s->n - base : SDOT_GROUP;
        for (size_t l = 0; l < SDOT_GROUP; l++) t[l] = l < m ? s->x[base + l] * s->y[base + l] : 0.0f;
        for (size_t st = SDOT_GROUP / 2; st > 0; st >>= 1)
            for (size_t l = 0; l < st; l++) t[l] += t[l + st];
        acc += t[0];
    }
    s->ref_tree = acc;
    s->result = NAN;
    return weft_k_sdot_args(&w->args, s->n, s->x, s->y, &s->result, SDOT_GROUP) ? -1 : 0;
}

static void sdot_teardown(bench_op *w)
{
    sdot_st *s = w->state;
    if (!s) return;
    free(s->x);
    free(s->y);
    free(s);
}

static void sdot_omp(bench_op *w, int threads)
{
    sdot_st *s = w->state;
    const size_t n = s->n;
    const float *restrict x = s->x, *restrict y = s->y;
    float sum = 0.0f;
#pragma omp parallel for simd num_threads(threads) schedule(static) reduction(+ : sum)
    for (size_t i = 0; i < n; i++) sum += x[i] * y[i];
    s->result = sum;
    s->by_omp = 1;
}

static int sdot_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    (void)ops;
    sdot_st *s = w->state;
    int ok = 1;
    double err = fabs((double)s->result - s->ref);
    /* A float sum of millions of terms drifts: 1e-3 of the total allows
     * OpenMP's lane-wise sums; weft's must also match the documented order. */
    if (!(err <= 1e-3 * fabs(s->ref) + 1e-3)) {
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

const bench_op_def bench_op_sdot = {
    .name = "sdot",
    .description = "dot product, a reduction (weft_k_sdot): CPU, each device, split; vs OpenMP and raw OpenCL",
    .size_help = "floats per vector (default 16777216, quick 8388608)",
    .unit = "GB/s",
    .size_full = (size_t)16 << 20, .size_quick = (size_t)8 << 20, .size_smoke = 4099,
    .size_min = 1, .size_max = (size_t)1 << 28,
    .setup = sdot_setup, .teardown = sdot_teardown, .omp = sdot_omp, .check = sdot_check,
    .work = sdot_work, .describe = saxpy_describe,
    .omp_note = "omp parallel for simd reduction(+), so the float sum vectorises; weft's result is checked "
                "bit for bit against the documented summation order, OpenMP's within 1e-3 of a double sum",
};

/* ---- mandelbrot -------------------------------------------------------------- */

#define MANDEL_ITER 256
#define MANDEL_LANES 16

typedef struct mandel_st {
    size_t w, h;
    float x0, y0, dx, dy;
    uint32_t *out, *ref;
} mandel_st;

static int mandel_setup(bench_op *w)
{
    mandel_st *s = calloc(1, sizeof *s);
    if (!s) return oom("mandelbrot", w->size);
    w->state = s;
    s->w = w->size;
    s->h = w->size * 3 / 4 ? w->size * 3 / 4 : 1;
    s->x0 = -2.2f;
    s->y0 = -1.2f;
    s->dx = 3.2f / (float)s->w;
    s->dy = 2.4f / (float)s->h;
    s->out = bench_page_alloc(s->w * s->h * sizeof(uint32_t));
    s->ref = malloc(s->w * s->h * sizeof(uint32_t));
    if (!s->out || !s->ref) return oom("mandelbrot", w->size);
    /* The kernel's arithmetic, one pixel at a time. */
    for (size_t py = 0; py < s->h; py++) {
        float cy = s->y0 + (float)py * s->dy;
        for (size_t px = 0; px < s->w; px++) {
            float cx = s->x0 + (float)px * s->dx;
            float x = 0.0f, y = 0.0f;
            uint32_t it = 0;
            while (it < MANDEL_ITER && x * x + y * y <= 4.0f) {
                float xn = x * x - y * y + cx;
                y = 2.0f * x * y + cy;
                x = xn;
                it++;
            }
            s->ref[py * s->w + px] = it;
        }
    }
    memset(s->out, 0xff, s->w * s->h * sizeof(uint32_t));
    return weft_k_mandelbrot_args(&w->args, s->w, s->h, s->x0, s->y0, s->dx, s->dy, MANDEL_ITER, s->out) ? -1 : 0;
}

static void mandel_teardown(bench_op *w)
{
    mandel_st *s = w->state;
    if (!s) return;
    free(s->out);
    free(s->ref);
    free(s);
}

/* One row in strips of 16 pixels, as kernels/mandelbrot.c does. */
static void mandel_row(const mandel_st *s, size_t py)
{
    const size_t w = s->w;
    const float cy = s->y0 + (float)(int64_t)py * s->dy;
    uint32_t *restrict row = s->out + py * w;
    for (size_t px0 = 0; px0 < w; px0 += MANDEL_LANES) {
        float cx[MANDEL_LANES], x[MANDEL_LANES], y[MANDEL_LANES];
        uint32_t cnt[MANDEL_LANES];
        for (int l = 0; l < MANDEL_LANES; l++) {
            cx[l] = s->x0 + (float)(int64_t)(px0 + (size_t)l) * s->dx;
            x[l] = 0.0f;
            y[l] = 0.0f;
            cnt[l] = 0;
        }
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

static void mandel_omp(bench_op *w, int threads)
{
    const mandel_st *s = w->state;
    const size_t h = s->h;
#pragma omp parallel for num_threads(threads) schedule(dynamic)
    for (size_t py = 0; py < h; py++) mandel_row(s, py);
}

static int mandel_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    (void)ops;
    mandel_st *s = w->state;
    int ok = 1;
    size_t n = s->w * s->h;
    if (memcmp(s->out, s->ref, n * sizeof(uint32_t)) != 0) {
        for (size_t i = 0; i < n; i++)
            if (s->out[i] != s->ref[i]) {
                snprintf(why, cap, "pixel (%zu, %zu) = %u iterations, expected %u", i % s->w, i / s->w,
                         s->out[i], s->ref[i]);
                break;
            }
        ok = 0;
    }
    memset(s->out, 0xff, n * sizeof(uint32_t));
    return ok ? 0 : -1;
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
    .size_full = 2048, .size_quick = 1024, .size_smoke = 61, .size_min = 1, .size_max = 32768,
    .setup = mandel_setup, .teardown = mandel_teardown, .omp = mandel_omp, .check = mandel_check,
    .work = mandel_work, .describe = mandel_describe,
    .omp_note = "omp parallel for schedule(dynamic) over rows, each row in 16-pixel strips as the CPU twin; "
                "every image checked bit for bit",
    .cpu_goal = 1.0 / 1.2, .cpu_target = "parallel_for on the CPU workers within 1.2x of OpenMP (mandelbrot)",
};

/* ---- stencil5 ------------------------------------------------------------------ */

#define ST_C0 0.5f
#define ST_C1 0.125f

typedef struct stencil_st {
    size_t w, h;
    float *in, *out, *ref;
} stencil_st;

static int stencil_setup(bench_op *w)
{
    stencil_st *s = calloc(1, sizeof *s);
    if (!s) return oom("stencil5", w->size);
    w->state = s;
    s->w = s->h = w->size;
    size_t n = s->w * s->h;
    s->in = bench_page_alloc(n * sizeof(float));
    s->out = bench_page_alloc(n * sizeof(float));
    s->ref = malloc(n * sizeof(float));
    if (!s->in || !s->out || !s->ref) return oom("stencil5", w->size);
    for (size_t i = 0; i < n; i++) s->in[i] = (float)(bench_hash32((uint32_t)i) >> 8) / 16777216.0f;
    const size_t W = s->w, H = s->h;
    for (size_t y = 0; y < H; y++)
        for (size_t x = 0; x < W; x++) {
            size_t i = y * W + x;
            if (x == 0 || y == 0 || x == W - 1 || y == H - 1) s->ref[i] = s->in[i];
            else s->ref[i] = ST_C0 * s->in[i] + ST_C1 * ((s->in[i - W] + s->in[i + W]) + (s->in[i - 1] + s->in[i + 1]));
        }
    memset(s->out, 0xff, n * sizeof(float));
    return weft_k_stencil5_args(&w->args, s->w, s->h, ST_C0, ST_C1, s->in, s->out) ? -1 : 0;
}

static void stencil_teardown(bench_op *w)
{
    stencil_st *s = w->state;
    if (!s) return;
    free(s->in);
    free(s->out);
    free(s->ref);
    free(s);
}

static void stencil_omp(bench_op *w, int threads)
{
    const stencil_st *s = w->state;
    const size_t W = s->w, H = s->h;
    const float *in = s->in;
    float *out = s->out;
#pragma omp parallel for num_threads(threads) schedule(static)
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
    size_t n = s->w * s->h;
    int ok = 1;
    if (memcmp(s->out, s->ref, n * sizeof(float)) != 0) {
        for (size_t i = 0; i < n; i++)
            if (memcmp(&s->out[i], &s->ref[i], sizeof(float)) != 0) {
                snprintf(why, cap, "cell (%zu, %zu) = %.9g, expected %.9g", i % s->w, i / s->w, (double)s->out[i],
                         (double)s->ref[i]);
                break;
            }
        ok = 0;
    }
    memset(s->out, 0xff, n * sizeof(float));
    return ok ? 0 : -1;
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
    .size_full = 4096, .size_quick = 2048, .size_smoke = 37, .size_min = 1, .size_max = 32768,
    .setup = stencil_setup, .teardown = stencil_teardown, .omp = stencil_omp, .check = stencil_check,
    .work = stencil_work, .describe = stencil_describe,
    .omp_note = "omp parallel for schedule(static) over rows; GB/s counts 8 B per cell (read once, written once); "
                "checked bit for bit",
};

/* ---- histogram ------------------------------------------------------------------ */

#define HBINS WEFT_K_HIST_BINS
#define H_LO 0.0f
#define H_HI 1.0f

typedef struct hist_st {
    size_t n;
    float *data;
    uint32_t hist[HBINS], ref[HBINS];
} hist_st;

static int hist_setup(bench_op *w)
{
    hist_st *s = calloc(1, sizeof *s);
    if (!s) return oom("histogram", w->size);
    w->state = s;
    s->n = w->size;
    s->data = bench_page_alloc(s->n * sizeof(float));
    if (!s->data) return oom("histogram", s->n);
    const float scale = (float)HBINS / (H_HI - H_LO);
    for (size_t i = 0; i < s->n; i++) {
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
    return weft_k_histogram_args(&w->args, s->n, s->data, H_LO, H_HI, s->hist) ? -1 : 0;
}

static void hist_teardown(bench_op *w)
{
    hist_st *s = w->state;
    if (!s) return;
    free(s->data);
    free(s);
}

static void hist_omp(bench_op *w, int threads)
{
    hist_st *s = w->state;
    const size_t n = s->n;
    const float *restrict d = s->data;
    const float lo = H_LO, hi = H_HI, scale = (float)HBINS / (H_HI - H_LO);
    uint32_t h[HBINS] = {0};
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : h[:HBINS])
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
    int ok = 1;
    for (int b = 0; b < HBINS; b++)
        if (s->hist[b] != s->ref[b]) {
            snprintf(why, cap, "bin %d = %u, expected %u", b, s->hist[b], s->ref[b]);
            ok = 0;
            break;
        }
    memset(s->hist, 0xff, sizeof s->hist);
    return ok ? 0 : -1;
}

static double hist_work(const bench_op *w) { return 4.0 * (double)w->size / 1e9; }

const bench_op_def bench_op_histogram = {
    .name = "histogram",
    .description = "256-bin histogram, a reduction of whole histograms (weft_k_histogram): CPU, each device, "
                   "split; vs OpenMP and raw OpenCL",
    .size_help = "floats (default 33554432, quick 16777216)",
    .unit = "GB/s",
    .size_full = (size_t)32 << 20, .size_quick = (size_t)16 << 20, .size_smoke = 10007, .size_min = 1,
    .size_max = (size_t)1 << 28,
    .setup = hist_setup, .teardown = hist_teardown, .omp = hist_omp, .check = hist_check,
    .work = hist_work, .describe = saxpy_describe,
    .omp_note = "omp parallel for reduction(+: h[:256]), one value per iteration; counts checked exactly",
};

/* ---- nbody ----------------------------------------------------------------------- */

#define NB_DT 0.01f
#define NB_EPS2 0.01f
#define NB_LANES 8

typedef struct nbody_st {
    size_t n;
    float *pos, *vel, *out;
    float *soa;                 /* OpenMP: x, y, z, m arrays */
    double *acc;                /* reference: ax, ay, az, and the sum of |terms| per body */
} nbody_st;

static int nbody_setup(bench_op *w)
{
    nbody_st *s = calloc(1, sizeof *s);
    if (!s) return oom("nbody", w->size);
    w->state = s;
    size_t n = s->n = w->size;
    s->pos = bench_page_alloc(4 * n * sizeof(float));
    s->vel = bench_page_alloc(4 * n * sizeof(float));
    s->out = bench_page_alloc(4 * n * sizeof(float));
    s->soa = malloc(4 * n * sizeof(float));
    s->acc = malloc(4 * n * sizeof(double));
    if (!s->pos || !s->vel || !s->out || !s->soa || !s->acc) return oom("nbody", n);
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++)
            s->pos[4 * i + (size_t)c] = -1.0f + 2.0f * (float)(bench_hash32((uint32_t)(4 * i) + (uint32_t)c) >> 8) / 16777216.0f;
        s->pos[4 * i + 3] = (0.5f + (float)(bench_hash32((uint32_t)(4 * i + 3)) >> 8) / 16777216.0f) / (float)n;
    }
    memset(s->vel, 0, 4 * n * sizeof(float));
    memset(s->out, 0xff, 4 * n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        double ax = 0, ay = 0, az = 0, mag = 0;
        const double xi = s->pos[4 * i], yi = s->pos[4 * i + 1], zi = s->pos[4 * i + 2];
        for (size_t j = 0; j < n; j++) {
            double dx = s->pos[4 * j] - xi, dy = s->pos[4 * j + 1] - yi, dz = s->pos[4 * j + 2] - zi;
            double r2 = dx * dx + dy * dy + dz * dz + (double)NB_EPS2;
            double inv = 1.0 / sqrt(r2);
            double f = (double)s->pos[4 * j + 3] * inv * inv * inv;
            ax += f * dx;
            ay += f * dy;
            az += f * dz;
            mag += (double)s->pos[4 * j + 3] / r2;
        }
        s->acc[4 * i] = ax;
        s->acc[4 * i + 1] = ay;
        s->acc[4 * i + 2] = az;
        s->acc[4 * i + 3] = mag;
    }
    return weft_k_nbody_args(&w->args, n, NB_DT, NB_EPS2, s->pos, s->vel, s->out) ? -1 : 0;
}

static void nbody_teardown(bench_op *w)
{
    nbody_st *s = w->state;
    if (!s) return;
    free(s->pos);
    free(s->vel);
    free(s->out);
    free(s->soa);
    free(s->acc);
    free(s);
}

static void nbody_omp(bench_op *w, int threads)
{
    nbody_st *s = w->state;
    const size_t n = s->n, nv = n / NB_LANES * NB_LANES;
    const float dt = NB_DT, eps2 = NB_EPS2;
    const float *restrict pos = s->pos;
    float *restrict vel = s->vel, *restrict out = s->out;
    float *restrict px = s->soa, *restrict py = s->soa + n, *restrict pz = s->soa + 2 * n, *restrict pm = s->soa + 3 * n;
#pragma omp parallel num_threads(threads)
    {
#pragma omp for schedule(static)
        for (size_t j = 0; j < n; j++) {
            px[j] = pos[4 * j];
            py[j] = pos[4 * j + 1];
            pz[j] = pos[4 * j + 2];
            pm[j] = pos[4 * j + 3];
        }
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; i++) {
            const float xi = pos[4 * i], yi = pos[4 * i + 1], zi = pos[4 * i + 2];
            float ax[NB_LANES] = {0}, ay[NB_LANES] = {0}, az[NB_LANES] = {0};
            for (size_t j = 0; j < nv; j += NB_LANES)
                for (int l = 0; l < NB_LANES; l++) {
                    float dx = px[j + l] - xi, dy = py[j + l] - yi, dz = pz[j + l] - zi;
                    float r2 = dx * dx + dy * dy + dz * dz + eps2;
                    float inv = 1.0f / sqrtf(r2);
                    float f = pm[j + l] * (inv * inv * inv);
                    ax[l] += f * dx;
                    ay[l] += f * dy;
                    az[l] += f * dz;
                }
            float sx = 0.0f, sy = 0.0f, sz = 0.0f;
            for (int l = 0; l < NB_LANES; l++) {
                sx += ax[l];
                sy += ay[l];
                sz += az[l];
            }
            for (size_t j = nv; j < n; j++) {
                float dx = px[j] - xi, dy = py[j] - yi, dz = pz[j] - zi;
                float r2 = dx * dx + dy * dy + dz * dz + eps2;
                float inv = 1.0f / sqrtf(r2);
                float f = pm[j] * (inv * inv * inv);
                sx += f * dx;
                sy += f * dy;
                sz += f * dz;
            }
            float *v = vel + 4 * i, *o = out + 4 * i;
            v[0] += sx * dt;
            v[1] += sy * dt;
            v[2] += sz * dt;
            o[0] = xi + v[0] * dt;
            o[1] = yi + v[1] * dt;
            o[2] = zi + v[2] * dt;
            o[3] = pos[4 * i + 3];
        }
    }
}

/* After k steps from v = 0 with fixed positions: v = k*a*dt, out = p + v*dt,
 * within float tolerance of the double-precision accelerations (relative to
 * the sum of the terms' magnitudes, so cancellation cannot hide an error). */
static int nbody_check(bench_op *w, uint64_t ops, char *why, size_t cap)
{
    nbody_st *s = w->state;
    int ok = 1;
    const double k = (double)ops, dt = NB_DT;
    for (size_t i = 0; i < s->n && ok; i++) {
        double tol_v = k * dt * (2e-3 * s->acc[4 * i + 3]) + 1e-7;
        for (int c = 0; c < 3 && ok; c++) {
            double v = s->vel[4 * i + (size_t)c], want_v = k * dt * s->acc[4 * i + (size_t)c];
            double p = s->pos[4 * i + (size_t)c], o = s->out[4 * i + (size_t)c];
            double want_o = p + want_v * dt, tol_o = dt * tol_v + 1e-6 * (fabs(p) + 1e-3);
            if (!(fabs(v - want_v) <= tol_v)) {
                snprintf(why, cap, "body %zu: v[%d] = %.9g after %llu steps, expected %.9g", i, c, v,
                         (unsigned long long)ops, want_v);
                ok = 0;
            } else if (!(fabs(o - want_o) <= tol_o)) {
                snprintf(why, cap, "body %zu: position[%d] = %.9g, expected %.9g", i, c, o, want_o);
                ok = 0;
            }
        }
        if (ok && memcmp(&s->out[4 * i + 3], &s->pos[4 * i + 3], sizeof(float)) != 0) {
            snprintf(why, cap, "body %zu: mass %.9g, expected %.9g", i, (double)s->out[4 * i + 3],
                     (double)s->pos[4 * i + 3]);
            ok = 0;
        }
    }
    memset(s->vel, 0, 4 * s->n * sizeof(float));
    memset(s->out, 0xff, 4 * s->n * sizeof(float));
    return ok ? 0 : -1;
}

static double nbody_work(const bench_op *w) { return (double)w->size * (double)w->size / 1e9; }

static void nbody_describe(const bench_op *w, char *buf, size_t cap) { snprintf(buf, cap, "%zu bodies, one step", w->size); }

const bench_op_def bench_op_nbody = {
    .name = "nbody",
    .description = "one all-pairs N-body step, compute-bound (weft_k_nbody): CPU, each device, split; vs OpenMP "
                   "and raw OpenCL",
    .size_help = "bodies (default 8192, quick 4096)",
    .unit = "Gpairs/s",
    .size_full = 8192, .size_quick = 4096, .size_smoke = 197, .size_min = 1, .size_max = (size_t)1 << 20,
    .setup = nbody_setup, .teardown = nbody_teardown, .omp = nbody_omp, .check = nbody_check,
    .work = nbody_work, .describe = nbody_describe,
    .omp_note = "omp parallel for schedule(static) over bodies, the CPU twin's 8 lanes over a structure of "
                "arrays; Gpairs/s = n^2 body pairs per second; checked within float tolerance",
};
