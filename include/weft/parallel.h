/** @file
 *  @brief One data-parallel operation split across CPU workers and OpenCL
 *  devices at once.
 *
 *  A kernel has two bodies: a CPU range function (with or without a context,
 *  weft_chunk_fn or weft_range_fn) and a device body, which is
 *  either an OpenCL kernel (source and entry name) or a function that
 *  enqueues the chunk's work itself (weft_cl_body_fn: a library such as
 *  CLBlast, on the buffers weft gives it). weft
 *  cuts the range into chunks along its last dimension (rows for 2-D), hands
 *  chunks to places (the CPU pool, each device) by a policy, moves only the
 *  bytes each chunk touches, and returns a handle joined like any task.
 *
 *  Work-groups, blocks and reductions: the range is cut into work-groups of
 *  weft_range_t::group. In 1-D, block b is work-group b (indices
 *  [b * group[0], (b + 1) * group[0])). In 2-D, the block of work-group
 *  (gx, gy) is number gy * num_groups(0) + gx, where num_groups(0) =
 *  ceil(size[0] / group[0]): blocks are numbered row of work-groups after
 *  row of work-groups. A reduction (weft_arg_reduce()) has one partial per
 *  block, and chunks are always whole rows of work-groups, so no block is
 *  shared by two chunks. */
#ifndef WEFT_PARALLEL_H
#define WEFT_PARALLEL_H

#include "weft/export.h"

#include <stddef.h>
#include <stdint.h>

#include "weft/device.h"
#include "weft/task.h"

