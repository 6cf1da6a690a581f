/* weft/device.h — OpenCL devices as places that run work under the same
 * handles, joins and scopes as CPU tasks.
 *
 * A runtime discovers every OpenCL device at creation ($WEFT_DEVICES or the
 * `devices` option chooses which) and opens one context and one in-order
 * command queue per device. Devices are numbered 0..weft_device_count()-1 in
 * discovery order (platform by platform), whatever the order of the terms in
 * the selection; adopted devices come after. A failure on a device — at enqueue, during
 * execution, or building a program at launch — becomes a panic on the handle
 * of the launch, with the status name, device, kernel and range. */
#ifndef WEFT_DEVICE_H
#define WEFT_DEVICE_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "weft/panic.h"
#include "weft/runtime.h"
#include "weft/task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- devices ------------------------------------------------------------ */

typedef enum weft_device_type {
    WEFT_DEVICE_CPU = 1,
    WEFT_DEVICE_GPU = 2,
    WEFT_DEVICE_ACCELERATOR = 4,
    WEFT_DEVICE_OTHER = 8
} weft_device_type_t;

/** What weft knows of one device. */
typedef struct weft_device_info {
    int index;                    /**< weft's device number */
    weft_device_type_t type;
    char name[256];               /**< CL_DEVICE_NAME */
    char vendor[128];
    char platform[128];           /**< platform name */
    char version[128];            /**< CL_DEVICE_VERSION ("OpenCL 3.0 ...") */
    unsigned compute_units;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;     /**< CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    size_t max_work_group_size;
    int unified_memory;           /**< 1: host and device share memory (no copies) */
} weft_device_info_t;

/** Number of devices the runtime opened (0 for NULL or WEFT_DEVICES=none). */
int weft_device_count(const weft_runtime_t *rt);

/** Fill *out for device `device`.
 *  @return 0; WEFT_EINVAL (NULL, index out of range). */
int weft_device_info(const weft_runtime_t *rt, int device, weft_device_info_t *out);

/** Print one line per device (index, name, type, compute units, memory,
 *  unified or not, OpenCL version) to f. Returns the number of devices. */
int weft_device_print(const weft_runtime_t *rt, FILE *f);

/** Print every platform and device present on the machine, selected or not,
 *  with the index WEFT_DEVICES uses. Returns the number found, or a negative
 *  WEFT_E* code when the OpenCL platform cannot be queried. */
int weft_device_print_all(FILE *f);

/** Raw OpenCL objects of a device, for interop (each pointer may be NULL).
 *  weft keeps ownership: retain them to keep them past the runtime. */
int weft_device_cl(const weft_runtime_t *rt, int device, cl_device_id *id, cl_context *ctx,
                   cl_command_queue *queue);

/** Bring a user's context and in-order queue into the runtime as a new device
 *  (both are retained; weft releases its references at runtime destroy).
 *  @param index  receives the new device number (may be NULL).
 *  @return 0; WEFT_EINVAL (NULL, queue not of ctx); WEFT_ECL; WEFT_ENOMEM. */
int weft_device_adopt(weft_runtime_t *rt, cl_context ctx, cl_command_queue queue, int *index);

/* ---- programs ----------------------------------------------------------- */

typedef struct weft_program weft_program_t;

/** Build OpenCL source with options for every device of rt. Built programs
 *  are cached per (source, options, device) in the runtime: creating the same
 *  program again builds nothing.
 *  @param why  on a build failure receives a panic payload (caller frees)
 *              holding the compiler's full build log, device and status name;
 *              may be NULL.
 *  @return 0; WEFT_EINVAL (NULL rt/src/out); WEFT_EBUILD; WEFT_ENODEV (no
 *          devices); WEFT_ENOMEM. */
int weft_program_create(weft_runtime_t *rt, const char *src, const char *opts,
                        weft_program_t **out, weft_panic_t **why);

/** The cl_program built for a device (owned by weft), NULL when out of range. */
cl_program weft_program_cl(const weft_program_t *p, int device);

/** Release the handle (built programs stay cached until the runtime goes).
 *  NULL is a no-op. */
void weft_program_destroy(weft_program_t *p);

