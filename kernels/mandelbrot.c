/* kernels/mandelbrot.c — CPU twin of kernels/mandelbrot.cl, and its arguments.
 * argv: 0 width, 1 height (u32), 2 x0, 3 y0, 4 dx, 5 dy (f32), 6 max_iter (u32),
 * 7 out. */
#include "kernels_internal.h"

/* Pixels iterated together: the lane loop vectorises. A lane that escaped
 * keeps its z (so stays out) and stops counting; the strip stops when every
 * lane is out. Each lane does exactly the kernel's per-pixel arithmetic. */
#define MANDEL_LANES 16

static void mandelbrot_cpu(size_t begin, size_t end, void *const *argv)
{
    const size_t w = WEFT_K_U32(argv, 0);
    const float x0 = WEFT_K_F32(argv, 2), y0 = WEFT_K_F32(argv, 3);
    const float dx = WEFT_K_F32(argv, 4), dy = WEFT_K_F32(argv, 5);
    const uint32_t max_iter = WEFT_K_U32(argv, 6);
    uint32_t *restrict out = argv[7];
    for (size_t py = begin; py < end; py++) {
        const float cy = y0 + (float)(int64_t)py * dy;
        uint32_t *restrict row = out + py * w;
        for (size_t px0 = 0; px0 < w; px0 += MANDEL_LANES) {
            float cx[MANDEL_LANES], x[MANDEL_LANES], y[MANDEL_LANES];
            uint32_t cnt[MANDEL_LANES];
            for (int l = 0; l < MANDEL_LANES; l++) {
                cx[l] = x0 + (float)(int64_t)(px0 + (size_t)l) * dx;
                x[l] = 0.0f;
                y[l] = 0.0f;
                cnt[l] = 0;
            }
            for (uint32_t it = 0; it < max_iter; it++) {
                uint32_t any = 0;
                for (int l = 0; l < MANDEL_LANES; l++) {
                    float xl = x[l], yl = y[l];
                    float xx = xl * xl, yy = yl * yl;
                    uint32_t in = -(uint32_t)(xx + yy <= 4.0f); /* lane mask */
                    float xn = xx - yy + cx[l];
                    float yn = 2.0f * xl * yl + cy;
                    x[l] = weft__k_sel(in, xn, xl);
                    y[l] = weft__k_sel(in, yn, yl);
                    cnt[l] -= in; /* +1 while in */
                    any |= in;
                }
                if (!any) break;
            }
            size_t m = w - px0 < MANDEL_LANES ? w - px0 : MANDEL_LANES;
            for (size_t l = 0; l < m; l++) row[px0 + l] = cnt[l];
        }
    }
}

const weft_kernel_t weft_k_mandelbrot_kernel = {
    .name = "weft_mandelbrot",
    .cpu = mandelbrot_cpu,
    .cl_source = (const char *)weft__cl_mandelbrot,
    .cl_entry = "weft_mandelbrot",
};

int weft_k_mandelbrot_args(weft_k_args_t *args, size_t width, size_t height, float x0, float y0, float dx,
                           float dy, uint32_t max_iter, uint32_t *out)
{
    const char *c = "weft_k_mandelbrot_args";
    if (!args || !out) return weft_error_set(WEFT_EINVAL, "%s: %s is NULL", c, !args ? "args" : "out");
    if (!width || !height || width > UINT32_MAX || height > UINT32_MAX)
        return weft_error_set(WEFT_EINVAL, "%s: image %zu x %zu must be 1 to 2^32-1 each way", c, width, height);
    size_t row, bytes;
    if (weft__k_mul(width, sizeof(uint32_t), &row) || weft__k_mul(row, height, &bytes))
        return weft_error_set(WEFT_EINVAL, "%s: image %zu x %zu overflows", c, width, height);
    weft__k_begin(args, &weft_k_mandelbrot_kernel, weft_range_2d(width, height, 16, 4));
    weft__k_u32(args, (uint32_t)width);
    weft__k_u32(args, (uint32_t)height);
    weft__k_f32(args, x0);
    weft__k_f32(args, y0);
    weft__k_f32(args, dx);
    weft__k_f32(args, dy);
    weft__k_u32(args, max_iter);
    weft__k_push(args, weft_arg_split(out, bytes, row, WEFT_WRITE));
    return 0;
}

int weft_k_mandelbrot_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol, size_t width,
                         size_t height, float x0, float y0, float dx, float dy, uint32_t max_iter, uint32_t *out,
                         weft_panic_t **panic)
{
    if (panic) *panic = NULL;
    weft_k_args_t args;
    int rc = weft_k_mandelbrot_args(&args, width, height, x0, y0, dx, dy, max_iter, out);
    return rc ? rc : weft_k_run_at(file, line, rt, &args, pol, panic);
}
