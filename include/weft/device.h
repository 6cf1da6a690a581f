/** @file
 *  @brief OpenCL devices as places that run work under the same handles,
 *  joins and scopes as CPU tasks.
 *
 *  A runtime discovers every OpenCL device at creation ($WEFT_DEVICES or the
 *  `devices` option chooses which) and opens one context and one in-order
 *  command queue per device. Devices are numbered 0..weft_device_count()-1 in
 *  discovery order (platform by platform), whatever the order of the terms in
 *  the selection; adopted devices come after. A failure on a device — at
 *  enqueue, during execution, or building a program at launch — becomes a
 *  panic on the handle of the launch, with the status name, device, kernel
 *  and range. */
#ifndef WEFT_DEVICE_H
#define WEFT_DEVICE_H

#include "weft/export.h"

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

/** The kind of an OpenCL device (weft_device_info_t::type). Each device has
 *  exactly one: GPU when the driver's CL_DEVICE_TYPE includes the GPU bit,
 *  else accelerator, else CPU, else other. The same words select devices in
 *  $WEFT_DEVICES ("gpu", "accelerator", "cpu"). */
typedef enum weft_device_type {
    WEFT_DEVICE_CPU = 1,          /**< a CPU device (PoCL's, Intel's CPU runtime) */
    WEFT_DEVICE_GPU = 2,          /**< a GPU */
    WEFT_DEVICE_ACCELERATOR = 4,  /**< CL_DEVICE_TYPE_ACCELERATOR (FPGAs, DSPs, ...) */
    WEFT_DEVICE_OTHER = 8         /**< none of those (a custom device) */
} weft_device_type_t;

/** What weft knows of one device, read from the driver when the device is
 *  opened. Filled by weft_device_info(); a plain copy the caller owns.
 *  Strings are NUL-terminated and cut to their array's size. */
typedef struct weft_device_info {
    int index;                    /**< weft's device number */
    weft_device_type_t type;      /**< the device's kind */
    char name[256];               /**< CL_DEVICE_NAME */
    char vendor[128];             /**< CL_DEVICE_VENDOR */
    char platform[128];           /**< platform name (CL_PLATFORM_NAME) */
    char version[128];            /**< CL_DEVICE_VERSION ("OpenCL 3.0 ...") */
    unsigned compute_units;       /**< CL_DEVICE_MAX_COMPUTE_UNITS */
    uint64_t global_mem_bytes;    /**< CL_DEVICE_GLOBAL_MEM_SIZE, in bytes */
    uint64_t max_alloc_bytes;     /**< CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    size_t max_work_group_size;   /**< CL_DEVICE_MAX_WORK_GROUP_SIZE */
    int unified_memory;           /**< 1: host and device share memory (no copies); 0 also
                                       for every device in separate-memory mode
                                       (weft_runtime_options_t::separate_memory) */
    uint64_t local_mem_bytes;     /**< CL_DEVICE_LOCAL_MEM_SIZE: the most __local memory
                                       one work-group's arguments may ask for together */
} weft_device_info_t;

/** Number of devices of the runtime: those it opened plus those adopted.
 *  @param rt  the runtime.
 *  @return the count; 0 for NULL, or when no device was selected
 *          (WEFT_DEVICES=none) nor adopted. */
WEFT_API int weft_device_count(const weft_runtime_t *rt);

/** Fill *out for device `device`.
 *  @param rt      the runtime.
 *  @param device  the device number, in [0, weft_device_count()).
 *  @param out     receives a copy of the device's description.
 *  @return 0; WEFT_EINVAL (NULL rt or out, device out of range). */
WEFT_API int weft_device_info(const weft_runtime_t *rt, int device, weft_device_info_t *out);

/** The mask of the runtime's devices of the given kinds, for
 *  weft_policy_t::devices: bit i set for device i (i < 64) when its kind is
 *  in `types`.
 *  @param rt     the runtime.
 *  @param types  weft_device_type_t values ORed together; 0 for every kind.
 *  @return the mask; 0 for a NULL rt or when no device matches. */
WEFT_API uint64_t weft_device_mask(const weft_runtime_t *rt, unsigned types);

