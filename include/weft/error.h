/* weft/error.h — status codes, their names and messages.
 *
 * Every weft function that can fail returns 0 or a negative WEFT_E* code.
 * The codes come from one X-macro list, so the enum, weft_strerror() and
 * weft_err_name() can never disagree.
 */
#ifndef WEFT_ERROR_H
#define WEFT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, description) */
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
    X(WEFT_ENOTSUP, -10, "not supported")

/** Status codes returned by weft functions. */
typedef enum weft_status {
#define WEFT__ENUM(name, value, text) name = value,
    WEFT_ERROR_LIST(WEFT__ENUM)
#undef WEFT__ENUM
} weft_status_t;

/** Human-readable description of a status code ("invalid argument").
 *  Unknown codes give "unknown weft status". Never returns NULL. */
const char *weft_strerror(int status);

/** Symbolic name of a status code ("WEFT_EINVAL"); "WEFT_E?" when unknown. */
const char *weft_err_name(int status);

/** The message describing the last failure of a weft call made on the calling
 *  thread (for example "weft_runtime_create: cpu_threads must be > 0").
 *  Returns "" when no call has failed yet. The string stays valid until the
 *  next failing weft call on this thread. */
const char *weft_last_error_message(void);

#ifdef __cplusplus
}
#endif
#endif
