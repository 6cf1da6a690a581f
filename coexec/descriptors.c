/* coexec/descriptors.c — the public constructors of what a parallel
 * operation is given: ranges, argument descriptors, policies. */
#include <stdint.h>
#include <string.h>

#include "weft/parallel.h"

weft_range_t weft_range_1d(size_t n, size_t group)
{
    weft_range_t r = {.dims = 1, .size = {n, 1}, .group = {group ? group : 64, 1}};
    return r;
}

weft_range_t weft_range_2d(size_t width, size_t height, size_t gx, size_t gy)
{
    weft_range_t r = {.dims = 2, .size = {width, height}, .group = {gx ? gx : 16, gy ? gy : 4}};
    return r;
}

weft_arg_t weft_arg_split(void *data, size_t bytes, size_t unit, weft_access_t access)
{
    weft_arg_t a = {.kind = WEFT_ARG_SPLIT, .access = access, .data = data, .bytes = bytes, .unit = unit};
    return a;
}

weft_arg_t weft_arg_split_groups(void *data, size_t bytes, size_t bytes_per_group, weft_access_t access)
{
    weft_arg_t a = weft_arg_split(data, bytes, bytes_per_group, access);
    a.span = WEFT_SPAN_GROUP;
    a.clip = 1;
    return a;
}

weft_arg_t weft_arg_split_count(void *data, size_t count, size_t unit, weft_access_t access)
{
    /* count * unit cannot be checked here: an overflow makes bytes wrap, and
     * the operation's start refuses it (SIZE_MAX marks it). */
    size_t bytes = unit && count > SIZE_MAX / unit ? SIZE_MAX : count * unit;
    weft_arg_t a = weft_arg_split(data, bytes, unit, access);
    a.clip = 1;
    return a;
}

weft_arg_t weft_arg_split_map(void *data, size_t bytes, weft_span_fn map, const void *ctx, weft_access_t access)
{
    weft_arg_t a = weft_arg_split(data, bytes, 1, access);
    a.span = WEFT_SPAN_MAP;
    a.map = map;
    a.map_ctx = ctx;
    return a;
}

weft_arg_t weft_arg_split_rect(void *data, size_t bytes, size_t pitch, size_t origin, size_t width,
                               weft_access_t access)
{
    weft_arg_t a = weft_arg_split(data, bytes, pitch, access);
    a.span = WEFT_SPAN_RECT;
    a.origin = origin;
    a.width = width;
    return a;
}

weft_arg_t weft_arg_scattered(void *data, size_t bytes, weft_access_t access)
{
    weft_arg_t a = {.kind = WEFT_ARG_SCATTERED, .access = access, .data = data, .bytes = bytes};
    return a;
}

weft_arg_t weft_arg_split_halo(const void *data, size_t bytes, size_t unit, size_t halo)
{
    weft_arg_t a = weft_arg_split((void *)(uintptr_t)data, bytes, unit, WEFT_READ);
    a.halo = halo;
    return a;
}

weft_arg_t weft_arg_whole(const void *data, size_t bytes)
{
    weft_arg_t a = {.kind = WEFT_ARG_WHOLE, .access = WEFT_READ, .data = (void *)(uintptr_t)data, .bytes = bytes};
    return a;
}

weft_arg_t weft_arg_reduce(void *result, size_t elem_size, const void *identity,
                           void (*combine)(void *acc, const void *partial))
{
    weft_arg_t a = {.kind = WEFT_ARG_REDUCE, .access = WEFT_WRITE, .data = result, .unit = elem_size,
                    .value = identity, .combine = combine};
    return a;
}

weft_arg_t weft_arg_reduce_ctx(void *result, size_t elem_size, const void *identity, weft_combine_ctx_fn combine_ctx)
{
    weft_arg_t a = weft_arg_reduce(result, elem_size, identity, NULL);
    a.combine_ctx = combine_ctx;
    return a;
}

weft_arg_t weft_arg_scalar(const void *value, size_t size)
{
    weft_arg_t a = {.kind = WEFT_ARG_SCALAR, .value = value, .size = size};
    return a;
}

weft_arg_t weft_arg_local(size_t bytes)
{
    weft_arg_t a = {.kind = WEFT_ARG_LOCAL, .size = bytes};
    return a;
}

/* on_recovered and recovered_data came out of reserved: the struct keeps
 * the size it had, so code built against the older header still fits. */
struct policy_before_on_recovered {
    weft_policy_kind_t kind;
    size_t chunk;
    int use_cpu;
    uint64_t devices;
    weft_on_fault_t on_fault;
    void *reserved[8];
};
_Static_assert(sizeof(weft_policy_t) == sizeof(struct policy_before_on_recovered),
               "weft_policy_t changed size: take new fields out of reserved");
_Static_assert(sizeof(weft_recovered_fn) == sizeof(void *), "a function pointer takes one reserved slot");

void weft_policy_init(weft_policy_t *p)
{
    if (!p) return;
    memset(p, 0, sizeof *p);
    p->kind = WEFT_POLICY_GUIDED;
    p->use_cpu = 1;
    p->devices = WEFT_DEFAULT_DEVICES;
    p->on_fault = WEFT_FAULT_PROPAGATE;
}