/** Print one line per device (index, name, type, compute units, memory,
 *  unified or not, OpenCL version, platform) to f, or "no OpenCL devices
 *  selected" when there is none.
 *  @param rt  the runtime (NULL: no devices).
 *  @param f   the stream; NULL prints nothing.
 *  @return the number of devices, as weft_device_count(). */
WEFT_API int weft_device_print(const weft_runtime_t *rt, FILE *f);

/** Print every device of every OpenCL platform present on the machine,
 *  selected or not, one line each as weft_device_print() does, numbered with
 *  the index $WEFT_DEVICES uses. No runtime is needed. Looks at most at 16
 *  platforms, 64 devices per platform and 128 devices in all.
 *  @param f  the stream; NULL prints nothing (the devices are still counted).
 *  @return the number of devices found (0 when there is no platform); or
 *          WEFT_ECL when the OpenCL platforms cannot be listed, WEFT_ENOMEM. */
WEFT_API int weft_device_print_all(FILE *f);



/* ---- programs ----------------------------------------------------------- */

/** A program handle (opaque): one OpenCL source built for every device the
 *  runtime had when it was created. Created by weft_program_create(), owned
 *  by the caller, freed by weft_program_destroy(). The built cl_programs
 *  belong to the runtime's cache, not to the handle: they live until the
 *  runtime is destroyed, and the handle must not be used after that. */
typedef struct weft_program weft_program_t;

/** Build OpenCL source with options for every device of rt, one device after
 *  the other, on the calling thread. Built programs are cached per (source,
 *  options, device) in the runtime: creating the same program again builds
 *  nothing. The first build failure stops: later devices are not tried.
 *  @param rt    the runtime.
 *  @param src   the OpenCL C source (copied into the cache).
 *  @param opts  build options for clBuildProgram, or NULL.
 *  @param out   receives the handle, which the caller frees with
 *               weft_program_destroy(); NULL on failure.
 *  @param why   on a build failure receives a panic payload (caller frees it
 *               with weft_panic_destroy()) holding the compiler's full build
 *               log, device and status name; set to NULL otherwise; may be
 *               NULL.
 *  @return 0; WEFT_EINVAL (NULL rt/src/out); WEFT_ENODEV (the runtime has no
 *          device); WEFT_EBUILD (the message names the device and status);
 *          WEFT_ENOMEM. */
WEFT_API int weft_program_create(weft_runtime_t *rt, const char *src, const char *opts,
                        weft_program_t **out, weft_panic_t **why);


/** Free the handle (built programs stay cached until the runtime goes).
 *  Launches already started with it are not affected.
 *  @param p  the program; NULL does nothing. */
WEFT_API void weft_program_destroy(weft_program_t *p);

/* ---- buffers ------------------------------------------------------------ */

/** A device buffer (opaque): one cl_mem on one device of a runtime, made by
 *  weft_buffer_create(), weft_buffer_wrap() or weft_buffer_adopt(). Owned by
 *  the caller and freed by weft_buffer_destroy(); the runtime does not track
 *  buffers, so each must be destroyed, and only weft_buffer_destroy() may be
 *  called on it once its runtime is destroyed. */
typedef struct weft_buffer weft_buffer_t;

/** Access a kernel has to a buffer (for weft_buffer_map(): the host's). The
 *  values are bits: WEFT_READ_WRITE is WEFT_READ | WEFT_WRITE. */
typedef enum weft_access {
    WEFT_READ = 1,                /**< read only (CL_MEM_READ_ONLY) */
    WEFT_WRITE = 2,               /**< write only (CL_MEM_WRITE_ONLY) */
    WEFT_READ_WRITE = 3           /**< both (CL_MEM_READ_WRITE) */
} weft_access_t;

/** Allocate `bytes` on device `device`. The contents start undefined.
 *  @param rt      the runtime.
 *  @param device  the device number.
 *  @param bytes   size in bytes (> 0).
 *  @param access  what kernels do with it.
 *  @param out     receives the buffer, which the caller frees with
 *                 weft_buffer_destroy(); NULL on failure.
 *  @return 0; WEFT_EINVAL (NULL rt or out, access not a weft_access_t, bad
 *          device, 0 bytes, size above the device's
 *          CL_DEVICE_MAX_MEM_ALLOC_SIZE — the message names the limit);
 *          WEFT_ECL when clCreateBuffer fails; WEFT_ENOMEM. */
