/* kernels/saxpy.cl - y = a*x + y over n floats (1-D range).
 * Arguments: n, a, x (split, read), y (split, read-write).
 * FP_CONTRACT OFF: no fused multiply-add, so the device rounds exactly as the
 * CPU twin (kernels/saxpy.c) does and results are bit-identical. */
#pragma OPENCL FP_CONTRACT OFF

__kernel void weft_saxpy(ulong n, float a, __global const float *x, __global float *y)
{
    size_t i = get_global_id(0);
    if (i < n) y[i] = a * x[i] + y[i];
}
