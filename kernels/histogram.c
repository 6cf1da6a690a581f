/* kernels/histogram.c — CPU twin of kernels/histogram.cl, and its arguments.
 * argv: 0 data, 1 tail, 2 tail_n (u32), 3 per_item (u32), 4 group (u32),
 * 5 nseg (u64), 6 lo, 7 hi, 8 scale (f32), 9 partials, 10 __local (NULL). */
#include <string.h>

#include "kernels_internal.h"

#define BINS WEFT_K_HIST_BINS
#define HIST_PER_ITEM 64 /* values per split index (segment) */
#define HIST_GROUP 64    /* segments per work-group: one partial per 4096 values */
#define HIST_STRIP 256   /* values binned at a time */

/* Count m values into four sub-histograms (bin BINS: "nowhere"). The bin
 * computation is a vectorisable loop; the increments alternate sub-histograms
 * so that repeated bins do not wait on each other. Bins agree with the
 * kernel: min((uint)((v-lo)*scale), BINS-1) for lo <= v < hi. */
static void hist_count(uint32_t (*restrict h)[BINS + 1], const float *restrict v, size_t m, float lo, float hi,
                       float scale)
{
    uint32_t idx[HIST_STRIP];
    for (size_t k0 = 0; k0 < m; k0 += HIST_STRIP) {
        size_t c = m - k0 < HIST_STRIP ? m - k0 : HIST_STRIP;
        for (size_t k = 0; k < c; k++) {
            float x = v[k0 + k];
            uint32_t ok = -(uint32_t)((x >= lo) & (x < hi)); /* lane mask; NaN: 0 */
            float t = weft__k_sel(ok, (x - lo) * scale, 0.0f);
            t = weft__k_sel(-(uint32_t)(t < (float)(BINS - 1)), t, (float)(BINS - 1));
            idx[k] = ((uint32_t)(int32_t)t & ok) | (BINS & ~ok);
        }
        size_t k = 0;
        for (; k + 4 <= c; k += 4) {
            h[0][idx[k]]++;
            h[1][idx[k + 1]]++;
            h[2][idx[k + 2]]++;
            h[3][idx[k + 3]]++;
        }
        for (; k < c; k++) h[0][idx[k]]++;
    }
}

static void histogram_cpu(size_t begin, size_t end, void *const *argv)
{
    const float *data = argv[0];
    const float *tail = argv[1];
    const size_t tail_n = WEFT_K_U32(argv, 2), per_item = WEFT_K_U32(argv, 3), g = WEFT_K_U32(argv, 4);
    const size_t nseg = (size_t)WEFT_K_U64(argv, 5);
    const float lo = WEFT_K_F32(argv, 6), hi = WEFT_K_F32(argv, 7), scale = WEFT_K_F32(argv, 8);
    uint32_t *restrict partials = argv[9];
    uint32_t h[4][BINS + 1];
    for (size_t blk = begin / g; blk * g < end; blk++) {
        memset(h, 0, sizeof h);
        size_t s_lo = blk * g, s_hi = s_lo + g < nseg ? s_lo + g : nseg;
        hist_count(h, data + s_lo * per_item, (s_hi - s_lo) * per_item, lo, hi, scale);
        if (blk == 0) hist_count(h, tail, tail_n, lo, hi, scale);
        uint32_t *restrict p = partials + blk * BINS;
        for (size_t b = 0; b < BINS; b++) p[b] = (h[0][b] + h[1][b]) + (h[2][b] + h[3][b]);
    }
}

const weft_kernel_t weft_k_histogram_kernel = {
    .name = "weft_histogram",
    .cpu = histogram_cpu,
    .cl_source = (const char *)weft__cl_histogram,
    .cl_entry = "weft_histogram",
};

static void hist_combine(void *acc, const void *partial)
{
    uint32_t *restrict a = acc;
    const uint32_t *restrict p = partial;
    for (size_t b = 0; b < BINS; b++) a[b] += p[b];
}

int weft_k_histogram_args(weft_k_args_t *args, size_t n, const float *data, float lo, float hi, uint32_t *hist)
{
    static const uint32_t zeros[BINS];
    static const float dummy;
    const char *c = "weft_k_histogram_args";
    if (!args || !hist) return weft_error_set(WEFT_EINVAL, "%s: %s is NULL", c, !args ? "args" : "hist");
    if (n && !data) return weft_error_set(WEFT_EINVAL, "%s: data is NULL", c);
    float scale = (float)BINS / (hi - lo);
    if (!(lo < hi) || !(hi - lo <= 3.4e38f) || !(scale > 0.0f && scale <= 3.4e38f))
        return weft_error_set(WEFT_EINVAL, "%s: the range [%g, %g) is empty or not finite", c, (double)lo, (double)hi);
    /* Fewer values than a segment: one short segment. */
    size_t per_item = n < HIST_PER_ITEM ? (n ? n : 1) : HIST_PER_ITEM;
    size_t nseg = n / per_item, tail_n = n - nseg * per_item;
    if (nseg > UINT32_MAX) return weft_error_set(WEFT_EINVAL, "%s: n = %zu is too large", c, n);
    weft__k_begin(args, &weft_k_histogram_kernel, weft_range_1d(nseg, HIST_GROUP));
    weft__k_push(args, weft_arg_split((void *)data, nseg * per_item * sizeof(float), per_item * sizeof(float),
                                      WEFT_READ));
    /* The tail (under one segment) goes whole to every place; group 0 counts it. */
    if (tail_n) weft__k_push(args, weft_arg_whole(data + nseg * per_item, tail_n * sizeof(float)));
    else weft__k_push(args, weft_arg_whole(&dummy, sizeof dummy));
    weft__k_u32(args, (uint32_t)tail_n);
    weft__k_u32(args, (uint32_t)per_item);
    weft__k_u32(args, HIST_GROUP);
    weft__k_u64(args, nseg);
    weft__k_f32(args, lo);
    weft__k_f32(args, hi);
    weft__k_f32(args, scale);
    weft__k_push(args, weft_arg_reduce(hist, sizeof(uint32_t) * BINS, zeros, hist_combine));
    weft__k_push(args, weft_arg_local(sizeof(uint32_t) * BINS));
    return 0;
}

int weft_k_histogram_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol, size_t n,
                        const float *data, float lo, float hi, uint32_t *hist, weft_panic_t **panic)
{
    if (panic) *panic = NULL;
    weft_k_args_t args;
    int rc = weft_k_histogram_args(&args, n, data, lo, hi, hist);
    return rc ? rc : weft_k_run_at(file, line, rt, &args, pol, panic);
}