WEFT_API int weft_buffer_create(weft_runtime_t *rt, int device, size_t bytes, weft_access_t access,
                       weft_buffer_t **out);

/** Use host memory `host` (bytes long, which must outlive the buffer) on
 *  device `device`. On unified-memory devices (PoCL's CPU device) the kernel
 *  reads and writes that memory directly, with no copy; elsewhere weft keeps a
 *  device copy, filled from `host` now when access includes WEFT_READ: after
 *  changing `host`, call weft_buffer_sync_to_device, and after a launch that
 *  wrote it, weft_buffer_sync_to_host (weft_launch never copies by itself;
 *  weft_parallel_for moves the bytes of its own arguments).
 *  @param rt      the runtime.
 *  @param device  the device number.
 *  @param host    the host memory; the caller keeps owning it.
 *  @param bytes   its size in bytes (> 0).
 *  @param access  what kernels do with it.
 *  @param out     receives the buffer, which the caller frees with
 *                 weft_buffer_destroy(); NULL on failure.
 *  @return as weft_buffer_create(), with WEFT_EINVAL also for a NULL host and
 *          WEFT_ECL also when the first copy to the device fails. */
WEFT_API int weft_buffer_wrap(weft_runtime_t *rt, int device, void *host, size_t bytes,
                     weft_access_t access, weft_buffer_t **out);


/** Size of the buffer.
 *  @param b  the buffer.
 *  @return its size in bytes, 0 for NULL. */
WEFT_API size_t weft_buffer_size(const weft_buffer_t *b);
/** Device of the buffer.
 *  @param b  the buffer.
 *  @return its device number, -1 for NULL. */
WEFT_API int weft_buffer_device(const weft_buffer_t *b);
/** Host memory of a wrapped buffer.
 *  @param b  the buffer.
 *  @return the memory given to weft_buffer_wrap(), else NULL (also for NULL). */
WEFT_API void *weft_buffer_host(const weft_buffer_t *b);
/** Whether kernels use the host memory directly.
 *  @param b  the buffer.
 *  @return 1 for a wrapped buffer on a unified-memory device, else 0 (also for
 *          NULL). */
WEFT_API int weft_buffer_is_zero_copy(const weft_buffer_t *b);

/** Blocking copy of host memory into [offset, offset+bytes) of b.
 *  @param b       the buffer.
 *  @param offset  first byte of b to write.
 *  @param src     host memory to copy from (non-NULL, even for 0 bytes).
 *  @param bytes   number of bytes; 0 copies nothing.
 *  @return 0; WEFT_EINVAL (NULL b or src, range outside the buffer);
 *          WEFT_ECL. */
WEFT_API int weft_buffer_write(weft_buffer_t *b, size_t offset, const void *src, size_t bytes);
/** Blocking copy of [offset, offset+bytes) of b to host memory.
 *  @param b       the buffer.
 *  @param offset  first byte of b to read.
 *  @param dst     host memory to copy to (non-NULL, even for 0 bytes).
 *  @param bytes   number of bytes; 0 copies nothing.
 *  @return 0; WEFT_EINVAL (NULL b or dst, range outside the buffer);
 *          WEFT_ECL. */
WEFT_API int weft_buffer_read(const weft_buffer_t *b, size_t offset, void *dst, size_t bytes);
/** For wrapped buffers with a device copy: copy the host range
 *  [offset, offset+bytes) to the device (blocking). Zero-copy buffers need no
 *  copy: only the range is checked.
 *  @param b       a buffer made by weft_buffer_wrap().
 *  @param offset  first byte of the range.
 *  @param bytes   number of bytes.
 *  @return 0; WEFT_EINVAL (NULL, a buffer that does not wrap host memory,
 *          range outside the buffer); WEFT_ECL. */
WEFT_API int weft_buffer_sync_to_device(weft_buffer_t *b, size_t offset, size_t bytes);
/** For wrapped buffers with a device copy: copy the device range
 *  [offset, offset+bytes) to the host memory (blocking). Zero-copy buffers
 *  need no copy: only the range is checked.
 *  @param b       a buffer made by weft_buffer_wrap().
 *  @param offset  first byte of the range.
 *  @param bytes   number of bytes.
 *  @return 0; WEFT_EINVAL (NULL, a buffer that does not wrap host memory,
 *          range outside the buffer); WEFT_ECL. */
