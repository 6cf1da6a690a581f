/* kernels/kernels_internal.h — shared by the bundled kernels (the kernels/<name>.c files).
 * Internal to libweft_kernels, which is a client of weft's public API: this
 * header, and every kernel, includes only public weft headers. */
#ifndef WEFT_KERNELS_INTERNAL_H
#define WEFT_KERNELS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "weft/weft.h"
#include "weft/kernels.h"

/* The OpenCL sources, embedded at build time from kernels/<name>.cl
 * (kernels/embed_cl.cmake writes them into weft_kernel_sources.c). */
#include "weft_kernel_sources.h"

/* Start filling args for kernel k over range r. */
void weft__k_begin(weft_k_args_t *a, const weft_kernel_t *k, weft_range_t r);
/* Append one argument. */
void weft__k_push(weft_k_args_t *a, weft_arg_t arg);
/* Append a scalar of `size` (<= 8) bytes, stored in a->scalars. */
void weft__k_scalar(weft_k_args_t *a, const void *value, size_t size);

/* Fill *a for one step that reads src and writes dst. */
typedef int (*weft__k_step_args_fn)(weft_k_args_t *a, const void *ctx, float *src, float *dst);

/* Run `steps` operations, swapping src and dst after each (ping-pong between
 * a and b); *result (may be NULL) gets the array holding the last output, a
 * for 0 steps. The first fill also checks the arguments when steps is 0.
 * With more than one step, a and b are registered arrays (weft/array.h)
 * for the steps, and current on the host again when it returns. */
int weft__k_ping_pong(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol,
                      unsigned steps, float *a, float *b, weft__k_step_args_fn fill, const void *ctx,
                      float **result, weft_panic_t **panic);

/* Append scalars of each OpenCL type. */
static inline void weft__k_u32(weft_k_args_t *a, uint32_t v) { weft__k_scalar(a, &v, sizeof v); }
static inline void weft__k_u64(weft_k_args_t *a, uint64_t v) { weft__k_scalar(a, &v, sizeof v); }
static inline void weft__k_f32(weft_k_args_t *a, float v) { weft__k_scalar(a, &v, sizeof v); }

/* The scalar value of argument i in a CPU body's argv. */
#define WEFT_K_U32(argv, i) (*(const uint32_t *)(argv)[i])
#define WEFT_K_U64(argv, i) (*(const uint64_t *)(argv)[i])
#define WEFT_K_F32(argv, i) (*(const float *)(argv)[i])

/* m ? a : b for a lane mask m (all ones or all zeros), on the bits. GCC
 * (12) does not if-convert a float `c ? a : b` in a loop, so the loop would
 * not vectorise; this form does, and it is exact. */
static inline float weft__k_sel(uint32_t m, float a, float b)
{
    uint32_t ua, ub, r;
    float f;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    r = (ua & m) | (ub & ~m);
    memcpy(&f, &r, sizeof f);
    return f;
}

/* a*b into *out unless it overflows (then -1). */
static inline int weft__k_mul(size_t a, size_t b, size_t *out)
{
    if (b && a > SIZE_MAX / b) return -1;
    *out = a * b;
    return 0;
}

#endif