#ifdef __cplusplus
extern "C" {
#endif

/** CPU body (weft_kernel_t::cpu; weft_chunk_fn, set as cpu_ctx, is the same
 *  with the piece's context and a user pointer): process indices [begin,
 *  end) of the split dimension (rows for a
 *  2-D range, all columns each). argv[i] is the i-th argument: the base of
 *  its whole host array (index it with absolute indices), a pointer to a
 *  scalar's value, the base of the per-block partials array for a reduction,
 *  or NULL for a __local argument. May call weft_panic().
 *
 *  begin is always a multiple of the split dimension's work-group size and
 *  end is a multiple of it or the range's size, so a call covers whole
 *  blocks: a 1-D reduction body writes partials[i / group[0]] for the group
 *  of index i; a 2-D one writes partials[(row / group[1]) * num_groups(0) +
 *  col / group[0]] (see the file's description). Calls run on several
 *  workers at once, on disjoint ranges.
 *  @param begin  first index to process.
 *  @param end    index past the last to process.
 *  @param argv   the arguments, one pointer per weft_arg_t given. */
typedef void (*weft_range_fn)(size_t begin, size_t end, void *const *argv);

/** An index range of 1 or 2 dimensions with its work-group shape. */
typedef struct weft_range {
    unsigned dims;                /**< 1 or 2 */
    size_t size[2];               /**< size[0]: columns (x); size[1]: rows (2-D) */
    size_t group[2];              /**< work-group size per dimension (> 0) */
} weft_range_t;

/** Where a call of a CPU body with context (weft_chunk_fn) or of a
 *  reduction's combine with context (weft_combine_ctx_fn) stands in the
 *  operation. weft fills one for each call, on the calling thread's stack:
 *  the pointer is valid during the call only. Fields may be added at the
 *  end in later versions (weft always allocates the struct, never the
 *  caller).
 *
 *  Split indices are indices of the range's last dimension (rows in 2-D);
 *  work-groups "along the split" are groups of weft_range_t::group of them
 *  (rows of work-groups in 2-D). In a body's call, the fields describe the
 *  piece being run; in a combine's call, the work-groups along the split
 *  that hold the block being folded (one: group_end = group_begin + 1). */
typedef struct weft_chunk_ctx {
    weft_range_t range;           /**< the operation's whole range, as given */
    size_t begin;                 /**< first split index of the piece (a multiple
                                       of group) */
    size_t end;                   /**< one past its last: a multiple of group, or
                                       the range's split size */
    size_t group_begin;           /**< first work-group along the split:
                                       begin = group_begin * group */
    size_t group_end;             /**< one past the piece's last work-group along
                                       the split (the last may be short) */
    size_t group;                 /**< work-group size along the split
                                       (range.group[range.dims - 1]) */
    size_t num_groups;            /**< work-groups along the split in the whole
                                       range: ceil(split size / group) */
    size_t groups_across;         /**< work-groups across one row of work-groups:
                                       num_groups(0) in 2-D, 1 in 1-D; the blocks
                                       of work-group row y are y * groups_across
                                       up to (y + 1) * groups_across */
    size_t num_blocks;            /**< reduction blocks (partials per reduce
                                       argument) in the whole range:
                                       num_groups * groups_across */
    size_t block;                 /**< in a body: the piece's first block,
                                       group_begin * groups_across; in a
                                       combine: the block whose partial is
                                       being folded (0 to num_blocks - 1) */
    void *user;                   /**< the kernel's weft_kernel_t::user */
} weft_chunk_ctx_t;

/** CPU body with context (weft_kernel_t::cpu_ctx): weft_range_fn's job, with
 *  the piece's place in the range and the kernel's user pointer given in
 *  ctx instead of kept in globals. ctx->begin and ctx->end are what a
 *  weft_range_fn receives as begin and end; argv is the same. A 1-D
 *  reduction body writes partials[b] for b from ctx->group_begin to
 *  ctx->group_end - 1; a 2-D one partials[ctx->block + k], k < (group_end -
 *  group_begin) * groups_across. May call weft_panic(). Calls run on several
 *  workers at once, on disjoint pieces.
 *
 *  Migration from weft_range_fn: set cpu_ctx instead of cpu (a kernel with
 *  both is refused) and change the signature; begin and end become
 *  c->begin and c->end, and what globals held can go in weft_kernel_t::user:
 *
 *      // old: .cpu = body
 *      static void body(size_t begin, size_t end, void *const *argv);
 *      // new: .cpu_ctx = body, .user = &params
 *      static void body(const weft_chunk_ctx_t *c, void *const *argv);
 *
 *  @param ctx   the piece: ranges, group size, user pointer (valid during
 *               the call).
 *  @param argv  the arguments, one pointer per weft_arg_t given. */
typedef void (*weft_chunk_fn)(const weft_chunk_ctx_t *ctx, void *const *argv);

/** Reduction combine with context (weft_arg_reduce_ctx()): acc = acc (+)
 *  partial, told which block the partial is (ctx->block, with the
 *  work-groups along the split that hold it) and the kernel's user pointer
 *  (ctx->user).
 *  @param acc      the running value (elem_size bytes), updated in place.
 *  @param partial  block ctx->block's partial (elem_size bytes).
 *  @param ctx      the block and the operation (valid during the call). */
typedef void (*weft_combine_ctx_fn)(void *acc, const void *partial, const weft_chunk_ctx_t *ctx);

struct weft_cl_chunk; /* weft/opencl.h defines it: this header needs no CL headers */
/** A registered array (weft/array.h): host memory whose copies on devices
 *  outlive an operation. */
typedef struct weft_array weft_array_t;

/** Device body that enqueues a chunk's work itself, instead of an OpenCL
 *  kernel weft builds and launches (weft_kernel_t::cl_body). weft moves the
 *  data exactly as for a kernel — before the call it has enqueued the
 *  uploads of the rows the chunk reads (with halo) and, once per device and
 *  operation, the whole arrays; after it, it enqueues the read-back of the
 *  rows the chunk writes — and calls the body in between, with the buffers,
 *  the chunk's range and the device's queue (see struct weft_cl_chunk in
 *  weft/opencl.h). On a GPU with memory of its own, a chunk that moves
 *  many bytes is cut into pieces whose copies overlap the previous piece's
 *  compute: the body is then called once per piece, with the piece's range
 *  (still whole work-groups). The body enqueues its commands on that in-order queue
 *  and returns at once: it must not wait for them (it may run on an OpenCL
 *  driver's callback thread), nor call weft_panic(). Calls for other
 *  devices, or other operations, may run at the same time on other threads:
 *  the body must be safe to call so.
 *  @param chunk  the chunk: queue, buffers, scalars, range; the body sets
 *                chunk->done (and, to name a status of its own,
 *                chunk->status_name).
 *  @return 0 when the work is enqueued; otherwise a nonzero status
 *          (an OpenCL cl_int, normally negative) that fails the chunk as a
 *          kernel failure does: the handle panics with the status, device,
 *          entry name (weft_kernel_t::cl_entry) and range, or, with
 *          WEFT_FAULT_FAILOVER, the chunk runs again elsewhere. */
typedef int (*weft_cl_body_fn)(struct weft_cl_chunk *chunk);

/** One operation with a CPU body and a device body.
 *  The device body is either an OpenCL kernel (cl_source and cl_entry) or a
 *  function that enqueues the work itself (cl_body, named by cl_entry); a
 *  kernel has at most one of the two.
 *  The OpenCL kernel takes the arguments in the same order. The device range
 *  is the range rounded up to whole work-groups: kernels must ignore indices
 *  past the real size.
 *
 *  Inside a chunk the kernel (and every function it calls) sees what one
 *  unsplit launch over the whole range would. With G[d] = ceil(size[d] /
 *  group[d]) * group[d] the rounded-up global size (G[1] = 1 in 1-D):
 *  - get_work_dim(): the range's dims, 1 or 2;
 *  - get_global_size(d): G[d]; 1 for d >= dims;
 *  - get_global_id(d): the item's index in the whole range (a chunk is
 *    launched with its real global offset);
 *  - get_local_size(d): group[d] (1 for d >= dims); get_enqueued_local_size(d)
 *    (OpenCL 2.0) the same: weft launches no partial work-group;
 *  - get_local_id(d), get_local_linear_id() (OpenCL 2.0), sub-group
 *    builtins: the device's own, which a split does not change;
 *  - get_num_groups(d): G[d] / group[d];
 *  - get_group_id(d): get_global_id(d) / group[d], the work-group's index in
 *    the whole range;
 *  - get_global_offset(d): 0, as for a launch without an offset;
 *  - get_global_linear_id(): get_global_id(1) * G[0] + get_global_id(0)
 *    (weft defines it, on OpenCL 1.2 devices too).
 *  weft passes the geometry at launch: it adds one hidden last parameter to
 *  the definition of cl_entry, set for each operation, and makes the five
 *  range-dependent builtins (get_global_size, get_num_groups, get_group_id,
 *  get_global_offset, get_global_linear_id) macros within that definition,
 *  so a program is built once per (source, entry, options, device) whatever
 *  the range. Other kernels of the source keep the real builtins; names
 *  beginning with weft__ are reserved. Where weft's scan of the source cannot
 *  be sure of that form — a function the entry may call, or code outside
 *  any function, uses one of the five; the entry is declared, called or
 *  named by a macro besides its definition, or defined twice; \#include,
 *  \#line or -include; an \#if branch with unbalanced braces; a macro named
 *  like one of the five, in the source or the options — it writes the
 *  range's sizes into the whole source instead: the same values everywhere,
 *  at the cost of one build per range size. Build logs give the lines and
 *  columns of cl_source either way.
 *
 *  weft copies what it needs when an operation starts: the struct and its
 *  strings may go once the starting call returns. */
typedef struct weft_kernel {
    const char *name;             /**< names the kernel in models, traces, panics */
    weft_range_fn cpu;            /**< CPU body, NULL: none (see cpu_ctx; with
                                       neither, devices only) */
    const char *cl_source;        /**< OpenCL source, NULL: no OpenCL kernel */
    const char *cl_entry;         /**< kernel function name in cl_source; with
                                       cl_body, the body's name (panics and
                                       weft_fault_inject()'s kernel filter
                                       match it) */
    const char *cl_options;       /**< build options, may be NULL */
    weft_cl_body_fn cl_body;      /**< device body that enqueues the work itself,
                                       NULL: none (then cl_source, if any, is
                                       the device body); needs cl_entry and no
                                       cl_source */
    weft_chunk_fn cpu_ctx;        /**< CPU body with context, NULL: none; a kernel
                                       has at most one of cpu and cpu_ctx
                                       (either is "the CPU body") */
    void *user;                   /**< passed to cpu_ctx and to reductions'
                                       combine_ctx as weft_chunk_ctx_t::user
                                       (copied; what it points to must stay
                                       valid until the operation is joined) */
} weft_kernel_t;

/** A 1-D range of n indices in work-groups of `group` (0: 64).
 *  @param n      number of indices (0: an empty range, which runs nothing).
 *  @param group  work-group size, 0 for 64.
 *  @return the range. */
WEFT_API weft_range_t weft_range_1d(size_t n, size_t group);
/** A 2-D range of width x height in gx x gy work-groups (0: 16 x 4).
 *  @param width   columns (x, size[0]).
 *  @param height  rows (y, size[1]), the split dimension.
 *  @param gx      work-group width, 0 for 16.
 *  @param gy      work-group height, 0 for 4.
 *  @return the range. */
WEFT_API weft_range_t weft_range_2d(size_t width, size_t height, size_t gx, size_t gy);

/** How an operation uses an argument (weft_arg_t::kind). */
typedef enum weft_arg_kind {
    WEFT_ARG_SPLIT = 1,           /**< chunk [b,e) touches bytes [b*unit, e*unit) (+ halo) */
    WEFT_ARG_WHOLE = 2,           /**< every chunk may read all of it (read-only) */
    WEFT_ARG_REDUCE = 3,          /**< one partial per work-group, combined in order */
    WEFT_ARG_SCALAR = 4,          /**< a value passed to every chunk */
    WEFT_ARG_LOCAL = 5,           /**< __local memory of `size` bytes per work-group */
    WEFT_ARG_SCATTERED = 6        /**< written where no span can say: merged by changed bytes */
} weft_arg_kind_t;

/** What a split argument's `unit` counts (weft_arg_t::span). */
typedef enum weft_span {
    WEFT_SPAN_INDEX = 0,          /**< unit bytes per split index (per row in 2-D) */
    WEFT_SPAN_GROUP = 1,          /**< unit bytes per work-group along the split
                                       dimension (per row of tiles in 2-D), whatever
                                       the group's size in items */
    WEFT_SPAN_MAP = 2,            /**< the bytes come from a function (weft_span_fn) */
    WEFT_SPAN_RECT = 3            /**< split index y touches `width` bytes at
                                       origin + y * unit (unit: the row pitch):
                                       a chunk of rows is a rectangle */
} weft_span_t;

/** The bytes a chunk of a split argument touches, for layouts no unit
 *  describes (an output shifted by a header, tiles of a size not tied to
 *  the items): the chunk of split indices [begin, end) touches bytes
 *  [*offset, *offset + *bytes) of the array. Called when the operation
 *  starts (for every work-group, to check that no two groups' bytes overlap
 *  and that all lie inside the array) and for each chunk (with whole groups;
 *  end may be the range's end). It must be a pure function of its
 *  arguments, and a chunk's bytes must be those of its groups together.
 *  @param begin   first split index of the chunk.
 *  @param end     one past its last.
 *  @param ctx     the pointer given to weft_arg_split_map().
 *  @param offset  receives the first byte.
 *  @param bytes   receives how many bytes (0: none). */
typedef void (*weft_span_fn)(size_t begin, size_t end, const void *ctx, size_t *offset, size_t *bytes);

/** How the operation uses one argument. Build with the weft_arg_* helpers.
 *  The descriptor itself is copied when the operation starts; what its
 *  pointers point to is not (except a scalar's value). */
typedef struct weft_arg {
    weft_arg_kind_t kind;         /**< how the argument is used */
    weft_access_t access;         /**< SPLIT: read, write or both; WHOLE: read */
    void *data;                   /**< host array; REDUCE: where the result goes */
    size_t bytes;                 /**< size of data in bytes */
    size_t unit;                  /**< SPLIT: bytes per split index (or per group, see
                                       span); REDUCE: bytes per partial */
    weft_span_t span;             /**< SPLIT: what unit counts (0: per index) */
    int clip;                     /**< SPLIT: 1 when data may hold less than the range
                                       covers: every chunk's bytes are cut at `bytes`
                                       (the kernel must not touch past them) */
    weft_span_fn map;             /**< SPLIT with span WEFT_SPAN_MAP: the chunk's bytes */
    const void *map_ctx;          /**< passed to map */
    size_t halo;                  /**< SPLIT, read: extra split indices each side */
    const void *value;            /**< SCALAR: the value (copied); REDUCE: the identity
                                       (read at the start and at the end: keep it
                                       valid until the handle is joined) */
    size_t size;                  /**< SCALAR: bytes of value; LOCAL: bytes */
    void (*combine)(void *acc, const void *partial); /**< REDUCE: acc = acc (+) partial */
    weft_array_t *array;          /**< SPLIT, WHOLE: the registered array data
                                       belongs to (weft_arg_on()), or NULL */
    size_t origin;                /**< SPLIT with span WEFT_SPAN_RECT: the first byte of
                                       split index 0's row */
    size_t width;                 /**< SPLIT with span WEFT_SPAN_RECT: bytes per row
                                       (at most the pitch, unit) */
    weft_combine_ctx_fn combine_ctx; /**< REDUCE: acc = acc (+) partial, told the
                                       block and the kernel's user pointer; a
                                       reduction has one of combine and
                                       combine_ctx */
} weft_arg_t;

/** A split argument: chunk [b,e) uses bytes [b*unit, e*unit) of data. Read
 *  bytes are copied to a device before its chunk runs, written bytes back
 *  after it (no copies on unified-memory devices). A write-only chunk's bytes
 *  go to the device too, so bytes the kernel leaves unwritten keep the host's
 *  values on every kind of memory. A written split array is
 *  borrowed for writing: another running operation of the runtime may not
 *  write any of its bytes.
 *  @param data    the host array (NULL only for an empty range).
 *  @param bytes   its size in bytes: at least the range's split size x unit.
 *  @param unit    bytes per split index (per row for a 2-D range), > 0.
 *  @param access  WEFT_READ, WEFT_WRITE or WEFT_READ_WRITE.
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_split(void *data, size_t bytes, size_t unit, weft_access_t access);
/** A split argument written (or read) by work-group: chunk of groups [g,h)
 *  along the split dimension uses bytes [g*bytes_per_group, h*bytes_per_group)
 *  of data, cut at `bytes` (the last group may own fewer). For kernels whose
 *  groups own a whole number of bytes that is not a whole number per item:
 *  a 256-item group writing 216 cells, one result per group of 255 items.
 *  @param data             the host array.
 *  @param bytes            its size in bytes (may be less than groups x
 *                          bytes_per_group: the rest is never touched).
 *  @param bytes_per_group  bytes each work-group along the split owns, > 0.
 *  @param access           WEFT_READ, WEFT_WRITE or WEFT_READ_WRITE.
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_split_groups(void *data, size_t bytes, size_t bytes_per_group, weft_access_t access);
/** A split argument with fewer elements than the range has indices: the
 *  first `count` indices own `unit` bytes each; chunks past them touch none
 *  of it (the kernel must check its index against the count, as kernels
 *  over a padded launch grid do).
 *  @param data    the host array (NULL only when count is 0).
 *  @param count   elements the array holds.
 *  @param unit    bytes per element (per row for a 2-D range), > 0.
 *  @param access  WEFT_READ, WEFT_WRITE or WEFT_READ_WRITE.
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_split_count(void *data, size_t count, size_t unit, weft_access_t access);
/** A split argument whose chunks' bytes a function gives (see
 *  weft_span_fn): checked when the operation starts, so that no two
 *  work-groups claim the same byte (WEFT_EINVAL naming both, otherwise).
 *  @param data    the host array.
 *  @param bytes   its size in bytes: every group's bytes must lie inside.
 *  @param map     the chunk-to-bytes function (non-NULL).
 *  @param ctx     passed to map (may be NULL; must stay valid until the
 *                 operation is joined).
 *  @param access  WEFT_READ, WEFT_WRITE or WEFT_READ_WRITE.
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_split_map(void *data, size_t bytes, weft_span_fn map, const void *ctx,
                                       weft_access_t access);
/** A split argument over rows of a 2-D array with a row pitch: split index
 *  y (a row of a 2-D range, an index of a 1-D one) touches bytes [origin +
 *  y * pitch, origin + y * pitch + width) — a column band of a wider or
 *  padded matrix, so a chunk of rows touches a rectangle, not a contiguous
 *  range. Devices with memory of their own copy exactly the rectangle (rect
 *  copies); two running operations may write different column bands of the
 *  same rows (write borrows are rectangles too: exact when both have the
 *  same pitch, their bounding byte ranges otherwise). Not on a registered
 *  array.
 *  @param data    the host array.
 *  @param bytes   its size in bytes: at least origin + (rows - 1) * pitch +
 *                 width for a range of `rows` split indices.
 *  @param pitch   bytes from one row's start to the next, > 0.
 *  @param origin  the first byte of row 0.
 *  @param width   bytes of each row the argument covers, 1 to pitch.
 *  @param access  WEFT_READ, WEFT_WRITE or WEFT_READ_WRITE.
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_split_rect(void *data, size_t bytes, size_t pitch, size_t origin, size_t width,
                                        weft_access_t access);
/** An array written in places no span describes (a strided transpose, a row
 *  and a column per work-item). Chunks on the CPU, and on devices that share
 *  the host's memory, write it in place. A device with memory of its own
 *  works on a private copy of the array as it was when the operation
 *  started; after each chunk, only the bytes that chunk changed are merged
 *  into the host array. Two chunks that change the same byte (or a chunk
 *  that changes a byte the host array no longer holds as it was, because a
 *  CPU chunk wrote it) fail the operation with a panic naming both, never
 *  resolved silently. A chunk that writes a byte's old value back is not
 *  seen as changing it. Kernels read the array as the operation found it.
 *  The whole array is borrowed for writing. A device chunk that fails
 *  merges nothing (failover can rerun it); a CPU chunk that panics may leave
 *  what it wrote. It costs whole-array copies per device chunk: declare
 *  spans where the writes allow.
 *  @param data    the host array (non-NULL).
 *  @param bytes   its size in bytes (> 0).
 *  @param access  WEFT_WRITE or WEFT_READ_WRITE.
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_scattered(void *data, size_t bytes, weft_access_t access);
/** A split read argument that also reads `halo` indices on each side (stencils),
 *  cut at the ends of the range.
 *  @param data   the host array, read only.
 *  @param bytes  its size in bytes: at least the range's split size x unit.
 *  @param unit   bytes per split index (per row for a 2-D range), > 0.
 *  @param halo   extra split indices a chunk reads before and after its own.
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_split_halo(const void *data, size_t bytes, size_t unit, size_t halo);
/** A read-only argument every chunk may read whole (uploaded once per device
 *  per operation; never copied on unified-memory devices).
 *  @param data   the host array (non-NULL).
 *  @param bytes  its size in bytes (> 0).
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_whole(const void *data, size_t bytes);
/** A reduction: each work-group (block) writes one partial of elem_size bytes
 *  at partials[block] (blocks numbered as the file's description says: the
 *  group id in 1-D, gy * num_groups(0) + gx in 2-D); every partial starts as
 *  the identity. When the operation has finished without a panic, weft folds
 *  the partials in block order, starting from identity, with combine, into
 *  *result; after a panic, *result is left alone. The answer is the same bit
 *  for bit whatever the split, as long as each body computes a block's
 *  partial the same way. The result's bytes are borrowed for writing, as a
 *  written split array's are. combine runs inside a panic boundary: if it
 *  panics (weft_panic()), the operation fails as a panicking chunk does —
 *  joining it gives WEFT_EPANIC with a payload whose message names the
 *  kernel, the reduction's argument index, "combine" and the block being
 *  folded, then the combine's own message (its kernel is the operation's,
 *  its range the block's indices); this result and those of reductions
 *  after it are left alone, and the borrows are released as for any
 *  failure.
 *  @param result     where the folded value goes (elem_size bytes).
 *  @param elem_size  bytes per partial and of the result, > 0.
 *  @param identity   the fold's starting value (elem_size bytes); weft reads
 *                    it until the operation finishes.
 *  @param combine    acc = acc (+) partial, on elem_size-byte values; called
 *                    once per block, in block order, on whichever thread
 *                    finishes the operation.
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_reduce(void *result, size_t elem_size, const void *identity,
                           void (*combine)(void *acc, const void *partial));
/** A reduction as weft_arg_reduce() makes, whose combine is also given the
 *  block being folded and the kernel's user pointer (weft_kernel_t::user),
 *  in a weft_chunk_ctx_t: ctx->block is the partial's block (0, 1, ...,
 *  ctx->num_blocks - 1, in that order), ctx->group_begin the work-group
 *  along the split that holds it (ctx->begin, ctx->end its split indices),
 *  ctx->user the pointer. For folds that weigh or tell blocks apart without
 *  globals.
 *  @param result       where the folded value goes (elem_size bytes).
 *  @param elem_size    bytes per partial and of the result, > 0.
 *  @param identity     the fold's starting value (elem_size bytes); weft
 *                      reads it until the operation finishes.
 *  @param combine_ctx  acc = acc (+) partial; called once per block, in
 *                      block order, on whichever thread finishes the
 *                      operation; a panic in it fails the operation as
 *                      weft_arg_reduce() describes.
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_reduce_ctx(void *result, size_t elem_size, const void *identity,
                                        weft_combine_ctx_fn combine_ctx);
/** A scalar (copied when the operation starts).
 *  @param value  the value; it need only stay valid during the starting call.
 *  @param size   its size in bytes, > 0.
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_scalar(const void *value, size_t size);
/** __local memory of `bytes` per work-group (devices); NULL on the CPU.
 *  @param bytes  bytes per work-group, > 0.
 *  @return the descriptor (checked when the operation starts). */
WEFT_API weft_arg_t weft_arg_local(size_t bytes);

/** How chunks are cut and handed to places (weft_policy_t::kind). */
typedef enum weft_policy_kind {
    WEFT_POLICY_STATIC = 1,       /**< one chunk per place, sized by the speeds the
                                       adaptive model holds on disk (the first run,
                                       with none, by cores and compute units); each
                                       run's measured speeds update that model */
    WEFT_POLICY_DYNAMIC = 2,      /**< fixed chunks, taken by whichever place is free */
    WEFT_POLICY_GUIDED = 3,       /**< a small first chunk per place measures it, then
                                       shrinking chunks weighted by measured speed; a
                                       place whose next chunk would end after the other
                                       places finish everything else is dropped (it
                                       takes no more chunks of the operation), and a
                                       place left alone takes the rest in one chunk */
    WEFT_POLICY_ADAPTIVE = 4      /**< as guided, from a speed model kept per kernel,
                                       size class (work-groups, by powers of two) and
                                       place on disk ($WEFT_CACHE_DIR, else
                                       $XDG_CACHE_HOME/weft, else ~/.cache/weft; the
                                       runtime holds it in memory and writes it back
                                       when a speed moved by a tenth, at most once a
                                       second, and at runtime destroy); calibrates
                                       first where the model lacks a place. With a
                                       model, a place that would lose is dropped before
                                       it runs anything; its stored speed then rises a
                                       quarter per operation until it is tried again.
                                       The model also keeps the throughput of each set
                                       of places over whole operations, so that places
                                       that slow each other down (sharing cores) are
                                       seen: the slowest place is left out while the
                                       smaller set was measured faster (an untried set
                                       is run once to measure it) */
} weft_policy_kind_t;

/** What an operation does when a chunk fails on a place (a device error, an
 *  injected fault, a device that cannot set the kernel up, a CPU body's
 *  panic) (weft_policy_t::on_fault).
 *
 *  Only a failure that reaches the caller — the one the handle panics with
 *  — goes to the panic hook (weft_set_panic_hook()), once: under propagate
 *  when it happens, under failover when no place is left to re-run the
 *  chunk. A failure failover recovers from is not passed to the panic hook
 *  (the default hook prints nothing for it): it is counted in
 *  weft_run_stats_t::recovered_chunks and passed to the policy's
 *  on_recovered, if set. Should a chunk handed on find no place after all
 *  (its places all failed meanwhile), the handle panics with "failed on
 *  every place", and that panic goes to the hook. Failures after the one
 *  that stopped an operation are counted in failed_chunks and dropped. */
typedef enum weft_on_fault {
    WEFT_FAULT_PROPAGATE = 0,     /**< stop new chunks; the handle panics */
    WEFT_FAULT_FAILOVER = 1       /**< re-run a failed chunk on another place */
} weft_on_fault_t;

/** Told of a failure that failover recovered from (weft_policy_t::on_recovered):
 *  a chunk that failed on a place and is about to run again on another, or
 *  a place that could not set the kernel up and is left out of the
 *  operation. Called once per such failure, before the chunk is handed to
 *  another place, on whichever thread saw the failure: a worker, the thread
 *  that started the operation, or an OpenCL driver's callback thread.
 *  Calls for one operation, and for others, may run at the same time. It
 *  must not panic, and should return quickly without waiting for weft tasks
 *  or for the operation.
 *  @param failure    the failure's payload, as the handle would have
 *                    panicked with it (message, device, kernel, OpenCL
 *                    status, range), borrowed for the duration of the call:
 *                    copy what you keep, never free it.
 *  @param user_data  weft_policy_t::recovered_data. */
typedef void (*weft_recovered_fn)(const weft_panic_t *failure, void *user_data);

/** weft_policy_t::devices value with every bit set (weft_policy_init()'s
 *  default): the default device set. It holds every device that is not a
 *  CPU. An OpenCL device of type CPU runs on the cores the CPU workers use
 *  (as every other CPU device does), so two such places running at once
 *  only compete for cores: when the CPU place takes part (use_cpu set and
 *  the kernel has a CPU body) the set holds no CPU device; otherwise it holds
 *  the CPU device with the most compute units (the first of equals), which
 *  then runs the CPU's share of the work — how a kernel with only OpenCL
 *  source uses the CPU, through PoCL say. To run places that share cores
 *  anyway, name the devices: any other mask is taken as it is (see
 *  weft_device_mask()). With 64 devices, the mask of all of them is this
 *  value and so means the default set. */
#define WEFT_DEFAULT_DEVICES (~(uint64_t)0)
/** The same value as WEFT_DEFAULT_DEVICES, its name before the default set
 *  left out devices sharing cores; new code names weft_device_mask(rt, 0)
 *  for every device, or WEFT_DEFAULT_DEVICES. */
#define WEFT_ALL_DEVICES WEFT_DEFAULT_DEVICES

/** Scheduling policy. Initialise with weft_policy_init(). Read during the
 *  starting call only. */
typedef struct weft_policy {
    weft_policy_kind_t kind;      /**< how chunks are cut and handed out */
    size_t chunk;                 /**< DYNAMIC: chunk size; GUIDED/ADAPTIVE: smallest chunk
                                       (in split indices, rounded up to whole groups;
                                       0: automatic; any larger value, up to
                                       SIZE_MAX, is clamped to the range: one
                                       chunk); STATIC: ignored */
    int use_cpu;                  /**< 1: the CPU workers take part (when the kernel
                                       has a CPU body) */
    uint64_t devices;             /**< bit i set: device i takes part (when the kernel
                                       has a device body: cl_source or cl_body);
                                       WEFT_DEFAULT_DEVICES: the default set */
    weft_on_fault_t on_fault;     /**< what a failed chunk does; with FAILOVER,
                                       the failed place takes no more chunks,
                                       READ_WRITE split bytes are restored before
                                       the re-run, and the handle panics only when
                                       no place is left to run the chunk (see
                                       weft_on_fault_t for who hears of what) */
    weft_recovered_fn on_recovered; /**< FAILOVER: called once per failure
                                       recovered from, with its payload; NULL
                                       (weft_policy_init()'s default): none */
    void *recovered_data;         /**< passed to on_recovered */
    size_t part_begin;            /**< with part_end: run only split indices
                                       [part_begin, part_end) of the range (rows
                                       in 2-D), both 0: the whole range. Every
                                       body still sees the whole range's geometry
                                       and absolute indices; only the part's
                                       work-groups run, only their bytes are
                                       moved and borrowed, and a reduction folds
                                       only the part's blocks. part_begin is a
                                       multiple of the split work-group size,
                                       part_end one too or the range's split
                                       size; an empty part runs nothing. How a
                                       distributed program (weft/mpi.h) runs its
                                       share of one range */
    size_t part_end;              /**< one past the part's last split index (see
                                       part_begin) */
    void *reserved[4];            /**< reserved for future fields; keep zeroed */
} weft_policy_t;

/** Defaults: guided, the CPU and the default device set
 *  (WEFT_DEFAULT_DEVICES), propagate, automatic chunks, no on_recovered.
 *  @param p  the policy to fill; NULL does nothing. */
WEFT_API void weft_policy_init(weft_policy_t *p);

/** (A macro.) Start k over r inside scope s with the given arguments and policy (NULL:
 *  defaults). Argument descriptors and scalars are copied; the host arrays
 *  must stay valid and untouched by others until the handle is joined.
 *  The call builds the OpenCL program for the chosen devices (when the
 *  runtime has not cached it yet) and starts every place; the operation then
 *  runs on asynchronously.
 *  @param s      the scope; the operation runs on its runtime.
 *  @param k      the kernel (copied).
 *  @param r      the index range.
 *  @param args   nargs argument descriptors, in the kernel's order.
 *  @param nargs  number of arguments (the OpenCL kernel's parameter count).
 *  @param pol    the policy, or NULL for weft_policy_init()'s defaults.
 *  @param out    receives the handle, owned by the scope; may be NULL (the
 *                scope joins it).
 *  @return 0; WEFT_EINVAL (NULL scope or kernel, a kernel without a name,
 *          without any body, with both cpu and cpu_ctx, with source or cl_body
 *          but no entry name, with both source and cl_body, a range not 1-
 *          or 2-D, a work-group size of 0, a 2-D range with no columns or
 *          whose size overflows, NULL args with nargs > 0, a bad argument
 *          (unit or size 0, bad access, an array NULL or smaller than
 *          the range needs, a written whole array, a reduction without
 *          result, identity or combine, or with both combine and
 *          combine_ctx, an unknown kind), an unknown policy kind or on_fault, a policy
 *          with no place, places without the body they need, a device mask
 *          naming only devices the runtime does not have); WEFT_EBORROW
 *          when a running operation writes bytes this one writes (the message
 *          names both kernels, both arguments and how many bytes), or when
 *          two written arguments of this operation (split, reduction
 *          result, scattered) share a byte (the message names both
 *          arguments); WEFT_ENOMEM.
 *          Failures while running panic the handle with device, status and
 *          range: a device that cannot build or set up the kernel (build log
 *          included; also an argument count other than the kernel's or an
 *          argument it refuses — the message names the argument and both
 *          counts —, an argument above CL_DEVICE_MAX_MEM_ALLOC_SIZE, or
 *          __local sizes adding up to more than CL_DEVICE_LOCAL_MEM_SIZE,
 *          CL_OUT_OF_RESOURCES naming the argument, size and limit), enqueue and execution
 *          errors, a device body's nonzero return, injected faults, a CPU
 *          body's weft_panic() — unless failover recovers from them (see
 *          weft_on_fault_t). */
#define weft_scope_parallel_for(s, k, r, args, nargs, pol, out) \
    weft_scope_parallel_for_at(__FILE__, __LINE__, (s), (k), (r), (args), (nargs), (pol), (out))

/** (A macro.) The same outside a scope: the caller must join or detach *out.
 *  @param rt     the runtime.
 *  @param k      as for weft_scope_parallel_for().
 *  @param r      as for weft_scope_parallel_for().
 *  @param args   as for weft_scope_parallel_for().
 *  @param nargs  as for weft_scope_parallel_for().
 *  @param pol    as for weft_scope_parallel_for().
 *  @param out    receives the handle (required), which the caller must join
 *                or detach; NULL on failure.
 *  @return as weft_scope_parallel_for(), with WEFT_EINVAL for a NULL rt or
 *          out. */
#define weft_parallel_for(rt, k, r, args, nargs, pol, out) \
    weft_parallel_for_at(__FILE__, __LINE__, (rt), (k), (r), (args), (nargs), (pol), (out))

/** (A macro.) Start and join: weft_parallel_for(), then weft_join().
 *  @param rt     the runtime.
 *  @param k      as for weft_scope_parallel_for().
 *  @param r      as for weft_scope_parallel_for().
 *  @param args   as for weft_scope_parallel_for().
 *  @param nargs  as for weft_scope_parallel_for().
 *  @param pol    as for weft_scope_parallel_for().
 *  @param panic  receives the panic when the operation panicked, else NULL
 *                (the caller frees it with weft_panic_destroy()); may be
 *                NULL to discard it.
 *  @return 0; a start error as weft_parallel_for() returns it; or
 *          WEFT_EPANIC. */
#define weft_parallel_run(rt, k, r, args, nargs, pol, panic) \
    weft_parallel_run_at(__FILE__, __LINE__, (rt), (k), (r), (args), (nargs), (pol), (panic))

/** What weft_scope_parallel_for() expands to (as do the two macros after it,
 *  through the functions below): file and line (the caller's, a literal) are
 *  where a device failure's panic says it happened.
 *  @param file   the caller's file, a literal.
 *  @param line   the caller's line.
 *  @param s      as for weft_scope_parallel_for().
 *  @param k      as for weft_scope_parallel_for().
 *  @param r      as for weft_scope_parallel_for().
 *  @param args   as for weft_scope_parallel_for().
 *  @param nargs  as for weft_scope_parallel_for().
 *  @param pol    as for weft_scope_parallel_for().
 *  @param out    as for weft_scope_parallel_for().
 *  @return as weft_scope_parallel_for(). */
WEFT_API int weft_scope_parallel_for_at(const char *file, int line, weft_scope_t *s, const weft_kernel_t *k,
                               weft_range_t r, const weft_arg_t *args, size_t nargs,
                               const weft_policy_t *pol, weft_handle_t **out);
/** What weft_parallel_for() expands to.
 *  @param file   the caller's file, a literal.
 *  @param line   the caller's line.
 *  @param rt     as for weft_parallel_for().
 *  @param k      as for weft_parallel_for().
 *  @param r      as for weft_parallel_for().
 *  @param args   as for weft_parallel_for().
 *  @param nargs  as for weft_parallel_for().
 *  @param pol    as for weft_parallel_for().
 *  @param out    as for weft_parallel_for().
 *  @return as weft_parallel_for(). */
WEFT_API int weft_parallel_for_at(const char *file, int line, weft_runtime_t *rt, const weft_kernel_t *k,
                         weft_range_t r, const weft_arg_t *args, size_t nargs,
                         const weft_policy_t *pol, weft_handle_t **out);
/** What weft_parallel_run() expands to.
 *  @param file   the caller's file, a literal.
 *  @param line   the caller's line.
 *  @param rt     as for weft_parallel_run().
 *  @param k      as for weft_parallel_run().
 *  @param r      as for weft_parallel_run().
 *  @param args   as for weft_parallel_run().
 *  @param nargs  as for weft_parallel_run().
 *  @param pol    as for weft_parallel_run().
 *  @param panic  as for weft_parallel_run().
 *  @return as weft_parallel_run(). */
WEFT_API int weft_parallel_run_at(const char *file, int line, weft_runtime_t *rt, const weft_kernel_t *k,
                         weft_range_t r, const weft_arg_t *args, size_t nargs,
                         const weft_policy_t *pol, weft_panic_t **panic);

/** The speed the speed models (kept by the adaptive and static policies,
 *  see weft_policy_kind_t) hold for kernel k on the places policy pol would
 *  use, summed over those places: how many split indices per second this
 *  runtime runs of k when it runs `part` of them in one operation (the
 *  models are kept per size class: a part of about that size). Reads only
 *  what the runtime holds or finds on disk; runs nothing.
 *  @param rt     the runtime.
 *  @param k      the kernel (its name and bodies choose the places).
 *  @param r      the range (its work-groups give the size class).
 *  @param pol    the policy, or NULL for weft_policy_init()'s defaults.
 *  @param part   split indices one operation would run.
 *  @param speed  receives the sum, in split indices per second; 0 when not
 *                every place has a stored speed.
 *  @return 1 when every place's speed is known; 0 when one is not (or no
 *          place would run k); WEFT_EINVAL (NULL rt, k, k's name or speed; a
 *          range not 1- or 2-D or with a work-group size of 0). */
WEFT_API int weft_parallel_speed(weft_runtime_t *rt, const weft_kernel_t *k, weft_range_t r,
                                 const weft_policy_t *pol, size_t part, double *speed);

/** What one parallel operation did; see weft_runtime_last_run_stats(). */
typedef struct weft_run_stats {
    size_t chunks;                /**< chunks run (failed ones included) */
    size_t failed_chunks;         /**< chunks that failed (re-run or not); a
                                       place that could not set up ran no chunk
                                       and is not counted */
    size_t recovered_chunks;      /**< of failed_chunks, those failover handed
                                       to another place (one on_recovered call
                                       each): their failures were not passed
                                       to the panic hook */
    size_t items[65];             /**< split indices done per place: [0] CPU, [1+i] device i */
    uint64_t bytes_moved;         /**< host<->device bytes copied: the sum of
                                       bytes_up and bytes_down over the places */
    uint64_t bytes_up[65];        /**< host->device bytes copied per place, indexed
                                       as items ([0], the CPU, is always 0); 0 on
                                       unified-memory devices, which copy nothing */
    uint64_t bytes_down[65];      /**< device->host bytes copied per place, as bytes_up */
    int dropped[65];              /**< 1 for a place (indexed as items) that guided or
                                       adaptive stopped handing chunks to, because its
                                       share would have lengthened the operation (see
                                       weft_policy_kind_t) */
} weft_run_stats_t;

/** Statistics of the most recent parallel operation finished in rt (failed
 *  ones included). weft records them just before the operation's handle
 *  completes, so right after a join they describe the joined operation —
 *  unless another operation of rt finished meanwhile: when operations
 *  overlap, which one "most recent" is cannot be told, and the figures may
 *  be another's.
 *  @param rt   the runtime.
 *  @param out  receives a copy of the statistics; all zero when no operation
 *              has finished yet.
 *  @return 0; WEFT_EINVAL (NULL rt or out). */
WEFT_API int weft_runtime_last_run_stats(const weft_runtime_t *rt, weft_run_stats_t *out);

/** Record every chunk (place, range, bytes moved, start, end) from now on and
 *  write them to `path` as Chrome trace events (viewable in Perfetto) at
 *  weft_trace_flush() and at runtime destroy. $WEFT_TRACE=path does the same
 *  from runtime creation. With a NULL path the chunks are only recorded, for
 *  weft_trace_chunks(), and no file is written. When a trace is already on,
 *  the chunks recorded so far are first written to its path (if it has
 *  one), then recording starts over for the new one. Recording is best
 *  effort: a chunk that cannot be recorded for lack of memory is left out.
 *  @param rt    the runtime.
 *  Names are escaped for JSON, and a byte of a name that is not valid
 *  UTF-8 is written as U+FFFD, so the file is always valid JSON.
 *  @param path  the file to write (copied); checked now to be writable (it
 *               is opened for appending and closed, and a file made by the
 *               check is removed again), written at each flush; or NULL to
 *               record in memory only.
 *  @return 0; WEFT_EINVAL (NULL rt, empty path, a file that cannot be
 *          written: the message says why); WEFT_ENOMEM. */
WEFT_API int weft_trace_start(weft_runtime_t *rt, const char *path);
/** Write the trace file now: complete JSON of every chunk recorded since
 *  weft_trace_start(), replacing the file; later chunks are added by the
 *  next flush.
 *  @param rt  the runtime.
 *  @return 0; WEFT_EINVAL when rt is NULL, no trace is on or it has no file
 *          (started with a NULL path); WEFT_EINVAL also when the file cannot
 *          be written (the message says why). */
WEFT_API int weft_trace_flush(weft_runtime_t *rt);

/** One recorded chunk of a trace (weft_trace_chunks()). */
typedef struct weft_trace_chunk {
    char kernel[64];              /**< the operation's kernel name (cut to fit,
                                       never inside a UTF-8 character) */
    char place[128];              /**< the place's display name (cut to fit,
                                       never inside a UTF-8 character) */
    int place_id;                 /**< 0: the CPU; 1 + n: device n */
    size_t begin;                 /**< first index of the chunk (split dimension) */
    size_t end;                   /**< one past its last index */
    uint64_t bytes;               /**< bytes moved between host and device for it */
    uint64_t start_ns;            /**< when it started, ns since runtime creation */
    uint64_t end_ns;              /**< when it ended, ns since runtime creation */
    int failed;                   /**< 1 when the chunk failed */
} weft_trace_chunk_t;

/** Copy the chunks recorded since weft_trace_start() (or $WEFT_TRACE), in
 *  the order they ended, without writing any file.
 *  @param rt     the runtime.
 *  @param out    receives up to cap chunks (may be NULL when cap is 0).
 *  @param cap    room in out.
 *  @param count  receives how many chunks are recorded in all (may exceed
 *                cap: call again with more room).
 *  @return 0; WEFT_EINVAL (NULL rt or count, out NULL with cap above 0, no
 *          trace is being recorded). */
WEFT_API int weft_trace_chunks(const weft_runtime_t *rt, weft_trace_chunk_t *out, size_t cap, size_t *count);

#ifdef __cplusplus
}
#endif
#endif
