/** @file
 *  @brief Panics: a task's unrecoverable failure, caught at join.
 *
 *  weft_panic() stops the current task at once (it jumps back to the task's
 *  boundary in the worker, never across threads) and turns it into a payload
 *  that the joiner receives. Device failures arrive as the same payload, with
 *  the OpenCL status, device, kernel and range filled in.
 */
#ifndef WEFT_PANIC_H
#define WEFT_PANIC_H

#include "weft/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A panic payload (opaque): the message, where it happened and, for device
 *  failures, the device, kernel, OpenCL status, range and build log. weft
 *  hands payloads over through weft_panic_t ** out-parameters (weft_join(),
 *  weft_scope(), weft_parallel_run(), weft_program_create()); the receiver
 *  owns the payload and frees it with weft_panic_destroy(). A payload seen
 *  by the panic hook or through weft_panic_cause() is only borrowed.
 *
 *  Out of memory: when memory for a payload cannot be had, weft hands over
 *  one static payload instead, so that a failure is still a failure (the
 *  join still returns WEFT_EPANIC). Its message is "panic payload could not
 *  be allocated: out of memory", its thread and file "<unknown>", its line
 *  0, and it has no device, kernel, status, range, log or cause; the
 *  accessors work on it as on any payload, weft_panic_destroy() leaves it
 *  alone, and any number of threads may hold it at once. */
typedef struct weft_panic weft_panic_t;

/** Panic with a printf-style message. Inside a weft task, a scope body or a
 *  parallel operation's CPU body: ends it at once; its joiner receives the
 *  payload. Outside any of them (the main thread, a task-local destructor):
 *  the panic hook runs, then abort(); the report names the thread 'main' on
 *  the process's initial thread, as Rust does (`"<unnamed>"` on other threads
 *  outside a task; weft_current_name() itself stays NULL there). Does not
 *  return.
 *
 *  Like longjmp, nothing between the call and the boundary is unwound: memory
 *  and other locks the task holds stay as they are, except weft_mutex_t locks
 *  taken inside the boundary, which are released and marked poisoned.
 *  @param ...  the format string, then its arguments. */
#define weft_panic(...) weft_panic_at(__FILE__, __LINE__, __VA_ARGS__)

/** What weft_panic() expands to. Messages longer than 4095 bytes are
 *  truncated.
 *  @param file  source file the panic reports; must be a string that
 *               outlives the program (a literal).
 *  @param line  source line the panic reports.
 *  @param fmt   printf-style format of the message, followed by its
 *               arguments. */
#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 3, 4)))
#endif
WEFT_API void weft_panic_at(const char *file, int line, const char *fmt, ...);

/** The message ("index 10 out of range").
 *  @param p  the payload.
 *  @return the message, never NULL for a non-NULL p; NULL for NULL. Owned
 *          by p. */
WEFT_API const char *weft_panic_message(const weft_panic_t *p);
/** Name of the task that panicked: for device failures, of the task that
 *  launched; for a scope's own panic, of the task that called weft_scope().
 *  A parallel operation's CPU body runs in weft's own unnamed tasks.
 *  @param p  the payload.
 *  @return the name, `"<unnamed>"` when the task had none; NULL for NULL.
 *          Owned by p. */
WEFT_API const char *weft_panic_thread(const weft_panic_t *p);
/** Source file of the panic: where weft_panic() was called; for device
 *  failures, the caller of the weft call that launched (weft_launch(),
 *  weft_parallel_for(), ...). The payload of a failed weft_program_create()
 *  build has no caller location: it names weft's own source.
 *  @param p  the payload.
 *  @return the file name, NULL for NULL. Owned by p. */
WEFT_API const char *weft_panic_file(const weft_panic_t *p);
/** Source line of the panic (see weft_panic_file()).
 *  @param p  the payload.
 *  @return the line, 0 for NULL. */
WEFT_API int weft_panic_line(const weft_panic_t *p);
/** Name of the OpenCL device the failure happened on.
 *  @param p  the payload.
 *  @return the device name (CL_DEVICE_NAME), NULL for CPU panics and for
 *          NULL. Owned by p. */
WEFT_API const char *weft_panic_device(const weft_panic_t *p);
/** Name of the kernel that failed: the entry point for a launch or a device
 *  chunk, the weft_kernel_t name for a panic in a parallel operation's CPU
 *  body.
 *  @param p  the payload.
 *  @return the name, NULL when the panic is not a kernel's (and for NULL).
 *          Owned by p. */
WEFT_API const char *weft_panic_kernel(const weft_panic_t *p);
/** The OpenCL status (cl_int) of a device failure: what the driver reported,
 *  or the status an injected fault gives.
 *  @param p  the payload.
 *  @return the status, 0 for a panic that is not a device failure (and for
 *          NULL). */
WEFT_API int weft_panic_cl_status(const weft_panic_t *p);
/** Name of the OpenCL status.
 *  @param p  the payload.
 *  @return the name ("CL_OUT_OF_RESOURCES"), NULL when cl_status is 0 (and
 *          for NULL). Owned by p. */
WEFT_API const char *weft_panic_cl_status_name(const weft_panic_t *p);
/** The index range [*begin, *end) the failure covered: a launch's dimension 0
 *  (offset to offset + global size); a parallel operation's chunk, in split
 *  indices (rows for 2-D ranges).
 *  @param p      the payload.
 *  @param begin  receives the first index (may be NULL).
 *  @param end    receives the index past the last (may be NULL).
 *  @return 1 when the panic has a range (begin and end are filled), else 0
 *          (also for NULL; begin and end are left alone). */
