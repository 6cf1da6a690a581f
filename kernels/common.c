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

/* 1 when a is a split or whole argument on p: what a registered array can carry. */
static int on(const weft_arg_t *a, const float *p)
{
    return (a->kind == WEFT_ARG_SPLIT || a->kind == WEFT_ARG_WHOLE) && a->data == p;
}

/* The largest byte count of an array or whole argument on p (0: none). */
static size_t bytes_on(const weft_k_args_t *args, const float *p)
{
    size_t n = 0;
    for (size_t i = 0; i < args->nargs; i++)
        if (on(&args->args[i], p) && args->args[i].bytes > n) n = args->args[i].bytes;
    return n;
}

/* Put the arguments on p (split or whole) on registered array r. */
static void put_on(weft_k_args_t *args, const float *p, weft_array_t *r)
{
    for (size_t i = 0; i < args->nargs && r; i++)
        if (on(&args->args[i], p)) args->args[i] = weft_arg_on(args->args[i], r);
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
    /* Over several steps both arrays are registered: on a device with memory
     * of its own, each place's rows stay there and only halos move. */
    weft_array_t *ra = NULL, *rb = NULL;
    size_t na = bytes_on(&args, a), nb = bytes_on(&args, b);
    if (steps > 1 && na && nb &&
        ((rc = weft_array_create(rt, a, na, &ra)) || (rc = weft_array_create(rt, b, nb, &rb)))) {
        weft_array_destroy(ra);
        return rc;
    }
    float *src = a, *dst = b;
    weft_array_t *rsrc = ra, *rdst = rb;
    for (unsigned s = 0; s < steps && rc == 0; s++) {
        if (s) fill(&args, ctx, src, dst);
        put_on(&args, src, rsrc);
        put_on(&args, dst, rdst);
        rc = weft_k_run_at(file, line, rt, &args, pol, panic);
        float *t = src;
        src = dst;
        dst = t;
        weft_array_t *rt_ = rsrc;
        rsrc = rdst;
        rdst = rt_;
    }
    /* Both hold their bytes on the host again (a failed step's outputs
     * excepted, as for any failed operation). */
    int rc_a = weft_array_destroy(ra), rc_b = weft_array_destroy(rb);
    if (rc == 0) rc = rc_a ? rc_a : rc_b;
    if (rc == 0 && result) *result = src;
    return rc;
}
