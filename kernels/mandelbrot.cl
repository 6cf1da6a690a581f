/* kernels/mandelbrot.cl - escape-time iterations per pixel (2-D range:
 * width x height, split by rows).
 * Arguments: width, height, x0, y0, dx, dy, max_iter, out (split, write: one
 * uint per pixel, rows of width).
 * Pixel (px, py) is c = (x0 + px*dx, y0 + py*dy); out = the number of
 * iterations z = z*z + c, from z = 0, taken while |z|^2 <= 4, at most
 * max_iter. Same arithmetic, same order, no contraction as kernels/mandelbrot.c:
 * the images are bit-identical. */
#pragma OPENCL FP_CONTRACT OFF

__kernel void weft_mandelbrot(uint width, uint height, float x0, float y0, float dx, float dy,
                              uint max_iter, __global uint *out)
{
    size_t px = get_global_id(0), py = get_global_id(1);
    if (px >= width || py >= height) return;
    float cx = x0 + (float)px * dx;
    float cy = y0 + (float)py * dy;
    float x = 0.0f, y = 0.0f;
    uint it = 0;
    while (it < max_iter && x * x + y * y <= 4.0f) {
        float xn = x * x - y * y + cx;
        y = 2.0f * x * y + cy;
        x = xn;
        it++;
    }
    out[py * (size_t)width + px] = it;
}