/* ---- buffers ------------------------------------------------------------ */

typedef struct weft_buffer weft_buffer_t;

/** Access a kernel has to a buffer. */
typedef enum weft_access {
    WEFT_READ = 1,
    WEFT_WRITE = 2,
    WEFT_READ_WRITE = 3
} weft_access_t;

/** Allocate `bytes` on device `device`.
 *  @return 0; WEFT_EINVAL (NULL, 0 bytes, bad device, size above the device's
 *          CL_DEVICE_MAX_MEM_ALLOC_SIZE — the message names the limit);
 *          WEFT_ECL. */
int weft_buffer_create(weft_runtime_t *rt, int device, size_t bytes, weft_access_t access,
                       weft_buffer_t **out);

/** Use host memory `host` (bytes long, which must outlive the buffer) on
 *  device `device`. On unified-memory devices (PoCL's CPU device) the kernel
 *  reads and writes that memory directly, with no copy; elsewhere weft keeps a
 *  device copy, filled from `host` now when access includes WEFT_READ: after
 *  changing `host`, call weft_buffer_sync_to_device, and after a launch that
 *  wrote it, weft_buffer_sync_to_host (weft_launch never copies by itself;
 *  weft_parallel_for moves the bytes of its own arguments). Errors as
 *  weft_buffer_create. */
int weft_buffer_wrap(weft_runtime_t *rt, int device, void *host, size_t bytes,
                     weft_access_t access, weft_buffer_t **out);

/** Wrap an existing cl_mem of device `device`'s context (retained).
 *  @return 0; WEFT_EINVAL; WEFT_ECL. */
int weft_buffer_adopt(weft_runtime_t *rt, int device, cl_mem mem, weft_buffer_t **out);

/** The cl_mem (owned by weft). */
cl_mem weft_buffer_cl(const weft_buffer_t *b);
/** Size in bytes. */
size_t weft_buffer_size(const weft_buffer_t *b);
/** Device number. */
int weft_buffer_device(const weft_buffer_t *b);
/** Host memory given to weft_buffer_wrap, else NULL. */
void *weft_buffer_host(const weft_buffer_t *b);
/** 1 when kernels use the host memory directly (wrapped, unified device). */
int weft_buffer_is_zero_copy(const weft_buffer_t *b);

/** Blocking copy of host memory into [offset, offset+bytes) of b.
 *  @return 0; WEFT_EINVAL (range outside the buffer, NULL); WEFT_ECL. */
int weft_buffer_write(weft_buffer_t *b, size_t offset, const void *src, size_t bytes);
/** Blocking copy of [offset, offset+bytes) of b to host memory. */
int weft_buffer_read(const weft_buffer_t *b, size_t offset, void *dst, size_t bytes);
/** For wrapped buffers with a device copy: copy the host range to the device
 *  (no-op when zero-copy). Errors as weft_buffer_write. */
int weft_buffer_sync_to_device(weft_buffer_t *b, size_t offset, size_t bytes);
/** For wrapped buffers with a device copy: copy the device range to the host. */
int weft_buffer_sync_to_host(weft_buffer_t *b, size_t offset, size_t bytes);
/** Map [offset, offset+bytes) for host access (blocking).
 *  @return 0 with *ptr set; WEFT_EINVAL; WEFT_ECL. */
int weft_buffer_map(weft_buffer_t *b, size_t offset, size_t bytes, weft_access_t access,
                    void **ptr);
/** Unmap a pointer returned by weft_buffer_map (waits for the unmap). */
int weft_buffer_unmap(weft_buffer_t *b, void *ptr);
/** Free the buffer. Launches using it must have been joined. NULL is a no-op. */
void weft_buffer_destroy(weft_buffer_t *b);

/* ---- launches ----------------------------------------------------------- */

typedef enum weft_karg_kind {
    WEFT_KARG_BUFFER = 1,
    WEFT_KARG_SCALAR = 2,
    WEFT_KARG_LOCAL = 3
} weft_karg_kind_t;