WEFT_API int weft_panic_range(const weft_panic_t *p, size_t *begin, size_t *end);
/** Full compiler build log of a failed OpenCL program build.
 *  @param p  the payload.
 *  @return the log, NULL when the panic is not a build failure, the driver
 *          gave no log, or p is NULL. Owned by p. */
WEFT_API const char *weft_panic_build_log(const weft_panic_t *p);
/** For a scope's "a scoped thread panicked": the first unjoined task panic
 *  (in the order they happened).
 *  @param p  the payload.
 *  @return the cause, NULL for other panics (and for NULL). Owned by p:
 *          freed with it, never to be freed on its own. */
WEFT_API const weft_panic_t *weft_panic_cause(const weft_panic_t *p);
/** For a scope's panic: how many further unjoined task panics there were
 *  beyond the cause (they are not kept).
 *  @param p  the payload.
 *  @return the count, 0 for other panics (and for NULL). */
WEFT_API size_t weft_panic_suppressed(const weft_panic_t *p);

/** Free a payload received from weft, and its cause.
 *  @param p  the payload; NULL and the static out-of-memory payload (see
 *            weft_panic_t) do nothing. */
WEFT_API void weft_panic_destroy(weft_panic_t *p);

/** A panic hook: called once for every panic as it happens (in a task, a
 *  scope body, a CPU body, a device failure), before the payload travels to
 *  its joiner. It runs on the thread that panicked; for device failures, on
 *  the thread that observed them, which may be an OpenCL driver's callback
 *  thread. Several may run at once. It must not panic: a weft_panic() inside
 *  the hook (or in anything it calls, outside a task it runs) does not
 *  unwind to the task's boundary but aborts the process, as Rust does, after
 *  printing that panic's report and the line "thread panicked while
 *  processing panic. aborting." to stderr; the task's own payload is never
 *  replaced. (A task the hook spawns and joins may panic: that panic is the
 *  task's, and reaches the hook in its turn.) It should return
 *  quickly without waiting for weft tasks. A scope's "a scoped thread
 *  panicked", which weft assembles afterwards, does not reach it; its cause
 *  already did.
 *
 *  A parallel operation's failures (a chunk's CPU body panic or device
 *  failure, a device that cannot set up) reach it only when they reach the
 *  caller: the one the operation's handle panics with, once, on the thread
 *  that saw it, when it becomes the operation's (at once under
 *  WEFT_FAULT_PROPAGATE; under WEFT_FAULT_FAILOVER when no place is left to
 *  re-run the chunk, or as the "failed on every place" payload). Failures
 *  failover recovers from go to the policy's on_recovered instead, and
 *  those after the one that stopped an operation to neither (see
 *  weft_on_fault_t in weft/parallel.h).
 *  @param p          the payload, borrowed for the duration of the call.
 *  @param user_data  what was given to weft_set_panic_hook(). */
typedef void (*weft_panic_hook_fn)(const weft_panic_t *p, void *user_data);

/** Replace the process-wide panic hook; NULL restores the default, which
 *  prints Rust's line to stderr:
 *  @code{.unparsed}
 *  thread '<name>' panicked at <file>:<line>:
 *  <message>
 *  @endcode
 *  followed, for device failures, by the device, kernel, status and range
 *  (and the build log, and for a scope the cause). Takes effect for panics
 *  that happen after it returns.
 *  @param hook       the new hook, or NULL for weft_panic_default_hook().
 *  @param user_data  passed to every call of hook (ignored when hook is
 *                    NULL). */
WEFT_API void weft_set_panic_hook(weft_panic_hook_fn hook, void *user_data);

/** The default hook, for hooks that want to print and then do more: writes
 *  weft_panic_format()'s report to stderr.
 *  @param p          the payload.
 *  @param user_data  ignored. */
WEFT_API void weft_panic_default_hook(const weft_panic_t *p, void *user_data);

/** Write the report the default hook prints into buf, with snprintf
 *  semantics.
 *  @param p    the payload (NULL: writes an empty string).
 *  @param buf  the buffer; may be NULL when cap is 0.
 *  @param cap  size of buf in bytes; at most cap - 1 characters and a NUL are
 *              written.
 *  @return the length of the whole report without its NUL (0 for NULL p):
 *          when it is cap or more, the report was truncated. */
WEFT_API size_t weft_panic_format(const weft_panic_t *p, char *buf, size_t cap);

/** What a payload made by weft_panic_create() says: every field optional
 *  (NULL or 0), as the accessors above return them. */
typedef struct weft_panic_info {
    const char *message;          /**< the message (NULL: empty) */
    const char *thread;           /**< the task's name (NULL: "<unnamed>") */
    const char *file;             /**< where it happened (NULL: "<unknown>") */
    int line;                     /**< its line */
    const char *device;           /**< the device's name, NULL: none */
    const char *kernel;           /**< the kernel's name, NULL: none */
    int cl_status;                /**< the OpenCL status, 0: none */
    const char *cl_status_name;   /**< its name (weft_cl_status_name() gives
                                       OpenCL's); NULL with a status: "?" */
    int has_range;                /**< 1: begin and end are the range that failed */
    size_t begin;                 /**< first index of the range */
    size_t end;                   /**< one past its last */
    const char *build_log;        /**< a build log, NULL: none */
    size_t suppressed;            /**< further failures not kept (weft_panic_suppressed()) */
} weft_panic_info_t;

/** A payload that tells a failure weft did not see itself: a companion
 *  library handing on a failure from elsewhere (another process, say) as a
 *  panic of its own. Strings are copied.
 *  @param info  what the payload says; NULL: an empty message.
 *  @return the payload, which the caller owns (weft_panic_destroy()); never
 *          NULL (the static out-of-memory payload when memory runs out). */
WEFT_API weft_panic_t *weft_panic_create(const weft_panic_info_t *info);

#ifdef __cplusplus
}
#endif
#endif
