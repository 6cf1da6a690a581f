/* weft/panic.h — panics: a task's unrecoverable failure, caught at join.
 *
 * weft_panic() stops the current task at once (it jumps back to the task's
 * boundary in the worker, never across threads) and turns it into a payload
 * that the joiner receives. Device failures arrive as the same payload, with
 * the OpenCL status, device, kernel and range filled in.
 */
#ifndef WEFT_PANIC_H
#define WEFT_PANIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct weft_panic weft_panic_t;

/** Panic with a printf-style message. Inside a weft task: ends the task; its
 *  joiner receives the payload. Outside any task: the panic hook runs, then
 *  abort(). Does not return. */
#define weft_panic(...) weft_panic_at(__FILE__, __LINE__, __VA_ARGS__)

/** What weft_panic() expands to. file must be a string that outlives the
 *  program (a literal). Messages longer than 4095 bytes are truncated. */
#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 3, 4)))
#endif
void weft_panic_at(const char *file, int line, const char *fmt, ...);

/** The message ("index 10 out of range"). Never NULL for a non-NULL p. */
const char *weft_panic_message(const weft_panic_t *p);
/** Name of the task that panicked, "<unnamed>" when it had none. */
const char *weft_panic_thread(const weft_panic_t *p);
/** Source file of the panic (of the weft call that launched, for devices). */
const char *weft_panic_file(const weft_panic_t *p);
/** Source line of the panic. */
int weft_panic_line(const weft_panic_t *p);
/** Name of the OpenCL device the failure happened on, NULL for CPU panics. */
const char *weft_panic_device(const weft_panic_t *p);
/** Name of the kernel that failed, NULL when not a kernel failure. */
const char *weft_panic_kernel(const weft_panic_t *p);
/** The OpenCL status (cl_int) of a device failure, 0 otherwise. */
int weft_panic_cl_status(const weft_panic_t *p);
/** Name of that status ("CL_OUT_OF_RESOURCES"), NULL when cl_status is 0. */
const char *weft_panic_cl_status_name(const weft_panic_t *p);
/** The index range [*begin, *end) the failed chunk covered. Returns 1 and
 *  fills begin/end (each may be NULL) when the panic has a range, else 0. */
int weft_panic_range(const weft_panic_t *p, size_t *begin, size_t *end);
/** Full compiler build log for a failed program build, NULL otherwise. */
const char *weft_panic_build_log(const weft_panic_t *p);
/** For a scope's "a scoped thread panicked": the first unjoined task panic.
 *  NULL otherwise. Owned by p. */
const weft_panic_t *weft_panic_cause(const weft_panic_t *p);
/** For a scope's panic: how many further unjoined task panics there were
 *  beyond the cause. 0 otherwise. */
size_t weft_panic_suppressed(const weft_panic_t *p);

/** Free a payload (and its cause). NULL is a no-op. */
void weft_panic_destroy(weft_panic_t *p);

/** A panic hook: called once for every panic, on the thread that panicked
 *  (for devices, on the thread that observed the failure), before the payload
 *  travels to its joiner. Must not panic. */
typedef void (*weft_panic_hook_fn)(const weft_panic_t *p, void *user_data);

/** Replace the process-wide panic hook; NULL restores the default, which
 *  prints Rust's line to stderr:
 *      thread '<name>' panicked at <file>:<line>:
 *      <message>
 *  followed, for device failures, by the device, kernel, status and range. */
void weft_set_panic_hook(weft_panic_hook_fn hook, void *user_data);

/** The default hook, for hooks that want to print and then do more. */
void weft_panic_default_hook(const weft_panic_t *p, void *user_data);

/** Write the report the default hook prints into buf (snprintf semantics:
 *  returns the length it needed, truncates to cap). */
size_t weft_panic_format(const weft_panic_t *p, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