/** One kernel argument. Build with weft_karg_buffer/_scalar/_local. */
typedef struct weft_karg {
    weft_karg_kind_t kind;
    weft_buffer_t *buffer;        /**< WEFT_KARG_BUFFER */
    const void *value;            /**< WEFT_KARG_SCALAR: copied at launch */
    size_t size;                  /**< scalar size, or __local bytes */
} weft_karg_t;

/** A buffer argument. */
weft_karg_t weft_karg_buffer(weft_buffer_t *b);
/** A scalar argument: `size` bytes at `value`, copied when launched. */
weft_karg_t weft_karg_scalar(const void *value, size_t size);
/** A __local argument of `bytes` bytes. */
weft_karg_t weft_karg_local(size_t bytes);

/** One kernel launch. Initialise with weft_launch_init(). */
typedef struct weft_launch {
    int device;                   /**< device number */
    weft_program_t *program;      /**< built program, or NULL with source set */
    const char *source;           /**< source built at launch (cached); a build
                                       failure panics the launch's handle */
    const char *options;          /**< build options for source */
    const char *kernel;           /**< entry point name */
    unsigned dims;                /**< 1, 2 or 3 */
    size_t global[3];             /**< global work size per dimension */
    size_t local[3];              /**< work-group size; all 0: driver chooses */
    size_t offset[3];             /**< global offset */
    const weft_karg_t *args;
    size_t nargs;
    void *reserved[8];
} weft_launch_t;

/** Fill *l with defaults (device 0, 1 dimension, no arguments). */
void weft_launch_init(weft_launch_t *l);

/** Launch a kernel; returns a handle joined like any task. Its result value is
 *  NULL. Detach it with weft_handle_detach(). A macro, so that a failure's
 *  panic names the caller's file and line.
 *  @return 0; WEFT_EINVAL (NULL, bad device, dims, zero or overflowing sizes,
 *          a local size that does not divide the global size, a buffer of
 *          another device, no kernel name, neither or both of program and
 *          source); WEFT_ENOMEM. Device failures are never returned here:
 *          enqueue errors, execution errors and build failures of `source`
 *          panic the handle. */
#define weft_launch(rt, l, out) weft_launch_at(__FILE__, __LINE__, (rt), (l), (out))

/** weft_launch() inside a scope: the scope waits for it, and an unjoined
 *  failure fails the scope as a CPU task's panic does. out may be NULL. */
#define weft_scope_launch(s, l, out) weft_scope_launch_at(__FILE__, __LINE__, (s), (l), (out))

/** What weft_launch expands to; file is the caller's (a literal). */
int weft_launch_at(const char *file, int line, weft_runtime_t *rt, const weft_launch_t *l,
                   weft_handle_t **out);
/** What weft_scope_launch expands to. */
int weft_scope_launch_at(const char *file, int line, weft_scope_t *s, const weft_launch_t *l,
                         weft_handle_t **out);

/* ---- fault injection ---------------------------------------------------- */

/** Make launches fail on purpose, to test failure paths on any machine.
 *  device: device number or -1 for every device; launch: the n-th launch on
 *  that device counting from 0 after this call, or -1 for every launch (each
 *  chunk a parallel operation runs on a device counts as one launch);
 *  status: the cl_int the launch reports (e.g. CL_OUT_OF_RESOURCES); kernel:
 *  only launches of this kernel, or NULL for any.
 *  $WEFT_FAULT sets the same at runtime creation:
 *      WEFT_FAULT="device=1,launch=3,status=CL_OUT_OF_RESOURCES[,kernel=k];..."
 *  @return 0; WEFT_EINVAL; WEFT_ENOMEM. */
int weft_fault_inject(weft_runtime_t *rt, int device, long launch, int status, const char *kernel);

/** Remove every injected fault and restart the launch counters. */
void weft_fault_clear(weft_runtime_t *rt);

/** Name of an OpenCL status ("CL_OUT_OF_RESOURCES"), "CL_UNKNOWN_ERROR" when
 *  unknown. */
const char *weft_cl_status_name(int status);

/** The status a name stands for; returns 0 and sets *status, or WEFT_EINVAL. */
int weft_cl_status_parse(const char *name, int *status);

#ifdef __cplusplus
}
#endif
#endif
