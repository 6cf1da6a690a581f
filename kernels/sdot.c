/* kernels/sdot.c — CPU twin of kernels/sdot.cl, and its arguments.
 * argv: 0 n (u64), 1 group (u32), 2 x, 3 y, 4 partials, 5 __local (NULL).
 * The twin is a body with context: n, the group size and the piece's blocks
 * come from its weft_chunk_ctx_t (n and group stay arguments for the
 * OpenCL kernel). */
#include <string.h>

#include "kernels_internal.h"

#define SDOT_MAX_GROUP 1024

/* A whole block of 256 with the tree in registers, the same additions in
 * the same order. In the tree, the value at level k (s = 256 >> k) and lane
 * l < s sums the leaves l + s*j, j < 2^k, pairing j with j + 2^(k-1) at
 * each level. So four neighbouring lanes l..l+3 of level 4 (s = 16) are a
 * tree over the sixteen vectors x[l + 16j]*y[l + 16j]: pair j with j+8,
 * then j+4, j+2, j+1. Levels s = 8..1 then combine the four lane groups
 * exactly as the loop would. Rounds as the loop does with contraction off. */
typedef float v4f __attribute__((vector_size(16)));

static v4f load4(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static v4f lanes16(const float *restrict x, const float *restrict y, size_t l)
{
    v4f v[16];
    for (int j = 0; j < 16; j++) v[j] = load4(x + l + 16 * j) * load4(y + l + 16 * j);
    for (int h = 8; h > 0; h >>= 1)
        for (int j = 0; j < h; j++) v[j] += v[j + h];
    return v[0];
}

static float block256(const float *restrict x, const float *restrict y)
{
    v4f a = lanes16(x, y, 0), b = lanes16(x, y, 4), c = lanes16(x, y, 8), d = lanes16(x, y, 12);
    v4f lo = a + c, hi = b + d; /* s = 8: lanes 0-3 += 8-11, 4-7 += 12-15 */
    v4f q = lo + hi;            /* s = 4 */
    float t0 = q[0] + q[2], t1 = q[1] + q[3]; /* s = 2 */
    return t0 + t1;                           /* s = 1 */
}

/* Each block: the products (0 past n), then the kernel's pairwise tree. The
 * tree's inner loops vectorise; the order is the device's, so the partial is
 * the same bits. A whole block of 256 takes block256. */
static void sdot_cpu(const weft_chunk_ctx_t *c, void *const *argv)
{
    const size_t n = c->range.size[0], g = c->group;
    /* The tree's size is the kernel's `group` argument, checked by
     * weft_k_sdot_args; a range changed since would not fit t. */
    if (g != WEFT_K_U32(argv, 1))
        weft_panic("weft_sdot: range.group %zu is not the group %u weft_k_sdot_args was given", g,
                   (unsigned)WEFT_K_U32(argv, 1));
    const float *restrict x = argv[2];
    const float *restrict y = argv[3];
    float *restrict partials = argv[4];
    float t[SDOT_MAX_GROUP];
    for (size_t blk = c->group_begin; blk < c->group_end; blk++) {
        size_t base = blk * g, m = n - base < g ? n - base : g;
        if (g == 256 && m == g) {
            partials[blk] = block256(x + base, y + base);
            continue;
        }
        for (size_t l = 0; l < m; l++) t[l] = x[base + l] * y[base + l];
        for (size_t l = m; l < g; l++) t[l] = 0.0f;
        for (size_t s = g >> 1; s > 0; s >>= 1)
            for (size_t l = 0; l < s; l++) t[l] += t[l + s];
        partials[blk] = t[0];
    }
}

const weft_kernel_t weft_k_sdot_kernel = {
    .name = "weft_sdot",
    .cl_source = (const char *)weft__cl_sdot,
    .cl_entry = "weft_sdot",
    .cpu_ctx = sdot_cpu,
};

static void sdot_combine(void *acc, const void *partial)
{
    *(float *)acc += *(const float *)partial;
}

int weft_k_sdot_args(weft_k_args_t *args, size_t n, const float *x, const float *y, float *result, size_t group)
{
    static const float zero = 0.0f;
    const char *c = "weft_k_sdot_args";
    if (!args || !result) return weft_error_set(WEFT_EINVAL, "%s: %s is NULL", c, !args ? "args" : "result");
    if (n && (!x || !y)) return weft_error_set(WEFT_EINVAL, "%s: %s is NULL", c, !x ? "x" : "y");
    if (!group) group = 256;
    if (group > SDOT_MAX_GROUP || (group & (group - 1)))
        return weft_error_set(WEFT_EINVAL, "%s: group %zu is not a power of two from 1 to %d", c, group, SDOT_MAX_GROUP);
    size_t bytes;
    if (weft__k_mul(n, sizeof(float), &bytes)) return weft_error_set(WEFT_EINVAL, "%s: n = %zu overflows", c, n);
    weft__k_begin(args, &weft_k_sdot_kernel, weft_range_1d(n, group));
    weft__k_u64(args, n);
    weft__k_u32(args, (uint32_t)group);
    weft__k_push(args, weft_arg_split((void *)x, bytes, sizeof(float), WEFT_READ));
    weft__k_push(args, weft_arg_split((void *)y, bytes, sizeof(float), WEFT_READ));
    weft__k_push(args, weft_arg_reduce(result, sizeof(float), &zero, sdot_combine));
    weft__k_push(args, weft_arg_local(group * sizeof(float)));
    return 0;
}

int weft_k_sdot_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol, size_t n,
                   const float *x, const float *y, float *result, weft_panic_t **panic)
{
    if (panic) *panic = NULL;
    weft_k_args_t args;
    int rc = weft_k_sdot_args(&args, n, x, y, result, 0);
    return rc ? rc : weft_k_run_at(file, line, rt, &args, pol, panic);
}
