/* kernels/stencil5.cl - one step of a 5-point stencil on a width x height grid
 * (2-D range, split by rows; the input is split with a halo of one row).
 * Arguments: width, height, c0, c1, in (split + halo 1, read), out (split,
 * write).
 * Interior: out = c0*in + c1*((north + south) + (west + east)); the border
 * cells are copied (fixed boundary). Same order, no contraction as
 * kernels/stencil5.c: bit-identical. */
#pragma OPENCL FP_CONTRACT OFF

__kernel void weft_stencil5(uint width, uint height, float c0, float c1, __global const float *in,
                            __global float *out)
{
    size_t x = get_global_id(0), y = get_global_id(1);
    if (x >= width || y >= height) return;
    size_t w = width, i = y * w + x;
    if (x == 0 || y == 0 || x == w - 1 || y == (size_t)height - 1) {
        out[i] = in[i];
        return;
    }
    out[i] = c0 * in[i] + c1 * ((in[i - w] + in[i + w]) + (in[i - 1] + in[i + 1]));
}
