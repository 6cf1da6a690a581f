/* kernels/stencil5.c — CPU twin of kernels/stencil5.cl, its arguments and the
 * iterated (ping-pong) helper.
 * argv: 0 width, 1 height (u32), 2 c0, 3 c1 (f32), 4 in, 5 out. */
#include <string.h>

#include "kernels_internal.h"

static void stencil5_cpu(size_t begin, size_t end, void *const *argv)
{
    const size_t w = WEFT_K_U32(argv, 0), h = WEFT_K_U32(argv, 1);
    const float c0 = WEFT_K_F32(argv, 2), c1 = WEFT_K_F32(argv, 3);
    const float *in = argv[4];
    float *out = argv[5];
    for (size_t y = begin; y < end; y++) {
        const float *restrict r = in + y * w;
        float *restrict o = out + y * w;
        if (y == 0 || y == h - 1 || w <= 2) {
            memcpy(o, r, w * sizeof *o);
            continue;
        }
        const float *restrict up = r - w;
        const float *restrict down = r + w;
        o[0] = r[0];
        for (size_t x = 1; x < w - 1; x++) o[x] = c0 * r[x] + c1 * ((up[x] + down[x]) + (r[x - 1] + r[x + 1]));
        o[w - 1] = r[w - 1];
    }
}

const weft_kernel_t weft_k_stencil5_kernel = {
    .name = "weft_stencil5",
    .cpu = stencil5_cpu,
    .cl_source = (const char *)weft__cl_stencil5,
    .cl_entry = "weft_stencil5",
};

int weft_k_stencil5_args(weft_k_args_t *args, size_t width, size_t height, float c0, float c1, const float *in,
                         float *out)
{
    const char *c = "weft_k_stencil5_args";
    if (!args || !in || !out)
        return weft_error_set(WEFT_EINVAL, "%s: %s is NULL", c, !args ? "args" : !in ? "in" : "out");
    if (in == out) return weft_error_set(WEFT_EINVAL, "%s: in and out are the same grid", c);
    if (!width || !height || width > UINT32_MAX || height > UINT32_MAX)
        return weft_error_set(WEFT_EINVAL, "%s: grid %zu x %zu must be 1 to 2^32-1 each way", c, width, height);
    size_t row, bytes;
    if (weft__k_mul(width, sizeof(float), &row) || weft__k_mul(row, height, &bytes))
        return weft_error_set(WEFT_EINVAL, "%s: grid %zu x %zu overflows", c, width, height);
    weft__k_begin(args, &weft_k_stencil5_kernel, weft_range_2d(width, height, 32, 4));
    weft__k_u32(args, (uint32_t)width);
    weft__k_u32(args, (uint32_t)height);
    weft__k_f32(args, c0);
    weft__k_f32(args, c1);
    weft__k_push(args, weft_arg_split_halo(in, bytes, row, 1));
    weft__k_push(args, weft_arg_split(out, bytes, row, WEFT_WRITE));
    return 0;
}

typedef struct stencil_step {
    size_t width, height;
    float c0, c1;
} stencil_step;

static int stencil_fill(weft_k_args_t *a, const void *ctx, float *src, float *dst)
{
    const stencil_step *st = ctx;
    return weft_k_stencil5_args(a, st->width, st->height, st->c0, st->c1, src, dst);
}

int weft_k_stencil5_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol, size_t width,
                       size_t height, float c0, float c1, float *a, float *b, unsigned iters, float **result,
                       weft_panic_t **panic)
{
    stencil_step st = {.width = width, .height = height, .c0 = c0, .c1 = c1};
    return weft__k_ping_pong(file, line, rt, pol, iters, a, b, stencil_fill, &st, result, panic);
}