WEFT_API int weft_buffer_sync_to_host(weft_buffer_t *b, size_t offset, size_t bytes);
/** Map [offset, offset+bytes) for host access (blocking). Unmap it with
 *  weft_buffer_unmap() before kernels use the buffer again.
 *  @param b       the buffer.
 *  @param offset  first byte of the range.
 *  @param bytes   number of bytes (> 0).
 *  @param access  what the host will do: WEFT_READ, WEFT_WRITE or both.
 *  @param ptr     receives the host pointer to the range; NULL on failure.
 *  @return 0 with *ptr set; WEFT_EINVAL (NULL b or ptr, range outside the
 *          buffer or empty, access with neither bit); WEFT_ECL. */
WEFT_API int weft_buffer_map(weft_buffer_t *b, size_t offset, size_t bytes, weft_access_t access,
                    void **ptr);
/** Unmap a pointer returned by weft_buffer_map (waits for the unmap).
 *  @param b    the buffer.
 *  @param ptr  the pointer weft_buffer_map() gave; invalid afterwards.
 *  @return 0; WEFT_EINVAL (NULL b or ptr); WEFT_ECL. */
WEFT_API int weft_buffer_unmap(weft_buffer_t *b, void *ptr);
/** Free the buffer (release weft's reference to its cl_mem). Launches using
 *  it must have been joined. A wrapped buffer's host memory is left as it is
 *  (nothing is copied back) and stays the caller's.
 *  @param b  the buffer; NULL does nothing. */
WEFT_API void weft_buffer_destroy(weft_buffer_t *b);

/* ---- launches ----------------------------------------------------------- */

/** The kind of a kernel argument (weft_karg_t::kind). */
typedef enum weft_karg_kind {
    WEFT_KARG_BUFFER = 1,         /**< a weft_buffer_t, passed as its cl_mem */
    WEFT_KARG_SCALAR = 2,         /**< a value passed by copy (int, float, struct) */
    WEFT_KARG_LOCAL = 3           /**< __local memory, allocated per work-group */
} weft_karg_kind_t;

/** One kernel argument. Build with weft_karg_buffer/_scalar/_local. */
typedef struct weft_karg {
    weft_karg_kind_t kind;        /**< which of the fields below is used */
    weft_buffer_t *buffer;        /**< WEFT_KARG_BUFFER: a buffer of the launch's
                                       device; it must live until the launch
                                       is joined */
    const void *value;            /**< WEFT_KARG_SCALAR: the value, copied during
                                       the weft_launch() call */
    size_t size;                  /**< scalar size, or __local bytes per
                                       work-group */
} weft_karg_t;

/** A buffer argument.
 *  @param b  the buffer; it must be on the launch's device.
 *  @return the argument (nothing is checked until the launch). */
WEFT_API weft_karg_t weft_karg_buffer(weft_buffer_t *b);
/** A scalar argument: `size` bytes at `value`, copied when launched.
 *  @param value  the value; it need only stay valid until weft_launch()
 *                returns.
 *  @param size   its size in bytes (sizeof the kernel parameter's type).
 *  @return the argument (nothing is checked until the launch). */
WEFT_API weft_karg_t weft_karg_scalar(const void *value, size_t size);
/** A __local argument of `bytes` bytes.
 *  @param bytes  __local memory per work-group, in bytes (> 0).
 *  @return the argument (nothing is checked until the launch). */
WEFT_API weft_karg_t weft_karg_local(size_t bytes);

/** One kernel launch. Initialise with weft_launch_init(). weft reads it (and
 *  its args) during the weft_launch() call only: it may be reused or freed
 *  once that returns. */
typedef struct weft_launch {
    int device;                   /**< device number */
    weft_program_t *program;      /**< built program, or NULL with source set */
    const char *source;           /**< source built at launch (cached), during
                                       the weft_launch() call; a build
                                       failure panics the launch's handle */
    const char *options;          /**< build options for source, or NULL;
                                       ignored with program */
    const char *kernel;           /**< entry point name */
    unsigned dims;                /**< 1, 2 or 3 */
    size_t global[3];             /**< global work size per dimension */
    size_t local[3];              /**< work-group size; all 0: driver chooses */
    size_t offset[3];             /**< global offset */
    const weft_karg_t *args;      /**< the kernel's arguments in order (NULL
                                       when nargs is 0) */
    size_t nargs;                 /**< number of args: the kernel's parameter
                                       count (any other count panics the
                                       handle) */
    void *reserved[8];            /**< reserved for future fields; keep zeroed */
} weft_launch_t;

