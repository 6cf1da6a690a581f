/* kernels/histogram.cl - 256-bin histogram of floats (1-D range over
 * segments of `per_item` consecutive values).
 * Arguments: data (split, read: per_item floats per index), tail (whole, read),
 * tail_n, per_item, group, nseg, lo, hi, scale, partials (reduce: one
 * histogram of 256 uint per work-group), counts (__local, 256 uint).
 *
 * Work-group g counts the values of its segments [g*group, min((g+1)*group,
 * nseg)) - read with a stride of the group size, so neighbouring work-items
 * read neighbouring values - into a __local histogram, then writes it as its
 * partial. Group 0 also counts the tail_n values of `tail` (the values past
 * the last whole segment). A value v counts in bin min((uint)((v-lo)*scale), 255)
 * when lo <= v < hi, else nowhere. Counts are integers: any order gives the
 * same partial, and weft adds partials in block order. */
#pragma OPENCL FP_CONTRACT OFF

#define WEFT_HIST_BINS 256u

inline void weft_hist_add(__local uint *counts, float v, float lo, float hi, float scale)
{
    if (v >= lo && v < hi) {
        uint b = (uint)((v - lo) * scale);
        atomic_inc(&counts[b < WEFT_HIST_BINS - 1u ? b : WEFT_HIST_BINS - 1u]);
    }
}

__kernel void weft_histogram(__global const float *data, __global const float *tail, uint tail_n,
                             uint per_item, uint group, ulong nseg, float lo, float hi, float scale,
                             __global uint *partials, __local uint *counts)
{
    size_t g = get_group_id(0), l = get_local_id(0), gs = get_local_size(0);
    for (size_t b = l; b < WEFT_HIST_BINS; b += gs) counts[b] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    size_t s_lo = g * (size_t)group, s_hi = s_lo + group < nseg ? s_lo + group : nseg;
    size_t e_hi = s_hi * per_item;
    for (size_t e = s_lo * per_item + l; e < e_hi; e += gs) weft_hist_add(counts, data[e], lo, hi, scale);
    if (g == 0)
        for (size_t e = l; e < tail_n; e += gs) weft_hist_add(counts, tail[e], lo, hi, scale);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t b = l; b < WEFT_HIST_BINS; b += gs) partials[g * WEFT_HIST_BINS + b] = counts[b];
}
