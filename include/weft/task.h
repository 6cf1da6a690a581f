/* weft/task.h — spawn, join handles, builders and scopes.
 *
 * The model is Rust's std::thread: weft_spawn() returns a handle; weft_join()
 * consumes it and returns the task's value or its panic. Tasks run on the
 * runtime's CPU worker pool unless a builder asks for a dedicated thread.
 */
#ifndef WEFT_TASK_H
#define WEFT_TASK_H

#include <stddef.h>
#include "weft/runtime.h"
#include "weft/panic.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A task body: receives the argument given to spawn, returns the task's value. */
typedef void *(*weft_task_fn)(void *arg);

/** A join handle (Rust's JoinHandle). Owned by the caller until it is passed
 *  to weft_join() or weft_handle_detach(), which consume it. */
typedef struct weft_task weft_handle_t;

/** A scope: see weft_scope(). */
typedef struct weft_scope weft_scope_t;

/** Spawn fn(arg) on rt's worker pool. The task owns nothing of arg: the caller
 *  keeps ownership, so arg must outlive the task (pass heap memory the task
 *  frees, or use a scope to borrow).
 *  @return 0; WEFT_EINVAL (NULL rt, fn or out); WEFT_ENOMEM. Never panics. */
int weft_spawn(weft_runtime_t *rt, weft_task_fn fn, void *arg, weft_handle_t **out);

/** Wait for the task and consume its handle. Everything the task did
 *  happens-before weft_join returns. Joining a finished task returns at once.
 *  Called from a worker, the wait runs other tasks meanwhile.
 *  @param result  receives the task's return value (may be NULL).
 *  @param panic   receives the panic payload when the task panicked, else
 *                 NULL (may be NULL: the payload is then destroyed). The caller
 *                 owns it and frees it with weft_panic_destroy().
 *  @return 0 when the task returned; WEFT_EPANIC when it panicked;
 *          WEFT_EINVAL for a NULL handle. */
int weft_join(weft_handle_t *h, void **result, weft_panic_t **panic);

/** 1 when the task has finished (returned or panicked), else 0 (also for NULL).
 *  Does not consume the handle. */
int weft_handle_is_finished(const weft_handle_t *h);

/** Let the task run on with nobody to join it; consumes the handle. Its panic,
 *  if any, goes to the panic hook and to weft_runtime_detached_panics().
 *  In a scope, the task is still waited for by the scope. NULL is a no-op. */
void weft_handle_detach(weft_handle_t *h);

/** Options for one spawn (Rust's thread::Builder). Initialise with
 *  weft_builder_init(); the struct may grow. */
typedef struct weft_builder {
    /** Task name (copied at spawn): printed in panics, returned by
     *  weft_current_name(). NULL for an unnamed task. Must be valid UTF-8
     *  without control characters. */
    const char *name;
    /** 0: run on the worker pool. Otherwise run on a dedicated OS thread with
     *  this stack size in bytes; the thread carries the name (first 15 bytes). */
    size_t stack_size;
    /** Reserved for future options (placement); keep zeroed. */
    void *reserved[8];
} weft_builder_t;

/** Fill *b with defaults (unnamed, pool). Does nothing when b is NULL. */
void weft_builder_init(weft_builder_t *b);

/** Spawn with the options of b (NULL b means defaults).
 *  @return 0; WEFT_EINVAL (NULL rt/fn/out, invalid name, stack size below the
 *          system minimum); WEFT_EAGAIN when the dedicated thread cannot be
 *          started (for example an absurd stack size); WEFT_ENOMEM. */
int weft_builder_spawn(const weft_builder_t *b, weft_runtime_t *rt, weft_task_fn fn,
                       void *arg, weft_handle_t **out);

/** (A macro.) Run body(scope, arg) on the calling thread, then wait for every task spawned
 *  in the scope — and every task those tasks spawned in it — before returning.
 *  Tasks of a scope may borrow anything that outlives the weft_scope call.
 *  Handles from weft_scope_spawn() are valid until weft_scope returns: unjoined
 *  ones are released by it.
 *
 *  Outcome, in order of precedence:
 *  - the body panicked: WEFT_EPANIC, *panic is the body's panic;
 *  - a task panicked and nobody joined it: WEFT_EPANIC, *panic has the message
 *    "a scoped thread panicked", its cause is the first such panic and
 *    weft_panic_suppressed() counts the others;
 *  - otherwise the body's return value (0 or the caller's own code).
 *  @param panic  receives the panic (caller owns it); may be NULL.
 *  @return as above; WEFT_EINVAL for NULL rt or body. */
#define weft_scope(rt, body, arg, panic) weft_scope_at(__FILE__, __LINE__, (rt), (body), (arg), (panic))

/** What weft_scope expands to: file and line (the caller's, a literal) are
 *  where the scope's own panic says it happened. */
int weft_scope_at(const char *file, int line, weft_runtime_t *rt,
                  int (*body)(weft_scope_t *s, void *arg), void *arg, weft_panic_t **panic);

/** Spawn fn(arg) inside scope s. Callable from the body and from any task of
 *  the scope. out may be NULL: the task is then joined by the scope alone.
 *  @return 0; WEFT_EINVAL; WEFT_ENOMEM. */
int weft_scope_spawn(weft_scope_t *s, weft_task_fn fn, void *arg, weft_handle_t **out);

/** weft_scope_spawn() with builder options (name, dedicated thread). */
int weft_scope_builder_spawn(weft_scope_t *s, const weft_builder_t *b, weft_task_fn fn,
                             void *arg, weft_handle_t **out);

/** The runtime a scope belongs to (NULL for NULL). */
weft_runtime_t *weft_scope_runtime(const weft_scope_t *s);

/** Sleep at least ns nanoseconds, resuming after signals. */
void weft_sleep_ns(uint64_t ns);

/** Name of the task running on the calling thread, or NULL when it is unnamed
 *  or the caller is not running a weft task. */
const char *weft_current_name(void);

/** Give other tasks a chance to run: on a worker, runs one queued task if
 *  there is one; elsewhere, sched_yield(). */
void weft_yield(void);

#ifdef __cplusplus
}
#endif
#endif
