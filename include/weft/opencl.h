/** @file
 *  @brief OpenCL interop: the raw OpenCL objects behind weft's devices,
 *  programs and buffers, and adopting a program's own context, queue and
 *  buffers. The only public header that needs the OpenCL headers (CL/cl.h);
 *  weft/weft.h does not include it, so code that never touches OpenCL
 *  objects compiles without them.
 */
#ifndef WEFT_OPENCL_H
#define WEFT_OPENCL_H

#include "weft/export.h"

#ifndef CL_TARGET_OPENCL_VERSION
/** The OpenCL API version the Khronos headers (CL/cl.h) expose, as they
 *  define it: 120 is OpenCL 1.2, the API weft is written against. Left
 *  undefined, the Khronos headers print a note and assume 300 (OpenCL 3.0),
 *  where some 1.2 calls weft and its users make (clCreateCommandQueue) are
 *  deprecated. This header defines it as 120 only when the includer has not:
 *  define it yourself (to a version the Khronos headers accept) before the
 *  first include of weft/device.h or CL/cl.h to target another version. It
 *  only affects the code that includes the headers: the library itself is
 *  already compiled. */
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "weft/weft.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Raw OpenCL objects of a device, for interop. weft keeps ownership: they
 *  stay valid until the runtime is destroyed (retain them to keep them
 *  longer, and never release weft's references). The queue is in-order and
 *  weft enqueues on it too: commands added to it run in turn with weft's.
 *  @param rt      the runtime.
 *  @param device  the device number.
 *  @param id      receives the cl_device_id (may be NULL).
 *  @param ctx     receives the device's cl_context (may be NULL).
 *  @param queue   receives its cl_command_queue (may be NULL).
 *  @return 0; WEFT_EINVAL (NULL rt, device out of range). */
WEFT_API int weft_device_cl(const weft_runtime_t *rt, int device, cl_device_id *id, cl_context *ctx,
                   cl_command_queue *queue);

/** Bring a user's context and in-order queue into the runtime as a new device,
 *  numbered after the existing ones. Both are retained: the caller keeps its
 *  own references, and weft releases its references at runtime destroy (after
 *  finishing the queue). Programs created before the adoption are not built
 *  for the new device; launches of their kernels there are refused.
 *  @param rt     the runtime.
 *  @param ctx    the context the queue belongs to.
 *  @param queue  an in-order command queue of ctx (weft does not check the
 *                order).
 *  @param index  receives the new device number (may be NULL).
 *  @return 0; WEFT_EINVAL (NULL rt, ctx or queue, queue not of ctx);
 *          WEFT_ECL when the queue cannot be queried; WEFT_ENOMEM (also when
 *          the runtime already holds 64 devices; weft then keeps no reference). */
WEFT_API int weft_device_adopt(weft_runtime_t *rt, cl_context ctx, cl_command_queue queue, int *index);

/** The cl_program built for a device.
 *  @param p       the program.
 *  @param device  the device number.
 *  @return the program (owned by weft: valid until the runtime is destroyed,
 *          never to be released), NULL for NULL p or a device the program was
 *          not built for (out of range, or adopted after p was created). */
WEFT_API cl_program weft_program_cl(const weft_program_t *p, int device);

/** Wrap an existing cl_mem of device `device`'s context. The buffer retains
 *  mem: the caller keeps its own reference, and weft_buffer_destroy()
 *  releases weft's. Its size is the cl_mem's (CL_MEM_SIZE).
 *  @param rt      the runtime.
 *  @param device  the device number whose context mem belongs to.
 *  @param mem     the OpenCL buffer.
 *  @param out     receives the buffer, which the caller frees with
 *                 weft_buffer_destroy(); NULL on failure.
 *  @return 0; WEFT_EINVAL (NULL rt, mem or out, bad device, mem of another
 *          context); WEFT_ECL when mem cannot be queried; WEFT_ENOMEM. */
WEFT_API int weft_buffer_adopt(weft_runtime_t *rt, int device, cl_mem mem, weft_buffer_t **out);

/** The buffer's OpenCL object, for interop.
 *  @param b  the buffer.
 *  @return the cl_mem (owned by weft: valid until weft_buffer_destroy(), never
 *          to be released), NULL for NULL. */
WEFT_API cl_mem weft_buffer_cl(const weft_buffer_t *b);

/** One chunk of a parallel operation, as a device body (weft_cl_body_fn,
 *  weft_kernel_t::cl_body) sees it. weft fills it for one call and reads the
 *  out fields when the body returns; the struct does not outlive the call.
 *
 *  Buffers: mem[i] is the buffer of argument i in the device's context — for
 *  a split or whole argument the whole array, laid out as the host array
 *  (byte b of the host array is byte b of the buffer: the chunk's rows are
 *  at offset begin * unit), for a reduction the per-block partials (block k
 *  at offset k * elem_size) — and NULL for scalars and __local arguments.
 *  When the body runs, the buffer holds what the chunk may read: its rows of
 *  every split argument it reads (and the halo), every whole argument, and
 *  nothing more (elsewhere, and in the rows of a write-only argument, a
 *  buffer holds anything, as device memory does). The body may write only
 *  the rows [begin, end) of split arguments it writes (their buffers are
 *  read-write, so a library may also read them) and the partials of its
 *  blocks; weft reads exactly those back. On a unified-memory device the
 *  buffers wrap the host arrays (CL_MEM_USE_HOST_PTR) and nothing is
 *  copied. */
typedef struct weft_cl_chunk {
    cl_context context;           /**< the device's context (weft's: do not release) */
    cl_command_queue queue;       /**< its in-order queue: enqueue the work here, after
                                       weft's uploads (do not release, do not wait) */
    cl_device_id device_id;       /**< the OpenCL device */
    int device;                   /**< weft's device number */
    size_t nargs;                 /**< entries in mem and argv: the operation's arguments */
    const cl_mem *mem;            /**< per argument: its buffer, or NULL (see above) */
    void *const *argv;            /**< per argument, as a CPU body's argv: scalars'
                                       values (read them here), host arrays (their
                                       device copies are in mem: do not touch the
                                       host arrays) */
    weft_range_t range;           /**< the operation's whole range */
    size_t begin;                 /**< the chunk's first index along the split
                                       dimension (rows of a 2-D range): a multiple
                                       of the work-group size */
    size_t end;                   /**< one past its last index (at most the range's
                                       size along that dimension) */
    cl_event done;                /**< out: an event of the queue after which every
                                       write of the chunk is complete (weft takes
                                       over this reference), or NULL (the default):
                                       weft then waits for everything enqueued so
                                       far (it enqueues a marker) */
    const char *status_name;      /**< out, optional: the name of a nonzero status the
                                       body returns that is not an OpenCL one (e.g.
                                       "CLBLAST_STATUS_1024"), for the panic; NULL
                                       (the default): weft_cl_status_name(). weft
                                       copies it as soon as the body returns */
} weft_cl_chunk_t;

#ifdef __cplusplus
}
#endif
#endif
