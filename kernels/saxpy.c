/* kernels/saxpy.c — CPU twin of kernels/saxpy.cl, and its arguments.
 * argv: 0 n (u64), 1 a (f32), 2 x, 3 y. */
#include "kernels_internal.h"

static void saxpy_cpu(size_t begin, size_t end, void *const *argv)
{
    const float a = WEFT_K_F32(argv, 1);
    const float *restrict x = argv[2];
    float *restrict y = argv[3];
    for (size_t i = begin; i < end; i++) y[i] = a * x[i] + y[i];
}

const weft_kernel_t weft_k_saxpy_kernel = {
    .name = "weft_saxpy",
    .cpu = saxpy_cpu,
    .cl_source = (const char *)weft__cl_saxpy,
    .cl_entry = "weft_saxpy",
};

int weft_k_saxpy_args(weft_k_args_t *args, size_t n, float a, const float *x, float *y)
{
    if (!args) return weft_error_set(WEFT_EINVAL, "weft_k_saxpy_args: args is NULL");
    if (n && (!x || !y)) return weft_error_set(WEFT_EINVAL, "weft_k_saxpy_args: %s is NULL", !x ? "x" : "y");
    size_t bytes;
    if (weft__k_mul(n, sizeof(float), &bytes)) return weft_error_set(WEFT_EINVAL, "weft_k_saxpy_args: n = %zu overflows", n);
    weft__k_begin(args, &weft_k_saxpy_kernel, weft_range_1d(n, 256));
    weft__k_u64(args, n);
    weft__k_f32(args, a);
    weft__k_push(args, weft_arg_split((void *)x, bytes, sizeof(float), WEFT_READ));
    weft__k_push(args, weft_arg_split(y, bytes, sizeof(float), WEFT_READ_WRITE));
    return 0;
}

int weft_k_saxpy_at(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol, size_t n, float a,
                    const float *x, float *y, weft_panic_t **panic)
{
    if (panic) *panic = NULL;
    weft_k_args_t args;
    int rc = weft_k_saxpy_args(&args, n, a, x, y);
    return rc ? rc : weft_k_run_at(file, line, rt, &args, pol, panic);
}
