/** @file
 *  @brief Status codes, their names and messages.
 *
 *  Every weft function that can fail returns 0 or a negative WEFT_E* code
 *  (#weft_status_t) and records a message for weft_last_error_message().
 *  The codes come from one X-macro list, #WEFT_ERROR_LIST, so the enum,
 *  weft_strerror() and weft_err_name() can never disagree.
 */
#ifndef WEFT_ERROR_H
#define WEFT_ERROR_H

#include "weft/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The list every status code comes from: one `X(NAME, value, description)`
 *  per code, in value order from 0 down. weft expands it for the enum
 *  (#weft_status_t), for weft_strerror() and for weft_err_name(); users may
 *  expand it too, for example to build their own table of codes:
 *  @code
 *  #define ROW(name, value, text) { value, #name, text },
 *  static const struct { int value; const char *name, *text; } rows[] = {
 *      WEFT_ERROR_LIST(ROW)
 *  };
 *  #undef ROW
 *  @endcode
 *  @param X  a macro taking (NAME, value, description): NAME is the
 *            enumerator's identifier, value its int value, description the
 *            string literal weft_strerror() returns for it. */
#define WEFT_ERROR_LIST(X)                                                     \
    X(WEFT_OK, 0, "success")                                                   \
    X(WEFT_EINVAL, -1, "invalid argument")                                     \
    X(WEFT_ENOMEM, -2, "out of memory")                                        \
    X(WEFT_EAGAIN, -3, "could not start a thread")                             \
    X(WEFT_EPANIC, -4, "a task panicked")                                      \
    X(WEFT_EBORROW, -5, "overlapping write borrow refused")                    \
    X(WEFT_ENODEV, -6, "no such device")                                       \
    X(WEFT_ECL, -7, "OpenCL call failed")                                      \
    X(WEFT_EBUILD, -8, "OpenCL program build failed")                          \
    X(WEFT_ESTATE, -9, "operation not allowed in this state")                  \
    X(WEFT_ENOTSUP, -10, "not supported")                                      \
    X(WEFT_EMPI, -11, "MPI call failed")

/** Status codes returned by weft functions: 0 for success, a negative value
 *  for each kind of failure. Functions return them as int; the enumerators
 *  come from #WEFT_ERROR_LIST. */
typedef enum weft_status {
/** @cond INTERNAL */
#define WEFT__ENUM(name, value, text) name = value,
/** @endcond */
    WEFT_ERROR_LIST(WEFT__ENUM)
/** @cond INTERNAL */
#undef WEFT__ENUM
/** @endcond */
} weft_status_t;

/** @var WEFT_OK
 *  0: success. */
/** @var WEFT_EINVAL
 *  -1: invalid argument (a NULL pointer, a value out of range, a malformed
 *  environment variable); the message says which. */
/** @var WEFT_ENOMEM
 *  -2: out of memory, or a fixed table is full (worker-local keys, devices
 *  of a runtime). */
/** @var WEFT_EAGAIN
 *  -3: a thread (a CPU worker or a dedicated task thread) could not be
 *  started. */
/** @var WEFT_EPANIC
 *  -4: a task, scope body or parallel operation panicked; the panic payload
 *  goes to the caller through a weft_panic_t ** argument. */
/** @var WEFT_EBORROW
 *  -5: a parallel operation would write bytes that a running operation of
 *  the same runtime also writes. */
/** @var WEFT_ENODEV
 *  -6: the runtime has no OpenCL device for the request. */
/** @var WEFT_ECL
 *  -7: an OpenCL call failed; the message names the status. */
/** @var WEFT_EBUILD
 *  -8: an OpenCL program did not build; the build log is in the panic
 *  payload the call offers. */
/** @var WEFT_ESTATE
 *  -9: the operation is not allowed in the current state. Reserved: no
 *  function of this version returns it. */
/** @var WEFT_ENOTSUP
 *  -10: not supported. Reserved: no function of this version returns it. */

/** Human-readable description of a status code.
 *  @param status  a status code (any int).
 *  @return the description from #WEFT_ERROR_LIST ("invalid argument"), or
 *          "unknown weft status" for a value that is not a code. Never NULL;
 *          a string literal, never to be freed. */
WEFT_API const char *weft_strerror(int status);

/** Symbolic name of a status code.
 *  @param status  a status code (any int).
 *  @return the enumerator's name ("WEFT_EINVAL"), or "WEFT_E?" for a value
 *          that is not a code. Never NULL; a string literal, never to be
 *          freed. */
WEFT_API const char *weft_err_name(int status);

/** The message describing the last failure of a weft call made on the calling
 *  thread (for example "weft_runtime_create: cpu_threads is -1, must be > 0
 *  (or 0 for the default)"). Successful calls leave it as it is, so read it
 *  right after the call that failed. Messages are truncated to 511 bytes.
 *  @return the message, or "" when no call has failed on this thread yet.
 *          The string belongs to the calling thread (never free it); the next
 *          failing weft call on this thread overwrites it. */
WEFT_API const char *weft_last_error_message(void);

/** Record a failure the way weft's own calls do, for libraries built on weft
 *  (the bundled kernels): the formatted message becomes the calling thread's
 *  weft_last_error_message().
 *  @param status  the status to return (a WEFT_E* code).
 *  @param fmt     printf-style format of the message.
 *  @return status, so that a caller can write `return weft_error_set(...)`. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
WEFT_API int weft_error_set(int status, const char *fmt, ...);

#ifdef __cplusplus
}
#endif
#endif