/** Fill *l with defaults (every field zero or NULL except dims = 1: device 0,
 *  no program or source, no arguments, local sizes left to the driver).
 *  @param l  the launch to fill; NULL does nothing. */
WEFT_API void weft_launch_init(weft_launch_t *l);

/** Launch a kernel; returns a handle joined like any task. Its result value is
 *  NULL. Detach it with weft_handle_detach(). A macro, so that a failure's
 *  panic names the caller's file and line. The kernel is enqueued (and
 *  `source` built, when not cached) before the call returns; it then runs
 *  asynchronously on the device's queue.
 *  @param rt   the runtime.
 *  @param l    the launch (see weft_launch_t).
 *  @param out  receives the handle (required), which the caller must join or
 *              detach; NULL on failure.
 *  @return 0; WEFT_EINVAL (NULL rt, l or out, bad device, dims, zero or
 *          overflowing sizes, a local size given for some dimensions only or
 *          that does not divide the global size, a buffer of another device,
 *          a buffer or program of another runtime, __local sizes that add
 *          up to more than the device's CL_DEVICE_LOCAL_MEM_SIZE (the
 *          message names the argument, its size and the limit), a bad
 *          argument, no kernel name, neither or both of program and
 *          source, a program not built for the device, a kernel name the
 *          program does not define — the message lists those it does);
 *          WEFT_ENOMEM. Device failures are never returned here: build
 *          failures of `source`, an argument count other than the kernel's,
 *          enqueue errors, execution errors and injected faults panic the
 *          handle; an argument the kernel refuses, or a count other than
 *          its own, is named in the panic's message ("argument 1 could not
 *          be set (the kernel takes 2 arguments, 2 given)"). */
#define weft_launch(rt, l, out) weft_launch_at(__FILE__, __LINE__, (rt), (l), (out))

/** weft_launch() inside a scope: the scope waits for it, and an unjoined
 *  failure fails the scope as a CPU task's panic does.
 *  @param s    the scope.
 *  @param l    the launch.
 *  @param out  receives the handle, owned by the scope; may be NULL.
 *  @return as weft_launch(), with WEFT_EINVAL for a NULL s. */
#define weft_scope_launch(s, l, out) weft_scope_launch_at(__FILE__, __LINE__, (s), (l), (out))

/** What weft_launch expands to.
 *  @param file  the caller's file (a literal), named by the handle's panics.
 *  @param line  the caller's line.
 *  @param rt    as for weft_launch().
 *  @param l     as for weft_launch().
 *  @param out   as for weft_launch().
 *  @return as weft_launch(). */
WEFT_API int weft_launch_at(const char *file, int line, weft_runtime_t *rt, const weft_launch_t *l,
                   weft_handle_t **out);
/** What weft_scope_launch expands to.
 *  @param file  the caller's file (a literal), named by the handle's panics.
 *  @param line  the caller's line.
 *  @param s     as for weft_scope_launch().
 *  @param l     as for weft_scope_launch().
 *  @param out   as for weft_scope_launch().
 *  @return as weft_scope_launch(). */
WEFT_API int weft_scope_launch_at(const char *file, int line, weft_scope_t *s, const weft_launch_t *l,
                         weft_handle_t **out);

/** Name of an OpenCL status code.
 *  @param status  a cl_int status (0 included).
 *  @return the name ("CL_OUT_OF_RESOURCES", "CL_SUCCESS"), or
 *          "CL_UNKNOWN_ERROR" when unknown. Never NULL; a string literal. */
WEFT_API const char *weft_cl_status_name(int status);

/** The status a name stands for: the inverse of weft_cl_status_name().
 *  @param name    the exact name ("CL_OUT_OF_RESOURCES"), case included.
 *  @param status  receives the value.
 *  @return 0 with *status set; WEFT_EINVAL (NULL argument, unknown name). */
WEFT_API int weft_cl_status_parse(const char *name, int *status);

#ifdef __cplusplus
}
#endif
#endif
