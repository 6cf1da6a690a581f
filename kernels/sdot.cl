/* kernels/sdot.cl - dot product of two float vectors (1-D range).
 * Arguments: n, group, x (split, read), y (split, read), partials (reduce:
 * one float per work-group), scratch (__local, group floats).
 *
 * Each work-group writes one partial: the products of its `group` indices
 * (0 past n) summed by a fixed pairwise tree - s = group/2, group/4, ..., 1:
 * t[l] += t[l + s]. kernels/sdot.c computes the very same tree, so a block's
 * partial is bit-identical wherever it ran; weft folds partials in block order,
 * so the result does not depend on the split. group is a power of two. */
#pragma OPENCL FP_CONTRACT OFF

__kernel void weft_sdot(ulong n, uint group, __global const float *x, __global const float *y,
                        __global float *partials, __local float *t)
{
    size_t i = get_global_id(0);
    uint l = (uint)get_local_id(0);
    t[l] = i < n ? x[i] * y[i] : 0.0f;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = group >> 1; s > 0; s >>= 1) {
        if (l < s) t[l] += t[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) partials[get_group_id(0)] = t[0];
}
