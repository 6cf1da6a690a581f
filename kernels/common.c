/* kernels/common.c — filling weft_k_args_t, and running one. */
#include <string.h>

#include "kernels_internal.h"

void weft__k_begin(weft_k_args_t *a, const weft_kernel_t *k, weft_range_t r)
{
    memset(a, 0, sizeof *a);
    a->kernel = k;
    a->range = r;
}

void weft__k_push(weft_k_args_t *a, weft_arg_t arg)
{
    if (a->nargs < WEFT_K_MAX_ARGS) a->args[a->nargs++] = arg;
}

void weft__k_scalar(weft_k_args_t *a, const void *value, size_t size)
{
    size_t used = 0;
    for (size_t i = 0; i < a->nargs; i++) used += a->args[i].kind == WEFT_ARG_SCALAR;
    /* One 8-byte slot per scalar; every bundled kernel has fewer than 16. */
    if (used >= sizeof a->scalars.u64 / sizeof a->scalars.u64[0] || size > sizeof(uint64_t)) return;
    void *slot = &a->scalars.u64[used];
    memcpy(slot, value, size);
    weft__k_push(a, weft_arg_scalar(slot, size));
}

int weft_k_start_at(const char *file, int line, weft_scope_t *s, const weft_k_args_t *a, const weft_policy_t *pol,
                    weft_handle_t **out)
{
    if (!a) {
        if (out) *out = NULL;
        return weft_error_set(WEFT_EINVAL, "weft_k_start: args is NULL");
    }
    return weft_scope_parallel_for_at(file, line, s, a->kernel, a->range, a->args, a->nargs, pol, out);
}

int weft_k_run_at(const char *file, int line, weft_runtime_t *rt, const weft_k_args_t *a, const weft_policy_t *pol,
                  weft_panic_t **panic)
{
    if (panic) *panic = NULL;
    if (!a) return weft_error_set(WEFT_EINVAL, "weft_k_run: args is NULL");
    return weft_parallel_run_at(file, line, rt, a->kernel, a->range, a->args, a->nargs, pol, panic);
}

int weft__k_ping_pong(const char *file, int line, weft_runtime_t *rt, const weft_policy_t *pol,
                      unsigned steps, float *a, float *b, weft__k_step_args_fn fill, const void *ctx,
                      float **result, weft_panic_t **panic)
{
    if (panic) *panic = NULL;
    if (result) *result = NULL;
    weft_k_args_t args;
    int rc = fill(&args, ctx, a, b); /* checks the arguments, even for 0 steps */
    if (rc) return rc;
    float *src = a, *dst = b;
    for (unsigned s = 0; s < steps; s++) {
        if (s) fill(&args, ctx, src, dst);
        if ((rc = weft_k_run_at(file, line, rt, &args, pol, panic))) return rc;
        float *t = src;
        src = dst;
        dst = t;
    }
    if (result) *result = src;
    return 0;
}
