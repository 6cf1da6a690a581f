/* weft/parallel.h — one data-parallel operation split across CPU workers and
 * OpenCL devices at once.
 *
 * A kernel has two bodies: a CPU range function and an OpenCL kernel. weft
 * cuts the range into chunks along its last dimension (rows for 2-D), hands
 * chunks to places (the CPU pool, each device) by a policy, moves only the
 * bytes each chunk touches, and returns a handle joined like any task. */
#ifndef WEFT_PARALLEL_H
#define WEFT_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

#include "weft/device.h"
#include "weft/task.h"

#ifdef __cplusplus
extern "C" {
#endif

/** CPU body: process indices [begin, end) of the split dimension (rows for a
 *  2-D range, all columns each). argv[i] is the i-th argument: the base of
 *  its whole host array (index it with absolute indices), a pointer to a
 *  scalar's value, the base of the per-block partials array for a reduction,
 *  or NULL for a __local argument. May call weft_panic(). */
typedef void (*weft_range_fn)(size_t begin, size_t end, void *const *argv);

/** One operation with a CPU body and an OpenCL body.
 *  The OpenCL kernel takes the arguments in the same order. Inside a chunk it
 *  sees what an unsplit launch would: get_global_id, get_group_id,
 *  get_num_groups and get_global_size are those of the whole range (weft
 *  defines them so before the source). The device range is the range rounded
 *  up to whole work-groups: kernels must ignore indices past the real size. */
typedef struct weft_kernel {
    const char *name;             /**< names the kernel in models, traces, panics */
    weft_range_fn cpu;            /**< CPU body, NULL: devices only */
    const char *cl_source;        /**< OpenCL source, NULL: CPU only */
    const char *cl_entry;         /**< kernel function name in cl_source */
    const char *cl_options;       /**< build options, may be NULL */
} weft_kernel_t;

/** An index range of 1 or 2 dimensions with its work-group shape. */
typedef struct weft_range {
    unsigned dims;                /**< 1 or 2 */
    size_t size[2];               /**< size[0]: columns (x); size[1]: rows (2-D) */
    size_t group[2];              /**< work-group size per dimension (> 0) */
} weft_range_t;

/** A 1-D range of n indices in work-groups of `group` (0: 64). */
weft_range_t weft_range_1d(size_t n, size_t group);
/** A 2-D range of width x height in gx x gy work-groups (0: 16 x 4). */
weft_range_t weft_range_2d(size_t width, size_t height, size_t gx, size_t gy);

typedef enum weft_arg_kind {
    WEFT_ARG_SPLIT = 1,           /**< chunk [b,e) touches bytes [b*unit, e*unit) (+ halo) */
    WEFT_ARG_WHOLE = 2,           /**< every chunk may read all of it (read-only) */
    WEFT_ARG_REDUCE = 3,          /**< one partial per work-group, combined in order */
    WEFT_ARG_SCALAR = 4,          /**< a value passed to every chunk */
    WEFT_ARG_LOCAL = 5            /**< __local memory of `size` bytes per work-group */
} weft_arg_kind_t;

/** How the operation uses one argument. Build with the weft_arg_* helpers. */
typedef struct weft_arg {
    weft_arg_kind_t kind;
    weft_access_t access;         /**< SPLIT: read, write or both; WHOLE: read */
    void *data;                   /**< host array; REDUCE: where the result goes */
    size_t bytes;                 /**< size of data in bytes */
    size_t unit;                  /**< SPLIT: bytes per split index; REDUCE: bytes per partial */
    size_t halo;                  /**< SPLIT, read: extra split indices each side */
    const void *value;            /**< SCALAR: the value (copied); REDUCE: the identity */
    size_t size;                  /**< SCALAR: bytes of value; LOCAL: bytes */
    void (*combine)(void *acc, const void *partial); /**< REDUCE: acc = acc (+) partial */
} weft_arg_t;

/** A split argument: chunk [b,e) uses bytes [b*unit, e*unit) of data. */
weft_arg_t weft_arg_split(void *data, size_t bytes, size_t unit, weft_access_t access);
/** A split read argument that also reads `halo` indices on each side (stencils). */
weft_arg_t weft_arg_split_halo(const void *data, size_t bytes, size_t unit, size_t halo);
/** A read-only argument every chunk may read whole (uploaded once per device
 *  per operation; never copied on unified-memory devices). */
weft_arg_t weft_arg_whole(const void *data, size_t bytes);
/** A reduction: each work-group (block) writes one partial of elem_size bytes
 *  at partials[block]; weft folds them in block order, starting from identity,
 *  with combine, into *result. The answer is the same bit for bit whatever the
 *  split, as long as each body computes a block's partial the same way. */
weft_arg_t weft_arg_reduce(void *result, size_t elem_size, const void *identity,
                           void (*combine)(void *acc, const void *partial));
/** A scalar (copied when the operation starts). */
weft_arg_t weft_arg_scalar(const void *value, size_t size);
/** __local memory of `bytes` per work-group (devices); NULL on the CPU. */
weft_arg_t weft_arg_local(size_t bytes);

typedef enum weft_policy_kind {
    WEFT_POLICY_STATIC = 1,       /**< one chunk per place, sized by measured speed */
    WEFT_POLICY_DYNAMIC = 2,      /**< fixed chunks, taken by whichever place is free */
    WEFT_POLICY_GUIDED = 3,       /**< shrinking chunks weighted by each place's speed */
    WEFT_POLICY_ADAPTIVE = 4      /**< calibrates, then keeps a per-kernel, per-device
                                       speed model on disk ($WEFT_CACHE_DIR, else
                                       $XDG_CACHE_HOME/weft, else ~/.cache/weft) */
} weft_policy_kind_t;

typedef enum weft_on_fault {
    WEFT_FAULT_PROPAGATE = 0,     /**< stop new chunks; the handle panics */
    WEFT_FAULT_FAILOVER = 1       /**< re-run a failed chunk on another place */
} weft_on_fault_t;

#define WEFT_ALL_DEVICES (~(uint64_t)0)

/** Scheduling policy. Initialise with weft_policy_init(). */
typedef struct weft_policy {
    weft_policy_kind_t kind;
    size_t chunk;                 /**< DYNAMIC: chunk size; GUIDED/ADAPTIVE: smallest chunk
                                       (in split indices, rounded up to whole groups;
                                       0: automatic) */
    int use_cpu;                  /**< 1: the CPU workers take part */
    uint64_t devices;             /**< bit i set: device i takes part */
    weft_on_fault_t on_fault;
    void *reserved[8];
} weft_policy_t;

/** Defaults: guided, CPU and every device, propagate. */
void weft_policy_init(weft_policy_t *p);

/** (A macro.) Start k over r inside scope s with the given arguments and policy (NULL:
 *  defaults). Argument descriptors and scalars are copied; the host arrays
 *  must stay valid and untouched by others until the handle is joined.
 *  out may be NULL (the scope joins it).
 *  @return 0; WEFT_EINVAL (NULL, a range or group of 0, an array smaller than
 *          the range needs, a policy with no place, a place without the body
 *          it needs); WEFT_EBORROW when a running operation writes bytes this
 *          one writes (the message names both kernels); WEFT_ENOMEM.
 *          Failures while running panic the handle: device, status and range. */
#define weft_scope_parallel_for(s, k, r, args, nargs, pol, out) \
    weft_scope_parallel_for_at(__FILE__, __LINE__, (s), (k), (r), (args), (nargs), (pol), (out))

/** (A macro.) The same outside a scope: the caller must join or detach *out. */
#define weft_parallel_for(rt, k, r, args, nargs, pol, out) \
    weft_parallel_for_at(__FILE__, __LINE__, (rt), (k), (r), (args), (nargs), (pol), (out))

/** (A macro.) Start and join: 0, a start error, or WEFT_EPANIC with *panic set (may be
 *  NULL to discard it). */
#define weft_parallel_run(rt, k, r, args, nargs, pol, panic) \
    weft_parallel_run_at(__FILE__, __LINE__, (rt), (k), (r), (args), (nargs), (pol), (panic))

/** What the three macros above expand to: file and line (the caller's, a
 *  literal) are where a device failure's panic says it happened. */
int weft_scope_parallel_for_at(const char *file, int line, weft_scope_t *s, const weft_kernel_t *k,
                               weft_range_t r, const weft_arg_t *args, size_t nargs,
                               const weft_policy_t *pol, weft_handle_t **out);
/** See weft_parallel_for. */
int weft_parallel_for_at(const char *file, int line, weft_runtime_t *rt, const weft_kernel_t *k,
                         weft_range_t r, const weft_arg_t *args, size_t nargs,
                         const weft_policy_t *pol, weft_handle_t **out);
/** See weft_parallel_run. */
int weft_parallel_run_at(const char *file, int line, weft_runtime_t *rt, const weft_kernel_t *k,
                         weft_range_t r, const weft_arg_t *args, size_t nargs,
                         const weft_policy_t *pol, weft_panic_t **panic);

/** What the most recent parallel operation of a runtime did. */
typedef struct weft_run_stats {
    size_t chunks;                /**< chunks run (failed ones included) */
    size_t failed_chunks;
    size_t items[65];             /**< split indices done per place: [0] CPU, [1+i] device i */
    uint64_t bytes_moved;         /**< host<->device bytes copied */
} weft_run_stats_t;

/** Statistics of the most recent parallel operation finished in rt. */
int weft_runtime_last_run_stats(const weft_runtime_t *rt, weft_run_stats_t *out);

/** Record every chunk (place, range, bytes moved, start, end) from now on and
 *  write them to `path` as Chrome trace events (viewable in Perfetto) at
 *  weft_trace_flush() and at runtime destroy. $WEFT_TRACE=path does the same
 *  from runtime creation. @return 0; WEFT_EINVAL; WEFT_ENOMEM. */
int weft_trace_start(weft_runtime_t *rt, const char *path);
/** Write the trace file now (complete JSON; later chunks are added by the
 *  next flush). @return 0; WEFT_EINVAL when no trace is on; WEFT_EINVAL also when the file cannot be written (the message says why). */
int weft_trace_flush(weft_runtime_t *rt);

#ifdef __cplusplus
}
#endif
#endif
